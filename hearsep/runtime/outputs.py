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

    def apply(self, spectrum: np.ndarray, mask: np.ndarray, out: np.ndarray) -> None:
        np.multiply(spectrum, mask, out=out)

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
    """Real gain on every bin plus a complex ``df_order``-tap filter over frames on the low bins."""

    def __init__(self, contract: ModelContract):
        b, n, k = contract.bins, contract.df_order, contract.df_bins
        self.bins, self.order, self.df_bins = b, n, k
        self.unity = np.concatenate([np.ones(b), np.zeros(2 * n * k)]).astype(np.float32)
        # ring of the low bins of the last df_order frames, [re; im]; _pos holds the current one
        self._history = np.zeros((n, 2, k), np.float32)
        self._pos = 0
        self._acc = np.zeros((2, k), np.float32)
        self._tmp = np.zeros(k, np.float32)

    def _push(self, spectrum: np.ndarray) -> None:
        self._pos = (self._pos + 1) % self.order
        self._history[self._pos] = spectrum[:, :self.df_bins]

    def apply(self, spectrum: np.ndarray, mask: np.ndarray, out: np.ndarray) -> None:
        b, k = self.bins, self.df_bins
        self._push(spectrum)
        np.multiply(spectrum, mask[:b], out=out)
        taps = mask[b:].reshape(self.order, 2, k)
        acc, t = self._acc, self._tmp
        acc.fill(0.0)
        for n in range(self.order):
            c_re, c_im = taps[n, 0], taps[n, 1]
            frame = self._history[(self._pos - n) % self.order]  # n hops ago
            x_re, x_im = frame[0], frame[1]
            np.multiply(x_re, c_re, out=t)
            acc[0] += t
            np.multiply(x_im, c_im, out=t)
            acc[0] -= t
            np.multiply(x_re, c_im, out=t)
            acc[1] += t
            np.multiply(x_im, c_re, out=t)
            acc[1] += t
        out[:, :k] += acc

    def skip(self, spectrum: np.ndarray) -> None:
        self._push(spectrum)

    def reset(self) -> None:
        self._history.fill(0.0)
        self._pos = 0


KINDS = {"real": RealMask, "complex": ComplexMask, "deep-filter": DeepFilter}


def mask_output(contract: ModelContract):
    """The output object for ``contract.mask_kind`` (``RealMask``, ``ComplexMask`` or ``DeepFilter``)."""
    return KINDS[contract.mask_kind](contract)
