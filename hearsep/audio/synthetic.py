"""Speech-like test and calibration audio made with numpy alone, so no recording is needed.

What :func:`speech_like` models (a crude source-filter picture of running speech, Fant 1960):

* **voiced source with a pitch contour**: harmonics ``k * f0(t)`` with 1/sqrt(k) amplitudes,
  ``f0(t) = f0_hz + 25 Hz * sin(2 pi r t)`` with ``r`` 0.4..0.7 Hz (phrase-level intonation);
  ``f0_hz`` is drawn from 110..150 Hz unless given;
* **formant-like envelope**: each harmonic weighted by three Gaussian bumps (sigma 120 Hz) at
  500/1500/2500 Hz (a neutral vowel's formants), each moved by up to +-10 %, plus a -34 dB floor;
  harmonics above 0.45 of the sample rate are left out (no aliasing);
* **syllabic modulation**: a ``sin^2`` envelope at 3..4 Hz (syllable rate of running speech);
* **pauses**: silence whenever ``sin(2 pi 0.35 Hz t) <= -0.6`` (about 30 % of the time), enough
  for PESQ's and STOI's speech-activity detection to find speech and silence;
* optionally **fricatives** (unvoiced, ``fricatives=True``): first-difference (high-passed) white
  noise in short bursts at about 1.7 Hz, at 0.3 of the voiced RMS.

It is NOT speech: no phonetic content, one formant pattern per signal. Good for exercising level-
dependent processing (compressors, limiters), speech-activity detectors and int8 ranges; a
quality score measured on it says nothing about quality on speech.

:func:`noise_like` gives the noises to mix with it, :func:`speech_like_mixture` both at an SNR.
All outputs are float32, mono ``(samples,)``, RMS at ``level_dbfs`` (dB re full scale 1.0), and
deterministic for a seed. ``seed`` may also be a :class:`numpy.random.Generator`, which is then
drawn from (so one generator can make a whole deterministic set).
"""

from __future__ import annotations

import numpy as np

from hearsep.audio.mix import mix_at_snr

FORMANTS_HZ = (500.0, 1500.0, 2500.0)  # a neutral vowel's first three formants
NOISE_KINDS = ("white", "lowpass", "pink", "babble", "modulated")


def _samples(seconds: float, rate_hz: int) -> int:
    return max(1, int(round(seconds * rate_hz)))


def _at_level(x: np.ndarray, level_dbfs: float) -> np.ndarray:
    return (x / (np.sqrt(np.mean(x ** 2)) + 1e-12) * 10.0 ** (level_dbfs / 20.0)).astype(np.float32)


def speech_like(seconds: float, rate_hz: int, *, seed: int | np.random.Generator = 0, level_dbfs: float = -25.0,
                f0_hz: float | None = None, fricatives: bool = False) -> np.ndarray:
    """``seconds`` of speech-like sound at ``rate_hz`` (Hz), RMS at ``level_dbfs``; see the module docstring.

    ``f0_hz``: mean pitch in Hz (None: drawn from 110..150 Hz). ``fricatives``: add unvoiced bursts.
    """
    rng = np.random.default_rng(seed)
    n = _samples(seconds, rate_hz)
    t = np.arange(n) / rate_hz
    base_hz = 110.0 + 40.0 * rng.random()
    f0 = (base_hz if f0_hz is None else f0_hz) + 25.0 * np.sin(2 * np.pi * (0.4 + 0.3 * rng.random()) * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate_hz
    formants_hz = np.array(FORMANTS_HZ) * (0.9 + 0.2 * rng.random(3))
    x = np.zeros(n)
    for k in range(1, 60):
        fk = k * f0
        amp = sum(np.exp(-0.5 * ((fk - f) / 120.0) ** 2) for f in formants_hz) + 0.02
        amp = np.where(fk < 0.45 * rate_hz, amp, 0.0)
        x += amp * np.sin(k * phase) / np.sqrt(k)
    syllable_hz = 3.0 + rng.random()
    env = np.clip(np.sin(2 * np.pi * syllable_hz * t + rng.random() * 6.0), 0.0, None) ** 2
    pauses = np.sin(2 * np.pi * 0.35 * t) > -0.6
    x *= env * pauses
    if fricatives:
        hiss = np.diff(rng.standard_normal(n + 1))
        bursts = np.clip(np.sin(2 * np.pi * 1.7 * t + 6.28 * rng.random()), 0.0, None) ** 8
        hiss *= bursts * pauses
        x += hiss * (0.3 * np.sqrt(np.mean(x ** 2)) / (np.sqrt(np.mean(hiss ** 2)) + 1e-12))
    return _at_level(x, level_dbfs)


def noise_like(seconds: float, rate_hz: int, *, kind: str = "lowpass", seed: int | np.random.Generator = 1,
               level_dbfs: float = -30.0) -> np.ndarray:
    """``seconds`` of noise at ``rate_hz`` (Hz), RMS at ``level_dbfs``.

    ``kind``: ``"white"``; ``"lowpass"`` (white through a 4-sample moving average, -3 dB near
    0.11 of the sample rate); ``"pink"`` (power falling 3 dB per octave above 20 Hz, shaped in the
    frequency domain); ``"babble"`` (four :func:`speech_like` talkers with fricatives);
    ``"modulated"`` (white noise with a 4 Hz, 50 % amplitude modulation).
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise kind must be one of {', '.join(NOISE_KINDS)}; got {kind!r}")
    rng = np.random.default_rng(seed)
    n = _samples(seconds, rate_hz)
    if kind == "babble":
        x = sum(speech_like(seconds, rate_hz, seed=rng, level_dbfs=0.0, f0_hz=rng.uniform(100.0, 220.0),
                            fricatives=True).astype(np.float64) for _ in range(4))
        return _at_level(x, level_dbfs)
    w = rng.standard_normal(n)
    if kind == "lowpass":
        w = np.convolve(w, np.ones(4) / 4, mode="same")
    elif kind == "pink":
        f_hz = np.fft.rfftfreq(n, 1.0 / rate_hz)
        w = np.fft.irfft(np.fft.rfft(w) / np.sqrt(np.maximum(f_hz, 20.0)), n)
    elif kind == "modulated":
        w *= 1.0 + 0.5 * np.sin(2 * np.pi * 4.0 * np.arange(n) / rate_hz)
    return _at_level(w, level_dbfs)


def speech_like_mixture(seconds: float, rate_hz: int, *, snr_db: float = 5.0, level_dbfs: float = -26.0,
                        noise: str = "white", seed: int = 0) -> np.ndarray:
    """:func:`speech_like` (with fricatives) plus :func:`noise_like` of ``noise`` kind at ``snr_db`` (dB).

    The speech RMS is at ``level_dbfs``; the whole is scaled down if a sample would exceed 0.99.
    """
    rng = np.random.default_rng(seed)
    speech = speech_like(seconds, rate_hz, seed=rng, fricatives=True)
    return mix_at_snr(speech, noise_like(seconds, rate_hz, kind=noise, seed=rng), snr_db, level_dbfs=level_dbfs,
                      level_of="speech", max_peak=0.99).mixture
