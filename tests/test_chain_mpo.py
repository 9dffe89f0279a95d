"""Safety: no output sample ever exceeds the broadband MPO (hypothesis: >= 10^4 cases = examples x 3 volumes).

Inputs: clicks, full-scale (and over-full-scale) noise, sweeps, tone bursts and silence, alone
or summed, at levels from -80 to +12 dBFS, through the streaming enhancer (unity mask) and the
chain, over several presets (hand-built and the shipped fitting presets with their programs) and
volumes across each preset's range. The allowed peak is the peak of a sine at MPO under the
calibration, 10 ** ((MPO - full_scale) / 20), and never above full scale.
"""

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain_fixtures import contract, wdrc_params
from hearsep.chain import build_chain
from hearsep.runtime.enhancer import StreamingEnhancer

PRESETS = Path(__file__).resolve().parents[1] / "hearsep" / "fitting" / "presets"
HOP = 32


def _param_sets():
    sets = [
        wdrc_params(ratio=1.0, gains_65_db=(40.0,) * 6, full_scale_db_spl=110.0, mpo_db_spl=100.0),
        wdrc_params(ratio=3.0, full_scale_db_spl=105.0, mpo_db_spl=95.0, attack_ms=10.0, release_ms=400.0),
        wdrc_params(ratio=2.0, gains_65_db=(30.0,) * 6, full_scale_db_spl=100.0, mpo_db_spl=120.0),
        wdrc_params(ratio=1.5, full_scale_db_spl=118.0, mpo_db_spl=111.0, limiter_lookahead_ms=0.0),
    ]
    if PRESETS.is_dir():
        from hearsep.fitting import load_preset

        for path in sorted(PRESETS.glob("*.toml")):
            preset = load_preset(path)
            sets += [preset.resolve(p) for p in (None, *preset.programs)]
    return sets


PARAMS = _param_sets()


@lru_cache(maxsize=None)
def _enhancer(i):
    c = contract()
    chain = build_chain(PARAMS[i], c)
    return StreamingEnhancer(c, None, chain), chain


def _signal(kind, hops, level_dbfs, freq_hz, seed):
    n = hops * HOP
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000.0
    a = 10 ** (level_dbfs / 20)
    if kind == "click":
        x = np.zeros(n)
        x[rng.integers(0, n, size=1 + seed % 4)] = a * rng.choice([-1.0, 1.0])
    elif kind == "noise":
        x = a * rng.uniform(-1.0, 1.0, n)
    elif kind == "sweep":
        x = a * np.sin(2 * np.pi * (100.0 * t + 0.5 * 7800.0 / t[-1] * t ** 2))
    elif kind == "burst":
        x = a * np.sin(2 * np.pi * freq_hz * t) * (np.arange(n) % (8 * HOP) < 3 * HOP)
    else:
        x = np.zeros(n)
    return x


SIGNAL = st.tuples(st.sampled_from(["click", "noise", "sweep", "burst", "silence"]),
                   st.floats(-80.0, 12.0), st.floats(100.0, 7900.0), st.integers(0, 2 ** 16))


VOLUMES_PER_EXAMPLE = 3  # each example runs at the lowest, a drawn and the highest volume


@pytest.mark.slow
@settings(max_examples=10_000 // VOLUMES_PER_EXAMPLE + 1, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.integers(0, len(PARAMS) - 1), st.floats(0.0, 1.0), st.integers(4, 16),
       st.lists(SIGNAL, min_size=1, max_size=2))
def test_no_output_sample_ever_exceeds_mpo(i, volume_pos, hops, parts):
    params = PARAMS[i]
    enhancer, chain = _enhancer(i)
    x = sum(_signal(kind, hops, level, f, seed) for kind, level, f, seed in parts).astype(np.float32)
    allowed = min(10 ** ((params.broadband_mpo_db_spl - params.full_scale_db_spl) / 20), 1.0)
    lo, hi = params.volume_min_db, params.volume_max_db
    for volume_db in (lo, lo + volume_pos * (hi - lo), hi):
        chain.set_volume_db(volume_db)
        enhancer.reset()
        y = enhancer.process(x)
        assert float(np.max(np.abs(y))) <= allowed, volume_db


def test_a_full_scale_burst_is_limited_to_mpo_with_the_look_ahead():
    # a deterministic companion: 10 dB over MPO at the input, 30 dB of gain; the limiter (not only
    # the clip) brings it down: no more than a few samples sit at the ceiling
    params = wdrc_params(ratio=1.0, gains_65_db=(30.0,) * 6, full_scale_db_spl=110.0, mpo_db_spl=100.0)
    c = contract()
    enhancer = StreamingEnhancer(c, None, build_chain(params, c))
    x = _signal("burst", 64, -10.0, 1000.0, 0).astype(np.float32)
    y = enhancer.process(x)
    ceiling = 10 ** ((100.0 - 110.0) / 20)
    assert np.max(np.abs(y)) <= ceiling
    assert np.max(np.abs(y)) > 0.9 * ceiling  # it is loud, right up to MPO
    assert np.count_nonzero(np.abs(y) >= ceiling * 0.99999) < 0.01 * y.size


def test_a_sample_just_over_the_ceiling_among_quiet_ones_is_limited():
    # the pass-through test is sum x^2 <= ceiling^2 first: one sample a float32 step over the
    # ceiling must fail it (ENERGY_MARGIN), go to the exact test and be limited
    from hearsep.chain.limiter import PeakLimiter

    for look in (0, 8):
        lim = PeakLimiter(32, look, np.float32(0.5), 50.0, 16000)
        ceiling = lim.ceiling
        over = np.zeros(32, np.float32)
        over[5] = np.nextafter(ceiling, np.float32(1))
        out = [lim.process(np.zeros(32, np.float32)).copy() for _ in range(3)]
        out += [lim.process(h).copy() for h in (over, np.zeros(32, np.float32), np.zeros(32, np.float32))]
        y = np.concatenate(out)
        assert np.max(np.abs(y)) <= ceiling and lim.limited_hops >= 1, look
        quiet = np.full(32, 0.9 * ceiling, np.float32)  # sum x^2 = 26 ceiling^2: the exact test passes it
        lim.reset()
        assert np.array_equal(np.concatenate([lim.process(quiet).copy() for _ in range(3)])[look:look + 32], quiet)
        assert lim.limited_hops == 0


def test_pass_through_is_the_input_delayed_exactly_across_the_delay_ring():
    from hearsep.chain.limiter import DELAY_SLOTS, PeakLimiter

    rng = np.random.default_rng(3)
    lim = PeakLimiter(32, 8, np.float32(1.0), 50.0, 16000)
    x = (0.1 * rng.standard_normal(32 * (3 * DELAY_SLOTS + 5))).astype(np.float32)
    y = np.concatenate([lim.process(h).copy() for h in x.reshape(-1, 32)])
    assert np.array_equal(y[8:], x[:-8]) and not y[:8].any() and lim.limited_hops == 0
