"""Objective speech-quality metrics on mono float audio; pure functions, no state.

* SI-SDR (scale-invariant signal-to-distortion ratio, dB): Le Roux, Wisdom, Erdogan, Hershey,
  "SDR - half-baked or well done?", ICASSP 2019. Both signals are made zero-mean, the reference
  is scaled by the optimal gain ``alpha = <s, r> / <r, r>``, and
  ``SI-SDR = 10 log10(|alpha r|^2 / |s - alpha r|^2)``.
* PESQ wideband (ITU-T P.862.2, MOS-LQO, about 1.0 .. 4.64) with the ``pesq`` package; audio is
  resampled to 16 kHz, the only rate P.862.2 defines.
* STOI (Taal et al., 2011; 0 .. 1) with the ``pystoi`` package (which resamples to 10 kHz itself).

Signals are cut to their common length; the caller aligns them in time first.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from hearsep.errors import AudioError, ConfigError

PESQ_RATE_HZ = 16000
#: added to energies so that silence gives a finite, very low ratio instead of a division by zero
_EPS = 1e-12


def _pair(estimate: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(estimate, dtype=np.float64).reshape(-1)
    r = np.asarray(reference, dtype=np.float64).reshape(-1)
    n = min(s.shape[0], r.shape[0])
    if n == 0:
        raise AudioError("cannot score empty audio (no samples)")
    s, r = s[:n], r[:n]
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(r))):
        raise AudioError("cannot score audio with NaN/Inf samples")
    return s, r


def si_sdr_db(estimate: np.ndarray, reference: np.ndarray) -> float:
    """SI-SDR of ``estimate`` against ``reference`` in dB (higher is better).

    Raises :class:`AudioError` when the reference is silent (all zero after removing the mean).
    """
    s, r = _pair(estimate, reference)
    s = s - s.mean()
    r = r - r.mean()
    ref_energy = float(np.dot(r, r))
    if ref_energy <= _EPS:
        raise AudioError("SI-SDR is undefined for a silent reference")
    alpha = float(np.dot(s, r)) / ref_energy
    target = alpha * r
    residual = s - target
    return 10.0 * math.log10((float(np.dot(target, target)) + _EPS) / (float(np.dot(residual, residual)) + _EPS))


def si_sdr_improvement_db(estimate: np.ndarray, mixture: np.ndarray, reference: np.ndarray) -> float:
    """SI-SDR gained by enhancement: ``si_sdr(estimate) - si_sdr(mixture)`` against ``reference``, dB."""
    return si_sdr_db(estimate, reference) - si_sdr_db(mixture, reference)


def snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    """Plain energy ratio ``10 log10(|signal|^2 / |noise|^2)`` in dB (no mean removal, no scaling)."""
    s, n = _pair(signal, noise)
    return 10.0 * math.log10((float(np.dot(s, s)) + _EPS) / (float(np.dot(n, n)) + _EPS))


def _require(module: str):
    """Import an optional scoring package, or say how to install it (a :class:`ConfigError`)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"scoring needs the '{module}' package: pip install 'hearsep[dev]' "
                          f"(or pip install {module})") from None


def _to_rate(x: np.ndarray, rate_hz: int, to_hz: int) -> np.ndarray:
    if int(rate_hz) == to_hz:
        return x
    from hearsep.audio.resample import resample

    return resample(x.astype(np.float32), int(rate_hz), to_hz).astype(np.float64)


def pesq_wb(reference: np.ndarray, degraded: np.ndarray, rate_hz: int) -> float:
    """Wideband PESQ (MOS-LQO) of ``degraded`` against ``reference``; NaN when PESQ finds no speech.

    ``pesq`` reports "no utterances detected" for signals without speech-like activity (silence,
    very short clips); that is a property of the audio, not an error, so it scores NaN and the
    aggregates skip it.
    """
    _pesq = _require("pesq")

    deg, ref = _pair(degraded, reference)
    ref = _to_rate(ref, rate_hz, PESQ_RATE_HZ)
    deg = _to_rate(deg, rate_hz, PESQ_RATE_HZ)
    if not (np.any(ref) and np.any(deg)):  # pesq would divide by a zero peak
        return float("nan")
    try:
        return float(_pesq.pesq(PESQ_RATE_HZ, ref, deg, "wb"))
    except (_pesq.NoUtterancesError, _pesq.BufferTooShortError):
        return float("nan")


def stoi(reference: np.ndarray, degraded: np.ndarray, rate_hz: int, extended: bool = False) -> float:
    """STOI (0..1) of ``degraded`` against ``reference``; ``extended=True`` gives ESTOI.

    NaN when the clip is too short for STOI's 384 ms analysis segments after its silent frames are
    removed (pystoi would warn and return 1e-5, which is not a score).
    """
    _stoi = _require("pystoi").stoi

    deg, ref = _pair(degraded, reference)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(_stoi(ref, deg, int(rate_hz), extended=extended))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        return float("nan")
    return value
