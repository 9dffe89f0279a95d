"""The training DSP (hearsep.nn.dsp, TensorFlow) must compute what the runtime computes (hearsep.features).

A model trained on nn.dsp features and scored through nn.dsp synthesis only works at run time if
both sides agree; today they agree to float32 rounding (relative error ~1e-7). Pinned here.
"""

import numpy as np
import pytest

from hearsep.features.spectral import LogPowerFeatures
from hearsep.features.stft import StreamingSTFT
from hearsep.model.contract import FeatureSpec

tf = pytest.importorskip("tensorflow")
from hearsep.nn import dsp  # noqa: E402  (needs tensorflow)

CASES = [(256, 32, "asymmetric"), (128, 64, "asymmetric"), (256, 64, "sqrt-hann")]


def _signal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    return (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(n)).astype(np.float32)


def _streaming(x: np.ndarray, stft: StreamingSTFT, mask: np.ndarray | None = None):
    """Runtime path, hop by hop: spectra (T, bins) complex and the synthesised output."""
    h = stft.hop_samples
    spectra, out = [], []
    for k in range(len(x) // h):
        s = stft.analyze(x[k * h:(k + 1) * h])
        spectra.append(s[0] + 1j * s[1])
        y = s * (1.0 if mask is None else mask[k]).astype(np.float32)
        out.append(stft.synthesize(np.ascontiguousarray(y, dtype=np.float32)).copy())
    return np.array(spectra), np.concatenate(out)


@pytest.mark.parametrize("frame,hop,window", CASES)
def test_training_stft_and_synthesis_match_the_runtime(frame, hop, window):
    x = _signal(40 * hop)
    framing = dsp.Framing(frame, hop, window)
    stft = StreamingSTFT(frame, hop, window)
    assert framing.synthesis_samples == stft.synthesis_samples and framing.bins == stft.bins
    mask = np.random.default_rng(1).uniform(0.0, 1.0, (40, stft.bins)).astype(np.float32)
    ref_spectra, ref_out = _streaming(x, stft, mask)
    spectra = framing.analysis(tf.constant(x[None]))[0].numpy()
    scale = np.max(np.abs(ref_spectra))
    assert np.max(np.abs(spectra - ref_spectra)) / scale < 1e-5
    masked = framing.synthesis(tf.constant((spectra * mask)[None], tf.complex64))[0].numpy()
    assert masked.shape == ref_out.shape
    assert np.max(np.abs(masked - ref_out)) / np.max(np.abs(ref_out)) < 1e-5
    # unity mask: both reconstruct the input, delayed by synthesis - hop samples
    unity = framing.synthesis(framing.analysis(tf.constant(x[None])))[0].numpy()
    d = framing.delay_samples
    np.testing.assert_allclose(unity[d + frame:], x[frame:len(x) - d], atol=1e-5)


def test_training_features_match_the_runtime():
    spec = FeatureSpec(mean=-4.0, std=2.5)
    framing = dsp.Framing(256, 32)
    stft = StreamingSTFT(256, 32)
    x = _signal(32 * 30, seed=3)
    x[:200] = 0.0  # silence: the eps floor must agree too
    feats = LogPowerFeatures(spec, stft.bins)
    runtime = np.array([feats.compute(stft.analyze(x[k * 32:(k + 1) * 32])).copy() for k in range(30)])
    training = dsp.log_power(framing.analysis(tf.constant(x[None])), spec)[0].numpy()
    assert runtime.shape == training.shape == (30, 129)
    assert np.max(np.abs(training - runtime) / np.maximum(np.abs(runtime), 1.0)) < 1e-4
    # first frames are all zeros: log10(eps) normalised, exactly
    assert runtime[0, 0] == pytest.approx((np.log10(1e-10) + 4.0) / 2.5, rel=1e-6)
