"""Bands in the enhancer's own STFT frame: bins grouped between crossovers, calibrated band power.

Bin ``k`` (centre ``k * fs / N`` Hz) belongs to band ``b`` when ``crossover[b-1] <= f_k <
crossover[b]``. Band power is read straight from the analysis spectrum, so band levels and
gains add no framing latency.

Calibration. For a sine of peak amplitude ``A`` (level ``20 log10 A`` dBFS; 0 dBFS = full-scale
sine) analysed with window ``w`` of length ``N``, Parseval's theorem gives
``sum_k |X_k|^2 = N * sum_n (w_n x_n)^2 ~= N * A^2 / 2 * sum_n w_n^2`` over all ``N`` bins, half
of it in the one-sided spectrum (Harris 1978, "On the use of windows for harmonic analysis with
the DFT", Proc. IEEE 66(1), the window's energy ``sum w^2`` as its noise-power gain). Hence::

    level_dbfs = 10 log10( 4 / (N * sum w^2) * sum_{k in band} |X_k|^2 )

reads ``20 log10 A`` for a sine whose energy lies in the band, and
``level_db_spl = level_dbfs + full_scale_db_spl``. (The DC and Nyquist bins, which carry no
mirror image, are read with the same factor; they hold no speech energy.)
"""

from __future__ import annotations

import numpy as np

from hearsep.errors import ConfigError


def bin_bands(crossovers_hz, frame_samples: int, sample_rate_hz: float) -> np.ndarray:
    """Band index (int) of each one-sided STFT bin, ``(frame_samples // 2 + 1,)``."""
    cross = np.asarray(crossovers_hz, float)
    if cross.size and (np.any(np.diff(cross) <= 0) or cross[0] <= 0 or cross[-1] >= sample_rate_hz / 2):
        raise ConfigError(f"chain: crossovers_hz must ascend strictly within (0, {sample_rate_hz / 2:g}) Hz, "
                          f"got {list(cross)}")
    freqs = np.arange(frame_samples // 2 + 1) * sample_rate_hz / frame_samples
    return np.searchsorted(cross, freqs, side="right").astype(np.intp)


def band_power_matrix(band_of_bin: np.ndarray, bands: int, analysis_window: np.ndarray,
                      full_scale_db_spl: float) -> np.ndarray:
    """``(bands, 2 * bins)`` float32: ``M @ [re; im].ravel()**2 = 10**(level_db_spl / 10)`` per band."""
    w = np.asarray(analysis_window, float)
    scale = 4.0 / (w.shape[0] * np.sum(w * w)) * 10.0 ** (full_scale_db_spl / 10.0)
    member = (band_of_bin[None, :] == np.arange(bands)[:, None]).astype(float) * scale
    empty = np.flatnonzero(member.sum(axis=1) == 0)
    if empty.size:
        raise ConfigError(f"chain: band {int(empty[0])} holds no STFT bin (crossovers closer than "
                          f"one bin); widen the band or use a longer frame")
    return np.concatenate([member, member], axis=1).astype(np.float32)


def band_gain_matrix(band_of_bin: np.ndarray, centres_hz, frame_samples: int, hop_samples: int,
                     window: str, sample_rate_hz: float) -> np.ndarray:
    """``(bins, bands)`` float32: bin gains = this matrix @ band gains (linear amplitude).

    A gain of one band spread over its bins does not act on its own: the enhancer's short
    synthesis window (``synthesis_samples``, 4 ms by default) keeps only the end of each inverse
    frame, where the analysis window is small, so what comes out at a frequency is a coherent
    mix of the gains of the bins within a few bins of it (the synthesis window's frequency
    resolution; the time aliasing of per-bin gains under low-latency asymmetric windows, cf.
    Mauler & Martin 2007, Wang et al. 2022). A tone at a band centre therefore also carries some
    of its neighbours' gains. This matrix undoes that at the band centres: with ``P`` the 0/1
    bin-to-band membership and ``Q[b, b']`` the output amplitude at centre ``f_b`` when band
    ``b'`` alone has unit gain (real part; measured on the framing itself with steady tones
    through the batch STFT that matches the streaming one), the bin gains ``P Q^-1 G`` give
    every band centre its band's gain ``G`` at steady state.

    Design note (measured with tones at 500-4000 Hz, five phases): of piecewise-constant or
    frequency-interpolated gains, each with or without this correction and with real or complex
    ``Q``, piecewise + real ``Q`` gave the smallest centre-gain errors and the least hop-rate
    aliasing (spurious tones at multiples of ``fs / hop_samples``). The aliasing grows with the
    gain difference between neighbouring bands; the test box reports it as ``spurious_db``.
    """
    c = np.asarray(centres_hz, float)
    if np.any(np.diff(c) <= 0):
        raise ConfigError(f"chain: band centre_hz must ascend strictly, got {list(c)}")
    nb = c.shape[0]
    membership = (band_of_bin[:, None] == np.arange(nb)[None, :]).astype(float)
    q = band_response_matrix(membership, c, frame_samples, hop_samples, window, sample_rate_hz)
    return (membership @ np.linalg.inv(q.real)).astype(np.float32)


def band_response_matrix(bin_gains: np.ndarray, centres_hz, frame_samples: int, hop_samples: int,
                         window: str, sample_rate_hz: float) -> np.ndarray:
    """Complex output amplitude at each centre frequency (rows) for each column of per-bin gains."""
    from hearsep.features.stft import analysis_frames, overlap_add, window_pair

    synthesis = window_pair(frame_samples, hop_samples, window)[2]
    delay = synthesis - hop_samples
    n = 16 * frame_samples
    t = np.arange(n)
    steady = slice(4 * frame_samples, n)
    q = np.zeros((len(centres_hz), bin_gains.shape[1]), complex)
    for b, f in enumerate(centres_hz):
        spectra = analysis_frames(np.cos(2 * np.pi * f * t / sample_rate_hz), frame_samples, hop_samples, window)
        ref = np.exp(-2j * np.pi * f * (t[steady] - delay) / sample_rate_hz)
        for k in range(bin_gains.shape[1]):
            y = overlap_add(spectra * bin_gains[:, k], frame_samples, hop_samples, window)
            q[b, k] = 2.0 * np.mean(y[steady] * ref)
    return q


def band_levels_db_spl(spectrum: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Band levels (dB SPL) of a ``(2, bins)`` ``[re; im]`` spectrum (reference; allocates)."""
    p = matrix.astype(float) @ (np.asarray(spectrum, float).reshape(-1) ** 2)
    return 10.0 * np.log10(np.maximum(p, 1e-30))
