"""Frame-step separators: features of one STFT frame in, a real mask out, recurrent state kept inside.

:class:`TFLiteSeparator` runs a ``.tflite`` model per its contract (tensors by signature name);
float32, int8 and int16 I/O are handled by quantizing/dequantizing with the model's own scale
and zero point. State outputs are copied to the state inputs after every invoke: as raw integers
when input and output share dtype, scale and zero point (what our converter produces; states
side by side in the interpreter's arena are copied as one span, :func:`merged_copies`), otherwise
by dequantizing and requantizing. :class:`UnityMask` is the identity separator (mask of ones).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hearsep.errors import ModelError
from hearsep.model.contract import ModelContract, read_contract
from hearsep.runtime.interpreter import PinnedTensors, TensorInfo, load_interpreter, signature_tensors

#: numpy's ``clip`` ufunc itself (``np.clip`` is a Python wrapper around it): ``clip(x, lo, hi, out)``
#: in one pass gives exactly ``maximum(minimum(x, hi), lo)`` for ``lo <= hi`` and costs one call
#: instead of two on the per-hop path (0.42 vs 0.70 us for 129 float32 values, timeit here)
clip_ufunc = np._core.umath.clip


class UnityMask:
    """A separator that passes every bin unchanged (mask = 1); useful for tests and bypass."""

    def __init__(self, bins: int, mask: np.ndarray | None = None):
        # ``mask``: the unity mask of another output kind (hearsep.runtime.outputs ``.unity``)
        self._mask = np.ones(bins, np.float32) if mask is None else np.asarray(mask, np.float32)

    def process(self, features: np.ndarray, prescaled: bool = False) -> np.ndarray:
        """The unity mask, whatever the features."""
        return self._mask

    def reset(self) -> None:
        """Nothing to reset (no state)."""


class _Quantizer:
    """Float <-> tensor dtype conversion with preallocated buffers (no allocation per call).

    Constants are kept as full-length arrays: numpy ufuncs run faster on them than on scalars,
    which matters at 500 calls per second.
    """

    def __init__(self, info: TensorInfo, value: np.ndarray | None = None):
        # ``value``: a float32 buffer (e.g. a slice of a larger mask) to dequantize into
        self.info = info
        self.quantized = info.quantized  # a plain bool: the property costs microseconds per call
        self.raw = np.zeros(info.shape, info.dtype)
        self.flat = self.raw.reshape(-1)
        size = self.flat.shape[0]
        self._tmp = np.zeros(size, np.float32)
        self.value = np.zeros(size, np.float32) if value is None else value
        self._value_shaped = self.value.reshape(info.shape)
        if self.quantized:
            lim = np.iinfo(info.dtype)
            self._lo = np.full(size, lim.min, np.float32)
            self._hi = np.full(size, lim.max, np.float32)
            self._inv_scale = np.full(size, 1.0 / info.scale, np.float32)
            self._zp = np.full(size, info.zero_point, np.float32)
            self._scale = np.full(size, info.scale, np.float32)
            self._zp_shaped = self._zp.reshape(info.shape)
        elif info.dtype != np.float32:
            raise ModelError(f"tensor {info.name!r} has unsupported type {info.dtype} without quantization")

    def quantize(self, x: np.ndarray, prescaled: bool = False, out: np.ndarray | None = None) -> np.ndarray:
        """Store float ``x`` in the tensor's dtype into ``out`` (default: ``raw``); returns it.

        ``out``: an array of the tensor's shape and dtype, e.g. the interpreter's own input
        buffer (``interpreter.tensor(index)()``), so no ``set_tensor`` copy is needed.
        ``prescaled``: ``x`` is already in quantized units (``x / scale + zero_point``), only
        clipping and rounding are left.
        """
        dest = self.raw if out is None else out
        if not self.quantized:
            np.copyto(dest, x.reshape(dest.shape))
            return dest
        t = self._tmp
        if prescaled:  # (bins,) features from the runtime's own feature stage
            np.minimum(x, self._hi, out=t)
        else:
            np.multiply(x.reshape(-1), self._inv_scale, out=t)
            np.add(t, self._zp, out=t)
            np.minimum(t, self._hi, out=t)
        np.maximum(t, self._lo, out=t)
        np.rint(t, out=t)  # round half to even, then store the integral floats (exact in the dtype):
        dest.reshape(-1)[:] = t  # rint straight into integers would allocate a cast buffer per call
        return dest

    def dequantize(self, raw: np.ndarray) -> np.ndarray:
        """Float value of tensor data ``raw``; returns the internal ``value`` buffer."""
        if self.quantized:
            np.subtract(raw, self._zp_shaped, out=self._value_shaped)  # integers in, float32 out
            np.multiply(self.value, self._scale, out=self.value)
        else:
            self._value_shaped[...] = raw
        return self.value


    def prescaled_writer(self, dest: np.ndarray):
        """A one-argument function storing features already in quantized units into the fixed
        array ``dest`` (e.g. a pinned input tensor): clip to the dtype's range, round half to
        even; the same as ``quantize(x, prescaled=True, out=dest)`` with the calls bound once."""
        if not self.quantized:
            return lambda x: self.quantize(x, True, dest)
        t, lo, hi, flat = self._tmp, self._lo, self._hi, dest.reshape(-1)
        clip, rint = clip_ufunc, np.rint

        def write(x):
            clip(x, lo, hi, t)
            rint(t, t)
            flat[:] = t  # integral floats in the dtype's range: an exact cast, no buffer

        return write

    def int8_table(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(table, codes)`` for an int8 tensor: ``table.take(codes)`` is the float value of ``raw``.

        ``table`` (256 float32) holds exactly what :meth:`dequantize` computes for each byte
        value; ``codes`` is ``raw`` viewed as bytes (``u`` holds the int8 value ``u - 256 * (u > 127)``).
        """
        codes = raw.view(np.uint8).reshape(-1)
        values = np.arange(256, dtype=np.uint8).view(np.int8)
        table = np.multiply(np.subtract(values, self._zp[:1]), self._scale[:1])  # as dequantize: float32 ops
        return table, codes

    def dequantizer(self, raw: np.ndarray):
        """A zero-argument function returning the float value of the fixed array ``raw`` (e.g. a
        pinned output tensor) in the internal ``value`` buffer. An int8 tensor is read through a
        256-entry table indexed by its bytes (one numpy call instead of two), holding exactly
        the float32 values :meth:`dequantize` computes."""
        if not (self.quantized and self.info.dtype == np.int8):
            return lambda: self.dequantize(raw)
        table, codes = self.int8_table(raw)
        # the table's own take method with positional arguments (np.take is a Python wrapper that
        # costs about 1.5 us more per call), on indices cast into a held intp buffer (take would
        # otherwise allocate that conversion on every call); "clip": unbuffered, codes < 256 anyway
        take, value, index = table.take, self.value, np.zeros(codes.shape, np.intp)

        def read():
            index[:] = codes
            return take(index, None, value, "clip")

        return read


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def merged_copies(pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(dst, src)`` byte copies with neighbours merged: one copy where both sides are adjacent.

    ``pairs`` are C-contiguous arrays of one dtype per pair (e.g. a model's state input and output
    tensors). Where the interpreter's arena places ``dst_1`` right after ``dst_0`` and ``src_1``
    right after ``src_0`` (TFLite does for our GRU states), ``dst_0[:] = src_0; dst_1[:] = src_1``
    is one copy of the span covering both, which saves a numpy call per state per hop. The spans
    cover exactly the merged arrays (no gap, no other tensor). Returns flat arrays, in order of
    ``dst`` address; with no neighbours, the pairs themselves (flattened).
    """
    from numpy.lib.stride_tricks import as_strided

    flat = sorted(((d.reshape(-1), s.reshape(-1)) for d, s in pairs), key=lambda p: _address(p[0]))
    runs: list[list[tuple[np.ndarray, np.ndarray]]] = []
    for d, s in flat:
        if not (d.flags.c_contiguous and s.flags.c_contiguous and d.dtype == s.dtype and d.shape == s.shape):
            raise ModelError("state copy needs contiguous arrays of one dtype and shape")
        if runs:
            d0, s0 = runs[-1][-1]
            if (d.dtype == d0.dtype and _address(d) == _address(d0) + d0.nbytes
                    and _address(s) == _address(s0) + s0.nbytes):
                runs[-1].append((d, s))
                continue
        runs.append([(d, s)])
    out = []
    for run in runs:
        if len(run) == 1:
            out.append(run[0])
            continue
        n = sum(d.shape[0] for d, _ in run)
        d, s = run[0]
        span_d = as_strided(d, shape=(n,), strides=(d.itemsize,))
        span_s = as_strided(s, shape=(n,), strides=(s.itemsize,), writeable=False)
        if np.may_share_memory(span_d, span_s):
            out.extend(run)  # overlapping spans: keep the separate copies
        else:
            out.append((span_d, span_s))
    return out


class TFLiteSeparator:
    """Run a contract-carrying TFLite frame-step model, one frame per :meth:`process` call."""

    def __init__(self, model: str | Path | bytes, contract: ModelContract | None = None, num_threads: int = 1,
                 xnnpack: bool = True, delegate: str | None = None):
        self.contract = contract if contract is not None else read_contract(model)
        self.model_source = model if isinstance(model, (str, Path)) else "<bytes>"
        self.interpreter = load_interpreter(model, num_threads=num_threads, xnnpack=xnnpack, delegate=delegate)
        c = self.contract
        inputs, outputs = signature_tensors(self.interpreter, c.signature)
        self.inputs, self.outputs = inputs, outputs

        def need(table: dict, name: str, what: str) -> TensorInfo:
            if name not in table:
                raise ModelError(f"contract names {what} {name!r} but the model's signature has: {', '.join(sorted(table))}")
            return table[name]

        fin = need(inputs, c.features_input, "input")
        mout = need(outputs, c.mask_output, "output")
        tout = need(outputs, c.taps_output, "output") if c.taps_output else None
        sizes = [(fin, c.bins), (mout, c.bins if tout else c.mask_size)] + ([(tout, c.mask_size - c.bins)] if tout else [])
        for info, size in sizes:
            if int(np.prod(info.shape)) != size:
                raise ModelError(f"tensor {info.name!r} has shape {info.shape}; the contract's framing needs {size} "
                                 f"values ({c.bins} bins, {c.mask_kind} mask)")
        self._features = _Quantizer(fin)
        # gains and taps as two tensors (contract.taps_output): each dequantized with its own scale
        # straight into its part of one mask buffer, so the mask reads as the one-tensor layout
        self._mask_value = np.zeros(c.mask_size, np.float32)
        self._mask = _Quantizer(mout, self._mask_value[:c.bins] if tout else self._mask_value)
        self._taps = _Quantizer(tout, self._mask_value[c.bins:]) if tout else None
        self._states = []
        self.state_copy_raw: list[bool] = []
        for pair in c.states:
            sin, sout = need(inputs, pair.input, "state input"), need(outputs, pair.output, "state output")
            if sin.shape != sout.shape:
                raise ModelError(f"state {pair.input!r} {sin.shape} and {pair.output!r} {sout.shape} differ in shape")
            raw = sin.dtype == sout.dtype and sin.scale == sout.scale and sin.zero_point == sout.zero_point
            self._states.append((_Quantizer(sin), _Quantizer(sout)))
            self.state_copy_raw.append(raw)
        expected = {c.features_input, *(p.input for p in c.states)}
        extra = set(inputs) - expected
        if extra:
            raise ModelError(f"model has inputs the contract does not describe: {', '.join(sorted(extra))}")
        # hot path: arrays over the tensors' own buffers, held for good (inputs written in place,
        # outputs read in place; see PinnedTensors), and the wrapper's Invoke bound once
        state_indices = [i.info.index for pair in self._states for i in pair]
        taps_index = [tout.index] if tout else []
        self._pinned = pinned = PinnedTensors(self.interpreter, [fin.index, mout.index, *taps_index, *state_indices])
        self._invoke = pinned.invoke
        self._features_in = pinned.arrays[fin.index]
        self._mask_out = pinned.arrays[mout.index]
        self._taps_out = pinned.arrays[tout.index] if tout else None
        self._read_mask = self._mask.dequantizer(self._mask_out)
        if tout:
            read_gains, read_taps, mask_value = self._read_mask, self._taps.dequantizer(pinned.arrays[tout.index]), \
                self._mask_value

            def read_both():
                read_gains()
                read_taps()
                return mask_value

            self._read_mask = read_both
        self._write_prescaled = self._features.prescaled_writer(self._features_in)
        self._state_links = [(pinned.arrays[sin.info.index], pinned.arrays[sout.info.index], sin, sout, raw)
                             for (sin, sout), raw in zip(self._states, self.state_copy_raw)]
        # raw state copies (output bytes -> input bytes), neighbours in the arena merged into one
        self.raw_state_copies = merged_copies([(i, o) for i, o, _, _, raw in self._state_links if raw])
        self._requantized = [link for link in self._state_links if not link[4]]
        self.reset()
        TFLiteSeparator.process(self, np.zeros(c.bins, np.float32))  # one invoke, then confirm
        pinned.check()
        self.reset()

    def reset(self) -> None:
        """Zero the recurrent state (float zero, quantized with each state's own zero point)."""
        for in_arr, _, sin, _, _ in self._state_links:
            sin.quantize(np.zeros(sin.flat.shape, np.float32), False, in_arr)

    @property
    def input_quantization(self) -> tuple[float, int] | None:
        """``(scale, zero_point)`` of the features input, or None for a float input."""
        info = self._features.info
        return (info.scale, info.zero_point) if self._features.quantized else None

    def process(self, features: np.ndarray, prescaled: bool = False) -> np.ndarray:
        """One frame: ``features`` (bins,) float32 -> mask (``contract.mask_size``,) float32 (internal buffer).

        ``prescaled``: the features are already in the input's quantized units (see
        :attr:`input_quantization`). Inputs are written straight into the interpreter's own
        buffers (no ``set_tensor`` copies). State inputs already hold this frame's state: after
        each invoke every state output is copied straight into its input tensor (raw, or
        requantized when the scales differ).
        """
        if prescaled:
            self._write_prescaled(features)
        else:
            self._features.quantize(features, False, self._features_in)
        self._invoke()
        mask = self._read_mask()
        for dst, src in self.raw_state_copies:
            dst[:] = src
        for in_arr, out_arr, sin, sout, _ in self._requantized:
            sin.quantize(sout.dequantize(out_arr), False, in_arr)
        return mask
