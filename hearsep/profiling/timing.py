"""Timing loops for the hot path: nanoseconds per call, and their summary statistics (µs)."""

from __future__ import annotations

import os
import time

import numpy as np


def time_loop(fn, iterations: int, warmup: int = 200) -> np.ndarray:
    """Call ``fn`` ``warmup`` times, then ``iterations`` times timed; returns nanoseconds per call."""
    for _ in range(warmup):
        fn()
    out = np.empty(iterations, np.int64)
    clock = time.perf_counter_ns
    for i in range(iterations):
        t0 = clock()
        fn()
        out[i] = clock() - t0
    return out


def timing_stats(ns: np.ndarray) -> dict:
    """Mean / p50 / p99 / max in microseconds and the number of calls."""
    us = np.asarray(ns, np.float64) / 1000.0
    return {"mean_us": float(us.mean()), "p50_us": float(np.percentile(us, 50)),
            "p99_us": float(np.percentile(us, 99)), "max_us": float(us.max()), "invokes": int(us.size)}


def pin_to_one_core() -> set[int] | None:
    """Pin this process to its first allowed CPU; returns the previous set (None if unsupported)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    return before
