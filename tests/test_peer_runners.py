"""tools/dfn3_runner.py, tools/rnnoise_runner.py, tools/block_runner.py and tools/dnsmos.py.

The peers and DNSMOS need the ``bench`` extra (``pip install -e ".[bench]"``); CI installs only
``[train,dev]``, so those tests skip there, each with the package it lacks as the reason.
"""

import configparser
import csv
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speechlike import noise_like, speech_like

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
CORPUS = REPO.parent / "shared" / "corpus"

import block_runner  # noqa: E402
import dfn3_runner  # noqa: E402
import dnsmos  # noqa: E402
import rnnoise_runner  # noqa: E402
from bench_peers import best_lag  # noqa: E402

needs_dfn3 = pytest.mark.skipif(dfn3_runner.available() is not None, reason=f"DeepFilterNet3: {dfn3_runner.available()}")
needs_rnnoise = pytest.mark.skipif(rnnoise_runner.available() is not None, reason=f"RNNoise: {rnnoise_runner.available()}")
needs_dnsmos = pytest.mark.skipif(dnsmos.available() is not None, reason=f"DNSMOS: {dnsmos.available()}")
needs_corpus = pytest.mark.skipif(not (CORPUS / "manifest.csv").is_file(), reason="no ../shared/corpus")


def _stream(runner, x: np.ndarray, extra_hops: int) -> np.ndarray:
    """``x`` (at the runner's rate) hop by hop from a fresh state, ``extra_hops`` of zeros after it."""
    runner.reset()
    h = runner.hop_samples
    n = -(-len(x) // h) * h + extra_hops * h
    padded = np.zeros(n, np.float32)
    padded[:len(x)] = x
    return np.concatenate([runner.process_hop(padded[i:i + h]) for i in range(0, n, h)])


def _corpus_speech(count: int) -> list[np.ndarray]:
    rows = [r for r in csv.DictReader((CORPUS / "manifest.csv").open()) if r["kind"] == "speech" and r["split"] == "dev"]
    return [sf.read(CORPUS / r["path"], dtype="float32")[0] for r in rows[:count]]


# ---- block_runner --------------------------------------------------------------------------------

class _Delay:
    """A pure delay of ``delay`` samples in blocks of ``block``: what a perfect peer does."""

    def __init__(self, block: int, delay: int):
        self.block, self.buf = block, np.zeros(delay + block, np.float32)

    def process(self, x: np.ndarray) -> np.ndarray:
        self.buf = np.concatenate([self.buf[self.block:], x])
        return self.buf[:self.block].copy()


@pytest.mark.parametrize("model_rate_hz", [16000, 48000])
def test_enhance_offline_removes_the_delay_and_keeps_the_length(model_rate_hz):
    x = speech_like(0.77, seed=9)  # not a whole number of blocks
    block, delay = 160, 3 * 160 + 17
    y = block_runner.enhance_offline(_Delay(block, delay).process, block, delay, x, 16000, model_rate_hz)
    assert y.shape == x.shape
    err = x[200:-200] - y[200:-200]  # resampler edges aside
    assert np.sum(err ** 2) < 1e-4 * np.sum(x[200:-200] ** 2)  # within 40 dB


# ---- DeepFilterNet3 ------------------------------------------------------------------------------

def _config(fft: int, hop: int, df_lookahead: int, conv_lookahead: int, sr: int = 48000):
    cfg = configparser.ConfigParser()
    cfg.read_dict({"df": {"sr": sr, "fft_size": fft, "hop_size": hop, "df_lookahead": df_lookahead},
                   "deepfilternet": {"conv_lookahead": conv_lookahead}})
    return cfg


def test_dfn3_delay_from_config():
    assert dfn3_runner.delay_from_config(_config(960, 480, 2, 2)) == (48000, 480, 1440)
    assert dfn3_runner.delay_from_config(_config(960, 480, 0, 0)) == (48000, 480, 480)
    assert dfn3_runner.delay_from_config(_config(960, 480, 1, 3))[2] == 480 + 3 * 480  # the larger look-ahead


@pytest.fixture(scope="module")
def dfn():
    return dfn3_runner.DeepFilterNet3()


@needs_dfn3
def test_dfn3_bundled_model_lag_is_the_measured_one(dfn):
    """The lag read from config.ini is the one the C runtime really has (cross-correlation at 48 kHz)."""
    from hearsep.audio.resample import resample

    assert (dfn.hop_samples, dfn.delay_samples, dfn.latency_ms) == (480, 1440, 40.0)
    x48 = resample(speech_like(1.5, seed=4), 16000, 48000)
    assert best_lag(_stream(dfn, x48, 4), x48, max_lag=3000) == dfn.delay_samples


@pytest.mark.slow
@needs_dfn3
def test_dfn3_offline_equals_streaming_with_the_lag_removed(dfn):
    from hearsep.audio.resample import resample

    x = speech_like(1.2, seed=2) + noise_like(1.2, level_dbfs=-35.0)
    x48 = resample(x, 16000, 48000)
    stream = _stream(dfn, x48, 4)
    offline = dfn.enhance(x48, 48000)
    np.testing.assert_allclose(stream[dfn.delay_samples:dfn.delay_samples + len(x48)], offline, atol=1e-6)
    y = dfn.enhance(x, 16000)  # 16 kHz in: resampled both ways inside, aligned, same length
    assert y.shape == x.shape and best_lag(y, x) == 0
    # a second call starts from a fresh state: the same output again
    np.testing.assert_array_equal(dfn.enhance(x, 16000), y)


@needs_dfn3
def test_dfn3_suppresses_noise(dfn):
    from hearsep.eval.metrics import si_sdr_db

    clean = speech_like(2.0, seed=5)
    noisy = clean + noise_like(2.0, seed=6, level_dbfs=-25.0)  # 0 dB SNR
    assert si_sdr_db(dfn.enhance(noisy, 16000), clean) > si_sdr_db(noisy, clean) + 1.5  # measured: +3.0 dB


# ---- RNNoise -------------------------------------------------------------------------------------

@needs_rnnoise
@needs_corpus
def test_rnnoise_delay_is_compensated():
    """DELAY_SAMPLES is measured, not reported by the library: check it on real speech.

    At 48 kHz the peak sits within a sample or two of it (RNNoise's input high-pass shifts the
    phase); after compensation the 16 kHz output is aligned exactly."""
    from hearsep.audio.resample import resample

    rn = rnnoise_runner.RNNoise()
    for x in _corpus_speech(3):
        x48 = resample(x, 16000, 48000)
        assert abs(best_lag(_stream(rn, x48, 4), x48, max_lag=3000) - rn.delay_samples) <= 2
        assert best_lag(rn.enhance(x, 16000), x) == 0
    assert rn.latency_ms == 30.0


@needs_rnnoise
def test_rnnoise_offline_equals_streaming_with_the_lag_removed():
    from hearsep.audio.resample import resample

    rn = rnnoise_runner.RNNoise()
    x48 = resample(speech_like(1.0, seed=3) + noise_like(1.0, level_dbfs=-35.0), 16000, 48000)
    stream = _stream(rn, x48, 4)
    np.testing.assert_allclose(stream[rn.delay_samples:rn.delay_samples + len(x48)], rn.enhance(x48, 48000),
                               atol=1e-6)


# ---- DNSMOS --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scorer():
    return dnsmos.DNSMOS()


@pytest.mark.slow
@needs_dnsmos
def test_dnsmos_in_range_and_clean_speech_scores_above_noise(scorer):
    # 4.6 s: DNSMOS repeats a clip to 9.01 s, so this is one scoring window (fast)
    clean = speech_like(4.6, seed=7)
    noise = noise_like(4.6, seed=8, level_dbfs=-25.0)
    s_clean, s_noisy, s_noise = scorer(clean), scorer(clean + noise), scorer(noise)
    for s in (s_clean, s_noisy, s_noise):
        assert set(dnsmos.KEYS) <= set(s)
        assert all(1.0 <= s[k] <= 5.0 for k in dnsmos.KEYS)
    assert s_clean["dnsmos_bak"] > s_noisy["dnsmos_bak"] + 1.0  # BAK: the noise left in
    assert s_clean["dnsmos_ovrl"] > s_noise["dnsmos_ovrl"]
    assert s_noisy["dnsmos_sig"] > s_noise["dnsmos_sig"]  # SIG: there is speech in it


@pytest.mark.slow
@needs_dnsmos
def test_dnsmos_takes_other_rates_and_clips_overs(scorer):
    from hearsep.audio.resample import resample

    x = speech_like(4.6, seed=7)
    a = scorer(x, 16000)
    b = scorer(resample(x, 16000, 48000), 48000)
    assert b["dnsmos_ovrl"] == pytest.approx(a["dnsmos_ovrl"], abs=0.05)
    loud = scorer(x * 60.0)  # peaks far above full scale: clipped, scored, no ValueError
    assert 1.0 <= loud["dnsmos_ovrl"] <= 5.0
