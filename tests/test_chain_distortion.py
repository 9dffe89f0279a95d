"""Harmonic distortion of the chain at the reference test setting (ANSI S3.22 test-box practice).

A 70 dB SPL tone at 500 Hz repeats every hop (32 samples at 16 kHz = 2 ms), so every hop-rate
image of band-gain time aliasing lands on one of its harmonics: the worst case of the 4 ms
synthesis window. Bound 3 %: ANSI S3.22 states THD at 500/800/1600 Hz as a manufacturer's
specification with a +3 % tolerance, and well-fitted aids measure 1-3 %; 3 % is the value a
clinic would question. H4's piecewise band gains measured 37 % at 500 Hz on this preset.
"""

from pathlib import Path

import numpy as np
import pytest

from chain_fixtures import contract
from hearsep.eval.testbox import HFA_FREQUENCIES_HZ, OSPL90_INPUT_DB_SPL, Testbox

PRESETS = Path(__file__).resolve().parents[1] / "hearsep" / "fitting" / "presets"
THD_BOUND_PERCENT = 3.0


@pytest.mark.skipif(not (PRESETS / "n3_nal-rp-wdrc.toml").is_file(), reason="fitting presets not shipped")
def test_thd_of_the_shipped_wdrc_preset_at_500_and_1000_hz_is_under_3_percent():
    from hearsep.fitting import load_preset

    params = load_preset(PRESETS / "n3_nal-rp-wdrc.toml").resolve()
    box = Testbox(params, contract())
    vmax = params.volume_max_db
    hfa_ospl90 = float(np.mean([box.steady_output_db_spl(f, OSPL90_INPUT_DB_SPL, vmax) for f in HFA_FREQUENCIES_HZ]))
    volume_db, _ = box.reference_test_setting(hfa_ospl90)
    for f in (500.0, 1000.0):
        thd = box.harmonic_distortion(f, volume_db)
        assert thd < THD_BOUND_PERCENT, (f, thd)
