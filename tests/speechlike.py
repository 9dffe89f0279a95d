"""Speech-like test audio without recordings: a voiced harmonic source with a gliding pitch,
three formants and a syllable-rate envelope with pauses (enough for PESQ's and STOI's speech
activity detection), and coloured noise. Deterministic by seed; float32, mono."""

from __future__ import annotations

import numpy as np


def speech_like(seconds: float, rate_hz: int = 16000, seed: int = 0, level_dbfs: float = -25.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate_hz))
    t = np.arange(n) / rate_hz
    f0 = 110.0 + 40.0 * rng.random() + 25.0 * np.sin(2 * np.pi * (0.4 + 0.3 * rng.random()) * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate_hz
    formants_hz = np.array([500.0, 1500.0, 2500.0]) * (0.9 + 0.2 * rng.random(3))
    x = np.zeros(n)
    for k in range(1, 60):
        fk = k * f0
        amp = sum(np.exp(-0.5 * ((fk - f) / 120.0) ** 2) for f in formants_hz) + 0.02
        amp = np.where(fk < 0.45 * rate_hz, amp, 0.0)
        x += amp * np.sin(k * phase) / np.sqrt(k)
    syllable_hz = 3.0 + rng.random()
    env = np.clip(np.sin(2 * np.pi * syllable_hz * t + rng.random() * 6.0), 0.0, None) ** 2
    env *= (np.sin(2 * np.pi * 0.35 * t) > -0.6)  # pauses between "phrases"
    x *= env
    x /= np.sqrt(np.mean(x ** 2)) + 1e-12
    return (x * 10 ** (level_dbfs / 20)).astype(np.float32)


def noise_like(seconds: float, rate_hz: int = 16000, seed: int = 1, level_dbfs: float = -30.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate_hz))
    w = rng.standard_normal(n)
    x = np.convolve(w, np.ones(4) / 4, mode="same")  # gently low-passed ("pink-ish")
    x /= np.sqrt(np.mean(x ** 2))
    return (x * 10 ** (level_dbfs / 20)).astype(np.float32)
