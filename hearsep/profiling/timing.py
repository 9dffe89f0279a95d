"""Timing loops for the hot path: nanoseconds per call, and their summary statistics (µs).

Two loops share one clock (:func:`time.perf_counter_ns`, monotonic, ns resolution):

* :func:`time_loop` calls a zero-argument function back to back (micro-benchmarks of one
  call, e.g. a bare ``interpreter.invoke``);
* :func:`time_hops` feeds successive hops of audio to a step function, optionally released at
  the audio rate (``period_ns``) as a live runner would receive them, and records when each hop
  was due, started and finished (the profiler's loop).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np


def time_loop(fn, iterations: int, warmup: int = 200, clock=time.perf_counter_ns) -> np.ndarray:
    """Call ``fn`` ``warmup`` times, then ``iterations`` times timed; returns nanoseconds per call.

    ``clock``: :func:`time.perf_counter_ns` (wall time, the default) or e.g. :func:`time.thread_time_ns`
    (this thread's CPU time: time preempted by other processes does not count; each read is a
    system call, about a microsecond, which the per-call times then include)."""
    for _ in range(warmup):
        fn()
    out = np.empty(iterations, np.int64)
    for i in range(iterations):
        t0 = clock()
        fn()
        out[i] = clock() - t0
    return out


@dataclass
class HopTimes:
    """What :func:`time_hops` recorded, one entry per hop, in ns of ``perf_counter_ns``.

    ``due_ns``: when the hop's last sample had arrived (paced runs) or when the step began
    (unpaced: a hop is due when the loop gets to it); ``start_ns``/``end_ns``: when the step began and returned.
    ``end_ns - start_ns`` is the processing time; ``end_ns - due_ns`` adds any wait for the
    previous hop (a backlog), which is what a deadline is measured against.
    """

    due_ns: np.ndarray
    start_ns: np.ndarray
    end_ns: np.ndarray

    @property
    def processing_ns(self) -> np.ndarray:
        return self.end_ns - self.start_ns

    @property
    def response_ns(self) -> np.ndarray:
        return self.end_ns - self.due_ns


def time_hops(step, hops: np.ndarray, period_ns: int | None = None, warmup: int = 0,
              progress=None, progress_every: int = 500) -> HopTimes:
    """Run ``step(hops[k])`` for every row of ``hops`` (shape ``(n, hop_samples)``), timed.

    ``warmup`` extra calls on the first hop come first, untimed. ``period_ns`` paces the loop:
    hop ``k`` is released at ``t0 + (k + 1) * period_ns`` (when its last sample would have
    arrived from a sound card) and the loop sleeps until then; a late hop starts at once. Without
    it the hops run back to back. ``progress(n_done)`` is called every ``progress_every`` hops.
    The timed loop stores into preallocated lists: two clock reads and two stores per hop.
    """
    n = int(hops.shape[0])
    for _ in range(warmup):
        step(hops[0])
    # plain lists take a store in a third of the time of a numpy element store
    start, end = [0] * n, [0] * n
    due = [0] * n if period_ns is not None else None
    clock, sleep = time.perf_counter_ns, time.sleep
    chunk = max(1, progress_every) if progress is not None else max(n, 1)
    t0 = clock()
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        if due is None:
            for k in range(lo, hi):
                s = clock()
                step(hops[k])
                end[k] = clock()
                start[k] = s
        else:
            for k in range(lo, hi):
                release = t0 + (k + 1) * period_ns
                due[k] = release
                now = clock()
                if now < release:
                    sleep((release - now) * 1e-9)
                s = clock()
                step(hops[k])
                end[k] = clock()
                start[k] = s
        if progress is not None:
            progress(hi)
    start_ns = np.array(start, np.int64)
    return HopTimes(np.array(due, np.int64) if due is not None else start_ns.copy(), start_ns,
                    np.array(end, np.int64))


def timing_stats(ns: np.ndarray) -> dict:
    """Mean / p50 / p99 / max in microseconds and the number of calls."""
    us = np.asarray(ns, np.float64) / 1000.0
    return {"mean_us": float(us.mean()), "p50_us": float(np.percentile(us, 50)),
            "p99_us": float(np.percentile(us, 99)), "max_us": float(us.max()), "invokes": int(us.size)}


#: the per-hop percentiles a profile reports, and their JSON key stems
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p999": 99.9}


def percentiles_us(ns: np.ndarray) -> dict:
    """p50/p90/p99/p99.9 (numpy's linear interpolation), mean and max of ``ns``, in µs."""
    us = np.asarray(ns, np.float64) / 1000.0
    out = {f"{k}_us": float(np.percentile(us, q)) for k, q in PERCENTILES.items()}
    out["mean_us"] = float(us.mean())
    out["max_us"] = float(us.max())
    return out


def pin_to_one_core(cpu: int | None = None) -> set[int] | None:
    """Pin this process to ``cpu`` (default: its first allowed CPU); returns the previous set of
    CPUs, to restore with ``os.sched_setaffinity(0, previous)`` (None where unsupported).
    The one place hearsep's benchmarks pin themselves (Linux ``sched_setaffinity(2)``)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before) if cpu is None else int(cpu)})
    return before
