import numpy as np
import pytest

from hearsep.errors import ModelError
from hearsep.features.spectral import LogPowerFeatures, log_power_features
from hearsep.model.contract import FeatureSpec

SPEC = FeatureSpec(eps=1e-10, mean=-4.0, std=3.0)


def _spectrum(bins=129, seed=0, scale=1.0):
    return (scale * np.random.default_rng(seed).normal(size=(2, bins))).astype(np.float32)


def test_features_follow_the_contract_formula():
    s = _spectrum()
    s[:, 5] = 0.0  # a silent bin: eps keeps the log finite
    got = LogPowerFeatures(SPEC, 129).compute(s)
    power = s[0].astype(np.float64) ** 2 + s[1].astype(np.float64) ** 2
    expected = (np.log10(power + 1e-10) - (-4.0)) / 3.0
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)
    assert got[5] == pytest.approx((-10 + 4.0) / 3.0, abs=1e-5)


def test_output_scale_and_offset_fold_an_affine_map():
    s = _spectrum(seed=1)
    plain = LogPowerFeatures(SPEC, 129).compute(s).copy()
    scaled = LogPowerFeatures(SPEC, 129, output_scale=1 / 0.05, output_offset=-3.0).compute(s)
    np.testing.assert_allclose(scaled, plain / 0.05 - 3.0, rtol=0, atol=5e-4)  # int8 units: x / scale + zp


def test_batch_and_streaming_agree():
    s = _spectrum(seed=2, scale=0.01)
    complex_spectrum = (s[0] + 1j * s[1])[None, :]
    np.testing.assert_allclose(log_power_features(complex_spectrum, SPEC)[0],
                               LogPowerFeatures(SPEC, 129).compute(s), rtol=0, atol=2e-6)


def test_compute_reuses_one_buffer_and_allocates_nothing():
    import tracemalloc

    feats = LogPowerFeatures(SPEC, 129)
    s = _spectrum(seed=3)
    first = feats.compute(s)
    tracemalloc.start()
    tracemalloc.reset_peak()
    live = tracemalloc.get_traced_memory()[0]
    second = feats.compute(s)
    peak = tracemalloc.get_traced_memory()[1] - live
    tracemalloc.stop()
    assert second is first and peak < 516  # a (129,) float32 temporary alone is 516 bytes + header


def test_invalid_spec_is_refused():
    with pytest.raises(ModelError, match="positive"):
        LogPowerFeatures(FeatureSpec(std=0.0), 129)
    with pytest.raises(ModelError, match="unknown feature kind"):
        LogPowerFeatures(FeatureSpec(kind="mel"), 129)
