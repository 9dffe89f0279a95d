#!/usr/bin/env python3
"""The profiler's own cost per hop: ``time_hops`` against an untimed loop, in the same process.

Both loops run the same step over the same hops; the untimed loop is the bare
``for k in range(n): step(hops[k])``. Per round the overhead per hop is
``(t_timed - t_untimed) / n``; rounds are interleaved (machine load drifts hit both alike) and
the median over rounds is reported with its interquartile range, the difference of the fastest
runs of each loop, and the ratio timed / untimed. Three steps:

* ``noop``      a step that returns its input: the loop's own cost, nothing else;
* ``enhancer``  the shipped model's whole ``StreamingEnhancer.process_hop``;
* ``enhancer+power``  the same while a :class:`PowerRecorder` samples a fake RAPL tree at 10 Hz
                on its thread (what ``hearsep profile --power`` adds).

Many short rounds beat few long ones on a loaded machine: both loops of a round see the same
load. Target: <= 2 µs per hop. Pinned to one core. Compare ratios, and rerun.

    python tools/bench_profiler.py [--hops 2000] [--rounds 100] [--json out.json]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_OVERHEAD_US = 2.0


def untimed(step, hops) -> float:
    t0 = time.perf_counter_ns()
    for k in range(hops.shape[0]):
        step(hops[k])
    return (time.perf_counter_ns() - t0) / 1e3


def timed(step, hops) -> float:
    from hearsep.profiling.timing import time_hops

    t0 = time.perf_counter_ns()
    time_hops(step, hops)
    return (time.perf_counter_ns() - t0) / 1e3


def fake_rapl(root: Path) -> Path:
    z = root / "class/powercap/intel-rapl:0"
    z.mkdir(parents=True)
    (z / "name").write_text("package-0\n")
    (z / "energy_uj").write_text("1000\n")
    (z / "max_energy_range_uj").write_text(f"{2 ** 32}\n")
    return root


def measure(step, hops, rounds: int, recorder_factory=None) -> dict:
    over_us, ratios, ta, tb = [], [], [], []
    for i in range(rounds):
        rec = recorder_factory().start() if recorder_factory else None
        if i % 2:  # alternate which loop goes first, so an order effect cancels
            b = timed(step, hops)
            a = untimed(step, hops)
        else:
            a = untimed(step, hops)
            b = timed(step, hops)
        if rec is not None:
            rec.stop()
        over_us.append((b - a) / hops.shape[0])
        ratios.append(b / a)
        ta.append(a)
        tb.append(b)
    q1, q3 = np.percentile(over_us, [25, 75])
    return {"overhead_us_per_hop": float(np.median(over_us)), "ratio_timed_to_untimed": float(np.median(ratios)),
            "overhead_us_iqr": [float(q1), float(q3)],
            "overhead_us_of_fastest": (min(tb) - min(ta)) / hops.shape[0],
            "untimed_us_per_hop": min(ta) / hops.shape[0], "overhead_us_rounds": over_us}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hops", type=int, default=2000, help="hops per loop (default 2000)")
    p.add_argument("--rounds", type=int, default=100, help="interleaved rounds (default 100)")
    p.add_argument("--model", help="model for the enhancer step (default: the shipped one)")
    p.add_argument("--json", help="write the results here as JSON")
    args = p.parse_args(argv)

    from hearsep.profiling.power import PowerRecorder, RaplSource
    from hearsep.profiling.profile import load_enhancer
    from hearsep.profiling.signals import speech_like_mixture
    from hearsep.profiling.timing import pin_to_one_core

    pin_to_one_core()
    enh, model = load_enhancer(args.model)
    h = enh.contract.hop_samples
    x = speech_like_mixture(args.hops * h / enh.contract.sample_rate_hz + 0.01, enh.contract.sample_rate_hz)
    hops = x[:args.hops * h].reshape(args.hops, h)
    with tempfile.TemporaryDirectory() as tmp:
        src = RaplSource(fake_rapl(Path(tmp)))
        res = {
            "noop": measure(lambda b: b, hops, args.rounds),
            "enhancer": measure(enh.process_hop, hops, args.rounds),
            "enhancer+power": measure(enh.process_hop, hops, args.rounds, lambda: PowerRecorder(src, 0.1)),
        }
    print(f"{model.name}, {args.rounds} rounds x {args.hops} hops, one core; target <= {TARGET_OVERHEAD_US} µs/hop")
    print(f"{'step':<16}{'untimed µs/hop':>16}{'overhead µs/hop':>16}{'(IQR)':>17}{'fastest-run':>12}"
          f"{'timed/untimed':>14}{'vs target':>10}")
    for name, r in res.items():
        iqr = f"{r['overhead_us_iqr'][0]:.2f}..{r['overhead_us_iqr'][1]:.2f}"
        print(f"{name:<16}{r['untimed_us_per_hop']:>16.2f}{r['overhead_us_per_hop']:>16.3f}{iqr:>17}"
              f"{r['overhead_us_of_fastest']:>12.3f}{r['ratio_timed_to_untimed']:>14.3f}"
              f"{r['overhead_us_per_hop'] / TARGET_OVERHEAD_US:>10.2f}")
    print("noop isolates the loop's own cost (two clock reads, two stores); the enhancer rows carry the step's "
          "jitter (see the IQR): the overhead is the same work whatever the step")
    if args.json:
        from hearsep.files import write_json

        write_json(args.json, {"model": model.name, "hops": args.hops, "rounds": args.rounds,
                               "target_overhead_us": TARGET_OVERHEAD_US, "results": res})
    return 0


if __name__ == "__main__":
    sys.exit(main())
