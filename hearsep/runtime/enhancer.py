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
from hearsep.runtime.separator import TFLiteSeparator, UnityMask, clip_ufunc


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

    ``fused`` (default True): ``process_hop`` is one closure over all the stages' buffers
    (:func:`fused_hop_step`, the same samples bit for bit; 0.69x the stage-by-stage Python time
    around the invoke in ``tools/results/bench_runtime.json``);
    False keeps the stage-by-stage method, the reference for tests and ``tools/bench_runtime.py``.
    """

    def __init__(self, contract: ModelContract, separator=None, chain: HopChain | None = None, *,
                 fused: bool = True):
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
        # the same step as one closure over every buffer (see fused_hop_step); fused=False keeps
        # the method below, which calls each stage's object (the reference the tests compare with)
        self.fused = bool(fused)
        if self.fused:
            self.process_hop = fused_hop_step(self)

    @classmethod
    def from_model(cls, model: str | Path | bytes, num_threads: int = 1, xnnpack: bool = True,
                   delegate: str | None = None, chain: HopChain | None = None, *,
                   fused: bool = True) -> "StreamingEnhancer":
        """A StreamingEnhancer running the ``.tflite`` model (path or bytes) through :class:`TFLiteSeparator`."""
        sep = TFLiteSeparator(model, num_threads=num_threads, xnnpack=xnnpack, delegate=delegate)
        return cls(sep.contract, sep, chain, fused=fused)

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
        """The whole per-hop step on exactly ``hop_samples`` samples; returns an internal buffer.

        With ``fused=True`` (the default) the instance's ``process_hop`` is the closure from
        :func:`fused_hop_step`, which computes the same samples bit for bit; this method is the
        stage-by-stage reference (``StreamingEnhancer.process_hop(enh, hop)`` runs it).
        """
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
        return self.process_unchecked(x, out, in_place)

    def process_unchecked(self, x: np.ndarray, out: np.ndarray, in_place: bool = False) -> np.ndarray:
        """:meth:`process` without its argument checks: the one place the hop buffering is done.

        ``x`` and ``out``: float32 ``(n,)`` arrays, separate, or the same array with
        ``in_place=True`` (what :meth:`process` checks). For callers whose buffers are right by
        construction and which call once per hop, e.g. the live callback (``hearsep.live``).
        """
        n = x.shape[0]
        h = self.contract.hop_samples
        step = self.process_hop  # the fused closure (an instance attribute) unless fused=False
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
                self._hop_out[:] = step(self._hop_in)
                self._filled = 0
        return out


def fused_hop_step(enh: StreamingEnhancer) -> Callable[[np.ndarray], np.ndarray]:
    """``enh``'s per-hop step as one closure: ``step(hop_block) -> internal buffer``.

    Computes what :meth:`StreamingEnhancer.process_hop` computes, bit for bit (the same numpy
    operations on the same float32 buffers, in the same order), but with every array, bound
    ufunc and tensor view held in the closure: no attribute lookups and no nested method calls
    per hop, which is most of the Python time around the invoke (``tools/bench_runtime.py``
    reports the fused/unfused ratio). Stages are inlined where they are hearsep's own code paths:

    - analysis (the sliding frame, then window + FFT or the DFT matrix), and synthesis by the
      tail matrix with overlap-add of two output hops per frame (``synthesis = 2 * hop``, the
      default framing);
    - log-power features (always);
    - a :class:`TFLiteSeparator` (``process`` not overridden) with a quantized features input,
      int8 mask output (and int8 taps output, where the contract names one) and raw state
      copies: features in quantized units are clipped and rounded into the input tensor,
      ``invoke``, the mask read by table, and the state copies merged
      where the arena places the tensors side by side (:func:`~hearsep.runtime.separator.merged_copies`);
    - a real mask from that separator: read from the int8 table straight into both rows of a
      ``(2, bins)`` gain and applied as one flat multiply;
    - a complex mask or a deep filter from that separator: its expanded factors read from the
      codes by byte copies and one table take (:meth:`~hearsep.runtime.outputs.DeepFilter.code_reader`),
      then the flat products of its ``apply_expanded``; the deep filter's history is pushed on
      every hop, bypass included, into the :class:`~hearsep.runtime.outputs.DeepFilter`'s own
      store and position (so ``reset`` and the stage-by-stage method stay interchangeable); the
      analysis writes the spectrum straight into the store's newest slot (the STFT's own
      spectrum buffer is then not written: nothing reads it between hops).

    Anything else runs through its object's method from inside the closure (an FFT synthesis, a
    float model, a custom separator, the chain); ``step.inlined``
    names the inline stages besides analysis and features. The STFT's frame position
    (``stft._k``) is read and written each hop, so :meth:`StreamingEnhancer.reset` and the
    stage-by-stage method stay interchangeable with this step. ``enh.bypass`` is read each hop.
    No buffer is allocated per hop (the FFT call makes a few small objects). The closure holds
    ``enh`` (for ``bypass``) and ``enh`` holds it as ``process_hop``: a reference cycle, freed by
    the garbage collector.
    """
    from hearsep.runtime.outputs import ComplexMask, DeepFilter, RealMask

    stft, feats, sep, output, chain = enh.stft, enh.features, enh.separator, enh.output, enh.chain
    multiply, add, log10, dot, clip, rint = np.multiply, np.add, np.log10, np.dot, clip_ufunc, np.rint
    # analysis (StreamingSTFT.analyze): the sliding frame over the double-length store
    n, h = stft.frame_samples, stft.hop_samples
    positions = len(stft._frame_views)
    keep_dst, keep_src = stft._store[:n - h], stft._store[(positions) * h:(positions) * h + n - h]
    frame_views, hop_views = stft._frame_views, stft._hop_views
    spectrum, spectrum_flat = stft._spectrum, stft._spectrum_flat
    analysis_dft = stft.analysis_method == "dft"
    if analysis_dft:
        matrix_a = stft._analysis_matrix
    else:
        window, windowed, fft, cplx_rows = stft.analysis_window, stft._windowed, stft._fft, stft._complex_rows
    synthesize = stft.synthesize
    # synthesis (StreamingSTFT.synthesize) for synthesis = 2 * hop: one pending output hop
    ola_inline = stft.synthesis_method == "dft" and stft._rows == 2
    matrix_s, tail = getattr(stft, "_synthesis_matrix", None), stft._tail
    ola_row, seg0, seg1, hop_out = stft._ola_rows[0], stft._tail_segments[0], stft._tail_segments[-1], stft._hop_out
    # features (LogPowerFeatures.compute), on the flat [re; im] layout (elementwise: same values)
    squares = feats._squares.reshape(-1)
    sq_re, sq_im = feats._squares[0], feats._squares[1]
    power, features, eps, scale, offset = feats._power, feats._features, feats._eps, feats._scale, feats._offset
    # separator
    separate, prescaled = sep.process, enh._prescaled
    inline = False
    expanded_kind = type(output) in (DeepFilter, ComplexMask)
    int8_out = [q for q in (sep._mask, sep._taps) if q is not None] if isinstance(sep, TFLiteSeparator) else []
    if (type(sep).process is TFLiteSeparator.process and prescaled and (sep._taps is None or expanded_kind)
            and all(q.quantized and q.info.dtype == np.int8 for q in int8_out) and all(sep.state_copy_raw)):
        quant = sep._features
        tmp, lo, hi, tensor_in = quant._tmp, quant._lo, quant._hi, sep._features_in.reshape(-1)
        invoke = sep._invoke
        table, codes = sep._mask.int8_table(sep._mask_out)  # the mask read of _Quantizer.dequantizer
        take, mask_value = table.take, sep._mask.value
        copies = sep.raw_state_copies
        inline = True
    copy_dst, copy_src = copies[0] if inline and len(copies) == 1 else (None, None)
    one_copy = copy_dst is not None
    # mask output, chain
    real = type(output) is RealMask
    # a complex mask or deep filter behind the int8 separator: its expanded factors are read from
    # the codes by one table take (ComplexMask/DeepFilter.code_reader), then applied as flat
    # products (their apply_expanded, inline); a deep filter's history is pushed on every hop,
    # bypass included (its skip), by the same code as DeepFilter.push
    deep = inline and type(output) is DeepFilter
    cmask = inline and type(output) is ComplexMask
    expanded_inline = deep or cmask
    if expanded_inline:
        taps_read = sep._taps.int8_table(sep._taps_out) if sep._taps is not None else (None, None)
        (code_copies, index_e, table_e), expanded = output.code_reader(codes, table, *taps_read[::-1]), output.expanded
        take_e = table_e.take
        (cdst0, csrc0), (cdst1, csrc1) = code_copies  # two blocks: gains + taps, or real + imaginary parts
        spectrum_rev = spectrum[::-1]
    if deep:
        # each slot's X block as the analysis output for that hop (flat and (2, bins)), its Xs
        # block, and X with its rows swapped: the spectrum lives in the history, no copy
        slot_views = [(x, x.reshape(spectrum.shape), xs, x.reshape(spectrum.shape)[::-1])
                      for x, xs in output.frame_slots]
        windows, df_top = output.windows, output.top
        move_dst, move_src = output.move_dst, output.move_src
        taps, gains, products, ones = output.taps, output.gains, output.products, output.ones
        gain_products, tap_products = output.gain_products, output.tap_products
    if cmask:
        cm_x, cm_xs = output.frames[0].reshape(-1), output.frames[1]
        cm_frames, cm_products = output.frames_flat, output.products.reshape(-1)
        cm_p0, cm_p1 = output.products[0], output.products[1]
    # the int8 mask read as the separator's dequantizer does it: codes cast into held intp indices,
    # then the table; a real mask is read straight into both rows of a (2, bins) gain, so applying
    # it is one flat multiply instead of a broadcast over the rows
    real_table = inline and real and mask_value.shape[0] == spectrum.shape[1]
    if inline:
        index = np.zeros(spectrum.shape if real_table else codes.shape, np.intp)
    if real_table:
        gain = np.zeros(spectrum.shape, np.float32)
        gain_flat = gain.reshape(-1)
    apply, skip = output.apply, (None if deep else output.skip)  # inline, the deep filter pushes itself
    masked = enh._masked
    masked_flat = masked.reshape(-1)
    chain_spectrum = chain.process_spectrum if chain is not None else None
    chain_hop = chain.process_hop if chain is not None else None

    def step(hop_block):
        k = stft._k + 1
        if k == positions:  # keep the newest frame - hop samples (no overlap: source is later)
            keep_dst[:] = keep_src
            k = 0
        hop_views[k][:] = hop_block
        stft._k = k
        if deep:  # DeepFilter.push: the newest frame one slot lower, [X; Xs]; the analysis writes X there
            p = output.pos - 1
            if p < 0:
                move_dst[...] = move_src
                p = df_top
            output.pos = p
            spec_flat, spec, xs_slot, spec_rev = slot_views[p]
        else:
            spec_flat, spec = spectrum_flat, spectrum
        if analysis_dft:
            dot(matrix_a, frame_views[k], spec_flat)
        else:
            multiply(frame_views[k], window, windowed)
            fft()  # windowed -> stft._complex
            spec[...] = cplx_rows
        if deep:
            xs_slot[...] = spec_rev
        if enh.bypass:
            masked[:] = spec
            if skip is not None:
                skip(spec)  # a deep filter keeps its frame history
        else:
            multiply(spec_flat, spec_flat, squares)
            add(sq_re, sq_im, power)
            add(power, eps, power)
            log10(power, features)
            multiply(features, scale, features)
            add(features, offset, features)
            if inline:
                clip(features, lo, hi, tmp)  # = maximum(minimum(features, hi), lo), one call
                rint(tmp, tmp)  # round half to even; integral values cast to int8 exactly
                tensor_in[:] = tmp
                invoke()
                if expanded_inline:
                    cdst0[...] = csrc0  # the codes into the low bytes of the expanded factors' indices
                    cdst1[...] = csrc1
                    take_e(index_e, None, expanded, "clip")
                else:
                    index[:] = codes  # (bins,) int8 codes into (bins,) or both rows of (2, bins) indices
                    if real_table:
                        take(index, None, gain, "clip")
                    else:
                        mask = take(index, None, mask_value, "clip")
                if one_copy:
                    copy_dst[:] = copy_src
                else:
                    for dst, src in copies:
                        dst[:] = src
            else:
                mask = separate(features, True) if prescaled else separate(features)
            if real_table:
                multiply(spec_flat, gain_flat, masked_flat)
            elif deep:  # DeepFilter.apply_expanded
                multiply(spec_flat, gains, gain_products)
                multiply(taps, windows[p], tap_products)
                dot(ones, products, masked_flat)
            elif cmask:  # ComplexMask.apply_expanded
                cm_x[:] = spec_flat
                cm_xs[...] = spectrum_rev
                multiply(expanded, cm_frames, cm_products)
                add(cm_p0, cm_p1, masked_flat)
            else:
                apply(spec, mask, masked)
        if chain_spectrum is not None:
            chain_spectrum(spec, masked)
        if ola_inline:
            dot(matrix_s, masked_flat, tail)
            add(ola_row, seg0, hop_out)
            ola_row[:] = seg1
            y = hop_out
        else:
            y = synthesize(masked)
        return y if chain_hop is None else chain_hop(y)

    # which stages run inline (the rest through their objects' methods): for tests and the bench
    step.inlined = tuple(name for name, on in (("separator", inline), ("real mask", real_table),
                                                ("complex mask", cmask), ("deep filter", deep),
                                                ("synthesis", ola_inline)) if on)
    return step


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
