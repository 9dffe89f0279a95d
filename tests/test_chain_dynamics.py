"""ANSI S3.22 attack and release, measured on the streaming chain as the test box measures them.

A 2 kHz tone (the ANSI test frequency) is stepped 55 -> 90 -> 55 dB SPL; attack ends when the
band-limited output envelope is within 3 dB of its new steady state, release within 4 dB. The
chain derives its detector constants from the preset's times (hearsep.chain.dynamics); the
measured times must be within +-20 % of them at compression ratios 1.5, 2, 3 and 5.
"""

import numpy as np
import pytest

from chain_fixtures import compressive_band, contract, wdrc_params
from hearsep.chain.dynamics import (ansi_step_times_ms, closed_form_tau_ms, detector_coefficients,
                                    window_energy_fraction)
from hearsep.eval.testbox import Testbox
from hearsep.features.stft import window_pair


@pytest.mark.parametrize("attack_ms,release_ms", [(5.0, 50.0), (10.0, 500.0)])
@pytest.mark.parametrize("ratio", [1.5, 2.0, 3.0, 5.0])
def test_ansi_attack_and_release_within_20_percent_of_the_preset(ratio, attack_ms, release_ms):
    # a calibration with head-room (full scale 130 dB SPL) so the broadband limiter stays out
    params = wdrc_params(ratio=ratio, attack_ms=attack_ms, release_ms=release_ms, gains_65_db=(20.0,) * 6)
    r = Testbox(params, contract()).attack_release(2000.0, 0.0)
    assert abs(r["attack_ms"] / attack_ms - 1.0) <= 0.2, r["attack_ms"]
    assert abs(r["release_ms"] / release_ms - 1.0) <= 0.2, r["release_ms"]


def test_hop_model_reduces_to_the_closed_form_for_a_one_sample_frame():
    # with a frame that follows the step at once, tau = t / ln(35 (1 - 1/CR) / tol) must give t
    # back, less one hop: frame i has been updated i + 1 times when its gain is centred at i hops
    band = compressive_band(2000.0, 3.0, 20.0, attack_ms=40.0, release_ms=400.0)
    instant = np.ones(257)
    instant[0] = 0.0
    for rising, t_ms, tol in ((True, 40.0, 3.0), (False, 400.0, 4.0)):
        tau = closed_form_tau_ms(t_ms, 3.0, tol)
        got = ansi_step_times_ms([band], np.array([tau]), instant, 32, 16000, rising, 3 * t_ms)[0, 0]
        assert abs(got - (t_ms - 2.0)) < 0.25, (rising, got)


def test_coefficients_follow_the_preset_times_and_report_what_the_frame_cannot_do():
    w = window_pair(256, 32)[0]
    slow = compressive_band(2000.0, 2.0, 20.0, attack_ms=20.0, release_ms=200.0)
    fast = compressive_band(2000.0, 2.0, 20.0, attack_ms=5.0, release_ms=50.0)
    a, r, ta, tr = detector_coefficients([slow, fast], w, 32, 16000)
    assert a[1] > a[0] and r[1] > r[0]  # shorter times: larger per-hop coefficients
    assert np.allclose(ta, [20.0, 5.0]) and np.allclose(tr, [200.0, 50.0])
    # an attack shorter than the frame allows is reported, not silently claimed
    too_fast = compressive_band(2000.0, 5.0, 20.0, attack_ms=0.5, release_ms=50.0)
    _, _, ta, _ = detector_coefficients([too_fast], w, 32, 16000)
    assert ta[0] > 0.5
    assert window_energy_fraction(w)[-1] == pytest.approx(1.0)
