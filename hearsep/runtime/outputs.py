"""How a separator's output is applied to the STFT frame, one object per contract mask kind.

Spectra are real ``(2, bins)`` arrays ``[re; im]`` (the layout of
:class:`~hearsep.features.stft.StreamingSTFT`); the mask is the flat output of the model,
``contract.mask_size`` float32 values (layouts in :class:`~hearsep.model.contract.ModelContract`):

* ``real``: ``Y = g * X`` (a gain per bin).
* ``complex``: ``Y = (m_re + j m_im) * X``: a complex ratio mask (Williamson, Wang & Wang 2016,
  "Complex ratio masking for monaural speech separation", IEEE/ACM TASLP 24(3)).
* ``deep-filter``: ``Y_t[f] = g[f] X_t[f] + sum_{n=0}^{N-1} C_n[f] X_{t-n}[f]`` for the lowest
  ``df_bins`` bins ``f`` and ``Y_t[f] = g[f] X_t[f]`` above: a per-bin complex FIR over the current
  and ``N - 1 = df_order - 1`` past frames, causal (no look-ahead, no added latency), as the deep
  filtering of DeepFilterNet (Schroeter et al. 2022, "DeepFilterNet: a low complexity speech
  enhancement framework for full-band audio based on deep filtering", ICASSP, eq. 2), here as a
  residual on top of the real gain, so ``C = 0`` is exactly the real mask. Tap layout:
  ``mask[bins + (2 n + c) * df_bins + f]``, ``c`` 0 = real, 1 = imaginary part.

Each object has ``apply(spectrum, mask, out)`` (writes ``out``, no allocation), ``skip(spectrum)``
(a hop without a model, e.g. bypass: the deep filter still records the frame in its history),
``reset()`` and ``unity`` (the mask that passes the spectrum unchanged).
:func:`hearsep.nn.dsp.apply_mask` is the same maths in TensorFlow for training.
"""

from __future__ import annotations

import sys

import numpy as np
from numpy.lib.stride_tricks import as_strided

from hearsep.errors import ModelError
from hearsep.model.contract import ModelContract


class RealMask:
    """``Y = g X``."""

    def __init__(self, contract: ModelContract):
        self.unity = np.ones(contract.bins, np.float32)
        self._gain = np.zeros((2, contract.bins), np.float32)

    def apply(self, spectrum: np.ndarray, mask: np.ndarray, out: np.ndarray) -> None:
        # the gain copied to both rows, then a same-shape multiply: a broadcast multiply over the
        # rows would allocate a 2 kB buffer on every call (the same products either way)
        g = self._gain
        g[:] = mask
        np.multiply(spectrum, g, out=out)

    def skip(self, spectrum: np.ndarray) -> None:
        pass

    def reset(self) -> None:
        pass


class _Expanded:
    """A mask output as an expanded buffer of products: ``out = gains * X + sum_r taps[r] * H[r]``.

    The complex mask and the deep filter are complex products per bin. Written out on the real
    ``[re; im]`` layout, ``(a + j b)(x_re + j x_im) = a [x_re; x_im] + b [-x_im; x_re]``: each
    complex factor is two *rows* of real factors, ``[a; a]`` against the frame ``X = [x_re; x_im]``
    and ``[-b; b]`` against the swapped frame ``Xs = [x_im; x_re]``, each row ``(2, bins)`` like the
    spectrum. Laid out this way, every per-hop operation is one call on flat, contiguous float32
    arrays of equal size: no broadcasting, no strided views, so numpy needs neither an iterator
    nor a buffer (those cost about a microsecond and a kilobyte per call).

    ``expanded`` is the flat buffer the products read: mask values copied in by position, some
    negated, zeros where a row has no factor (a deep filter's bins above ``df_bins``).
    ``source[i]`` is the mask index that ``expanded[i]`` holds (-1: a zero) and ``negated[i]``
    whether it is negated. Two ways fill it, with the same values: :meth:`expand` from a float
    mask (one take from ``[mask, -mask, 0]``), and :meth:`code_reader` from the int8 codes of a
    quantized model (one take from a table of the 256 code values, their negatives and 0), which
    the fused hop step (:func:`hearsep.runtime.enhancer.fused_hop_step`) runs inline.
    """

    def _layout(self, size: int, blocks, negated: np.ndarray) -> None:
        """``blocks``: ``(view, offset, shape, strides)``: ``view(a)`` is the part of an array laid
        out like ``expanded`` that holds mask elements ``offset + sum(index * strides)``."""
        m = self.mask_size
        self.expanded = np.zeros(size, np.float32)
        self._blocks = blocks
        source = np.full(size, -1, np.intp)
        mask_index = np.arange(m, dtype=np.intp)
        for view, offset, shape, strides in blocks:
            view(source)[...] = as_strided(mask_index[offset:], shape, [s * mask_index.itemsize for s in strides])
        self.source, self.negated = source, negated
        # float path: gather from [mask, -mask, 0]
        self._signed = np.zeros(2 * m + 1, np.float32)
        self._gather = np.where(source < 0, 2 * m, source + m * negated).astype(np.intp)

    def expand(self, mask: np.ndarray) -> np.ndarray:
        """Fill :attr:`expanded` from the float ``mask`` (``mask_size`` values); returns it."""
        s, m = self._signed, self.mask_size
        s[:m] = mask
        np.negative(mask, out=s[m:2 * m])
        return s.take(self._gather, None, self.expanded, "clip")

    def code_reader(self, codes: np.ndarray, table: np.ndarray, taps_codes: np.ndarray | None = None,
                    taps_table: np.ndarray | None = None):
        """``(copies, index, table)`` to fill :attr:`expanded` straight from int8 codes.

        ``codes``: the model's mask output as bytes (``mask_size`` uint8, byte ``u`` standing for
        the int8 code ``u - 256 * (u > 127)``); ``table``: the float value of each byte (256 float32,
        as :meth:`hearsep.runtime.separator._Quantizer.int8_table` builds it). A model with the taps
        as their own tensor (contract ``taps_output``): ``codes`` holds the first ``bins`` values
        and ``taps_codes`` the rest, each with its own table (``taps_table``). Per hop::

            for dst, src in copies: dst[...] = src      # bytes into the low byte of the indices
            table.take(index, None, expanded, "clip")

        gives exactly :meth:`expand` of the dequantized mask. ``index`` holds ``u`` (a value),
        ``256 + u`` (its negative) or ``512`` (zero): the high bytes are set here once, and each
        hop only copies the codes into the low byte of each index (one strided byte copy per
        block, no cast); the returned table is ``[table, -table, 0]``. With taps codes, a tap's
        index is ``512 + u`` (``768 + u`` negated), zero is ``1024`` and the table
        ``[table, -table, taps_table, -taps_table, 0]``.
        """
        split = taps_codes is not None
        gains = self.bins if split else self.mask_size
        parts = [(codes, 0, gains)] + ([(taps_codes, gains, self.mask_size - gains)] if split else [])
        for part, _, size in parts:
            if part.dtype != np.uint8 or part.shape != (size,):
                raise ModelError(f"mask codes must be {size} uint8 bytes, got {part.dtype} {part.shape}")
        is_tap = self.source >= gains
        zero = 1024 if split else 512
        index = np.where(self.source < 0, zero, 256 * self.negated + 512 * is_tap).astype(np.intp)
        low = 0 if sys.byteorder == "little" else index.itemsize - 1
        low_bytes = index.view(np.uint8).reshape(-1, index.itemsize)[:, low]
        copies = []
        for view, offset, shape, strides in self._blocks:
            last = offset + sum((n - 1) * st for n, st in zip(shape, strides))
            part, start, size = next(p for p in parts if p[1] <= offset < p[1] + p[2])
            if last >= start + size:
                raise ModelError("mask output: a block of the expanded layout spans the gains and the taps tensors")
            copies.append((view(low_bytes), as_strided(part[offset - start:], shape, strides)))
        if not all(np.shares_memory(dst, index) for dst, _ in copies):  # a reshape that copied would write nowhere
            raise ModelError("mask output: index views do not alias the index buffer")
        tables = [table, np.negative(table)] + ([taps_table, np.negative(taps_table)] if split else [])
        signed = np.concatenate(tables + [np.zeros(1, np.float32)]).astype(np.float32)
        return copies, index, signed


class ComplexMask(_Expanded):
    """``Y = (m_re + j m_im) X`` per bin (mask ``[re(bins), im(bins)]``).

    As two rows of products (see :class:`_Expanded`): ``Y = [m_re; m_re] * X + [-m_im; m_im] * Xs``
    with ``X = [x_re; x_im]`` and ``Xs = [x_im; x_re]``; the same products and the same one
    rounding of each sum as ``x_re m_re - x_im m_im`` and ``x_re m_im + x_im m_re``.
    """

    def __init__(self, contract: ModelContract):
        b = contract.bins
        self.bins, self.mask_size = b, contract.mask_size
        self.unity = np.concatenate([np.ones(b), np.zeros(b)]).astype(np.float32)
        negated = np.zeros((2, 2, b), bool)
        negated[1, 0] = True  # -m_im against x_im in the real row
        # rows [m_re; m_re], [m_im; m_im]: mask element r * bins + f at [r, d, f]
        # the real parts, then the imaginary parts (one block each: they may come from two tensors)
        self._layout(4 * b, [(lambda a: a.reshape(2, 2, b)[0], 0, (2, b), (0, 1)),
                             (lambda a: a.reshape(2, 2, b)[1], b, (2, b), (0, 1))], negated.reshape(-1))
        self.frames = np.zeros((2, 2, b), np.float32)  # [X; Xs]
        self.frames_flat = self.frames.reshape(-1)
        self.products = np.zeros((2, 2 * b), np.float32)

    def apply(self, spectrum: np.ndarray, mask: np.ndarray, out: np.ndarray) -> None:
        """``out = (m_re + j m_im) spectrum``; ``spectrum`` and ``out``: contiguous ``(2, bins)`` float32."""
        self.expand(mask)
        self.apply_expanded(spectrum, out)

    def apply_expanded(self, spectrum: np.ndarray, out: np.ndarray) -> None:
        """:meth:`apply` with :attr:`expanded` already filled (e.g. by :meth:`code_reader`)."""
        f = self.frames
        f[0] = spectrum
        f[1] = spectrum[::-1]
        np.multiply(self.expanded, self.frames_flat, out=self.products.reshape(-1))
        np.add(self.products[0], self.products[1], out=out.reshape(-1))

    def skip(self, spectrum: np.ndarray) -> None:
        pass

    def reset(self) -> None:
        pass


#: hops between the deep filter's history moves (the store holds this many frames more than the filter
#: reads). Small keeps the store in the first-level cache: 8 (10 slots, 20 kB for 3 taps) measured about
#: 1.3 us a hop faster than 32 (68 kB) in the fused step on the shared 2-core machine, with one move of
#: ``df_order - 1`` frames every 8 hops
HISTORY_HOPS = 8


class DeepFilter(_Expanded):
    """Real gain on every bin plus a complex ``df_order``-tap filter over frames on the low bins.

    As rows of products (see :class:`_Expanded`): ``expanded = [[g; g], T]`` with, for tap ``n``,
    the rows ``[a_n; a_n]`` and ``[-b_n; b_n]`` (zero above ``df_bins``), against the history
    ``H = [X_t, Xs_t, X_{t-1}, Xs_{t-1}, ...]`` (newest first). Per hop, three calls::

        products[0]  = [g; g] * X_t            # flat multiplies: the gain row,
        products[1:] = T * H                   # and 2 * df_order tap rows
        out          = ones @ products         # the rows summed: one BLAS call (gemv)

    The history is a store of ``df_order + HISTORY_HOPS - 1`` frames ``[X; Xs]`` in which each
    new frame goes one slot lower, so the last ``df_order`` frames, newest first, are always one
    contiguous slice; when the bottom is reached, the newest ``df_order - 1`` frames are moved
    to the top (every ``HISTORY_HOPS`` hops). Each hop writes one frame: the spectrum, and its
    rows swapped. The sums are BLAS's (a fixed order per call shape, the same in every path that
    calls it), so results agree with ``g X_t + sum_n C_n X_{t-n}`` to float32 rounding (the sum of
    ``2 df_order + 1`` float32 products).
    """

    def __init__(self, contract: ModelContract):
        b, n, k = contract.bins, contract.df_order, contract.df_bins
        self.bins, self.order, self.df_bins, self.mask_size = b, n, k, contract.mask_size
        self.unity = np.concatenate([np.ones(b), np.zeros(2 * n * k)]).astype(np.float32)
        negated = np.zeros((1 + 2 * n, 2, b), bool)
        negated[2::2, 0, :k] = True  # -b_n against x_im in the real row
        blocks = [(lambda a: a[:2 * b].reshape(2, b), 0, (2, b), (0, 1)),  # gains [g; g]
                  # tap (n, c) on bin f: mask element bins + (2 n + c) * df_bins + f, at row 2 n + c, both halves
                  (lambda a: a[2 * b:].reshape(2 * n, 2, b)[:, :, :k], b, (2 * n, 2, k), (k, 0, 1))]
        self._layout((1 + 2 * n) * 2 * b, blocks, negated.reshape(-1))
        self.gains, self.taps = self.expanded[:2 * b], self.expanded[2 * b:]
        slots = n + HISTORY_HOPS - 1
        self.store = np.zeros((slots, 2, 2, b), np.float32)  # slot: [X; Xs]
        self.windows = [self.store[p:p + n].reshape(-1) for p in range(slots - n + 1)]
        self.frame_slots = [(self.store[p, 0].reshape(-1), self.store[p, 1]) for p in range(slots - n + 1)]
        self.top = slots - n  # the slot a frame goes to after a move
        self.move_dst, self.move_src = self.store[self.top + 1:], self.store[:n - 1]
        self.products = np.zeros((1 + 2 * n, 2 * b), np.float32)  # [gain row, tap rows]
        self.gain_products, self.tap_products = self.products[0], self.products[1:].reshape(-1)
        self.ones = np.ones(1 + 2 * n, np.float32)
        self.reset()

    def push(self, spectrum: np.ndarray) -> None:
        """Record the frame ``spectrum`` (contiguous ``(2, bins)``) as the newest in the history."""
        p = self.pos - 1
        if p < 0:
            self.move_dst[...] = self.move_src
            p = self.top
        self.pos = p
        x, xs = self.frame_slots[p]
        x[:] = spectrum.reshape(-1)
        xs[...] = spectrum[::-1]

    def apply(self, spectrum: np.ndarray, mask: np.ndarray, out: np.ndarray) -> None:
        """``out = g X_t + sum_n C_n X_{t-n}``; ``spectrum`` and ``out``: contiguous ``(2, bins)`` float32."""
        self.push(spectrum)
        self.expand(mask)
        self.apply_expanded(spectrum, out)

    def apply_expanded(self, spectrum: np.ndarray, out: np.ndarray) -> None:
        """:meth:`apply` after :meth:`push` and with :attr:`expanded` filled (e.g. by :meth:`code_reader`)."""
        np.multiply(spectrum.reshape(-1), self.gains, out=self.gain_products)
        np.multiply(self.taps, self.windows[self.pos], out=self.tap_products)
        np.dot(self.ones, self.products, out=out.reshape(-1))

    def skip(self, spectrum: np.ndarray) -> None:
        self.push(spectrum)

    def reset(self) -> None:
        self.store.fill(0.0)
        self.pos = self.top + 1  # the first frame goes to the top slot


KINDS = {"real": RealMask, "complex": ComplexMask, "deep-filter": DeepFilter}


def mask_output(contract: ModelContract):
    """The output object for ``contract.mask_kind`` (``RealMask``, ``ComplexMask`` or ``DeepFilter``)."""
    return KINDS[contract.mask_kind](contract)
