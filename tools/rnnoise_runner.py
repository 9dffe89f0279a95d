"""RNNoise (Valin, "A hybrid DSP/deep learning approach to real-time full-band speech enhancement",
MMSP 2018, arXiv:1709.08243) through the ``pyrnnoise`` package.

A peer baseline for ``tools/bench_peers.py``; it is not part of the hearsep runtime. ``pyrnnoise``
(``pip install ".[bench]"``) ships ``librnnoise`` and binds it with :mod:`ctypes` in
``pyrnnoise.rnnoise``; its high-level ``RNNoise`` class resamples through FFmpeg graphs and
rounds to int16, so this runner calls the C functions directly (``rnnoise_create``,
``rnnoise_process_frame(state, out, in)``, ``rnnoise_destroy``) on float frames in int16 units
(RNNoise's C API expects samples scaled to +-32768; ``examples/rnnoise_demo.c``).

RNNoise runs at 48 kHz on 480-sample hops (10 ms). The emitted samples lag the input by
``DELAY_SAMPLES`` = 960 (20 ms): measured here by cross-correlating speech in and out (the test
``test_rnnoise_delay_is_compensated`` guards it), not read from the library, which does not
report it. The algorithmic latency, as for DTLN, adds the hop that must be buffered first:
1440 samples = 30 ms. :meth:`RNNoise.enhance` resamples 16 -> 48 -> 16 kHz inside the call
(counted in its compute) and removes the lag.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hearsep.errors import ModelError  # noqa: E402

RATE_HZ = 48000
HOP_SAMPLES = 480
DELAY_SAMPLES = 960
#: RNNoise's C API works on samples in int16 units
INT16_SCALE = 32768.0
PACKAGE = "pyrnnoise"

_FLOAT_P = ctypes.POINTER(ctypes.c_float)


def available() -> str | None:
    """``None`` when RNNoise can run here, else one line saying why not."""
    try:
        from pyrnnoise import rnnoise  # noqa: F401
    except ImportError as exc:
        return f"package {PACKAGE} not installed or incomplete ({exc}; pip install '.[bench]')"
    except OSError as exc:  # its librnnoise missing
        return f"{PACKAGE} is installed but unusable: {exc}"
    return None


class RNNoise:
    """RNNoise with explicit state: ``process_hop`` (streaming, 48 kHz) and ``enhance`` (offline)."""

    rate_hz = RATE_HZ
    hop_samples = HOP_SAMPLES
    delay_samples = DELAY_SAMPLES
    latency_samples = DELAY_SAMPLES + HOP_SAMPLES
    latency_ms = 1000.0 * (DELAY_SAMPLES + HOP_SAMPLES) / RATE_HZ

    def __init__(self):
        why = available()
        if why is not None:
            raise ModelError(f"RNNoise: {why}")
        from pyrnnoise import rnnoise

        if int(rnnoise.FRAME_SIZE) != HOP_SAMPLES or int(rnnoise.SAMPLE_RATE) != RATE_HZ:
            raise ModelError(f"librnnoise frame {rnnoise.FRAME_SIZE} at {rnnoise.SAMPLE_RATE} Hz, "
                             f"expected {HOP_SAMPLES} at {RATE_HZ}")
        self._rn = rnnoise
        self.library_path = rnnoise.LIBRNNOISE
        self._buf = np.zeros(HOP_SAMPLES, np.float32)
        self._buf_p = self._buf.ctypes.data_as(_FLOAT_P)
        self._state = None
        self.speech_prob = float("nan")
        self.reset()

    def reset(self) -> None:
        self._free()
        self._state = self._rn.create()
        if not self._state:
            raise ModelError("rnnoise_create failed")

    def _free(self) -> None:
        if getattr(self, "_state", None):
            self._rn.destroy(self._state)
            self._state = None

    def __del__(self):
        self._free()

    def process_hop(self, hop: np.ndarray) -> np.ndarray:
        """``HOP_SAMPLES`` new 48 kHz samples in, as many out (a copy), ``DELAY_SAMPLES`` behind."""
        np.multiply(hop, INT16_SCALE, out=self._buf)
        self.speech_prob = float(self._rn.lib.rnnoise_process_frame(self._state, self._buf_p, self._buf_p))
        return self._buf / INT16_SCALE

    def enhance(self, x: np.ndarray, rate_hz: int = 16000) -> np.ndarray:
        """Offline: the whole signal from a reset state, resampled to 48 kHz and back, lag removed."""
        from block_runner import enhance_offline

        self.reset()
        return enhance_offline(self.process_hop, HOP_SAMPLES, DELAY_SAMPLES, x, rate_hz, RATE_HZ)

    __call__ = enhance
