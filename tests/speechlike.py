"""Test defaults (16 kHz) for :mod:`hearsep.audio.synthetic`, the one speech-like generator."""

from __future__ import annotations

import numpy as np

from hearsep.audio import synthetic


def speech_like(seconds: float, rate_hz: int = 16000, seed: int = 0, level_dbfs: float = -25.0) -> np.ndarray:
    return synthetic.speech_like(seconds, rate_hz, seed=seed, level_dbfs=level_dbfs)


def noise_like(seconds: float, rate_hz: int = 16000, seed: int = 1, level_dbfs: float = -30.0) -> np.ndarray:
    return synthetic.noise_like(seconds, rate_hz, kind="lowpass", seed=seed, level_dbfs=level_dbfs)
