"""DTLN (Westhausen & Meyer, Interspeech 2020) run with its published TFLite block algorithm.

A peer baseline for ``tools/bench_peers.py``; it is not part of the hearsep runtime. The models
are the authors' ``model_1.tflite`` / ``model_2.tflite`` (float) or ``model_quant_1/2.tflite``
(dynamic-range quantized) from a folder given by the caller (``../shared/peers/dtln``).

Per block of ``BLOCK_SHIFT_SAMPLES`` new samples (the published algorithm, as in the authors'
``real_time_processing_tf_lite.py``):

1. shift the new samples into a ``BLOCK_SAMPLES`` input buffer;
2. ``rfft`` the buffer (no window); magnitude -> model 1 -> mask; keep the phase;
3. ``irfft(magnitude * mask * exp(j * phase))`` -> model 2 -> an enhanced time frame;
4. overlap-add the frame into the output buffer; emit its first shift and move it left.

The emitted samples lag the input by ``BLOCK_SAMPLES - BLOCK_SHIFT_SAMPLES`` (384 samples);
:meth:`DTLN.enhance` removes that lag for offline scoring. The algorithmic latency of the live
algorithm is one block, ``BLOCK_SAMPLES`` (32 ms): the lag plus the shift that must be buffered
before a block can run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hearsep.errors import ModelError  # noqa: E402
from hearsep.runtime.interpreter import load_interpreter  # noqa: E402

RATE_HZ = 16000
BLOCK_SAMPLES = 512
BLOCK_SHIFT_SAMPLES = 128
BINS = BLOCK_SAMPLES // 2 + 1
STATE_SHAPE = (1, 2, 128, 2)
MODEL_FILES = {False: ("model_1.tflite", "model_2.tflite"), True: ("model_quant_1.tflite", "model_quant_2.tflite")}


class _Stage:
    """One DTLN interpreter with its signal and state tensors, found by shape (never by order).

    The files carry no signature, and their tensor names (``input_2``, ``Identity_1``...) say
    nothing: the state is the 4-D ``[1, 2, 128, 2]`` tensor, the signal the ``[1, 1, n]`` one.
    """

    def __init__(self, path: Path, signal_len: int, num_threads: int, xnnpack: bool):
        self.path = path
        self.interp = load_interpreter(path, num_threads=num_threads, xnnpack=xnnpack)
        self.signal_in, self.state_in = self._pick(self.interp.get_input_details(), signal_len, "input")
        self.signal_out, self.state_out = self._pick(self.interp.get_output_details(), signal_len, "output")
        self.state = np.zeros(STATE_SHAPE, np.float32)

    def _pick(self, details: list[dict], signal_len: int, what: str) -> tuple[int, int]:
        by_shape = {tuple(int(v) for v in d["shape"]): d for d in details}
        signal, state = by_shape.get((1, 1, signal_len)), by_shape.get(STATE_SHAPE)
        if len(details) != 2 or signal is None or state is None:
            found = ", ".join(f"{d['name']}{list(d['shape'])}" for d in details)
            raise ModelError(f"{self.path.name}: expected {what}s [1, 1, {signal_len}] and {list(STATE_SHAPE)}, "
                             f"found {found}")
        for d in (signal, state):
            if np.dtype(d["dtype"]) != np.float32:
                raise ModelError(f"{self.path.name}: {what} {d['name']} is {np.dtype(d['dtype'])}, expected float32")
        return int(signal["index"]), int(state["index"])

    def run(self, signal: np.ndarray) -> np.ndarray:
        """One invoke; the state is carried to the next call. Returns the signal output ``(n,)``."""
        self.interp.set_tensor(self.signal_in, signal.reshape(1, 1, -1))
        self.interp.set_tensor(self.state_in, self.state)
        self.interp.invoke()
        self.state = self.interp.get_tensor(self.state_out)
        return self.interp.get_tensor(self.signal_out).reshape(-1)


class DTLN:
    """Both DTLN stages with explicit state: ``process_block`` (streaming) and ``enhance`` (offline)."""

    rate_hz = RATE_HZ
    latency_samples = BLOCK_SAMPLES
    latency_ms = 1000.0 * BLOCK_SAMPLES / RATE_HZ
    #: lag of the emitted samples behind the input in the block algorithm
    delay_samples = BLOCK_SAMPLES - BLOCK_SHIFT_SAMPLES

    def __init__(self, folder: str | Path, quantized: bool = False, num_threads: int = 1, xnnpack: bool = True):
        folder = Path(folder)
        names = MODEL_FILES[quantized]
        for n in names:
            if not (folder / n).is_file():
                raise ModelError(f"DTLN model {folder / n} not found")
        self.quantized = quantized
        self.files = tuple(folder / n for n in names)
        self.stage1 = _Stage(self.files[0], BINS, num_threads, xnnpack)
        self.stage2 = _Stage(self.files[1], BLOCK_SAMPLES, num_threads, xnnpack)
        self.reset()

    def reset(self) -> None:
        self.in_buffer = np.zeros(BLOCK_SAMPLES, np.float32)
        self.out_buffer = np.zeros(BLOCK_SAMPLES, np.float32)
        self.stage1.state = np.zeros(STATE_SHAPE, np.float32)
        self.stage2.state = np.zeros(STATE_SHAPE, np.float32)

    def process_block(self, shift: np.ndarray) -> np.ndarray:
        """``BLOCK_SHIFT_SAMPLES`` new input samples in, as many output samples out (a copy)."""
        s = BLOCK_SHIFT_SAMPLES
        self.in_buffer[:-s] = self.in_buffer[s:]
        self.in_buffer[-s:] = shift
        spectrum = np.fft.rfft(self.in_buffer)
        magnitude = np.abs(spectrum).astype(np.float32)
        phase = np.angle(spectrum)
        mask = self.stage1.run(magnitude)
        frame = np.fft.irfft(magnitude * mask * np.exp(1j * phase)).astype(np.float32)
        enhanced = self.stage2.run(frame)
        self.out_buffer[:-s] = self.out_buffer[s:]
        self.out_buffer[-s:] = 0.0
        self.out_buffer += enhanced
        return self.out_buffer[:s].copy()

    def enhance(self, x: np.ndarray, rate_hz: int = RATE_HZ) -> np.ndarray:
        """Offline: the whole signal through the block algorithm from a reset state, lag removed.

        Audio at another rate is resampled to 16 kHz and back. Returns as many samples as given.
        """
        from block_runner import enhance_offline

        self.reset()
        return enhance_offline(self.process_block, BLOCK_SHIFT_SAMPLES, self.delay_samples, x, rate_hz, RATE_HZ)

    __call__ = enhance
