"""Static I/O curves measured through the streaming chain: within +-1 dB of the preset.

Steady tones at 500/1000/2000/4000 Hz, 40..90 dB SPL input, through the enhancer with a unity
mask and the chain, read as a test box reads them (hearsep.eval.testbox); the expected curve is
the band's static curve (hearsep.chain.curves). Gains differ between neighbouring bands so that
the band-gain spreading across the short synthesis window is exercised.
"""

from pathlib import Path

import numpy as np
import pytest

from chain_fixtures import contract, wdrc_params
from hearsep.eval.testbox import IO_FREQUENCIES_HZ, IO_INPUT_DB_SPL, Testbox

PRESETS = Path(__file__).resolve().parents[1] / "hearsep" / "fitting" / "presets"


SLOPING_DB = (5.0, 10.0, 18.0, 25.0, 30.0, 30.0)  # gain at 65 dB SPL per band, 250..6000 Hz
GENTLE_DB = (10.0, 14.0, 20.0, 25.0, 28.0, 28.0)


@pytest.mark.parametrize("ratio,gains_db,volume_db", [(1.0, SLOPING_DB, 0.0), (2.0, SLOPING_DB, 0.0),
                                                      (3.0, GENTLE_DB, -6.0)])
def test_io_curves_within_1_db_of_the_preset_from_40_to_90_db_spl(ratio, gains_db, volume_db):
    params = wdrc_params(ratio=ratio, gains_65_db=gains_db, volume_min_db=-12.0, volume_max_db=6.0)
    box = Testbox(params, contract())
    io = box.io_curves(volume_db)
    assert list(io["input_db_spl"]) == list(IO_INPUT_DB_SPL) and IO_INPUT_DB_SPL[0] == 40 and IO_INPUT_DB_SPL[-1] == 90
    assert set(io["curves"]) == {str(f) for f in IO_FREQUENCIES_HZ}
    for f, c in io["curves"].items():
        err = c["output_db_spl"] - c["expected_output_db_spl"]
        assert np.max(np.abs(err)) <= 1.0, (f, np.round(err, 2))


@pytest.mark.skipif(not (PRESETS / "n3_nal-rp-wdrc.toml").is_file(), reason="fitting presets not shipped")
def test_io_curves_of_a_shipped_wdrc_preset_within_1_db():
    from hearsep.fitting import load_preset

    params = load_preset(PRESETS / "n3_nal-rp-wdrc.toml").resolve()
    io = Testbox(params, contract()).io_curves(params.volume_db)
    for f, c in io["curves"].items():
        err = c["output_db_spl"] - c["expected_output_db_spl"]
        assert np.max(np.abs(err)) <= 1.0, (f, np.round(err, 2))


def test_band_mpo_caps_the_io_curve_below_the_broadband_mpo():
    from dataclasses import replace

    params = wdrc_params(ratio=1.0, gains_65_db=(30.0,) * 6, mpo_db_spl=120.0)
    params = replace(params, bands=tuple(replace(b, mpo_db_spl=95.0) for b in params.bands))
    io = Testbox(params, contract()).io_curves(0.0)
    for f, c in io["curves"].items():
        assert np.max(c["expected_output_db_spl"]) == 95.0  # the static curve reaches the band MPO
        assert np.max(c["output_db_spl"]) <= 95.0 + 0.1, f
        # the capped band's leakage-dominated neighbours take its capped gain (across-band coupling)
        assert np.max(np.abs(c["output_db_spl"] - c["expected_output_db_spl"])) <= 1.0, f
