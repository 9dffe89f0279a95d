"""hearsep.audio.synthetic: deterministic, at the stated level, and shaped like running speech."""

import numpy as np
import pytest

from hearsep.audio.synthetic import NOISE_KINDS, noise_like, speech_like, speech_like_mixture

RATE_HZ = 16000


def _rms_dbfs(x):
    return 10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2))


def test_speech_like_is_deterministic_at_its_level_and_a_generator_seed_draws_on():
    a = speech_like(2.0, RATE_HZ, seed=3, level_dbfs=-30.0)
    assert a.dtype == np.float32 and a.shape == (2 * RATE_HZ,)
    assert np.array_equal(a, speech_like(2.0, RATE_HZ, seed=3, level_dbfs=-30.0))
    assert not np.array_equal(a, speech_like(2.0, RATE_HZ, seed=4, level_dbfs=-30.0))
    assert abs(_rms_dbfs(a) + 30.0) < 1e-3
    rng = np.random.default_rng(3)
    first, second = speech_like(1.0, RATE_HZ, seed=rng), speech_like(1.0, RATE_HZ, seed=rng)
    assert not np.array_equal(first, second)


def test_speech_like_has_pauses_syllables_and_pitch_in_the_voice_range():
    x = speech_like(6.0, RATE_HZ, seed=1).astype(np.float64)
    frame_db = 10 * np.log10(np.mean(x.reshape(-1, RATE_HZ // 50) ** 2, axis=1) + 1e-20)  # 20 ms frames
    silent = frame_db < frame_db.max() - 60.0
    # half of each syllable period is silent, and the pauses (~30 %) silence half of the rest
    assert 0.55 < np.mean(silent) < 0.75
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate(([0], silent.astype(int), [0])))))[::2]
    assert runs.max() * 0.02 > 0.5  # a pause: longer than any gap between syllables (<= 0.17 s)
    # syllabic modulation: the envelope spectrum peaks at 3..4 Hz x 2 (sin^2) = 6..8 Hz or the 3..4 Hz pauses' rate
    env = np.abs(np.fft.rfft(np.sqrt(np.mean(x.reshape(-1, RATE_HZ // 100) ** 2, axis=1))))  # 100 Hz envelope
    mod_hz = np.fft.rfftfreq(600, 0.01)
    band = (mod_hz > 1.0) & (mod_hz < 20.0)
    assert 2.5 < mod_hz[band][np.argmax(env[band])] < 9.0
    # the fundamental: strongest autocorrelation lag in 2.5..10 ms of a voiced stretch
    voiced = x[np.argmax(np.abs(x)) - 1600:np.argmax(np.abs(x)) + 1600]
    ac = np.correlate(voiced, voiced, "full")[voiced.size - 1:]
    lag = 40 + np.argmax(ac[40:160])
    assert 85.0 < RATE_HZ / lag < 180.0


def test_fricatives_add_high_frequency_energy():
    def hf_fraction(x):
        p = np.abs(np.fft.rfft(x)) ** 2
        return p[np.fft.rfftfreq(x.size, 1 / RATE_HZ) > 4000].sum() / p.sum()

    assert hf_fraction(speech_like(2.0, RATE_HZ, seed=2)) < 0.01
    assert hf_fraction(speech_like(2.0, RATE_HZ, seed=2, fricatives=True)) > 0.03


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_noise_like_kinds_are_at_their_level(kind):
    x = noise_like(1.0, RATE_HZ, kind=kind, seed=5, level_dbfs=-33.0)
    assert x.dtype == np.float32 and x.shape == (RATE_HZ,)
    assert abs(_rms_dbfs(x) + 33.0) < 1e-3
    with pytest.raises(ValueError, match="noise kind"):
        noise_like(1.0, RATE_HZ, kind="brown")


def test_pink_noise_loses_3_db_per_octave():
    p = np.abs(np.fft.rfft(noise_like(8.0, RATE_HZ, kind="pink", seed=0).astype(np.float64))) ** 2
    f = np.fft.rfftfreq(8 * RATE_HZ, 1 / RATE_HZ)
    octave_db = 10 * np.log10(p[(f > 2000) & (f < 4000)].mean() / p[(f > 1000) & (f < 2000)].mean())
    assert abs(octave_db + 3.0) < 0.3


def test_mixture_sets_the_speech_level_and_the_snr():
    m = speech_like_mixture(3.0, RATE_HZ, snr_db=5.0, level_dbfs=-26.0, seed=7)
    s = speech_like(3.0, RATE_HZ, seed=np.random.default_rng(7), fricatives=True, level_dbfs=-26.0)
    n = m.astype(np.float64) - s
    assert abs(_rms_dbfs(s) - _rms_dbfs(n) - 5.0) < 0.01
    loud = speech_like_mixture(3.0, RATE_HZ, snr_db=5.0, level_dbfs=-3.0, seed=7)
    assert abs(np.max(np.abs(loud)) - 0.99) < 1e-6  # scaled down, not clipped
