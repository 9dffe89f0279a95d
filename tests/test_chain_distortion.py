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


def _speech_spectrum_noise(params, seconds=2.0, fs=16000, level_db_spl=65.0, seed=0):
    """Noise with a long-term speech spectrum (flat to 500 Hz, -6 dB/octave above; Byrne et al.
    1994's LTASS shape, roughly) and a 50 ms syllabic envelope, at ``level_db_spl``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    f = np.fft.rfftfreq(n, 1.0 / fs)
    shape = np.where(f < 500.0, 1.0, 500.0 / np.maximum(f, 1.0)) * (f >= 100.0)
    x = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * shape, n)
    x *= np.repeat(rng.uniform(0.2, 1.5, n // 800 + 1), 800)[:n]
    return (x * 10 ** ((level_db_spl - params.full_scale_db_spl) / 20) * np.sqrt(2) / np.std(x)).astype(np.float32)


@pytest.mark.skipif(not (PRESETS / "n3_nal-rp-wdrc.toml").is_file(), reason="fitting presets not shipped")
def test_gain_coupling_leaves_the_band_gains_of_speech_spectrum_input_as_prescribed():
    # the coupling acts on bands that hold a louder band's leakage (tones); with a speech-like
    # spectrum every band has content of its own and keeps its static-curve gain
    from hearsep.chain import build_chain
    from hearsep.fitting import load_preset
    from hearsep.runtime.enhancer import StreamingEnhancer

    params = load_preset(PRESETS / "n3_nal-rp-wdrc.toml").resolve()
    c = contract()
    chain = build_chain(params, c)
    enh = StreamingEnhancer(c, None, chain)
    changes_db = []
    for i, block in enumerate(np.split(_speech_spectrum_noise(params), 1000)):
        enh.process(block)
        if i >= 100:  # after the first 0.2 s
            static = np.minimum(chain._table[chain._idx], chain._mpo_gain)
            changes_db.append(20 * np.log10(chain._band_gain / static))
    assert np.percentile(np.abs(changes_db), 99) < 0.1
