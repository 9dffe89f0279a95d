import os

import numpy as np
import pytest

from hearsep.profiling.timing import percentiles_us, pin_to_one_core, time_loop, timing_stats


def test_time_loop_times_each_call_after_the_warmup():
    calls = []
    ns = time_loop(lambda: calls.append(1), iterations=50, warmup=7)
    assert len(calls) == 57 and ns.shape == (50,) and ns.dtype == np.int64 and np.all(ns >= 0)


def test_time_loop_measures_a_known_sleep():
    import time

    ns = time_loop(lambda: time.sleep(0.002), iterations=5, warmup=0)
    assert np.all(ns >= 2_000_000)  # never shorter than the sleep (perf_counter is monotonic)


def test_time_loop_reads_the_clock_it_is_given():
    ticks = iter(range(0, 10 ** 6, 7))  # a clock that advances 7 ns per read
    calls = []
    ns = time_loop(lambda: calls.append(1), 5, warmup=2, clock=lambda: next(ticks))
    assert len(calls) == 7
    np.testing.assert_array_equal(ns, [7] * 5)


def test_stats_are_in_microseconds():
    ns = np.array([1000, 2000, 3000, 4000, 100000], np.int64)
    s = timing_stats(ns)
    assert s == {"mean_us": 22.0, "p50_us": 3.0, "p99_us": pytest.approx(96.16), "max_us": 100.0, "invokes": 5}
    p = percentiles_us(np.arange(1, 1001) * 1000)
    assert p["p50_us"] == pytest.approx(500.5) and p["p999_us"] == pytest.approx(999.001)
    assert p["mean_us"] == pytest.approx(500.5) and p["max_us"] == 1000.0


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this OS")
def test_pin_to_one_core_and_restore():
    before = os.sched_getaffinity(0)
    previous = pin_to_one_core()
    try:
        assert previous == before and os.sched_getaffinity(0) == {min(before)}
    finally:
        os.sched_setaffinity(0, previous)
    assert os.sched_getaffinity(0) == before
