"""A speech-like test signal for profiling, so a profile needs no recording.

Cost per hop barely depends on the audio for a recurrent separator, but a hearing-aid chain's
compressors and limiter do work that depends on level, so the input should move like speech:
a harmonic voiced source (gliding f0 near 120 Hz, 1/k amplitudes shaped by three formant
bumps), a syllable-rate envelope (~4 Hz) with pauses, plus white noise at a stated SNR.
Deterministic for a seed; float32 in [-1, 1].
"""

from __future__ import annotations

import numpy as np

FORMANTS_HZ = (500.0, 1500.0, 2500.0)  # a neutral vowel's first three formants


def speech_like_mixture(seconds: float, sample_rate_hz: int, snr_db: float = 5.0, level_dbfs: float = -26.0,
                        seed: int = 0) -> np.ndarray:
    """``seconds`` of speech-like sound plus noise at ``snr_db``; speech RMS at ``level_dbfs``."""
    rng = np.random.default_rng(seed)
    n = max(1, int(round(seconds * sample_rate_hz)))
    t = np.arange(n) / sample_rate_hz
    f0_hz = 120.0 + 20.0 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0_hz) / sample_rate_hz
    voiced = np.zeros(n)
    for k in range(1, int(0.45 * sample_rate_hz / 140.0)):
        bump = sum(np.exp(-0.5 * ((k * 120.0 - f) / 150.0) ** 2) for f in FORMANTS_HZ) + 0.05
        voiced += bump / k * np.sin(k * phase)
    envelope = np.clip(np.sin(2 * np.pi * 4.0 * t), 0.0, None) * (np.sin(2 * np.pi * 0.3 * t) > -0.5)
    speech = voiced * envelope
    speech *= 10 ** (level_dbfs / 20) / (np.sqrt(np.mean(speech ** 2)) + 1e-12)
    noise = rng.standard_normal(n) * 10 ** ((level_dbfs - snr_db) / 20)
    return np.clip(speech + noise, -1.0, 1.0).astype(np.float32)
