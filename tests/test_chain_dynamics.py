"""ANSI S3.22 attack and release, measured on the streaming chain as the test box measures them.

A 2 kHz tone (the ANSI test frequency) is stepped 55 -> 90 -> 55 dB SPL; attack ends when the
band-limited output envelope is within 3 dB of its new steady state, release within 4 dB. The
chain derives its detector constants from the preset's times (hearsep.chain.dynamics); the
measured times must be within +-20 % of them at compression ratios 1.5, 2, 3 and 5, whichever
phase the step has to the chain's control schedule (hearsep.chain.chain: control every
CONTROL_HOPS hops, and on every hop of an attack).
"""

import numpy as np
import pytest

from chain_fixtures import compressive_band, contract, wdrc_params
from hearsep.chain import build_chain
from hearsep.chain.chain import CONTROL_HOPS, ONSET_DB
from hearsep.chain.dynamics import ANSI_HIGH_DB_SPL as ANSI_HIGH
from hearsep.chain.dynamics import ANSI_LOW_DB_SPL as ANSI_LOW
from hearsep.chain.dynamics import (ansi_step_times_ms, closed_form_tau_ms, detector_coefficients,
                                    window_energy_fraction)
from hearsep.runtime.enhancer import StreamingEnhancer
from hearsep.eval.testbox import Testbox
from hearsep.features.stft import window_pair


@pytest.mark.parametrize("attack_ms,release_ms", [(5.0, 50.0), (10.0, 500.0)])
@pytest.mark.parametrize("ratio", [1.5, 2.0, 3.0, 5.0])
def test_ansi_attack_and_release_within_20_percent_of_the_preset(ratio, attack_ms, release_ms):
    # a calibration with head-room (full scale 130 dB SPL) so the broadband limiter stays out
    params = wdrc_params(ratio=ratio, attack_ms=attack_ms, release_ms=release_ms, gains_65_db=(20.0,) * 6)
    box = Testbox(params, contract())
    assert box.chain.control_hops == CONTROL_HOPS > 1
    for phase in range(CONTROL_HOPS):  # the step on a control hop, and on each hop after one
        r = box.attack_release(2000.0, 0.0, offset_samples=phase * 32)
        assert abs(r["attack_ms"] / attack_ms - 1.0) <= 0.2, (phase, r["attack_ms"])
        assert abs(r["release_ms"] / release_ms - 1.0) <= 0.2, (phase, r["release_ms"])


def test_every_hop_of_an_attack_is_a_control_hop_and_a_steady_tone_runs_at_the_control_rate():
    c = contract()
    params = wdrc_params(ratio=2.0, attack_ms=10.0, release_ms=100.0, gains_65_db=(20.0,) * 6)
    chain = build_chain(params, c)
    enh = StreamingEnhancer(c, None, chain)
    box = Testbox(params, c)
    t = np.arange(32 * 400) / 16000
    level = np.where(np.arange(t.size) < 32 * 200, 55.0, 90.0)  # the step at hop 200
    x = (box.amplitude(level) * np.sin(2 * np.pi * 2000.0 * t)).astype(np.float32)
    counts = []
    for hop in x.reshape(-1, 32):
        enh.process(hop)
        counts.append(chain.control_hop_count)
    per_hop = np.diff(counts)
    assert np.all(per_hop[199:205] == 1)  # the attack: every hop (the detector is > ONSET_DB below)
    assert ONSET_DB <= 3.0
    steady = per_hop[100:199]  # the steady 55 dB tone before the step: every CONTROL_HOPS-th hop
    assert abs(steady.sum() - len(steady) / CONTROL_HOPS) <= 1
    assert abs(per_hop[350:].sum() - len(per_hop[350:]) / CONTROL_HOPS) <= 1  # settled at 90 dB: the rate again


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


def test_release_gain_steps_of_the_control_rate_stay_small():
    # held hops keep the last gains: in a release the gain rises in one step per control hop
    c = contract()
    params = wdrc_params(ratio=2.0, attack_ms=5.0, release_ms=100.0, gains_65_db=(20.0,) * 6)
    box = Testbox(params, c)
    t = np.arange(32 * 600) / 16000
    level = np.where(np.arange(t.size) < 32 * 300, ANSI_HIGH, ANSI_LOW)  # 90 -> 55 dB SPL at hop 300
    x = (box.amplitude(level) * np.sin(2 * np.pi * 2000.0 * t)).astype(np.float32)
    steps = {}
    for rate in (1, CONTROL_HOPS):
        chain = build_chain(params, c, rate)
        enh = StreamingEnhancer(c, None, chain)
        gains_db = []
        for hop in x.reshape(-1, 32):
            enh.process(hop)
            gains_db.append(20 * np.log10(chain._band_gain[3]))  # the 2 kHz band
        steps[rate] = float(np.max(np.abs(np.diff(gains_db[300:400]))))
    assert steps[CONTROL_HOPS] <= 2.5 and steps[CONTROL_HOPS] <= CONTROL_HOPS * steps[1] * 1.05, steps
