"""hearsep.fitting.rules against published formulas and worked examples (source in each test)."""

import math

import numpy as np
import pytest

from hearsep.errors import ConfigError
from hearsep.fitting import Audiogram, prescribe, standard_audiogram
from hearsep.fitting.rules import (camfit_linear, compression_ratio_from_dynamic_range, get_rule, half_gain,
                                   nal_r, nal_rp, nal_rp_wdrc, pogo, pogo_ii)

F5 = [250, 500, 1000, 2000, 4000]


def test_nal_r_worked_example():
    # Worked example of US patent 11,445,313 B2 (Nuheara), NAL-R of Byrne & Dillon (1986):
    # HL 15/20/30/50/60 dB at 250/500/1k/2k/4k Hz -> IG -7.35/3.2/15.3/19.5/21.6 dB (before clipping)
    assert nal_r(np.array([15, 20, 30, 50, 60]), F5) == pytest.approx([-7.35, 3.2, 15.3, 19.5, 21.6])


def test_nal_r_negative_gain_is_clipped_and_reported():
    a = Audiogram.build(F5 + [8000], right_db_hl=[15, 20, 30, 50, 60, 60])
    rx = prescribe(a, "nal-r", "right")
    g = dict(zip(rx.frequencies_hz, rx.gain_db[65]))
    assert g[250] == 0.0 and g[2000] == pytest.approx(19.5)
    assert rx.clipped_hz[65] == (250.0,) and rx.clipped_anywhere_hz == (250.0,)


def test_nal_r_of_bisgaard_n3_at_1_khz():
    # N3 (Bisgaard 2010): H500 = 35, H1000 = 40, H2000 = 50 -> 0.15 * 125/3 + 0.31 * 40 + 1 = 19.65 dB
    rx = prescribe(standard_audiogram("N3"), "nal-r", "left")
    assert rx.gain_db[65][rx.frequencies_hz.index(1000)] == pytest.approx(19.65)


def test_nal_rp_severe_loss_terms():
    # Byrne, Parkinson & Newall (1990/91), as tabulated in openMHA NalRP.m. Flat 100 dB HL:
    # H3FA = 100 -> 0.15 * 100 + 0.20 * (100 - 60) = 23; 0.31 * 100 = 31; H2000 = 100 dB HL row of
    # Fig. 9: +6 dB at 250 Hz, 0 at 1 kHz, -3 dB at 2 kHz.
    hl = np.full(5, 100.0)
    assert nal_rp(hl, F5)[[0, 2, 3]] == pytest.approx([23 + 31 - 17 + 6, 23 + 31 + 1 + 0, 23 + 31 - 1 - 3])
    # H3FA 70 with H2000 = 90 (< 95): only the 3FA term, 0.20 * (70 - 60) = 2 dB above NAL-R
    hl = np.array([60, 60, 60, 90, 90.0])
    assert nal_rp(hl, F5) - nal_r(hl, F5) == pytest.approx(np.full(5, 2.0))
    # mild loss: NAL-RP is NAL-R
    hl = np.array([15, 20, 30, 50, 60.0])
    assert nal_rp(hl, F5) == pytest.approx(nal_r(hl, F5))


def test_half_gain_pogo_pogo_ii():
    # Lybarger: H/2. POGO (McCandless & Lyregaard 1983): H/2 - 10 at 250 Hz, - 5 at 500 Hz.
    # POGO II (Schwartz et al. 1988): + (H - 65)/2 above 65 dB HL. Flat 40 and flat 80 dB HL:
    assert half_gain(np.full(5, 40.0), F5) == pytest.approx([20] * 5)
    assert pogo(np.full(5, 40.0), F5) == pytest.approx([10, 15, 20, 20, 20])
    assert pogo_ii(np.full(5, 40.0), F5) == pytest.approx([10, 15, 20, 20, 20])
    assert pogo_ii(np.full(5, 80.0), F5) == pytest.approx([37.5, 42.5, 47.5, 47.5, 47.5])


def test_camfit_linear():
    # Moore & Glasberg 1998 as in openMHA gainrule_camfit_linear.m: 0.48 H + k, k(1 kHz) = 0,
    # k(2 kHz) = +1, k(250 Hz) = -10 dB
    assert camfit_linear(np.full(5, 50.0), F5)[[0, 2, 3]] == pytest.approx([14.0, 24.0, 25.0])


def test_compressive_rule_derivation():
    # CR = 100 / (100 - H) bounded to 1..3; G50/G80 = G65 -/+ 15 (1 - 1/CR)
    assert compression_ratio_from_dynamic_range([50, 0, 90]) == pytest.approx([2.0, 1.0, 3.0])
    assert compression_ratio_from_dynamic_range([50], ucl_db_hl=[80]) == pytest.approx([3.0])
    g = nal_rp_wdrc(np.array([35, 35, 40, 50, 60.0]), F5)
    assert g[65] == pytest.approx(nal_rp(np.array([35, 35, 40, 50, 60.0]), F5))
    assert g[50][3] - g[65][3] == pytest.approx(7.5) and g[65][3] - g[80][3] == pytest.approx(7.5)


def test_measured_ucl_changes_the_compression():
    a = Audiogram.build(F5, right_db_hl=[35, 35, 40, 50, 60],
                        ucl={"frequencies_hz": F5, "right_db_hl": [100, 100, 100, 75, 100]})
    rx = prescribe(a, "nal-rp-wdrc", "right")
    # at 2 kHz DR = 75 - 50 = 25 dB -> CR = 4, bounded to 3: G50 - G80 = 30 (1 - 1/3) = 20 dB
    i = rx.frequencies_hz.index(2000)
    assert rx.gain_db[50][i] - rx.gain_db[80][i] == pytest.approx(20.0)


def test_band_centre_gains_interpolate_in_log_frequency():
    a = Audiogram.build([250, 500, 1000, 2000, 4000, 8000], right_db_hl=[20, 20, 30, 50, 60, 60])
    rx = prescribe(a, "half-gain", "right")
    # sqrt(1000 * 2000) = 1414 Hz lies halfway on a log axis: (15 + 25) / 2 dB; beyond 8 kHz held
    assert rx.gains_at([math.sqrt(2e6), 10000]) == pytest.approx([20.0, 30.0])


def test_unknown_rule():
    with pytest.raises(ConfigError, match="unknown rule 'nal-nl2'"):
        get_rule("nal-nl2")
