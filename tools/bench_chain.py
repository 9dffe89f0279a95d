#!/usr/bin/env python3
"""Per-hop cost of the hearing-aid chain next to the enhancer's own step, in the same process.

Pins the process to one core and times, interleaved over several rounds:

* ``step``        the enhancer's whole per-hop step without a chain (``StreamingEnhancer.process_hop``
                  with the shipped model: framing, features, invoke, mask, synthesis) - the baseline;
* ``step+chain``  the same step with the chain after the separator;
* ``chain``       the chain's two per-hop calls alone (``process_spectrum`` + ``process_hop``) on a
                  speech-level hop (the limiter's pass-through path);
* ``chain loud``  the same on a hop above MPO (the limiter's full path);
* ``ref chain``   with ``--reference-chain FILE.py``: the ``chain`` loop for another version of
                  ``hearsep/chain/chain.py`` (its ``build_chain``), timed in the same rounds, e.g.
                  ``git show REV:hearsep/chain/chain.py > /tmp/chain_rev.py`` (before/after).

It prints mean / p50 / p99 (microseconds) and the ratios chain / step and (step+chain - step) /
step, of means and of medians (the median is robust to other processes' bursts on a shared
machine); the target is a chain costing <= 30 % of the step. Machines here are shared: compare the
ratios, and rerun.

    python tools/bench_chain.py
    python tools/bench_chain.py --preset hearsep/fitting/presets/n3_nal-rp-wdrc.toml --program music
    python tools/bench_chain.py --reference-chain /tmp/chain_rev.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_RATIO = 0.30
DEFAULT_PRESET = Path(__file__).resolve().parents[1] / "hearsep" / "fitting" / "presets" / "n3_nal-rp-wdrc.toml"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default=str(DEFAULT_PRESET), help="preset TOML (default: the shipped N3 WDRC)")
    p.add_argument("--program", help="program of the preset (default: its base settings)")
    p.add_argument("--model", help="a .tflite model (default: models/default)")
    p.add_argument("--hops", type=int, default=5000, help="timed hops per loop (default 5000)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--reference-chain", help="another chain.py to time beside this one (its build_chain)")
    p.add_argument("--json", help="write the results here as JSON")
    args = p.parse_args(argv)

    from hearsep.chain import build_chain
    from hearsep.fitting import load_preset
    from hearsep.model.paths import resolve_model
    from hearsep.profiling.timing import pin_to_one_core, time_loop, timing_stats
    from hearsep.runtime.enhancer import StreamingEnhancer

    params = load_preset(args.preset).resolve(args.program)
    model = resolve_model(args.model)
    pin_to_one_core()
    bare = StreamingEnhancer.from_model(model)
    contract = bare.contract
    chain = build_chain(params, contract)
    with_chain = StreamingEnhancer.from_model(model, chain=build_chain(params, contract))
    rng = np.random.default_rng(0)
    h = contract.hop_samples
    # about 65 dB SPL speech-like noise under the preset's calibration
    hop = (10 ** ((65.0 - params.full_scale_db_spl) / 20) * rng.standard_normal(h)).astype(np.float32)
    loud = (2.0 * np.sign(rng.standard_normal(h))).astype(np.float32)  # over full scale: limiting
    noisy = bare.stft.analyze(hop).copy()
    enhanced = noisy.copy()
    hop_out = np.zeros(h, np.float32)

    def chain_only(samples, chain=chain):
        def run():
            enhanced[:] = noisy
            chain.process_spectrum(noisy, enhanced)
            hop_out[:] = chain.process_hop(samples)
        return run

    loops = {"step": lambda: bare.process_hop(hop), "step+chain": lambda: with_chain.process_hop(hop),
             "chain": chain_only(hop), "chain loud": chain_only(loud)}
    if args.reference_chain:
        import importlib.util

        spec = importlib.util.spec_from_file_location("reference_chain", args.reference_chain)
        ref = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ref)
        loops["ref chain"] = chain_only(hop, ref.build_chain(params, contract))
    ns = {k: [] for k in loops}
    for _ in range(args.rounds):
        for name, fn in loops.items():
            ns[name].append(time_loop(fn, args.hops))
    stats = {k: timing_stats(np.concatenate(v)) for k, v in ns.items()}
    summary = {"target_ratio": TARGET_RATIO}
    for key in ("mean_us", "p50_us"):
        step = stats["step"][key]
        tag = key.split("_")[0]
        summary[f"ratio_chain_to_step_{tag}"] = stats["chain"][key] / step
        summary[f"ratio_chain_loud_to_step_{tag}"] = stats["chain loud"][key] / step
        summary[f"ratio_added_to_step_{tag}"] = (stats["step+chain"][key] - step) / step
        if "ref chain" in stats:
            summary[f"ratio_ref_chain_to_step_{tag}"] = stats["ref chain"][key] / step
            summary[f"ratio_chain_to_ref_chain_{tag}"] = stats["chain"][key] / stats["ref chain"][key]
    print(f"preset {Path(args.preset).name}" + (f" program {args.program!r}" if args.program else "")
          + f": {len(params.bands)} bands, limiter look-ahead {chain.latency_samples} samples; model {model.name}")
    print(f"{'loop':<12}{'mean us':>10}{'p50 us':>10}{'p99 us':>10}")
    for name, s in stats.items():
        print(f"{name:<12}{s['mean_us']:>10.1f}{s['p50_us']:>10.1f}{s['p99_us']:>10.1f}")
    for tag in ("mean", "p50"):
        added = summary[f"ratio_added_to_step_{tag}"]
        print(f"ratios to the step ({tag}): chain {summary[f'ratio_chain_to_step_{tag}']:.2f}, chain (limiting) "
              f"{summary[f'ratio_chain_loud_to_step_{tag}']:.2f}, added inside the step {added:.2f} "
              f"(target <= {TARGET_RATIO:.2f}: {'met' if added <= TARGET_RATIO else 'not met'})")
        if "ref chain" in stats:
            print(f"  reference chain ({tag}): {summary[f'ratio_ref_chain_to_step_{tag}']:.2f} of the step; "
                  f"this chain / reference {summary[f'ratio_chain_to_ref_chain_{tag}']:.2f}")
    if args.json:
        from hearsep.files import write_json

        write_json(args.json, {"stats": stats, "summary": summary, "preset": args.preset, "program": args.program})
    return 0


if __name__ == "__main__":
    sys.exit(main())
