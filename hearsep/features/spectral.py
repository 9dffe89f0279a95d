"""Model input features computed from an STFT frame (runtime and training share these).

``log-power``: ``(log10(|X|^2 + eps) - mean) / std`` per bin. Normalising here, outside the
model, keeps int8 input quantization accurate (a log of raw magnitudes inside the model would
spend int8 steps on a range of ~14 decades).
"""

from __future__ import annotations

import numpy as np

from hearsep.model.contract import FeatureSpec


class LogPowerFeatures:
    """Streaming ``log-power`` features with preallocated buffers: ``compute(spectrum) -> features``.

    ``spectrum`` is the streaming STFT's real ``(2, bins)`` layout ``[real; imag]``. The returned
    array is an internal buffer (``float32``, ``bins`` long) valid until the next call.

    ``output_scale`` / ``output_offset`` fold a further affine map into the same two passes
    (``features * output_scale + output_offset``): the runtime uses it to emit features directly
    in an int8 model's quantized units (``1 / scale``, ``zero_point``), ready to round.
    """

    def __init__(self, spec: FeatureSpec, bins: int, output_scale: float = 1.0, output_offset: float = 0.0):
        spec.validate()
        self.spec = spec
        self._squares = np.zeros((2, bins), np.float32)
        self._power = np.zeros(bins, np.float32)
        self._features = np.zeros(bins, np.float32)
        # constants as full-length arrays: ufuncs run faster on them than on scalars
        self._scale = np.full(bins, output_scale / spec.std, np.float32)
        self._offset = np.full(bins, output_offset - output_scale * spec.mean / spec.std, np.float32)
        self._eps = np.full(bins, spec.eps, np.float32)

    def compute(self, spectrum: np.ndarray) -> np.ndarray:
        p, sq = self._power, self._squares
        np.multiply(spectrum, spectrum, out=sq)
        np.add(sq[0], sq[1], out=p)
        np.add(p, self._eps, out=p)
        f = self._features
        np.log10(p, out=f)
        np.multiply(f, self._scale, out=f)
        np.add(f, self._offset, out=f)
        return f


def log_power_features(spectra: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Batch version of :class:`LogPowerFeatures` for ``(..., bins)`` complex spectra (float32 out)."""
    power = np.abs(spectra).astype(np.float32) ** 2 + np.float32(spec.eps)
    return ((np.log10(power) - np.float32(spec.mean)) / np.float32(spec.std)).astype(np.float32)
