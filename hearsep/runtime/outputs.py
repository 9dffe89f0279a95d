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

import numpy as np

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


class ComplexMask:
    """``Y = (m_re + j m_im) X`` per bin (mask ``[re(bins), im(bins)]``)."""

    def __init__(self, contract: ModelContract):
        b = contract.bins
        self.unity = np.concatenate([np.ones(b), np.zeros(b)]).astype(np.float32)
        self._tmp = np.zeros(b, np.float32)

    def apply(self, spectrum: np.ndarray, mask: np.ndarray, out: np.ndarray) -> None:
        b = spectrum.shape[1]
        m_re, m_im = mask[:b], mask[b:2 * b]
        x_re, x_im, t = spectrum[0], spectrum[1], self._tmp
        np.multiply(x_re, m_re, out=out[0])
        np.multiply(x_im, m_im, out=t)
        out[0] -= t
        np.multiply(x_re, m_im, out=out[1])
        np.multiply(x_im, m_re, out=t)
        out[1] += t

    def skip(self, spectrum: np.ndarray) -> None:
        pass

    def reset(self) -> None:
        pass


class DeepFilter:
    """Real gain on every bin plus a complex ``df_order``-tap filter over frames on the low bins.

    Vectorised over taps (a handful of numpy calls per hop, none allocating): each past frame is
    kept as ``[[x_re, x_im], [-x_im, x_re]]`` so that ``taps[n, c] * frame[n, c]`` summed over
    ``n`` and ``c`` is the complex product's ``[re, im]``. The history lives twice in a buffer of
    ``2 * df_order`` frames, so the last ``df_order`` frames, newest first, are always one slice.
    """

    def __init__(self, contract: ModelContract):
        b, n, k = contract.bins, contract.df_order, contract.df_bins
        self.bins, self.order, self.df_bins = b, n, k
        self.unity = np.concatenate([np.ones(b), np.zeros(2 * n * k)]).astype(np.float32)
        self._frames = np.zeros((2 * n, 2, 2, k), np.float32)
        self._windows = [self._frames[i:i + n] for i in range(n)]  # newest first from slot i
        self._pos = 0
        self._products = np.zeros((n, 2, 2, k), np.float32)
        self._acc = np.zeros((2, k), np.float32)

    def _push(self, spectrum: np.ndarray) -> None:
        i = self._pos = (self._pos - 1) % self.order
        k, f = self.df_bins, self._frames[i]
        f[0] = spectrum[:, :k]
        np.negative(spectrum[1, :k], out=f[1, 0])
        f[1, 1] = spectrum[0, :k]
        self._frames[i + self.order] = f

    def apply(self, spectrum: np.ndarray, mask: np.ndarray, out: np.ndarray) -> None:
        b, k = self.bins, self.df_bins
        self._push(spectrum)
        np.multiply(spectrum, mask[:b], out=out)
        taps = mask[b:].reshape(self.order, 2, 1, k)  # [n, (a, b), 1, f]
        np.multiply(taps, self._windows[self._pos], out=self._products)
        np.sum(self._products, axis=(0, 1), out=self._acc)
        out[:, :k] += self._acc

    def skip(self, spectrum: np.ndarray) -> None:
        self._push(spectrum)

    def reset(self) -> None:
        self._frames.fill(0.0)
        self._pos = 0


KINDS = {"real": RealMask, "complex": ComplexMask, "deep-filter": DeepFilter}


def mask_output(contract: ModelContract):
    """The output object for ``contract.mask_kind`` (``RealMask``, ``ComplexMask`` or ``DeepFilter``)."""
    return KINDS[contract.mask_kind](contract)
