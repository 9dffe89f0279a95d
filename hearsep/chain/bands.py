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


#: longest gain impulse response tried (samples either side of lag 0), shortest first; the first
#: whose band-centre correction is well conditioned is used
GAIN_IR_HALF_LENGTHS = (16, 24, 32, 48, 64, 128)
#: largest condition number of the band-centre correction accepted for a gain impulse response
MAX_CORRECTION_CONDITION = 50.0


def short_gain_basis(band_of_bin: np.ndarray, bands: int, frame_samples: int, half_length: int) -> np.ndarray:
    """``(bins, bands)``: each band's 0/1 bin indicator with its impulse response cut to ``+-half_length``.

    The (zero-phase) impulse response of each indicator is multiplied by a Hann window
    ``0.5 + 0.5 cos(pi k / (half_length + 1))`` over lags ``|k| <= half_length`` and transformed
    back (real, even). As the indicators sum to one and the window is one at lag 0, the shapes
    still sum to one on every bin (flat band gains stay exactly flat).
    """
    member = (band_of_bin[:, None] == np.arange(bands)[None, :]).astype(float)
    ir = np.fft.irfft(member, n=frame_samples, axis=0)
    lag = np.abs(np.fft.fftfreq(frame_samples, 1.0 / frame_samples))
    w = np.where(lag <= half_length, 0.5 + 0.5 * np.cos(np.pi * lag / (half_length + 1)), 0.0)
    return np.fft.rfft(ir * w[:, None], axis=0).real


def band_gain_matrix(band_of_bin: np.ndarray, centres_hz, frame_samples: int, hop_samples: int,
                     window: str, sample_rate_hz: float) -> np.ndarray:
    """``(bins, bands)`` float32: bin gains = this matrix @ band gains (linear amplitude).

    Why not a piecewise-constant gain per band: the enhancer's short synthesis window
    (``synthesis_samples``, 4 ms by default) keeps only the end of each inverse frame, so a
    per-bin gain acts as a circular convolution of the windowed frame with the gain's impulse
    response, and every lag ``k != 0`` of that response meets a different analysis/synthesis
    window product in the two overlapping frames: ``sum_frames s(n) a(n - k)`` is one only at
    ``k = 0`` and varies at the hop rate otherwise (by 3 % rms at ``|k| = 4``, 8 % at 16, 13-15 %
    at -20..-32 for the 256/32/64 asymmetric pair). A gain curve with sharp band edges has a long
    impulse response, so band-gain differences come out as spurious components at multiples of
    ``fs / hop_samples`` (500 Hz; on harmonics for a 500 Hz tone). This is the time aliasing of
    spectral weighting that filter-bank equalisers avoid by keeping the gain's impulse response
    short (Löllmann & Vary 2007, "Uniform and warped low delay filter-banks for speech
    enhancement", Speech Communication 49(11); Mauler & Martin 2007 for the asymmetric windows).

    Here: each band's shape is its indicator with the impulse response cut to ``+-K`` lags
    (:func:`short_gain_basis`), and a correction ``Q^-1`` restores every band centre's own gain
    through the framing: ``Q[b, b']`` is the output amplitude at centre ``f_b`` when only band
    ``b'`` has unit gain (real part, measured with steady tones through the batch STFT that
    matches the streaming one), so ``B Q^-1 G`` gives each centre its band gain ``G`` at steady
    state. ``K`` is the shortest of :data:`GAIN_IR_HALF_LENGTHS` whose ``Q`` has a condition
    number under :data:`MAX_CORRECTION_CONDITION` (narrow bands need longer responses).

    Measured (N3 NAL-RP WDRC preset, THD of a 500 Hz tone at 70 dB SPL, reference test setting,
    without the across-band gain coupling of :func:`leakage_matrix`): piecewise + ``Q^-1`` 37 %,
    ``K = 16`` + ``Q^-1`` 18 % (I/O error at 500-4000 Hz <= 0.15 dB); ``K = 8`` without the
    correction gave 2 % but band-centre errors of 5-18 dB: shorter responses trade distortion
    for gain accuracy, which is why the chain also couples the gains of leakage-dominated bands.
    """
    c = np.asarray(centres_hz, float)
    if np.any(np.diff(c) <= 0):
        raise ConfigError(f"chain: band centre_hz must ascend strictly, got {list(c)}")
    nb = c.shape[0]
    for k in GAIN_IR_HALF_LENGTHS:
        basis = short_gain_basis(band_of_bin, nb, frame_samples, k)
        q = band_response_matrix(basis, c, frame_samples, hop_samples, window, sample_rate_hz).real
        if np.linalg.cond(q) <= MAX_CORRECTION_CONDITION:
            break
    return (basis @ np.linalg.inv(q)).astype(np.float32)


def leakage_matrix(band_of_bin: np.ndarray, centres_hz, frame_samples: int, hop_samples: int,
                   window: str, sample_rate_hz: float) -> np.ndarray:
    """``(bands, bands)``: ``Lambda[b, j]`` = band ``b``'s power / band ``j``'s for a steady tone at centre ``j``.

    Averaged over the tone's phase (a cosine and a sine). The analysis window's side lobes in
    this frame (its fast 2 ms fall) put -16..-28 dB of a tone's power into the adjacent narrow
    low bands and -34..-48 dB into bands two or more away (256/32 asymmetric pair, octave bands
    250-6000 Hz): a band that reads about that much below a louder band holds mostly that
    band's leakage, not content of its own.
    """
    from hearsep.features.stft import analysis_frames

    nb = len(centres_hz)
    member = (band_of_bin[None, :] == np.arange(nb)[:, None]).astype(float)
    t = np.arange(16 * frame_samples)
    out = np.zeros((nb, nb))
    for j, f in enumerate(centres_hz):
        power = np.zeros(nb)
        for phase in (0.0, np.pi / 2):  # cosine + sine: the leakage averaged over the tone's phase
            x = np.cos(2 * np.pi * f * t / sample_rate_hz + phase)
            spectra = analysis_frames(x, frame_samples, hop_samples, window)[frame_samples // hop_samples:]
            power += np.mean(np.abs(spectra) ** 2, axis=0) @ member.T
        out[:, j] = power / power[j]
    return out


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
