"""Resolved, per-band parameters of the hearing-aid chain (what ``hearsep.fitting`` produces
from a preset and a program, and what :mod:`hearsep.chain` consumes).

Levels: ``*_db_spl`` are sound pressure levels at the eardrum, converted from dBFS with the
preset's calibration (``full_scale_db_spl``: the level of a 0 dBFS full-scale sine). Gains are
insertion gains in dB. Times are in milliseconds, with ANSI S3.22 meanings (attack: 55 -> 90 dB
SPL step, output within 3 dB of its new steady state; release: 90 -> 55 dB SPL, within 4 dB).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BandParams:
    """One compression band, in the enhancer's STFT frame (bins grouped between crossovers).

    The static input/output curve is piecewise linear in dB through the gains at 50, 65 and
    80 dB SPL band input (compression between those points, the 50->65 and 65->80 slopes held
    beyond them), with expansion below ``expansion_threshold_db_spl`` at ``expansion_ratio``.
    """

    centre_hz: float
    gain_50_db: float
    gain_65_db: float
    gain_80_db: float
    attack_ms: float
    release_ms: float
    mpo_db_spl: float
    expansion_threshold_db_spl: float = 30.0
    expansion_ratio: float = 1.0  # 1.0 = no expansion; 2.0 = 2 dB less output per dB below threshold
    # (H3) compression threshold: below this band input level the gain is held at its value
    # there (linear), down to the expansion threshold. 0.0 = the 50->65 slope is held below 50.
    # Set by presets that give "gain + threshold + ratio" instead of gains at 50/65/80 dB SPL.
    compression_threshold_db_spl: float = 0.0


@dataclass(frozen=True)
class ChainParams:
    """Everything the chain needs, fully resolved (no program lookups left)."""

    crossovers_hz: tuple[float, ...]  # len(bands) - 1 band edges, ascending
    bands: tuple[BandParams, ...]
    full_scale_db_spl: float  # calibration: a 0 dBFS sine is this many dB SPL at the eardrum
    broadband_mpo_db_spl: float
    noise_reduction_db: float = 12.0  # attenuation limit: output never below input - this (dB)
    volume_db: float = 0.0
    volume_min_db: float = -12.0
    volume_max_db: float = 6.0
    limiter_lookahead_ms: float = 0.5  # <= 1 ms
