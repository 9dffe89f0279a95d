"""The profiler's loop and summary on a fake enhancer with known hop costs (no model needed)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest

from hearsep.errors import ConfigError
from hearsep.profiling.profile import check_hop_ms, missed_hops, profile_enhancer
from hearsep.profiling.timing import HopTimes, time_hops


class SlowEveryTenth:
    """A stand-in enhancer: hop k costs ``slow_s`` when k % 10 == 9, else nothing."""

    def __init__(self, slow_s: float, hop_samples: int = 32, rate_hz: int = 16000):
        self.contract = SimpleNamespace(hop_samples=hop_samples, sample_rate_hz=rate_hz)
        self.separator, self.chain, self.latency_ms = None, None, 4.0
        self.slow_s, self.k = slow_s, 0

    def process_hop(self, block):
        if self.k % 10 == 9:
            t = time.perf_counter() + self.slow_s
            while time.perf_counter() < t:
                pass
        self.k += 1
        return block


def test_slow_hops_are_counted_as_misses_and_set_the_tail():
    """60 hops of 4 ms, every 10th costs 6 ms (> the hop): exactly those 6 miss, unpaced."""
    enh = SlowEveryTenth(0.006, hop_samples=64, rate_hz=16000)
    r = profile_enhancer(enh, np.zeros(64 * 60, np.float32), warmup_hops=0).summary
    assert r["hops"] == 60 and r["hop_us"] == 4000.0
    assert r["misses"] == 6
    assert r["max_us"] >= 6000 and r["p50_us"] < 1000
    assert r["power_source"] == "none" and r["power_w"] is None and r["energy_j"] is None
    assert "late_start_p99_us" not in r  # a paced-only measure
    paced = profile_enhancer(SlowEveryTenth(0.0, hop_samples=320), np.zeros(320 * 15, np.float32), paced=True,
                             warmup_hops=0).summary
    assert 0 <= paced["late_start_p99_us"] <= paced["late_start_max_us"]


def test_a_backlog_makes_the_next_hop_late_too():
    """Paced 20 ms hops, hop 2 takes 50 ms: it misses, hop 3 (released at 80 ms while hop 2 ran,
    ready at 110 ms) misses by waiting, hop 4 (released at 100 ms, ready at 111 ms) catches up."""
    ms = 1_000_000
    due = np.array([20, 40, 60, 80, 100, 120]) * ms
    start = np.array([20, 40, 60, 110, 110.5, 120]) * ms
    end = np.array([21, 41, 110, 110.5, 111, 121]) * ms
    t = HopTimes(due.astype(np.int64), start.astype(np.int64), end.astype(np.int64))
    assert missed_hops(t, 20 * ms).tolist() == [2, 3]
    assert (t.processing_ns[3] / ms, t.response_ns[3] / ms) == (0.5, 30.5)


def test_paced_run_counts_the_slow_hops_and_their_backlog():
    """Every 10th hop costs 50 ms at a 20 ms hop: those and the hops after them miss (a busy
    machine may add late wake-ups, so the expected ones must be among the misses)."""
    enh = SlowEveryTenth(0.05, hop_samples=320, rate_hz=16000)
    hops = np.zeros((40, 320), np.float32)
    t = time_hops(enh.process_hop, hops, period_ns=20_000_000)
    assert {9, 10, 19, 20, 29, 30, 39} <= set(missed_hops(t, 20_000_000).tolist())


def test_paced_loop_releases_hops_at_the_audio_rate():
    enh = SlowEveryTenth(0.0)
    hops = np.zeros((100, 32), np.float32)
    period_ns = 2_000_000
    t = time_hops(enh.process_hop, hops, period_ns=period_ns)
    assert np.all(t.start_ns >= t.due_ns)  # never starts before its input arrived
    assert np.all(np.diff(t.due_ns) == period_ns)
    span_s = (t.end_ns[-1] - t.due_ns[0]) / 1e9
    assert span_s == pytest.approx(99 * 0.002, abs=0.05)  # paced: about the audio duration, not ~0


def test_hop_mismatch_and_short_input_are_refused():
    c = SimpleNamespace(hop_samples=32, sample_rate_hz=16000)
    check_hop_ms(2.0, c)
    with pytest.raises(ConfigError, match="--hop-ms 4 does not match the model's hop of 2 ms"):
        check_hop_ms(4.0, c)
    with pytest.raises(ConfigError, match="too short"):
        profile_enhancer(SlowEveryTenth(0.0), np.zeros(100, np.float32))


class Constant:
    name, kind, description, note = "const", "power", "a constant", ""

    def read(self):
        return 3.0


def test_power_keys_with_and_without_an_idle_baseline():
    enh = SlowEveryTenth(0.0)
    x = np.zeros(32 * 60, np.float32)
    s = profile_enhancer(enh, x, power=Constant(), idle_s=0.0).summary
    assert s["power_w"] == pytest.approx(3.0) and s["idle_w"] is None and s["power_above_idle_w"] is None
    assert "no idle baseline" in s["power_note"] and "only 2 readings" in s["power_note"]
    s = profile_enhancer(enh, x, power=Constant(), idle_s=0.05, power_interval_s=0.01).summary
    assert s["idle_w"] == pytest.approx(3.0) and s["power_above_idle_w"] == pytest.approx(0.0, abs=1e-9)
