"""Prescription rules: audiogram thresholds (dB HL) -> real-ear insertion gain (dB).

Each rule is a small pure function ``rule(hl_db, frequencies_hz) -> gain_db`` on one ear's
air-conduction thresholds; its constants are one named table keyed by frequency (Hz) and its
source is cited in its docstring. H is the threshold in dB HL at a frequency, H3FA the average of
the thresholds at 500, 1000 and 2000 Hz, k(f) the rule's frequency table. Linear rules give one
gain for every input level; the compressive rule gives gains for soft, medium and loud speech
(50, 65 and 80 dB SPL input, :data:`SPEECH_LEVELS_DB_SPL`).

Frequency tables. A rule's k(f) is published at some audiometric frequencies only; at the others
it is interpolated linearly in dB against log-frequency and held at the end value beyond the
tabulated range (e.g. NAL-R's 6000 Hz constant is used at 8000 Hz), see
:func:`hearsep.fitting.audiogram.interpolate_log_frequency`.

Band centres. :func:`prescribe` gives gains at the audiogram's frequencies; the preset's bands
take them at their centre frequencies by the same log-frequency interpolation (held flat beyond
the audiogram's lowest and highest frequency): :meth:`Prescription.gains_at`.

Negative gains. A rule can prescribe a negative insertion gain (e.g. NAL-R at 250 Hz for a mild
loss); a hearing aid cannot attenuate below the open ear usefully, so gains are clipped to 0 dB
(as openMHA's ``NalRP.m`` and Moore et al. 1999 p. 159 do) and :attr:`Prescription.clipped_hz`
lists where.

The compressive rule (``nal-rp-wdrc``), derivation:
  1. Medium speech (65 dB SPL) gets the NAL-RP insertion gain G65(f) (speech at a comfortable
     level, NAL's aim), as openMHA's ``gainruleimpl_CRx_NALRP.m`` does.
  2. The compression ratio restores the normal dynamic range of hearing into the residual one:
     CR(f) = DR_normal / DR_impaired(f) with DR_normal = UCL_normal - 0 dB HL and
     DR_impaired(f) = UCL(f) - H(f), where UCL is the measured uncomfortable level (dB HL) or,
     when not measured, :data:`NORMAL_UCL_DB_HL` = 100 dB HL (an assumption: loudness discomfort
     of hearing-impaired listeners stays near the normal value for cochlear losses; Dillon 2012,
     "Hearing Aids", 2nd ed., ch. 6). CR is bounded to :data:`COMPRESSION_RATIO_RANGE` (1..3),
     the range in which multichannel WDRC keeps speech quality (Dillon 2012, ch. 6).
  3. Above the compression threshold the output rises 1/CR dB per dB of input, so the gain
     changes by (1 - 1/CR) dB per dB: G50 = G65 + 15 (1 - 1/CR), G80 = G65 - 15 (1 - 1/CR).
  4. Negative gains are clipped to 0 dB at each level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from hearsep.errors import ConfigError
from hearsep.fitting.audiogram import Audiogram, interpolate_log_frequency

SPEECH_LEVELS_DB_SPL: tuple[int, int, int] = (50, 65, 80)  # soft, medium, loud speech input

# k(f) tables, dB, keyed by frequency in Hz.
POGO_K_DB = {250: -10.0, 500: -5.0, 1000: 0.0, 2000: 0.0, 3000: 0.0, 4000: 0.0}
POGO_II_KNEE_DB_HL = 65.0  # above this threshold POGO II adds half the excess
NAL_R_K_DB = {250: -17.0, 500: -8.0, 750: -3.0, 1000: 1.0, 1500: 1.0, 2000: -1.0, 3000: -2.0,
              4000: -2.0, 6000: -2.0}
NAL_R_CONSTANTS = {"per_frequency": 0.31, "per_h3fa": 0.15}
NAL_RP_CONSTANTS = {"h3fa_knee_db_hl": 60.0, "per_h3fa_above_knee": 0.20, "h2000_severe_db_hl": 95.0}
# NAL-RP extra gain (dB) when H(2000 Hz) >= 95 dB HL: rows H2000 = 95..120 dB HL, columns the
# NAL_RP_SEVERE_FREQUENCIES_HZ (Byrne, Parkinson & Newall 1991, Fig. 9; as tabulated in openMHA's
# NalRP.m, whose 95 and 120 dB HL rows agree with Rajkumar et al. 2013, UJBE, Table 2). 750 Hz is
# not a column: it is interpolated in log-frequency like every other untabulated frequency.
# Between rows the correction is interpolated linearly in H2000.
NAL_RP_SEVERE_H2000_DB_HL = (95.0, 100.0, 105.0, 110.0, 115.0, 120.0)
NAL_RP_SEVERE_FREQUENCIES_HZ = (250, 500, 1000, 1500, 2000, 3000, 4000, 6000)
NAL_RP_SEVERE_DB = (
    (4, 3, 0, -1, -2, -2, -2, -2),
    (6, 4, 0, -2, -3, -3, -3, -3),
    (8, 5, 0, -3, -5, -5, -5, -5),
    (11, 7, 0, -3, -6, -6, -6, -6),
    (13, 8, 0, -4, -8, -8, -8, -8),
    (15, 9, 0, -5, -9, -9, -9, -9),
)
CAMFIT_LINEAR_PER_DB_HL = 0.48
CAMFIT_LINEAR_K_DB = {125: -11.0, 250: -10.0, 500: -8.0, 750: -6.0, 1000: 0.0, 1500: -1.0, 2000: 1.0,
                      3000: -1.0, 4000: 0.0, 5000: 1.0}
NORMAL_UCL_DB_HL = 100.0
COMPRESSION_RATIO_RANGE = (1.0, 3.0)


def _k(table: dict[int, float], frequencies_hz) -> np.ndarray:
    """A rule's k(f) table at ``frequencies_hz`` (log-frequency interpolation, held beyond the ends)."""
    freqs = sorted(table)
    return interpolate_log_frequency(freqs, [table[f] for f in freqs], frequencies_hz)


def _h3fa(hl_db: np.ndarray, frequencies_hz) -> float:
    """Average threshold at 500, 1000 and 2000 Hz (dB HL)."""
    return float(np.mean(interpolate_log_frequency(frequencies_hz, hl_db, [500, 1000, 2000])))


def half_gain(hl_db, frequencies_hz) -> np.ndarray:
    """Half-gain rule: IG = H / 2 (Lybarger 1944, US patent 2,337,571; Dillon 2012, ch. 10)."""
    return 0.5 * np.asarray(hl_db, dtype=float)


def pogo(hl_db, frequencies_hz) -> np.ndarray:
    """POGO: IG = H / 2 + k(f), k = -10 dB at 250 Hz, -5 dB at 500 Hz, 0 above
    (McCandless & Lyregaard 1983, Hearing Instruments 34(1):16-21; the same constants in
    Rajkumar et al. 2013, Univ. J. Biomed. Eng. 1(2):32-41, eq. 3, and US patent 9,712,931 B2).
    POGO's extra 10 dB "reserve gain" is volume-control headroom, not target gain: left out."""
    return 0.5 * np.asarray(hl_db, dtype=float) + _k(POGO_K_DB, frequencies_hz)


def pogo_ii(hl_db, frequencies_hz) -> np.ndarray:
    """POGO II: POGO plus half the threshold above 65 dB HL for severe losses,
    IG = H / 2 + k(f) + max(0, H - 65) / 2
    (Schwartz, Lyregaard & Lundh 1988, Hearing Instruments 39(2):12-22; as restated by
    Rajkumar et al. 2013, OnLine J. Biol. Sci. 13(3):82-90, citing Hawkins 1992)."""
    hl = np.asarray(hl_db, dtype=float)
    return pogo(hl, frequencies_hz) + 0.5 * np.maximum(0.0, hl - POGO_II_KNEE_DB_HL)


def nal_r(hl_db, frequencies_hz) -> np.ndarray:
    """NAL-R: IG = 0.31 H + 0.15 H3FA + k(f)
    (Byrne & Dillon 1986, Ear Hear 7(4):257-265, Table 1; k(f) = -17, -8, -3, 1, 1, -1, -2, -2,
    -2 dB at 250, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000 Hz)."""
    hl = np.asarray(hl_db, dtype=float)
    c = NAL_R_CONSTANTS
    return c["per_frequency"] * hl + c["per_h3fa"] * _h3fa(hl, frequencies_hz) + _k(NAL_R_K_DB, frequencies_hz)


def nal_rp(hl_db, frequencies_hz) -> np.ndarray:
    """NAL-RP: NAL-R plus two severe-loss terms (Byrne, Parkinson & Newall 1990, Ear Hear
    11(1):40-49; 1991, in The Vanderbilt Hearing Aid Report II, York Press, 295-300):

    IG = NAL-R + 0.20 max(0, H3FA - 60) + P(f, H2000), where P is the Fig. 9 table
    :data:`NAL_RP_SEVERE_DB` applied only when H(2000 Hz) >= 95 dB HL (interpolated between its
    5 dB rows, the 120 dB HL row held above)."""
    hl = np.asarray(hl_db, dtype=float)
    c = NAL_RP_CONSTANTS
    h3fa = _h3fa(hl, frequencies_hz)
    gain = nal_r(hl, frequencies_hz) + c["per_h3fa_above_knee"] * max(0.0, h3fa - c["h3fa_knee_db_hl"])
    h2000 = float(interpolate_log_frequency(frequencies_hz, hl, [2000])[0])
    if h2000 >= c["h2000_severe_db_hl"]:
        table = np.asarray(NAL_RP_SEVERE_DB, dtype=float)
        row = np.array([np.interp(h2000, NAL_RP_SEVERE_H2000_DB_HL, table[:, j]) for j in range(table.shape[1])])
        gain = gain + interpolate_log_frequency(NAL_RP_SEVERE_FREQUENCIES_HZ, row, frequencies_hz)
    return gain


def camfit_linear(hl_db, frequencies_hz) -> np.ndarray:
    """CAMFIT linear (CAMEQ for linear aids): IG = 0.48 H + k(f) (Moore & Glasberg 1998, Br J
    Audiol 32:317-335; k(f) as implemented in openMHA ``gainrule_camfit_linear.m``:
    -11, -10, -8, -6, 0, -1, 1, -1, 0, 1 dB at 125..5000 Hz, held above 5 kHz)."""
    return CAMFIT_LINEAR_PER_DB_HL * np.asarray(hl_db, dtype=float) + _k(CAMFIT_LINEAR_K_DB, frequencies_hz)


def compression_ratio_from_dynamic_range(hl_db, ucl_db_hl=None) -> np.ndarray:
    """CR = (UCL_normal - 0) / (UCL - H), bounded to :data:`COMPRESSION_RATIO_RANGE` (see the
    module docstring, step 2). ``ucl_db_hl`` defaults to :data:`NORMAL_UCL_DB_HL` everywhere."""
    hl = np.asarray(hl_db, dtype=float)
    ucl = np.full_like(hl, NORMAL_UCL_DB_HL) if ucl_db_hl is None else np.asarray(ucl_db_hl, dtype=float)
    residual_db = np.maximum(ucl - hl, 1.0)
    lo, hi = COMPRESSION_RATIO_RANGE
    return np.clip(NORMAL_UCL_DB_HL / residual_db, lo, hi)


def nal_rp_wdrc(hl_db, frequencies_hz, ucl_db_hl=None) -> dict[int, np.ndarray]:
    """Compressive rule: NAL-RP at 65 dB SPL, CR from the dynamic range (module docstring).

    Returns ``{50: gain_db, 65: gain_db, 80: gain_db}`` (input level in dB SPL -> gain in dB)."""
    g65 = nal_rp(hl_db, frequencies_hz)
    slope = 1.0 - 1.0 / compression_ratio_from_dynamic_range(hl_db, ucl_db_hl)
    return {50: g65 + 15.0 * slope, 65: g65, 80: g65 - 15.0 * slope}


@dataclass(frozen=True)
class Rule:
    """A named prescription rule. ``gains`` maps (hl_db, frequencies_hz, ucl_db_hl) to
    ``{input dB SPL: gain_db}`` at :data:`SPEECH_LEVELS_DB_SPL`."""

    name: str
    gains: Callable[..., dict[int, np.ndarray]]
    compressive: bool
    citation: str


def _linear(fn) -> Callable[..., dict[int, np.ndarray]]:
    def gains(hl_db, frequencies_hz, ucl_db_hl=None):
        g = fn(hl_db, frequencies_hz)
        return {level: g for level in SPEECH_LEVELS_DB_SPL}
    return gains


RULES: dict[str, Rule] = {
    "half-gain": Rule("half-gain", _linear(half_gain), False, "Lybarger 1944"),
    "pogo": Rule("pogo", _linear(pogo), False, "McCandless & Lyregaard 1983"),
    "pogo-ii": Rule("pogo-ii", _linear(pogo_ii), False, "Schwartz, Lyregaard & Lundh 1988"),
    "nal-r": Rule("nal-r", _linear(nal_r), False, "Byrne & Dillon 1986"),
    "nal-rp": Rule("nal-rp", _linear(nal_rp), False, "Byrne, Parkinson & Newall 1990/1991"),
    "camfit-linear": Rule("camfit-linear", _linear(camfit_linear), False, "Moore & Glasberg 1998"),
    "nal-rp-wdrc": Rule("nal-rp-wdrc", nal_rp_wdrc, True,
                        "NAL-RP at 65 dB SPL, CR = normal/residual dynamic range (hearsep.fitting.rules)"),
}


def get_rule(name: str) -> Rule:
    """The rule called ``name``; :class:`ConfigError` listing the known names otherwise."""
    key = str(name).lower().replace("_", "-")
    if key not in RULES:
        raise ConfigError(f"unknown rule {name!r} (expected one of {', '.join(RULES)})")
    return RULES[key]


@dataclass(frozen=True)
class Prescription:
    """Target insertion gains of one ear at the audiogram's frequencies, per input level.

    ``gain_db[level]`` is the gain (dB) for speech at ``level`` dB SPL (50, 65, 80), already
    clipped at 0 dB; ``clipped_hz[level]`` lists the frequencies where the rule asked for less.
    """

    rule: str
    ear: str
    frequencies_hz: tuple[float, ...]
    gain_db: dict[int, tuple[float, ...]]
    clipped_hz: dict[int, tuple[float, ...]] = field(default_factory=dict)

    def gains_at(self, centres_hz, level_db_spl: int = 65) -> np.ndarray:
        """Gains (dB) at band ``centres_hz`` for input ``level_db_spl``: linear in dB against
        log-frequency between audiogram frequencies, held flat beyond them."""
        return interpolate_log_frequency(self.frequencies_hz, self.gain_db[level_db_spl], centres_hz)

    @property
    def clipped_anywhere_hz(self) -> tuple[float, ...]:
        """Frequencies clipped to 0 dB at any level."""
        return tuple(sorted({f for fs in self.clipped_hz.values() for f in fs}))


def prescribe(audiogram: Audiogram, rule: str, ear: str) -> Prescription:
    """Apply ``rule`` to ``ear`` of ``audiogram``: gains at its frequencies for 50/65/80 dB SPL."""
    r = get_rule(rule)
    freqs = audiogram.frequencies_hz
    hl = audiogram.hl_db(ear)
    ucl = audiogram.ucl_db_hl[ear].at(freqs) if ear in audiogram.ucl_db_hl else None
    raw = r.gains(hl, freqs, ucl)
    gains, clipped = {}, {}
    for level in SPEECH_LEVELS_DB_SPL:
        g = np.asarray(raw[level], dtype=float)
        clipped[level] = tuple(f for f, v in zip(freqs, g) if v < 0.0)
        gains[level] = tuple(float(v) for v in np.maximum(g, 0.0))
    return Prescription(r.name, ear, tuple(freqs), gains, clipped)
