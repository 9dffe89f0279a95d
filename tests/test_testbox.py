"""The virtual test box (hearsep.eval.testbox) against what a preset asks for."""

from pathlib import Path

import numpy as np
import pytest

from chain_fixtures import contract, wdrc_params
from hearsep.eval.testbox import HFA_FREQUENCIES_HZ, RTS_OFFSET_DB, Testbox, measure_chain, summary_rows
from hearsep.files import json_text

PRESETS = Path(__file__).resolve().parents[1] / "hearsep" / "fitting" / "presets"


@pytest.fixture(scope="module")
def report():
    # linear 20 dB everywhere, MPO 100 dB SPL: OSPL90 must sit at MPO, full-on gain at 20 + 6 dB
    params = wdrc_params(ratio=1.0, gains_65_db=(20.0,) * 6, full_scale_db_spl=120.0, mpo_db_spl=100.0,
                         volume_min_db=-12.0, volume_max_db=6.0)
    return measure_chain(params, contract())


def test_ospl90_full_on_gain_and_rtg_match_the_preset(report):
    o, f, r = report["ospl90"], report["full_on_gain"], report["reference_test_gain"]
    # between band centres (1600, 2500 Hz) the band-split output is read, not the centre's: +-1.5 dB
    assert abs(o["hfa_db_spl"] - 100.0) < 1.5 and abs(o["expected_hfa_db_spl"] - 100.0) < 1e-9
    assert o["max_db_spl"] <= 100.0 + 0.5
    assert abs(f["hfa_db"] - 26.0) < 0.5
    # RTS: HFA gain for 60 dB SPL = HFA-OSPL90 - 77 = 23 dB -> volume 3 dB below full on
    assert abs(r["hfa_gain_db"] - (o["hfa_db_spl"] - RTS_OFFSET_DB)) <= 1.5
    assert r["expected_volume_db"] == pytest.approx(3.0, abs=0.01) and r["volume_db"] < 6.0
    fr = report["frequency_response"]
    assert np.max(np.abs(np.asarray(fr["gain_db"]) - (20.0 + r["volume_db"]))) < 0.6


def test_linear_chain_has_no_distortion_and_no_noise_and_its_step_hits_mpo(report):
    for a in report["attack_release"].values():
        assert a["mpo_limited"]  # 90 dB SPL + 20 dB gain is over the 100 dB SPL MPO
    for h in report["harmonic_distortion"].values():
        assert h["thd_percent"] < 1.0
    # ANSI S3.22 (since 2003): 70 dB SPL at 500 and 800 Hz, 65 dB SPL at 1600 Hz
    assert {f: h["input_db_spl"] for f, h in report["harmonic_distortion"].items()} == \
        {"500": 70.0, "800": 70.0, "1600": 65.0}
    assert report["equivalent_input_noise"]["silence_output_peak"] == 0.0
    assert report["equivalent_input_noise"]["ein_db_spl"] is None


def test_report_is_json_and_every_summary_row_has_a_number_or_says_why_not(report):
    text = json_text(report)
    assert '"ospl90"' in text and '"attack_release"' in text
    rows = summary_rows(report)
    assert any(label.startswith("HFA-OSPL90") for label, _, _ in rows)
    assert all(m is not None for label, m, _ in rows if not label.startswith("equivalent input noise"))
    # the chain under test says how often it updates its gains (8 ms at the default framing)
    assert report["chain"]["control_period_ms"] == pytest.approx(2.0 * report["chain"]["control_hops"])
    assert any(label.startswith("chain gain updates") and len(label) <= 62 for label, _, _ in rows)


def test_hfa_averages_the_ansi_frequencies():
    box = Testbox(wdrc_params(), contract())
    freqs = [1000, 1600, 2500, 4000]
    assert box.hfa(freqs, [1.0, 2.0, 6.0, 100.0]) == pytest.approx(3.0)
    assert HFA_FREQUENCIES_HZ == (1000, 1600, 2500)


def test_compressive_attack_is_measured_and_mpo_limiting_is_flagged():
    quiet = Testbox(wdrc_params(ratio=2.0, attack_ms=10.0, release_ms=100.0, gains_65_db=(10.0,) * 6), contract())
    r = quiet.attack_release(2000.0, 0.0)
    assert not r["mpo_limited"] and abs(r["attack_ms"] - 10.0) < 2.0
    loud = Testbox(wdrc_params(ratio=2.0, gains_65_db=(40.0,) * 6, full_scale_db_spl=110.0, mpo_db_spl=105.0),
                   contract())
    assert loud.attack_release(2000.0, 0.0)["mpo_limited"]
