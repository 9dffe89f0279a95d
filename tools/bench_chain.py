#!/usr/bin/env python3
"""Per-hop cost of the hearing-aid chain next to the enhancer's own step, in the same process.

The signal is realistic, not one repeated hop: a speech-like mixture (``hearsep.audio.synthetic.
speech_like_mixture``: speech-like sound with fricatives plus white noise at 5 dB SNR) at a
normal speech level (``--level-db-spl``, default 65 dB SPL under the preset's calibration), and
the same mixture loud (``--loud-db-spl``, default 95 dB SPL: the broadband limiter works).
Pinned to one core, interleaved over several rounds, every loop runs the whole sequence from a
reset state and times every hop:

* ``step``        the enhancer's whole per-hop step without a chain (``StreamingEnhancer.process_hop``
                  with the shipped model: framing, features, invoke, mask, synthesis) - the baseline;
* ``step+chain``  the same step with the chain after the separator;
* ``chain``       the chain's two per-hop calls alone (``process_spectrum`` + ``process_hop``),
                  replaying the inputs the chain received inside ``step+chain`` (recorded once),
                  so its control hops, onsets and limiter work are those of the real sequence;
* ``chain loud``  the same replay for the loud mixture;
* ``chain R=r``   with ``--control-hops r ...``: the replay through chains with other control
                  rates (``control_hops=r``; 1 = every hop, the chain before the control rate);
* ``ref chain``   with ``--reference-chain FILE.py``: the replay through another version of
                  ``hearsep/chain/chain.py`` (its ``build_chain``), e.g.
                  ``git show REV:hearsep/chain/chain.py > /tmp/chain_rev.py`` (before/after).

It prints mean / p50 / p99 per hop (microseconds), the fraction of control hops and of hops the
limiter worked on, and the ratios to the step measured in the same run: ``chain / step`` (the
chain's per-hop cost; the target is <= 30 %, on the mean over the normal-level sequence) and
``(step+chain - step) / step`` (the same cost measured inside the step, a difference of two
noisy figures). Every round replays the same hops from the same state, so a hop's least time
over the rounds is its cost without other processes' bursts: the "floor" figures (mean over hops
of the per-hop least time) are reported beside the plain ones. Machines here are shared: compare
ratios, and rerun.

    taskset -c 0 python tools/bench_chain.py
    python tools/bench_chain.py --preset hearsep/fitting/presets/n3_nal-rp-wdrc.toml --program music
    python tools/bench_chain.py --control-hops 1 2 --reference-chain /tmp/chain_rev.py --json out.json
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_RATIO = 0.30
DEFAULT_PRESET = Path(__file__).resolve().parents[1] / "hearsep" / "fitting" / "presets" / "n3_nal-rp-wdrc.toml"


class Recorder:
    """A HopChain that passes everything to ``chain`` and keeps a copy of each input it got."""

    def __init__(self, chain):
        self.chain, self.latency_samples = chain, chain.latency_samples
        self.noisy, self.enhanced, self.hops = [], [], []

    def process_spectrum(self, noisy, enhanced):
        self.noisy.append(noisy.copy())
        self.enhanced.append(enhanced.copy())
        self.chain.process_spectrum(noisy, enhanced)

    def process_hop(self, samples):
        self.hops.append(samples.copy())
        return self.chain.process_hop(samples)

    def reset(self):
        self.chain.reset()


def _relative(path: str) -> str:
    """``path`` relative to the repository when it lies inside it (results stay portable)."""
    root = Path(__file__).resolve().parents[1]
    p = Path(path).resolve()
    return str(p.relative_to(root)) if p.is_relative_to(root) else str(path)


def ratio_key(name: str, tag: str) -> str:
    """``ratio_chain_loud_to_step_mean`` for loop ``chain loud`` and statistic ``mean``."""
    return f"ratio_{name.replace(' ', '_').replace('=', '')}_to_step_{tag}"


def added_key(name: str, tag: str) -> str:
    """``ratio_added_to_step_mean`` for loop ``step+chain``, ``ratio_added_R2_to_step_mean`` for ``step+chain R=2``."""
    rate = name.split("R=")[1] if "R=" in name else ""
    return f"ratio_added{'_R' + rate if rate else ''}_to_step_{tag}"


def time_steps(step, hops) -> np.ndarray:
    """ns per hop of ``step(hop)`` over the rows of ``hops``."""
    clock = time.perf_counter_ns
    out = [0] * len(hops)
    for k, hop in enumerate(hops):
        t0 = clock()
        step(hop)
        out[k] = clock() - t0
    return np.array(out, np.int64)


def time_replay(chain, recording) -> np.ndarray:
    """ns per hop of the chain's two calls on recorded inputs (the spectrum copy is not timed)."""
    clock = time.perf_counter_ns
    spectrum, hop_call = chain.process_spectrum, chain.process_hop
    buf = np.empty_like(recording.enhanced[0])
    out = [0] * len(recording.hops)
    for k, (noisy, enhanced, samples) in enumerate(zip(recording.noisy, recording.enhanced, recording.hops)):
        buf[...] = enhanced
        t0 = clock()
        spectrum(noisy, buf)
        hop_call(samples)
        out[k] = clock() - t0
    return np.array(out, np.int64)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default=str(DEFAULT_PRESET), help="preset TOML (default: the shipped N3 WDRC)")
    p.add_argument("--program", help="program of the preset (default: its base settings)")
    p.add_argument("--model", help="a .tflite model (default: models/default)")
    p.add_argument("--seconds", type=float, default=10.0, help="signal length (s; default 10 = 5000 hops)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--level-db-spl", type=float, default=65.0, help="speech level of the normal mixture (dB SPL)")
    p.add_argument("--loud-db-spl", type=float, default=95.0, help="speech level of the loud mixture (dB SPL)")
    p.add_argument("--control-hops", type=int, nargs="*", default=[], metavar="R",
                   help="also replay through chains with these control rates (1 = control every hop)")
    p.add_argument("--reference-chain", help="another chain.py to replay beside this one (its build_chain)")
    p.add_argument("--json", help="write the results here as JSON")
    args = p.parse_args(argv)

    from hearsep.audio.synthetic import speech_like_mixture
    from hearsep.chain import build_chain
    from hearsep.fitting import load_preset
    from hearsep.model.paths import resolve_model
    from hearsep.profiling.timing import pin_to_one_core, timing_stats
    from hearsep.runtime.enhancer import StreamingEnhancer

    load_start = os.getloadavg()
    params = load_preset(args.preset).resolve(args.program)
    model = resolve_model(args.model)
    pin_to_one_core()
    bare = StreamingEnhancer.from_model(model)
    contract = bare.contract
    fs, h = contract.sample_rate_hz, contract.hop_samples
    chain = build_chain(params, contract)
    with_chain = StreamingEnhancer.from_model(model, chain=chain)

    def mixture(level_db_spl):
        # speech RMS at level_db_spl: a sine of the same power reads level_db_spl under the calibration
        level_dbfs = level_db_spl - params.full_scale_db_spl - 10.0 * np.log10(2.0)
        x = speech_like_mixture(args.seconds, fs, snr_db=5.0, level_dbfs=level_dbfs, seed=0)
        return x[:x.shape[0] // h * h].reshape(-1, h).copy()

    signals = {"normal": mixture(args.level_db_spl), "loud": mixture(args.loud_db_spl)}
    # record what the chain receives inside the step (a chain of its own), and count its work
    recordings, work = {}, {}
    for name, hops in signals.items():
        rec_chain = build_chain(params, contract)
        rec = Recorder(rec_chain)
        recorder = StreamingEnhancer.from_model(model, chain=rec)
        for hop in hops:
            recorder.process_hop(hop)
        recordings[name] = rec
        work[name] = {"hops": len(hops), "control_hop_fraction": rec_chain.control_hop_count / len(hops),
                      "limited_hop_fraction": rec_chain.limited_hops / len(hops)}
    replays = {"chain": (chain, "normal"), "chain loud": (chain, "loud")}
    for r in args.control_hops:
        replays[f"chain R={r}"] = (build_chain(params, contract, control_hops=r), "normal")
    if args.reference_chain:
        import importlib.util

        spec = importlib.util.spec_from_file_location("reference_chain", args.reference_chain)
        ref = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ref)
        replays["ref chain"] = (ref.build_chain(params, contract), "normal")

    steps = {"step": bare, "step+chain": with_chain}
    for r in args.control_hops:
        steps[f"step+chain R={r}"] = StreamingEnhancer.from_model(model, chain=build_chain(params, contract, r))
    ns = {k: [] for k in (*steps, *replays)}
    for _ in range(args.rounds):
        for name, enh in steps.items():
            enh.reset()
            ns[name].append(time_steps(enh.process_hop, signals["normal"]))
        for name, (c, sig) in replays.items():
            c.reset()
            ns[name].append(time_replay(c, recordings[sig]))
    stats = {k: timing_stats(np.concatenate(v)) for k, v in ns.items()}
    # every round runs the same hops from the same state: a hop's least time over the rounds is
    # its cost without the bursts of other processes (which a shared machine adds to single hops)
    floor = {k: timing_stats(np.min(np.stack(v), axis=0)) for k, v in ns.items()}
    summary = {"target_ratio": TARGET_RATIO, "work": work, "control_hops": chain.control_hops}
    for key in ("mean_us", "p50_us", "p99_us"):
        step = stats["step"][key]
        tag = key.split("_")[0]
        for name in replays:
            summary[ratio_key(name, tag)] = stats[name][key] / step
        for name in steps:
            if name != "step":
                summary[added_key(name, tag)] = (stats[name][key] - step) / step
    for name in replays:
        summary[ratio_key(name, "floor_mean")] = floor[name]["mean_us"] / floor["step"]["mean_us"]
    for name in steps:
        if name != "step":
            summary[added_key(name, "floor_mean")] = (floor[name]["mean_us"] - floor["step"]["mean_us"]) / \
                floor["step"]["mean_us"]
    summary["target_met"] = summary["ratio_chain_to_step_mean"] <= TARGET_RATIO
    summary["target_met_floor"] = summary["ratio_chain_to_step_floor_mean"] <= TARGET_RATIO

    print(f"preset {Path(args.preset).name}" + (f" program {args.program!r}" if args.program else "")
          + f": {len(params.bands)} bands, control every {chain.control_hops} hops (and at onsets), "
          f"limiter look-ahead {chain.latency_samples} samples; model {model.name}")
    for name, w in work.items():
        level = args.level_db_spl if name == "normal" else args.loud_db_spl
        print(f"{name} mixture ({level:g} dB SPL speech, {w['hops']} hops): control hops "
              f"{100 * w['control_hop_fraction']:.0f} %, limiter working {100 * w['limited_hop_fraction']:.0f} %")
    print(f"{'loop':<18}{'mean us':>9}{'p50 us':>9}{'p99 us':>9}   per-hop least over {args.rounds} rounds: "
          f"{'mean us':>8}{'p99 us':>8}")
    for name, s in stats.items():
        f = floor[name]
        print(f"{name:<18}{s['mean_us']:>9.2f}{s['p50_us']:>9.2f}{s['p99_us']:>9.2f}   {'':>31}"
              f"{f['mean_us']:>8.2f}{f['p99_us']:>8.2f}")
    for tag in ("mean", "p50", "p99", "floor_mean"):
        parts = [f"{name} {summary[ratio_key(name, tag)]:.2f}" for name in replays]
        parts += [f"added by {name[5:]} {summary[added_key(name, tag)]:.2f}" for name in steps if name != "step"]
        print(f"ratios to the step ({tag}): " + ", ".join(parts))
    print(f"target: chain / step (mean) <= {TARGET_RATIO:.2f}: {summary['ratio_chain_to_step_mean']:.2f}, "
          f"{'met' if summary['target_met'] else 'not met'}; on the per-hop least times "
          f"{summary['ratio_chain_to_step_floor_mean']:.2f}, {'met' if summary['target_met_floor'] else 'not met'}")
    if args.json:
        from hearsep.files import write_json

        write_json(args.json, {
            "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
            "stats": stats, "floor_stats": floor, "summary": summary, "preset": _relative(args.preset),
            "program": args.program, "seconds": args.seconds, "rounds": args.rounds,
            "level_db_spl": args.level_db_spl, "loud_db_spl": args.loud_db_spl,
            "load_average_1_5_15_min": {"start": list(load_start), "end": list(os.getloadavg())},
            "cpus": os.cpu_count()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
