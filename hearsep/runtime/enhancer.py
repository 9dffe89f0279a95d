"""StreamingEnhancer: blocks of any size in, the same number of enhanced samples out.

Per hop (``hop_samples`` of input): STFT analysis -> features -> separator (mask, state carried)
-> masked spectrum -> [chain: band gains on the spectrum] -> overlap-add synthesis -> [chain:
time-domain limiter]. Output is the input delayed by exactly ``latency_samples`` (the
contract's algorithmic latency, hop buffering included, plus the chain's look-ahead), and it is
bit-identical however the input is chunked: hops are always processed whole, in order, and the
chunking only decides when samples are copied in and out.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

import numpy as np

from hearsep.errors import AudioError
from hearsep.features.spectral import LogPowerFeatures
from hearsep.features.stft import StreamingSTFT
from hearsep.model.contract import ModelContract
from hearsep.runtime.outputs import mask_output
from hearsep.runtime.separator import TFLiteSeparator, UnityMask


class HopChain(Protocol):
    """What runs after the separator inside each hop (``hearsep.chain`` implements it).

    Both calls happen once per hop, in this order, and must not allocate:

    - ``process_spectrum(noisy, enhanced)``: ``noisy`` is the analysis spectrum and ``enhanced``
      the separator's output spectrum, both real ``[re; im]`` arrays of shape ``(2, bins)`` in
      the enhancer's STFT frame; the chain writes its result into ``enhanced`` in place (band
      gains ride in the STFT frame, so they add no framing latency);
    - ``process_hop(samples)``: the synthesised ``hop_samples`` float32 samples; returns a buffer
      of the same length (a broadband limiter may delay them by ``latency_samples``).
    """

    latency_samples: int

    def process_spectrum(self, noisy: np.ndarray, enhanced: np.ndarray) -> None:
        """Modify ``enhanced`` ((2, bins) [re; im], STFT frame) in place; ``noisy`` is read-only."""

    def process_hop(self, samples: np.ndarray) -> np.ndarray:
        """``hop_samples`` float32 samples in, as many out (delayed by ``latency_samples``)."""

    def reset(self) -> None:
        """Back to silence (envelopes, look-ahead buffer)."""


class StreamingEnhancer:
    """Mono streaming enhancement with a frame-step separator and an optional chain after it.

    ``separator`` needs ``process(features) -> mask`` and ``reset()``; ``None`` means a unity
    mask (output = input delayed by the latency). ``chain`` is a :class:`HopChain` (the
    hearing-aid chain) or ``None``. Audio is float32 in [-1, 1] at ``contract.sample_rate_hz``.

    Setting ``bypass = True`` skips features and the separator for the following hops (unity
    mask, the chain still runs): the live runner's safe path when a hop would miss its deadline.
    The STFT overlap-add crossfades the switch over one hop, and latency does not change.
    """

    def __init__(self, contract: ModelContract, separator=None, chain: HopChain | None = None):
        contract.validate()
        self.contract = contract
        self.chain = chain
        self.bypass = False
        self.stft = StreamingSTFT(contract.frame_samples, contract.hop_samples, contract.window)
        # how the mask is applied: real gain, complex mask or deep filter (contract.mask_kind)
        self.output = mask_output(contract)
        self.separator = separator if separator is not None else UnityMask(contract.bins, self.output.unity)
        # an int8/int16 features input: emit features in its quantized units (two fewer passes)
        q = getattr(self.separator, "input_quantization", None)
        self._prescaled = q is not None
        self.features = (LogPowerFeatures(contract.features, contract.bins, 1.0 / q[0], float(q[1])) if q
                         else LogPowerFeatures(contract.features, contract.bins))
        # the per-hop calls, bound once (500 hops a second)
        self._analyze, self._synthesize = self.stft.analyze, self.stft.synthesize
        self._features, self._separate = self.features.compute, self.separator.process
        self._apply, self._skip = self.output.apply, self.output.skip
        h = contract.hop_samples
        self._hop_in = np.zeros(h, np.float32)
        self._filled = 0
        # The output of the last whole hop, paid out sample for sample while the next hop fills.
        # Starting from one hop of zeros makes the delay exactly latency_samples; the samples
        # still owed always equal the samples still missing from the current hop.
        self._hop_out = np.zeros(h, np.float32)
        self._masked = np.zeros((2, contract.bins), np.float32)
        if chain is not None:
            self._chain_spectrum, self._chain_hop = chain.process_spectrum, chain.process_hop

    @classmethod
    def from_model(cls, model: str | Path | bytes, num_threads: int = 1, xnnpack: bool = True,
                   delegate: str | None = None, chain: HopChain | None = None) -> "StreamingEnhancer":
        """A StreamingEnhancer running the ``.tflite`` model (path or bytes) through :class:`TFLiteSeparator`."""
        sep = TFLiteSeparator(model, num_threads=num_threads, xnnpack=xnnpack, delegate=delegate)
        return cls(sep.contract, sep, chain)

    @property
    def latency_samples(self) -> int:
        """Input-to-output delay in samples at the model rate: model framing + chain look-ahead."""
        return self.contract.latency_samples + (self.chain.latency_samples if self.chain is not None else 0)

    @property
    def latency_ms(self) -> float:
        """:attr:`latency_samples` in milliseconds."""
        return 1000.0 * self.latency_samples / self.contract.sample_rate_hz

    def reset(self) -> None:
        """Back to the start: STFT history, separator state, mask output and chain reset to silence."""
        self.stft.reset()
        self.separator.reset()
        self.output.reset()
        if self.chain is not None:
            self.chain.reset()
        self._filled = 0
        self._hop_out[:] = 0

    def process_hop(self, hop_block: np.ndarray) -> np.ndarray:
        """The whole per-hop step on exactly ``hop_samples`` samples; returns an internal buffer."""
        spectrum = self._analyze(hop_block)
        if self.bypass:
            self._masked[:] = spectrum
            self._skip(spectrum)  # a deep filter keeps its frame history
        else:
            features = self._features(spectrum)
            # any object with process(features) -> mask is a separator; only ours take prescaled input
            mask = self._separate(features, True) if self._prescaled else self._separate(features)
            self._apply(spectrum, mask, self._masked)
        if self.chain is None:
            return self._synthesize(self._masked)
        self._chain_spectrum(spectrum, self._masked)
        return self._chain_hop(self._synthesize(self._masked))

    def _check_block(self, block, out) -> tuple[np.ndarray, np.ndarray, bool]:
        """``(x, out, in_place)`` for :meth:`process`, or :class:`AudioError` before any state changes."""
        x = np.asarray(block)
        if x.dtype.kind != "f":
            hint = f" (e.g. x / {2 ** (8 * x.dtype.itemsize - 1)})" if x.dtype.kind in "iu" else ""
            raise AudioError(f"block has dtype {x.dtype}; give float samples in [-1, 1]{hint}")
        if x.ndim != 1:
            raise AudioError(f"block has shape {x.shape}; StreamingEnhancer is mono: give (samples,) "
                             "(use hearsep.Enhancer(channels=...) for several channels)")
        x = x.astype(np.float32, copy=False)
        n = x.shape[0]
        if out is None:
            return x, np.empty(n, np.float32), False
        if not (isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (n,) and out.flags.writeable):
            raise AudioError(f"out must be a writable float32 array of shape ({n},) "
                             f"(got {getattr(out, 'dtype', type(out).__name__)} {np.shape(out)})")
        in_place = np.may_share_memory(x, out)
        if in_place and (x.__array_interface__["data"][0] != out.__array_interface__["data"][0]
                         or x.strides != out.strides):
            raise AudioError("out overlaps block partially; give out=block (in place) or a separate array")
        return x, out, in_place

    def process(self, block: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Enhance a block of any length (1 sample to minutes); returns as many samples as given.

        ``block``: float samples ``(n,)`` in [-1, 1] at ``contract.sample_rate_hz`` (float64 is
        converted; integer PCM, other shapes are refused). ``out``: a float32 ``(n,)`` array to
        write into; ``out=block`` (a float32 block) processes in place. Bad input raises
        :class:`AudioError` before any state changes. NaN/Inf are not checked here (the hot path):
        :class:`hearsep.Enhancer` checks them.
        """
        x, out, in_place = self._check_block(block, out)
        n = x.shape[0]
        h = self.contract.hop_samples
        step = self.process_hop
        i = 0
        while i < n:
            f = self._filled
            whole = (n - i) // h if f == 0 else 0
            if whole and in_place:
                # each hop's input is read before its output (the previous hop's) overwrites it
                hop_out = self._hop_out
                for k in range(i, i + whole * h, h):
                    y = step(x[k:k + h])
                    out[k:k + h] = hop_out
                    hop_out[:] = y
                i += whole * h
                continue
            if whole:
                # a run of whole hops straight from the input: hop k's output is written where
                # hop k+1's input was, one hop later, and only the last one waits in _hop_out
                out[i:i + h] = self._hop_out
                for k in range(i, i + (whole - 1) * h, h):
                    out[k + h:k + 2 * h] = step(x[k:k + h])
                last = i + (whole - 1) * h
                self._hop_out[:] = step(x[last:last + h])
                i += whole * h
                continue
            take = min(h - f, n - i)
            self._hop_in[f:f + take] = x[i:i + take]
            out[i:i + take] = self._hop_out[f:f + take]
            self._filled = f + take
            i += take
            if self._filled == h:
                self._hop_out[:] = self.process_hop(self._hop_in)
                self._filled = 0
        return out


def check_audio_block(block, channels: int, where: str = "audio") -> np.ndarray:
    """Validate a float audio block and return it as a ``(channels, n)`` float32 array (view if possible).

    Accepts ``(n,)`` when ``channels == 1`` and ``(channels, n)``; refuses integer PCM (scale it
    to float in [-1, 1] first), other shapes (e.g. ``(n, channels)``) and NaN/Inf, with an
    :class:`AudioError` naming what and why.
    """
    x = np.asarray(block)
    if x.dtype.kind not in "f":
        if x.dtype.kind in "iu":
            full = 2 ** (8 * x.dtype.itemsize - 1)
            raise AudioError(f"{where} is {x.dtype} PCM; give float samples in [-1, 1] (e.g. x / {full})")
        raise AudioError(f"{where} has dtype {x.dtype}; give float samples in [-1, 1]")
    if x.ndim == 1 and channels == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or x.shape[0] != channels:
        want = "(samples,) or (1, samples)" if channels == 1 else f"({channels}, samples)"
        raise AudioError(f"{where} has shape {np.shape(block)}; expected {want} (channels first)")
    x = x.astype(np.float32, copy=False)
    # a float64 sum of float32 values cannot overflow, so it is finite iff every sample is
    if x.size and not math.isfinite(float(np.sum(x, dtype=np.float64))):
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise AudioError(f"{where} has {bad} NaN/Inf samples; refusing to process it")
    return x


def time_aligned(process: Callable[[np.ndarray], np.ndarray], latency_samples: int,
                 blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Turn a streaming ``process`` with a fixed delay into a time-aligned stream (files, offline).

    Yields ``process(block)`` for each block (samples on the last axis) with the first
    ``latency_samples`` output samples dropped, then ``process`` of ``latency_samples`` zeros
    (the tail still inside the delay line): the yielded samples add up to the input's length
    and sample ``n`` of them answers input sample ``n``. The one place this alignment is done
    (:func:`enhance_signal`, :meth:`hearsep.Enhancer.enhance_stream`). :class:`AudioError` for
    an empty input.
    """
    skip, seen, lead = int(latency_samples), 0, None
    for block in blocks:
        lead = block.shape[:-1]
        seen += block.shape[-1]
        y = process(block)
        if skip >= y.shape[-1]:
            skip -= y.shape[-1]
            continue
        yield y[..., skip:] if skip else y
        skip = 0
    if seen == 0:
        raise AudioError("audio is empty (no samples)")
    yield process(np.zeros(lead + (int(latency_samples),), np.float32))[..., skip:]


def enhance_signal(enhancer: StreamingEnhancer, x: np.ndarray, progress=None, chunk_samples: int = 16000) -> np.ndarray:
    """Offline enhancement of a mono signal at the model rate, time-aligned with the input.

    ``x``: float samples ``(n,)`` (NaN/Inf refused). Continues from the enhancer's current state
    (call ``reset()`` first for a fresh start) and leaves it flushed. ``progress`` (optional) is
    called with the number of input samples consumed after each chunk. For other rates and
    channel counts use :class:`hearsep.Enhancer`.
    """
    x = check_audio_block(x, 1)[0]
    if x.shape[0] == 0:
        raise AudioError("audio is empty (no samples)")

    def chunks():
        for start in range(0, x.shape[0], chunk_samples):
            yield x[start:start + chunk_samples]
            if progress is not None:
                progress(min(chunk_samples, x.shape[0] - start))

    return np.concatenate(list(time_aligned(enhancer.process, enhancer.latency_samples, chunks())))
