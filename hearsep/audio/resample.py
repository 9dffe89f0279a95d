"""Sample-rate conversion: a streaming polyphase resampler with a fixed, whole-sample delay.

:class:`StreamingResampler` converts ``from_hz`` to ``to_hz`` by the rational factor
``up / down`` (``up = to_hz / g``, ``down = from_hz / g``, ``g = gcd``): conceptually the input is
upsampled by ``up`` (zeros inserted), low-pass filtered by an FIR ``h`` and decimated by ``down``;
only the taps that meet non-zero input are computed (polyphase form, Crochiere & Rabiner,
"Multirate Digital Signal Processing", 1983, ch. 3). Output sample ``m`` is::

    t = m * down                                          # position at the rate up * from_hz
    y[m] = sum_k h[t mod up + k * up] * x[t div up - k]   # x[i] = 0 for i < 0

The filter is the one ``scipy.signal.resample_poly`` designs by default (a Kaiser window with
beta 5.0, cutoff at the lower Nyquist frequency, ``half_len = 10 * max(up, down)``; scipy
docs, ``resample_poly``), scaled by ``up``, except that ``half_len`` is lengthened to the next
value that makes the delay a whole number of output samples: ``half_len / down`` on its own, or
``(input_delay_samples * up + half_len) / down`` when the input already lags the original signal
by ``input_delay_samples`` (a model after another resampler), so that a round trip
``rate -> model rate -> model -> rate`` is time-aligned exactly, at no added delay.

The object is causal and keeps its input history between calls, so the output does not depend
on how the input is chunked (bit-identical), and every buffer is allocated once in
``__init__`` (blocks up to ``max_block_samples``).
"""

from __future__ import annotations

from math import gcd

import numpy as np

from hearsep.errors import AudioError, ConfigError

#: ``scipy.signal.resample_poly``'s default filter: Kaiser window beta and half length per factor
KAISER_BETA = 5.0
HALF_LEN_PER_FACTOR = 10


def resample_filter(up: int, down: int, input_delay_samples: int = 0) -> tuple[np.ndarray, int]:
    """The anti-alias/anti-image FIR for ``up / down`` and its half length (taps before the centre).

    Returns ``(taps, half_len)``: ``2 * half_len + 1`` taps, gain ``up`` in the pass band, cutoff
    ``1 / max(up, down)`` of the Nyquist frequency at the rate ``up * from_hz`` (scipy
    ``resample_poly`` default design), ``half_len`` the smallest value >= ``10 * max(up, down)``
    with ``(input_delay_samples * up + half_len) % down == 0`` (a whole output-sample delay).
    """
    if up == down == 1:
        return np.ones(1), 0
    max_factor = max(up, down)
    half_len = HALF_LEN_PER_FACTOR * max_factor
    half_len += (-(int(input_delay_samples) * up + half_len)) % down
    # windowed-sinc low-pass with unit DC gain: what scipy.signal.firwin(2 * half_len + 1,
    # 1 / max_factor, window=("kaiser", beta)) returns, without importing scipy on the runtime path
    cutoff = 1.0 / max_factor
    n = np.arange(-half_len, half_len + 1, dtype=np.float64)
    taps = cutoff * np.sinc(cutoff * n) * np.kaiser(2 * half_len + 1, KAISER_BETA)
    return taps * (up / taps.sum()), half_len


class StreamingResampler:
    """Causal polyphase resampling of ``(samples,)`` or ``(channels, samples)`` float32 blocks.

    ``process(block)`` takes up to ``max_block_samples`` input samples per channel (at
    ``from_hz``) and returns the output samples now final (at ``to_hz``) as a view of an internal
    buffer, valid until the next call; how many varies from block to block (about
    ``n * to_hz / from_hz``). Output sample ``m`` approximates the input at time
    ``m / to_hz - delay_s`` (:attr:`delay_s`: the filter's linear-phase delay).

    ``input_delay_samples``: how many samples (at ``from_hz``) the input already lags the
    original signal; the filter is then chosen so that :attr:`delay_samples`, the delay from
    the original signal to this output, is a whole number of output samples. ``from_hz ==
    to_hz`` passes samples through.
    """

    def __init__(self, from_hz: int, to_hz: int, *, channels: int = 1, max_block_samples: int = 4096,
                 input_delay_samples: int = 0):
        from_hz, to_hz = int(from_hz), int(to_hz)
        if from_hz <= 0 or to_hz <= 0:
            raise ConfigError(f"sample rates must be positive (got {from_hz} Hz -> {to_hz} Hz)")
        if channels < 1 or max_block_samples < 1 or input_delay_samples < 0:
            raise ConfigError("channels and max_block_samples must be >= 1, input_delay_samples >= 0")
        g = gcd(from_hz, to_hz)
        self.from_hz, self.to_hz = from_hz, to_hz
        self.up, self.down = up, down = to_hz // g, from_hz // g
        self.channels, self.max_block_samples = int(channels), int(max_block_samples)
        self.input_delay_samples = int(input_delay_samples)
        taps, half_len = resample_filter(up, down, self.input_delay_samples)
        self.half_len = half_len
        k = -(-taps.shape[0] // up)  # taps per phase
        padded = np.zeros(k * up)
        padded[:taps.shape[0]] = taps
        self.taps_per_phase = k
        self._phases = np.ascontiguousarray(padded.reshape(k, up).T, dtype=np.float32)  # (up, k)
        # history: input index lo is at column 0, with k - 1 + down samples kept before the
        # oldest one the next output needs (see _oldest_kept)
        self._keep = k + down + 2
        self._capacity = 2 * (self._keep + self.max_block_samples)
        self._history = np.zeros((self.channels, self._capacity), np.float32)
        self.max_output_samples = (self.max_block_samples * up) // down + 2
        n = self.max_output_samples
        # The pattern of taps repeats every ``up`` outputs (advancing the input by ``down``), so
        # for output m = q * up + r + i both tables are rows r + i: the history positions
        # relative to q * down (offset by k - 1, so never negative) and the phase's coefficients.
        # A block then gathers with one precomputed index table and multiplies by a view:
        # no index arithmetic and no temporary buffers per block.
        rows = np.arange(n + up, dtype=np.int64)
        self._positions = ((rows * down) // up)[:, None] - np.arange(k, dtype=np.int64)[None, :] + (k - 1)
        self._coefficients = np.ascontiguousarray(self._phases[(rows * down) % up])
        self._gathered = np.zeros(n * k, np.float32)
        self._out = np.zeros((self.channels, n), np.float32)
        self.reset()

    @property
    def delay_samples(self) -> int:
        """Delay from the original signal to the output in output samples (at ``to_hz``), whole:
        ``(input_delay_samples * up + half_len) / down``; the filter's own delay when
        ``input_delay_samples`` is 0."""
        return (self.input_delay_samples * self.up + self.half_len) // self.down

    @property
    def delay_s(self) -> float:
        """This resampler's own (filter) delay in seconds: ``half_len / (up * from_hz)``."""
        return self.half_len / (self.up * self.from_hz)

    def reset(self) -> None:
        """Forget all input (history back to silence, output counter to zero)."""
        self._history.fill(0)
        self._inputs = 0       # input samples received so far
        self._next = 0         # index of the next output sample
        self._lo = self._oldest_kept()  # input index held in history column 0
        self._filled = -self._lo  # columns holding indices lo .. inputs - 1 (zeros before index 0)

    def _oldest_kept(self) -> int:
        # the next output needs inputs down to (next * down) // up - (k - 1); ``down`` more are
        # kept so that the gather base q * down - (k - 1) - lo is never negative
        return (self._next * self.down) // self.up - (self.taps_per_phase - 1) - self.down

    def output_samples_for(self, input_samples: int) -> int:
        """How many output samples the next ``input_samples`` input samples will complete."""
        total = self._inputs + int(input_samples)
        last = (total * self.up - 1) // self.down  # newest output m
        return max(0, last - self._next + 1)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Feed ``block`` (``(n,)`` for one channel or ``(channels, n)``); return the new outputs.

        Returns ``(count,)`` or ``(channels, count)`` float32 (an internal buffer). Raises
        :class:`AudioError` for a wrong shape or a block longer than ``max_block_samples``.
        """
        x = np.asarray(block)
        mono = x.ndim == 1
        if mono and self.channels == 1:
            x = x.reshape(1, -1)
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise AudioError(f"resampler block has shape {np.shape(block)}; expected (samples,) or "
                             f"({self.channels}, samples)")
        n = x.shape[1]
        if n > self.max_block_samples:
            raise AudioError(f"resampler block of {n} samples exceeds max_block_samples={self.max_block_samples}")
        count = self.output_samples_for(n)
        h = self._history
        if self._filled + n > self._capacity:
            # keep only from the oldest input still needed; source and destination never overlap
            # (the capacity is twice the kept span plus a block)
            lo = self._oldest_kept()
            start = lo - self._lo
            keep = self._filled - start
            h[:, :keep] = h[:, start:self._filled]
            self._lo, self._filled = lo, keep
        h[:, self._filled:self._filled + n] = x
        self._filled += n
        self._inputs += n
        out = self._out[:, :count]
        if count:
            q, r = divmod(self._next, self.up)
            base = q * self.down - (self.taps_per_phase - 1) - self._lo
            pos, coef = self._positions[r:r + count], self._coefficients[r:r + count]
            gathered = self._gathered[:count * self.taps_per_phase].reshape(count, self.taps_per_phase)
            for c in range(self.channels):
                np.take(h[c, base:], pos, out=gathered, mode="clip")
                np.multiply(gathered, coef, out=gathered)
                np.sum(gathered, axis=1, out=out[c])
            self._next += count
        return out[0] if mono else out


def resample(audio: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Whole-signal polyphase resampling along the last axis (scipy ``resample_poly``), float32 out.

    Zero-phase (no delay) and for offline use; streaming code uses :class:`StreamingResampler`.
    """
    if from_hz == to_hz:
        return np.asarray(audio, dtype=np.float32)
    from scipy.signal import resample_poly

    g = gcd(int(from_hz), int(to_hz))
    return resample_poly(audio, int(to_hz) // g, int(from_hz) // g, axis=-1).astype(np.float32)
