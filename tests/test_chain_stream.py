"""The chain inside the streaming enhancer: chunking, latency, noise-reduction limit, volume, no allocation."""

import tracemalloc

import numpy as np
import pytest

from chain_fixtures import contract, wdrc_params
from hearsep.audio.synthetic import speech_like
from hearsep.chain import build_chain
from hearsep.errors import ConfigError
from hearsep.runtime.enhancer import StreamingEnhancer


def _speechlike(n, seed=0):
    """``n`` samples of speech-like sound at 16 kHz, RMS -36 dBFS, peaks near 0.1 (about 100 dB SPL
    at the 130 dB calibration)."""
    return speech_like(n / 16000, 16000, seed=seed, level_dbfs=-36.0, fricatives=True)


def test_output_is_bit_identical_under_any_chunking():
    c = contract()
    x = _speechlike(6000)
    whole = StreamingEnhancer(c, None, build_chain(wdrc_params(), c)).process(x)
    enh = StreamingEnhancer(c, None, build_chain(wdrc_params(), c))
    rng = np.random.default_rng(1)
    cuts = np.sort(rng.choice(np.arange(1, 6000), 40, replace=False))
    pieces = [enh.process(p) for p in np.split(x, cuts)]
    assert np.array_equal(np.concatenate(pieces), whole)


class ZeroMask:
    """A separator that removes everything (mask 0): the attenuation limit alone sets the output."""

    def __init__(self, bins):
        self.mask = np.zeros(bins, np.float32)

    def process(self, features):
        return self.mask

    def reset(self):
        pass


@pytest.mark.parametrize("limit_db", [0.0, 6.0, 20.0])
def test_noise_reduction_never_attenuates_more_than_its_limit(limit_db):
    c = contract()
    flat = wdrc_params(ratio=1.0, gains_65_db=(0.0,) * 6, noise_reduction_db=limit_db)
    x = _speechlike(8000)
    ref = StreamingEnhancer(c, None, build_chain(flat, c)).process(x)  # unity mask
    out = StreamingEnhancer(c, ZeroMask(c.bins), build_chain(flat, c)).process(x)
    ratio_db = 20 * np.log10(np.linalg.norm(out[2000:]) / np.linalg.norm(ref[2000:]))
    assert abs(ratio_db + limit_db) < 0.01
    # with a unity mask the limit changes nothing: a flat 0 dB chain gives the input back
    lag = c.latency_samples + 8
    assert abs(20 * np.log10(np.linalg.norm(ref[2000:]) / np.linalg.norm(x[2000 - lag:-lag]))) < 0.01


def test_noise_reduction_limit_leaves_compression_of_a_unity_mask_output_unchanged():
    c = contract()
    x = _speechlike(8000)
    outs = [StreamingEnhancer(c, None, build_chain(wdrc_params(ratio=2.0, noise_reduction_db=nr), c)).process(x)
            for nr in (0.0, 12.0)]
    assert np.max(np.abs(outs[1] - outs[0])) < 1e-4 * np.max(np.abs(outs[0]))


def test_chain_adds_at_most_1_ms_and_exactly_its_latency_samples():
    c = contract()
    params = wdrc_params(ratio=1.0, gains_65_db=(0.0,) * 6)
    chain = build_chain(params, c)
    assert chain.latency_samples * 1000.0 / c.sample_rate_hz <= 1.0
    x = np.zeros(4000, np.float32)
    x[1000] = 0.1
    bare = StreamingEnhancer(c, None, None).process(x)
    withc = StreamingEnhancer(c, None, chain).process(x)
    lag = int(np.argmax(np.abs(withc))) - int(np.argmax(np.abs(bare)))
    assert lag == chain.latency_samples == 8  # 0.5 ms look-ahead at 16 kHz
    assert StreamingEnhancer(c, None, chain).latency_samples == c.latency_samples + lag


def test_volume_is_clipped_to_the_preset_limits_and_shifts_the_output():
    c = contract()
    params = wdrc_params(ratio=1.0, gains_65_db=(10.0,) * 6, volume_min_db=-10.0, volume_max_db=4.0)
    chain = build_chain(params, c)
    assert chain.set_volume_db(9.0) == 4.0 and chain.set_volume_db(-30.0) == -10.0
    x = _speechlike(8000)
    levels = []
    for v in (0.0, -6.0):
        chain.set_volume_db(v)
        chain.reset()
        levels.append(20 * np.log10(np.linalg.norm(StreamingEnhancer(c, None, chain).process(x)[2000:])))
    assert abs(levels[1] - levels[0] + 6.0) < 0.1


def test_per_hop_calls_write_preallocated_buffers_and_nothing_accumulates():
    # numpy's ufunc machinery itself takes a few hundred bytes of scratch per call, so the check is
    # (1) the spectrum is modified in place and process_hop answers with the chain's own buffers
    # (the limited-output buffer, or a prebuilt view of the pass-through delay ring),
    # (2) 500 hops leave no memory behind (tracemalloc)
    c = contract()
    chain = build_chain(wdrc_params(), c)
    rng = np.random.default_rng(0)
    noisy = rng.standard_normal((2, c.bins)).astype(np.float32)
    enhanced = noisy.copy()
    hop = (0.5 * rng.standard_normal(c.hop_samples)).astype(np.float32)
    loud = (4.0 * hop).astype(np.float32)  # drives the limiter's full path
    outputs = []
    for i in range(50):
        chain.process_spectrum(noisy, enhanced)
        outputs.append(chain.process_hop(loud if i % 2 else hop))
    limiter = chain._limiter
    assert all(o is limiter._y or any(o is v for v in limiter._out) for o in outputs)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i in range(500):
        enhanced[:] = noisy
        chain.process_spectrum(noisy, enhanced)
        chain.process_hop(loud if i % 2 else hop)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    ours = [tracemalloc.Filter(True, "*hearsep/chain/*")]  # not other threads' allocations
    diff = after.filter_traces(ours).compare_to(before.filter_traces(ours), "filename")
    grown = sum(s.size_diff for s in diff if s.size_diff > 0)
    assert grown < 4096  # one array kept per hop would be >= 500 * 128 bytes


def test_parameters_the_chain_cannot_run_are_refused_naming_the_field():
    c = contract()
    with pytest.raises(ConfigError, match="limiter_lookahead_ms"):
        build_chain(wdrc_params(limiter_lookahead_ms=2.0), c)
    with pytest.raises(ConfigError, match="noise_reduction_db"):
        build_chain(wdrc_params(noise_reduction_db=-3.0), c)
    with pytest.raises(ConfigError, match="attack_ms"):
        build_chain(wdrc_params(attack_ms=0.0), c)
    shifted = wdrc_params()
    shifted = type(shifted)(**{**shifted.__dict__, "crossovers_hz": (354.0, 707.0, 1414.0, 2828.0, 3500.0)})
    with pytest.raises(ConfigError, match="centre_hz 4000 Hz lies outside"):
        build_chain(shifted, c)


def test_spectra_that_are_not_contiguous_give_the_same_result():
    # the per-hop closure works on flat views of the enhancer's (contiguous) arrays; other arrays
    # go through a contiguous copy
    c = contract()
    rng = np.random.default_rng(5)
    spectra = (1e-2 * rng.standard_normal((40, 2, c.bins))).astype(np.float32)
    a, b = build_chain(wdrc_params(), c), build_chain(wdrc_params(), c)
    for s in spectra:
        contiguous, strided = s.copy(), np.asfortranarray(s)
        a.process_spectrum(s, contiguous)
        b.process_spectrum(np.asfortranarray(s), strided)
        assert not strided.flags.c_contiguous and np.array_equal(contiguous, strided)
