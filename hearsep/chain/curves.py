"""Static input/output curves of the compression bands: the one place for the I/O-curve maths.

The chain's gain table, the virtual test box's expected figures and the fitting's preset plots
all call these functions, so "what the preset asks for" has a single definition.

Per band (levels in dB SPL at the eardrum, gains in dB), for a band input level ``L``:

* compression: a piecewise-linear gain through the three fitting points ``(50, gain_50_db)``,
  ``(65, gain_65_db)``, ``(80, gain_80_db)`` (soft, medium and loud speech, as compressive
  prescriptions state them, e.g. NAL-NL2 / CAMFIT targets at 50/65/80 dB SPL input). The
  50->65 slope holds below 65 dB SPL and the 65->80 slope above it::

      G_c(L) = gain_65_db + s_lo * min(L - 65, 0) + s_hi * max(L - 65, 0)
      s_lo = (gain_65_db - gain_50_db) / 15,  s_hi = (gain_80_db - gain_65_db) / 15

  Below ``compression_threshold_db_spl`` (``C``, 0 = none) the gain is held at ``G_c(C)``
  (linear amplification), as presets given as "gain + threshold + ratio" define it.

  The static compression ratio between two points is ``CR = 1 / (1 + s)`` (output grows by
  ``1 + s`` dB per input dB; ANSI S3.22 / IEC 60118-2 define CR as the ratio of input to output
  level change on the steady-state I/O curve).
* expansion below ``expansion_threshold_db_spl`` (``T``) at ``expansion_ratio`` (``ER``): the
  output falls ``ER`` dB per input dB below ``T``, i.e. ``G(L) = G_c(T) + (ER - 1) * (L - T)``
  for ``L < T`` (``ER = 1``: no expansion).
* output limit: ``O(L) = min(L + G(L) + volume_db, mpo_db_spl, broadband_mpo_db_spl)``.
"""

from __future__ import annotations

import numpy as np

from hearsep.chain.params import BandParams, ChainParams

#: the fitting points of the compression curve: soft, medium and loud speech input (dB SPL)
FITTING_LEVELS_DB_SPL = (50.0, 65.0, 80.0)


def curve_arrays(bands) -> dict[str, np.ndarray]:
    """The curve constants of ``bands`` as float64 column arrays ``(bands, 1)`` for broadcasting."""
    g50 = np.array([b.gain_50_db for b in bands], float)[:, None]
    g65 = np.array([b.gain_65_db for b in bands], float)[:, None]
    g80 = np.array([b.gain_80_db for b in bands], float)[:, None]
    return {
        "g65": g65,
        "s_lo": (g65 - g50) / 15.0,
        "s_hi": (g80 - g65) / 15.0,
        "threshold": np.array([b.expansion_threshold_db_spl for b in bands], float)[:, None],
        "knee": np.array([b.compression_threshold_db_spl for b in bands], float)[:, None],
        "er_minus_1": np.array([b.expansion_ratio for b in bands], float)[:, None] - 1.0,
        "mpo": np.array([b.mpo_db_spl for b in bands], float)[:, None],
    }


def curve_gain_db(level_db_spl, c: dict) -> np.ndarray:
    """Compression + expansion gain (dB) for band levels broadcast against ``c``'s ``(bands, 1)``."""
    lc = np.maximum(level_db_spl, c["threshold"])  # the compression part is read at max(L, T)
    x = np.maximum(lc, c["knee"]) - 65.0  # and held below the compression threshold
    g = c["g65"] + c["s_lo"] * np.minimum(x, 0.0) + c["s_hi"] * np.maximum(x, 0.0)
    return g + c["er_minus_1"] * (level_db_spl - lc)  # expansion: (ER - 1) * (L - T) below T


def band_gain_db(band: BandParams, input_db_spl) -> np.ndarray:
    """Static WDRC gain (dB) of one band for band input levels ``input_db_spl`` (dB SPL).

    Volume and output limits are not included (see :func:`band_output_db_spl`).
    """
    level = np.asarray(input_db_spl, float)
    return curve_gain_db(level.reshape(1, -1), curve_arrays([band]))[0].reshape(level.shape)


def band_output_db_spl(band: BandParams, input_db_spl, volume_db: float = 0.0,
                       broadband_mpo_db_spl: float = np.inf) -> np.ndarray:
    """Static output level (dB SPL) of one band: ``min(L + G(L) + volume_db, band MPO, broadband MPO)``."""
    level = np.asarray(input_db_spl, float)
    out = level + band_gain_db(band, level) + volume_db
    return np.minimum(out, min(band.mpo_db_spl, broadband_mpo_db_spl))


def gain_table_db(bands, levels_db_spl: np.ndarray, volume_db: float = 0.0, mpo: bool = True) -> np.ndarray:
    """Gain (dB) per band and level, ``(bands, levels)``, volume included.

    With ``mpo``, ``gain = min(G(L) + volume_db, mpo_db_spl - L)``: the band output never
    exceeds its MPO at steady state. The broadband MPO is the time-domain limiter's job.
    """
    c = curve_arrays(bands)
    levels = np.asarray(levels_db_spl, float)[None, :]
    gain = curve_gain_db(levels, c) + volume_db
    return np.minimum(gain, c["mpo"] - levels) if mpo else gain


def band_for_frequency(params: ChainParams, frequency_hz) -> np.ndarray:
    """Index of the band a frequency belongs to (bands lie between ascending crossovers)."""
    return np.searchsorted(np.asarray(params.crossovers_hz, float), frequency_hz, side="right")


def compression_ratio(band: BandParams, low_db_spl: float, high_db_spl: float) -> float:
    """Static compression ratio between two input levels: input change / output change (dB/dB)."""
    out = band_gain_db(band, [low_db_spl, high_db_spl]) + np.array([low_db_spl, high_db_spl])
    d_out = float(out[1] - out[0])
    return float(high_db_spl - low_db_spl) / d_out if d_out > 0 else float("inf")
