"""Offline driver shared by the peer runners (DTLN, DeepFilterNet3, RNNoise): a whole signal
through a streaming block algorithm, its lag removed.

Each peer is a streaming object whose ``process_block(samples) -> samples`` takes ``block_samples``
new samples at the model's rate and returns as many, ``delay_samples`` behind the input.
:func:`enhance_offline` resamples the input to the model's rate, appends ``delay_samples`` of
zeros (rounded up to whole blocks) so the tail comes out, runs the blocks, drops the first
``delay_samples`` output samples and resamples back: the result is time-aligned with the input
and as long as it. Resampling is ``hearsep.audio.resample.resample`` (zero-phase polyphase: no lag of
its own), done inside the call, so a bench that times the call counts it in the peer's compute.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def enhance_offline(process_block: Callable[[np.ndarray], np.ndarray], block_samples: int, delay_samples: int,
                    x: np.ndarray, rate_hz: int, model_rate_hz: int) -> np.ndarray:
    """``x`` (mono, ``rate_hz``) through ``process_block`` at ``model_rate_hz``; aligned, same length."""
    from hearsep.audio.resample import resample

    n_in = np.asarray(x).shape[-1]
    xm = resample(np.asarray(x, np.float32).reshape(-1), rate_hz, model_rate_hz)
    n = xm.shape[0]
    total = -(-(n + delay_samples) // block_samples) * block_samples
    padded = np.zeros(total, np.float32)
    padded[:n] = xm
    out = np.empty(total, np.float32)
    for i in range(0, total, block_samples):
        out[i:i + block_samples] = process_block(padded[i:i + block_samples])
    y = resample(out[delay_samples:delay_samples + n], model_rate_hz, rate_hz)
    return y[:n_in] if y.shape[0] >= n_in else np.pad(y, (0, n_in - y.shape[0]))
