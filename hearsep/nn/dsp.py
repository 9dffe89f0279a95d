"""The spine's framing and features in TensorFlow, for training (batch, differentiable).

These mirror :func:`hearsep.features.stft.analysis_frames`, :func:`~hearsep.features.stft.overlap_add`
and :func:`hearsep.features.spectral.log_power_features` exactly (same windows from
:func:`~hearsep.features.stft.window_pair`), so a model trained here sees at run time the features it
was trained on, and the loss is computed on the very signal the runtime will output.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from hearsep.features.stft import window_pair
from hearsep.model.contract import FeatureSpec


class Framing:
    """Batch STFT analysis/synthesis for ``[B, N]`` float32 signals (``N`` a multiple of the hop)."""

    def __init__(self, frame_samples: int = 256, hop_samples: int = 32, window: str = "asymmetric"):
        a, s, m = window_pair(frame_samples, hop_samples, window)
        self.frame_samples, self.hop_samples, self.synthesis_samples = frame_samples, hop_samples, m
        self.window = window
        self.bins = frame_samples // 2 + 1
        self._analysis = tf.constant(a, tf.float32)
        self._synthesis_tail = tf.constant(s[-m:], tf.float32)

    @property
    def delay_samples(self) -> int:
        """Delay of :meth:`synthesis` output relative to the input (``synthesis - hop``)."""
        return self.synthesis_samples - self.hop_samples

    def analysis(self, x: tf.Tensor) -> tf.Tensor:
        """``[B, N] -> [B, N / hop, bins]`` complex64; frame ``k`` ends at sample ``(k+1)*hop - 1``."""
        xp = tf.pad(x, [[0, 0], [self.frame_samples - self.hop_samples, 0]])
        frames = tf.signal.frame(xp, self.frame_samples, self.hop_samples)
        return tf.signal.rfft(frames * self._analysis, fft_length=[self.frame_samples])

    def synthesis(self, spectra: tf.Tensor) -> tf.Tensor:
        """``[B, T, bins] -> [B, T * hop]``: weighted overlap-add, delayed by :attr:`delay_samples`."""
        t = tf.shape(spectra)[1]
        frames = tf.signal.irfft(spectra, fft_length=[self.frame_samples])[..., -self.synthesis_samples:]
        y = tf.signal.overlap_and_add(frames * self._synthesis_tail, self.hop_samples)
        return y[:, : t * self.hop_samples]


def apply_mask(spectra: tf.Tensor, mask: tf.Tensor, kind: str = "real", df_order: int = 0,
               df_bins: int = 0) -> tf.Tensor:
    """Separator output ``mask [B, T, mask_size]`` applied to ``spectra [B, T, bins]`` (complex64).

    The same maths as :mod:`hearsep.runtime.outputs` (layouts and sources there): ``real`` gain,
    ``complex`` ratio mask ``[re(bins), im(bins)]``, or ``deep-filter``: gain plus complex taps over
    the current and ``df_order - 1`` past frames on the lowest ``df_bins`` bins (frames before the
    first count as zero, as the runtime's history starts at zero).
    """
    bins = spectra.shape[-1]
    if kind == "real":
        return spectra * tf.cast(mask, tf.complex64)
    if kind == "complex":
        return spectra * tf.complex(mask[..., :bins], mask[..., bins:2 * bins])
    if kind != "deep-filter":
        raise ValueError(f"unknown mask kind {kind!r}")
    out = spectra * tf.cast(mask[..., :bins], tf.complex64)
    low = spectra[..., :df_bins]
    acc = tf.zeros_like(low)
    for n in range(df_order):
        re = mask[..., bins + 2 * n * df_bins: bins + (2 * n + 1) * df_bins]
        im = mask[..., bins + (2 * n + 1) * df_bins: bins + (2 * n + 2) * df_bins]
        past = tf.pad(low, [[0, 0], [n, 0], [0, 0]])[:, : tf.shape(low)[1]]  # X_{t-n}
        acc += tf.complex(re, im) * past
    return tf.concat([out[..., :df_bins] + acc, out[..., df_bins:]], axis=-1)


def log_power(spectra: tf.Tensor, spec: FeatureSpec) -> tf.Tensor:
    """``(log10(|X|^2 + eps) - mean) / std`` (float32), as :class:`~hearsep.features.spectral.LogPowerFeatures`."""
    power = tf.math.square(tf.math.real(spectra)) + tf.math.square(tf.math.imag(spectra)) + spec.eps
    return (tf.math.log(power) / np.log(10.0) - spec.mean) / spec.std


def feature_stats(mixtures: np.ndarray, framing: Framing, eps: float = 1e-10) -> tuple[float, float]:
    """Scalar mean and std of ``log10(|X|^2 + eps)`` over mixtures ``[B, N]`` (for :class:`FeatureSpec`)."""
    spec = framing.analysis(tf.constant(mixtures, tf.float32))
    lp = log_power(spec, FeatureSpec(eps=eps)).numpy()
    return float(lp.mean()), float(lp.std())


def si_sdr(reference: tf.Tensor, estimate: tf.Tensor, eps: float = 1e-8) -> tf.Tensor:
    """Scale-invariant SDR in dB per batch item (zero-mean signals ``[B, N]``)."""
    reference = reference - tf.reduce_mean(reference, axis=-1, keepdims=True)
    estimate = estimate - tf.reduce_mean(estimate, axis=-1, keepdims=True)
    alpha = tf.reduce_sum(reference * estimate, -1, keepdims=True) / (tf.reduce_sum(reference ** 2, -1, keepdims=True) + eps)
    target = alpha * reference
    return 10.0 * _log10((tf.reduce_sum(target ** 2, -1) + eps) / (tf.reduce_sum((estimate - target) ** 2, -1) + eps))


def snr(reference: tf.Tensor, estimate: tf.Tensor, eps: float = 1e-8) -> tf.Tensor:
    """Plain SNR in dB per batch item (scale matters: a quiet estimate is penalised)."""
    return 10.0 * _log10((tf.reduce_sum(reference ** 2, -1) + eps) / (tf.reduce_sum((estimate - reference) ** 2, -1) + eps))


def _log10(x):
    return tf.math.log(x) / np.log(10.0)
