"""Mixing speech and noise: scale the noise to an SNR, set a level, keep the peak below clipping.

One place for the arithmetic every mixture in hearsep uses (training examples in
:mod:`hearsep.nn.data`, evaluation mixtures in :mod:`hearsep.eval.mixtures`, synthetic
calibration audio in :mod:`hearsep.quantize.calibration`). Pure numpy functions on mono float
audio; results are float32, the working precision is float64.

Definitions follow the DNS Challenge mixing scripts (Reddy et al., "The INTERSPEECH 2020 Deep
Noise Suppression Challenge", 2020; github.com/microsoft/DNS-Challenge ``audiolib.py``:
``normalize`` to a target RMS level, ``snr_mixer``, ``is_clipped`` at 0.99). Levels are the plain
RMS over the whole clip, not an active speech level (ITU-T P.56):

* power ``P(x) = mean(x^2)``; level ``L = 10 log10(P(x))`` dBFS (a full-scale square wave is
  0 dBFS, a full-scale sine -3.01 dBFS);
* SNR ``= 10 log10(P(speech) / P(noise))`` dB over the whole clip, so the noise gain for a wanted
  SNR is ``g_n = sqrt(P(s) / (P(n) 10^(SNR/10)))``;
* level gain for a wanted level ``L``: ``g = 10^((L - L_ref) / 20)`` where ``L_ref`` is the level
  of the speech or of the mixture; if ``max|g (s + g_n n)|`` exceeds ``max_peak`` the gain is
  lowered to meet it (the SNR is unchanged: speech and noise share the gain).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hearsep.errors import AudioError

#: floor on a power when silence is allowed (keeps the gains finite)
_POWER_FLOOR = 1e-12


def power(x: np.ndarray) -> float:
    """Mean square of ``x`` (float64), in full-scale units squared."""
    x = np.asarray(x)
    return float(np.mean(np.square(x, dtype=np.float64))) if x.size else 0.0


def rms_dbfs(x: np.ndarray) -> float:
    """RMS level in dB relative to full scale, ``10 log10(mean(x^2))`` (a full-scale square wave is 0 dBFS)."""
    return 10.0 * math.log10(power(x) + 1e-20)


def loop_to_length(x: np.ndarray, length: int, offset: int = 0) -> np.ndarray:
    """``length`` samples of ``x`` starting at ``offset``, wrapping around (looping) as needed."""
    x = np.asarray(x).reshape(-1)
    if x.shape[0] == 0:
        raise AudioError("cannot loop an empty signal")
    return np.take(x, np.arange(offset, offset + length), mode="wrap")


@dataclass(frozen=True)
class Mixed:
    """A mixture and its two components, all float32 and already scaled by ``gain``.

    ``mixture == speech + noise`` up to float32 rounding; ``noise_gain`` is the linear gain that
    set the SNR (applied to the noise before ``gain``); ``gain`` the linear level/peak gain.
    """

    mixture: np.ndarray
    speech: np.ndarray
    noise: np.ndarray
    noise_gain: float
    gain: float


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float, *, level_dbfs: float | None = None,
               level_of: str = "speech", max_peak: float | None = None, allow_silence: bool = False) -> Mixed:
    """Mix ``noise`` into ``speech`` at ``snr_db``, then set the level and cap the peak.

    ``noise`` is looped or cut to the speech length. ``level_dbfs`` (RMS, dBFS) is the level of
    the ``level_of`` signal after scaling: ``"speech"`` or ``"mixture"``; ``None`` keeps the
    speech as it is. ``max_peak`` (linear full scale, e.g. 0.99) lowers the common gain so that no
    mixture sample exceeds it. Silent speech or noise raises :class:`AudioError` unless
    ``allow_silence`` (then powers are floored at 1e-12 and the gains stay finite).
    Formulas: see the module docstring.
    """
    if level_of not in ("speech", "mixture"):
        raise ValueError(f"level_of must be 'speech' or 'mixture', got {level_of!r}")
    s = np.asarray(speech, dtype=np.float64).reshape(-1)
    n = loop_to_length(np.asarray(noise, dtype=np.float64), s.shape[0])
    ps, pn = power(s), power(n)
    if not allow_silence:
        if ps <= 0.0:
            raise AudioError("cannot mix at an SNR: the speech is silent")
        if pn <= 0.0:
            raise AudioError("cannot mix at an SNR: the noise is silent")
    ps, pn = max(ps, _POWER_FLOOR), max(pn, _POWER_FLOOR)
    noise_gain = math.sqrt(ps / (pn * 10.0 ** (snr_db / 10.0)))
    n = n * noise_gain
    mix = s + n
    gain = 1.0
    if level_dbfs is not None:
        ref_power = ps if level_of == "speech" else max(power(mix), _POWER_FLOOR)
        gain = 10.0 ** (level_dbfs / 20.0) / math.sqrt(ref_power)
    if max_peak is not None:
        peak = float(np.max(np.abs(mix))) * gain if mix.size else 0.0
        if peak > max_peak:
            gain *= max_peak / peak
    return Mixed((mix * gain).astype(np.float32), (s * gain).astype(np.float32), (n * gain).astype(np.float32),
                 noise_gain, gain)
