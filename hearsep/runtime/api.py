"""``Enhancer``: the Python API over the streaming runtime, at any sample rate and channel count.

One :class:`~hearsep.runtime.enhancer.StreamingEnhancer` (own model state) per channel, wrapped
in a :class:`~hearsep.audio.resample.StreamingResampler` pair when the audio rate differs from
the model's::

    block (channels, n) at sample_rate_hz -> resample to the model rate -> StreamingEnhancer
          -> [chain] -> resample back -> the same n samples, delayed by latency_samples

The delay is fixed and a whole number of samples at ``sample_rate_hz``: the output resampler's
filter length is chosen for it (``StreamingResampler(input_delay_samples=...)``), so nothing is
added for the alignment. :meth:`Enhancer.enhance` feeds
a whole signal plus ``latency_samples`` zeros and drops the first ``latency_samples`` outputs, so
its result is time-aligned with the input and equal to what :meth:`Enhancer.process` and
:meth:`Enhancer.flush` give block by block (bit-identical for any chunking).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from hearsep.audio.resample import StreamingResampler
from hearsep.errors import AudioError, ConfigError
from hearsep.model.contract import ModelContract, read_contract
from hearsep.runtime.enhancer import HopChain, StreamingEnhancer, check_audio_block, time_aligned
from hearsep.runtime.separator import TFLiteSeparator

#: Largest block (samples per channel at ``sample_rate_hz``) handled in one internal pass;
#: longer blocks are split, so memory does not grow with the block length.
MAX_BLOCK_SAMPLES = 4096


class _Channel:
    """One channel: resampler in -> StreamingEnhancer -> resampler out -> FIFO of whole outputs."""

    def __init__(self, core: StreamingEnhancer, outer_hz: int, max_block: int):
        self.core = core
        model_hz = core.contract.sample_rate_hz
        self.resampled = outer_hz != model_hz
        if not self.resampled:
            self._scratch = np.zeros(max_block, np.float32)
            return
        self.res_in = StreamingResampler(outer_hz, model_hz, max_block_samples=max_block)
        model_block = self.res_in.max_output_samples
        model_delay = self.res_in.delay_samples + core.latency_samples  # whole, at the model rate
        self.res_out = StreamingResampler(model_hz, outer_hz, max_block_samples=model_block,
                                          input_delay_samples=model_delay)
        self._model_out = np.zeros(model_block, np.float32)
        # outputs made but not yet returned: the back resampler runs at most a few samples ahead
        size = max_block + self.res_out.max_output_samples
        self._pending = [np.zeros(size, np.float32), np.zeros(size, np.float32)]
        self._npending = 0

    def reset(self) -> None:
        """Silence in both resamplers, the core and the output FIFO."""
        self.core.reset()
        if self.resampled:
            self.res_in.reset()
            self.res_out.reset()
            self._npending = 0

    def process(self, x: np.ndarray, out: np.ndarray) -> None:
        """``x`` (n,) float32 at the outer rate -> ``out`` (n,), n <= max_block."""
        n = x.shape[0]
        if not self.resampled:
            if np.may_share_memory(x, out):  # in place: copy the input out of the way first
                self._scratch[:n] = x
                x = self._scratch[:n]
            self.core.process(x, out=out)
            return
        m = self.res_in.process(x)
        y = self._model_out[:m.shape[0]]
        self.core.process(m, out=y)
        z = self.res_out.process(y)
        have = self._npending
        cur = self._pending[0]
        total = have + z.shape[0]
        if total < n:  # cannot happen: both resamplers emit every sample whose input has arrived
            raise AssertionError(f"resampler emitted {total} of {n} samples")
        if have >= n:
            out[:] = cur[:n]
            rest = self._pending[1]
            rest[:have - n] = cur[n:have]
            rest[have - n:total - n] = z
        else:
            out[:have] = cur[:have]
            out[have:] = z[:n - have]
            rest = self._pending[1]
            rest[:total - n] = z[n - have:]
        self._pending.reverse()
        self._npending = total - n


class Enhancer:
    """Speech enhancement of float audio at any sample rate, streaming or whole-signal.

    ``model``: a ``.tflite`` path, its folder, model bytes, or ``None`` for ``$HEARSEP_MODEL`` or
    the shipped default (:func:`hearsep.model.paths.resolve_model`). ``sample_rate_hz``: the rate
    of the audio given (default: the model's); any other rate is resampled to the model's and
    back (:class:`~hearsep.audio.resample.StreamingResampler`). ``channels``: each channel gets
    its own model state. ``chain``: a callable ``contract -> HopChain`` (e.g.
    ``lambda c: hearsep.chain.build_chain(params, c)``), called once per channel; the chain runs
    after the separator at the model rate. ``separator=False``: no model is run (unity mask;
    the model file only supplies the framing), so the chain runs alone. ``num_threads``,
    ``xnnpack``, ``delegate``: interpreter options (one thread is fastest for these small models).

    Audio is float32 in [-1, 1], shape ``(n,)`` (one channel) or ``(channels, n)``; blocks of any
    length. Output levels are not changed: samples above full scale stay above it (clip them, if
    at all, where the output format needs it: :class:`hearsep.audio.io.AudioWriter`).
    """

    def __init__(self, model: str | os.PathLike | bytes | None = None, *, sample_rate_hz: int | None = None,
                 channels: int = 1, chain: Callable[[ModelContract], HopChain] | None = None,
                 separator: bool = True, num_threads: int = 1, xnnpack: bool = True, delegate: str | None = None):
        if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or channels < 1:
            raise ConfigError(f"channels must be a whole number >= 1 (got {channels!r})")
        if isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer)) or num_threads < 1:
            raise ConfigError(f"num_threads must be a whole number >= 1 (got {num_threads!r}); "
                              "1 is fastest for these small models")
        if isinstance(model, (bytes, bytearray)):
            source: str | Path | bytes = bytes(model)
        else:
            from hearsep.model.paths import resolve_model

            source = resolve_model(model)
        self.model_source = source if isinstance(source, Path) else "<bytes>"
        self.contract = contract = read_contract(source)
        model_hz = contract.sample_rate_hz
        rate = model_hz if sample_rate_hz is None else sample_rate_hz
        if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or rate <= 0:
            raise ConfigError(f"sample_rate_hz must be a positive whole number of Hz (got {sample_rate_hz!r})")
        self.sample_rate_hz = int(rate)
        self.channels = int(channels)
        cores = []
        for _ in range(self.channels):
            sep = (TFLiteSeparator(source, contract, num_threads=int(num_threads), xnnpack=xnnpack, delegate=delegate)
                   if separator else None)
            cores.append(StreamingEnhancer(contract, sep, chain(contract) if chain is not None else None))
        self._channels = [_Channel(c, self.sample_rate_hz, MAX_BLOCK_SAMPLES) for c in cores]
        first = self._channels[0]
        #: input-to-output delay in samples at ``sample_rate_hz`` (a whole number)
        self.latency_samples = first.res_out.delay_samples if first.resampled else first.core.latency_samples
        #: the part of it that the two resampling filters add (seconds)
        self.resampler_delay_s = first.res_in.delay_s + first.res_out.delay_s if first.resampled else 0.0

    @property
    def cores(self) -> list[StreamingEnhancer]:
        """The per-channel :class:`StreamingEnhancer` objects (model rate), channel order."""
        return [ch.core for ch in self._channels]

    @property
    def latency_ms(self) -> float:
        """:attr:`latency_samples` (input-to-output delay at ``sample_rate_hz``) in milliseconds:
        model framing + chain look-ahead + resampling filters."""
        return 1000.0 * self.latency_samples / self.sample_rate_hz

    @property
    def bypass(self) -> bool:
        """True while every channel skips the separator (unity mask; the chain still runs)."""
        return all(c.bypass for c in self.cores)

    @bypass.setter
    def bypass(self, value: bool) -> None:
        """Set ``bypass`` on every channel's StreamingEnhancer (takes effect at its next hop)."""
        for c in self.cores:
            c.bypass = bool(value)

    def reset(self) -> None:
        """Back to the start: silence in every buffer, model and chain state reset."""
        for ch in self._channels:
            ch.reset()

    def process(self, block, out: np.ndarray | None = None) -> np.ndarray:
        """Enhance the next block; returns as many samples as given, delayed by :attr:`latency_samples`.

        ``block``: float ``(n,)`` (one channel) or ``(channels, n)`` at ``sample_rate_hz``.
        ``out``: optional float32 array of the same shape to write into (may be ``block`` itself).
        Everything is checked before any state changes (:class:`AudioError` otherwise).
        """
        x = check_audio_block(block, self.channels, "block")
        shape = np.shape(block)
        if out is None:
            out = np.empty(shape, np.float32)
        elif not (isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == shape):
            raise AudioError(f"out must be a float32 array of shape {shape} "
                             f"(got {getattr(out, 'dtype', type(out).__name__)} {np.shape(out)})")
        y = out.reshape(self.channels, -1)  # a view: out has this shape or (n,) for one channel
        n = x.shape[1]
        for start in range(0, n, MAX_BLOCK_SAMPLES):
            stop = min(start + MAX_BLOCK_SAMPLES, n)
            for c, ch in enumerate(self._channels):
                ch.process(x[c, start:stop], y[c, start:stop])
        return out

    def flush(self) -> np.ndarray:
        """The last :attr:`latency_samples` outputs (feeds that many zeros); then call :meth:`reset`
        before reusing the object for another signal. Shape ``(latency,)`` or ``(channels, latency)``."""
        zeros = np.zeros((self.channels, self.latency_samples), np.float32)
        tail = self.process(zeros, out=zeros)
        return tail[0] if self.channels == 1 else tail

    def enhance_stream(self, blocks: Iterable) -> Iterator[np.ndarray]:
        """Enhance a signal given as consecutive blocks; yield it time-aligned (latency removed).

        ``blocks``: float ``(n,)`` / ``(channels, n)`` arrays at ``sample_rate_hz`` (any lengths).
        Yields ``(channels, m)`` float32 blocks (fresh arrays) whose lengths add up to the input's:
        the first :attr:`latency_samples` outputs are dropped and the signal's end is flushed out.
        Starts from, and ends in, a reset state. Memory does not grow with the signal's length.
        """
        self.reset()
        channels = self.channels
        checked = (check_audio_block(block, channels, "audio") for block in blocks)
        yield from time_aligned(lambda x: self.process(x).reshape(channels, -1), self.latency_samples, checked)
        self.reset()

    def enhance(self, audio, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Enhance a whole signal, time-aligned with it (latency removed); same shape as ``audio``.

        The same computation as :meth:`enhance_stream` (bit-identical). ``progress`` (optional)
        is called with the number of input samples per channel done after each internal block.
        """
        x = check_audio_block(audio, self.channels, "audio")

        def blocks():
            for start in range(0, x.shape[1], MAX_BLOCK_SAMPLES):
                yield x[:, start:start + MAX_BLOCK_SAMPLES]
                if progress is not None:
                    progress(min(MAX_BLOCK_SAMPLES, x.shape[1] - start))

        y = np.empty((self.channels, x.shape[1]), np.float32)
        done = 0
        for part in self.enhance_stream(blocks()):
            y[:, done:done + part.shape[1]] = part
            done += part.shape[1]
        return y[0] if np.ndim(audio) == 1 else y
