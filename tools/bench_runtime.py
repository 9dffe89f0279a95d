#!/usr/bin/env python3
"""Per-hop cost of the streaming runtime, against baselines measured in the same process.

Builds (or loads) an int8 GRU frame-step model, pins the process to one core, and times
thousands of hops of:

* ``step``      the whole per-hop step: framing, features, quantize, invoke, dequantize, mask,
                state copy, synthesis (``StreamingEnhancer.process_hop``, the fused closure of
                :func:`hearsep.runtime.enhancer.fused_hop_step`); inputs are written through
                views of the interpreter's tensors;
* ``step_unfused`` the same step stage by stage (``StreamingEnhancer(..., fused=False)``: each
                stage's object method), the baseline for the fused closure;
* ``step_copy`` the step as it was before tensor views: stage by stage, with ``set_tensor``
                copies for the features and every state (:class:`SetTensorSeparator` below), the
                baseline for the Python overhead;
* ``invoke``    the bare ``interpreter.invoke()`` of the same model (baseline);
* ``framing``   the step with a unity mask (no model): STFT analysis + features + synthesis;
* ``baseline_step``, ``baseline_invoke`` (``--baseline MODEL``) the fused step and the bare invoke
                of another model, e.g. the real-mask model against a deep-filter one (same hop);
* ``dtln_quantized`` (``--dtln DIR``) one block of DTLN quantized (``tools/dtln_runner.py``: 128
                new samples, rfft, two TFLite models, irfft, overlap-add), the issue-12 peer.

Per second of audio (``per_audio_s``: ms of compute per s, from the wall and CPU means, and from
the median over rounds of each round's CPU mean, which a few disturbed rounds do not move; on a
shared machine run many short rounds, e.g. ``--hops 500 --rounds 30``): the
step at ``rate / hop`` hops per second, DTLN at ``rate / 128`` blocks per second, and their
ratios (issue 12: the whole step per second of audio <= DTLN quantized's, in the same run; the
step p99 <= 10 % of the hop).

It prints mean / p50 / p99 of the wall time per call in microseconds, and the mean CPU time
per call of this thread (``time.thread_time_ns`` around each whole loop: time the process was
preempted by other processes does not count, so it stays meaningful on a shared machine; the
model runs on this thread with num_threads=1), and p50 / p99 of the per-call CPU time (a thread
clock read around each call: the tail of the step itself, without preemption). From these: the split between invoke and
everything else ("Python around the invoke" = step - invoke, target mean <= 15 us, from both the
wall and the CPU means), and ratios: overhead of step / step_copy and step / step_unfused, step /
invoke, step / target (mean 100 us, p99 200 us at a 2 ms hop) and step / hop duration (the
real-time load on one core). All paths must produce the same samples (checked before timing).
Compare ratios, and rerun.

    python tools/bench_runtime.py                 # 300k-parameter int8 GRU, 2 ms hop
    python tools/bench_runtime.py --model models/default/model.tflite
    python tools/bench_runtime.py --output deep-filter --units 128 --input-units 128 \
        --baseline models/default/model.tflite --dtln ../shared/peers/dtln   # gru-df vs the real mask and DTLN
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_MEAN_US, TARGET_P99_US = 100.0, 200.0
TARGET_OVERHEAD_US = 15.0  # mean Python time around the invoke (issue 8)
TARGET_P99_HOP_FRACTION = 0.10  # issue 12: the per-hop step p99 within 10 % of the hop


def set_tensor_separator(model):
    """A TFLiteSeparator whose inputs go in by ``set_tensor`` copies (the path before views)."""
    from hearsep.runtime.separator import TFLiteSeparator

    class SetTensorSeparator(TFLiteSeparator):
        def __init__(self, model):
            super().__init__(model)
            it = self.interpreter
            self._mask_view = it.tensor(self._mask.info.index)
            self._taps_view = it.tensor(self._taps.info.index) if self._taps is not None else None
            self._indices = [(sin.info.index, it.tensor(sout.info.index), sin, sout, raw)
                             for (_, _, sin, sout, raw) in self._state_links]

        def process(self, features, prescaled=False):
            it = self.interpreter
            it.set_tensor(self._features.info.index, self._features.quantize(features, prescaled))
            it.invoke()
            mask = self._mask.dequantize(self._mask_view())
            if self._taps_view is not None:  # split taps: both parts of the one mask buffer
                self._taps.dequantize(self._taps_view())
                mask = self._mask_value
            for index, view, sin, sout, raw in self._indices:
                it.set_tensor(index, view() if raw else sin.quantize(sout.dequantize(view())))
            return mask

    return SetTensorSeparator(model)


def build_gru_int8(units: int, input_units: int, layers: int, seed: int = 0, output: str = "real",
                   df_order: int = 3, df_bins: int = 80) -> tuple[bytes, int]:
    """An untrained int8 GRU model with the default framing (frame 256, hop 32, asymmetric).

    ``output``: ``real`` (the ``gru`` architecture: a gain per bin), ``complex`` or ``deep-filter``
    (``gru-df``: the same core with a complex mask or gains + ``df_order`` complex taps on the lowest
    ``df_bins`` bins); the tap layer gets small random weights (it starts at zero in training), so
    the taps, and the paths' agreement on them, are not trivially zero."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from hearsep.features.spectral import log_power_features
    from hearsep.features.stft import analysis_frames
    from hearsep.model.contract import FeatureSpec, ModelContract, StatePair
    from hearsep.nn import architectures
    from hearsep.quantize.convert import convert

    keras.utils.set_random_seed(seed)
    extra = {} if output == "real" else {"output": output, "df_order": df_order, "df_bins": df_bins}
    name = "gru" if output == "real" else "gru-df"
    arch = architectures.get(name, units=units, input_units=input_units, layers=layers, **extra)
    seq = arch.sequence(129)
    if extra:
        taps = seq.get_layer("df_taps")
        taps.set_weights([(0.05 * np.random.default_rng(seed).normal(size=w.shape)).astype(np.float32)
                          for w in taps.get_weights()])
    step, states = arch.step(seq)
    spec = FeatureSpec(mean=-5.0, std=3.0)
    contract = ModelContract(16000, 256, 32, 64, features=spec, architecture=name, **arch.output_spec(),
                             states=tuple(StatePair(s.input, s.output, s.shape) for s in states))
    rng = np.random.default_rng(seed)
    calib = []
    for level in (0.3, 0.03, 0.003):  # noise at several levels stands in for audio
        x = level * rng.normal(size=16000)
        calib.append(log_power_features(analysis_frames(x, 256, 32), spec))
    return convert(step, contract, "int8", calib, max_calibration_frames=1500), seq.count_params()


def cpu_mean_us(fn, iterations: int) -> float:
    """Mean CPU time of this thread per call of ``fn``, in us (one clock read per loop)."""
    t0 = time.thread_time_ns()
    for _ in range(iterations):
        fn()
    return (time.thread_time_ns() - t0) / iterations / 1000.0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="a contract-carrying .tflite model (default: build a 300k-param int8 GRU)")
    p.add_argument("--units", type=int, default=144, help="GRU units of the built model (default 144)")
    p.add_argument("--input-units", type=int, default=144)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--output", choices=("real", "complex", "deep-filter"), default="real",
                   help="output kind of the built model (default real; deep-filter: gru-df, --df-order taps on --df-bins bins)")
    p.add_argument("--df-order", type=int, default=3)
    p.add_argument("--df-bins", type=int, default=80)
    p.add_argument("--hops", type=int, default=5000, help="timed hops per loop (default 5000)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the loops (default 3)")
    p.add_argument("--no-xnnpack", action="store_true", help="builtin kernels without the XNNPACK delegate")
    p.add_argument("--baseline", help="another contract-carrying .tflite model whose fused step is timed alongside")
    p.add_argument("--dtln", help="DTLN's model folder (e.g. ../shared/peers/dtln): time DTLN quantized's block alongside")
    p.add_argument("--json", help="write the results here as JSON")
    args = p.parse_args(argv)

    from hearsep.profiling.timing import pin_to_one_core, time_loop, timing_stats
    from hearsep.runtime.enhancer import StreamingEnhancer

    pin_to_one_core()

    if args.model:
        model, params = Path(args.model).read_bytes(), None
    else:
        model, params = build_gru_int8(args.units, args.input_units, args.layers, output=args.output,
                                       df_order=args.df_order, df_bins=args.df_bins)
    enh = StreamingEnhancer.from_model(model, num_threads=1, xnnpack=not args.no_xnnpack)
    unfused = StreamingEnhancer.from_model(model, num_threads=1, xnnpack=not args.no_xnnpack, fused=False)
    old = StreamingEnhancer(enh.contract, set_tensor_separator(model), fused=False)
    passthrough = StreamingEnhancer(enh.contract)
    interp = enh.separator.interpreter
    hop = (0.05 * np.random.default_rng(1).normal(size=enh.contract.hop_samples)).astype(np.float32)
    for _ in range(100):  # all paths compute the same samples
        a, b, c = enh.process_hop(hop).copy(), unfused.process_hop(hop).copy(), old.process_hop(hop)
    if not (np.array_equal(a, b) and np.array_equal(a, c)):
        raise SystemExit("bench_runtime: the fused, stage-by-stage and set_tensor paths disagree")

    loops = {"step": enh.process_hop, "step_unfused": unfused.process_hop, "step_copy": old.process_hop,
             "invoke": interp.invoke, "framing": passthrough.process_hop}
    loops = {k: (fn if k == "invoke" else functools.partial(fn, hop)) for k, fn in loops.items()}
    baseline = None
    if args.baseline:
        baseline = StreamingEnhancer.from_model(Path(args.baseline).read_bytes(), num_threads=1,
                                                xnnpack=not args.no_xnnpack)
        if baseline.contract.hop_samples != enh.contract.hop_samples:
            raise SystemExit("bench_runtime: --baseline has another hop size")
        loops["baseline_step"] = functools.partial(baseline.process_hop, hop)
        loops["baseline_invoke"] = baseline.separator.interpreter.invoke
    dtln = None
    if args.dtln:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from dtln_runner import BLOCK_SHIFT_SAMPLES, DTLN

        dtln = DTLN(args.dtln, quantized=True, num_threads=1, xnnpack=not args.no_xnnpack)
        block = (0.05 * np.random.default_rng(2).normal(size=BLOCK_SHIFT_SAMPLES)).astype(np.float32)
        loops["dtln_quantized"] = functools.partial(dtln.process_block, block)
    samples = {k: [] for k in loops}
    cpu = {k: [] for k in loops}
    cpu_calls = {k: [] for k in loops}
    for _ in range(args.rounds):  # interleave so drifts in machine load hit all loops alike
        for name, fn in loops.items():
            samples[name].append(time_loop(fn, args.hops))
            cpu[name].append(cpu_mean_us(fn, args.hops))
            cpu_calls[name].append(time_loop(fn, args.hops, clock=time.thread_time_ns))
    res = {k: timing_stats(np.concatenate(v)) for k, v in samples.items()}
    for k in res:
        res[k]["cpu_mean_us"] = float(np.mean(cpu[k]))
        res[k]["cpu_round_median_us"] = float(np.median(cpu[k]))  # robust to a few disturbed rounds
        # per-call CPU time of this thread: the tail without preemption by other processes (each
        # call's time includes one read of the thread clock, a system call of about a microsecond)
        per_call = np.concatenate(cpu_calls[k]) / 1000.0
        res[k]["cpu_p50_us"] = float(np.percentile(per_call, 50))
        res[k]["cpu_p99_us"] = float(np.percentile(per_call, 99))
    hop_us = 1e6 * enh.contract.hop_samples / enh.contract.sample_rate_hz
    step, inv = res["step"], res["invoke"]
    rest = step["mean_us"] - inv["mean_us"]
    rest_copy = res["step_copy"]["mean_us"] - inv["mean_us"]
    rest_unfused = res["step_unfused"]["mean_us"] - inv["mean_us"]
    rest_cpu = step["cpu_mean_us"] - inv["cpu_mean_us"]
    rest_copy_cpu = res["step_copy"]["cpu_mean_us"] - inv["cpu_mean_us"]
    rest_unfused_cpu = res["step_unfused"]["cpu_mean_us"] - inv["cpu_mean_us"]
    rest_p50 = step["p50_us"] - inv["p50_us"]
    summary = {
        "command": "python tools/bench_runtime.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "loadavg_1min_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "cpus": os.cpu_count(),
        "pinned_cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "model_bytes": len(model), "parameters": params, "hop_us": hop_us,
        "mask_kind": enh.contract.mask_kind, "mask_size": enh.contract.mask_size,
        "latency_ms": enh.latency_ms, "xnnpack": not args.no_xnnpack,
        "timings": res,
        "step_minus_invoke_mean_us": rest,
        "step_minus_invoke_p50_us": rest_p50,
        "step_copy_minus_invoke_mean_us": rest_copy,
        "fused_inlined": list(enh.process_hop.inlined),
        "step_unfused_minus_invoke_mean_us": rest_unfused,
        "ratio_overhead_views_to_copies": rest / rest_copy,
        "ratio_overhead_fused_to_unfused": rest / rest_unfused,
        "ratio_overhead_to_target": rest / TARGET_OVERHEAD_US,
        "step_minus_invoke_cpu_mean_us": rest_cpu,
        "step_copy_minus_invoke_cpu_mean_us": rest_copy_cpu,
        "step_unfused_minus_invoke_cpu_mean_us": rest_unfused_cpu,
        "ratio_cpu_overhead_views_to_copies": rest_cpu / rest_copy_cpu,
        "ratio_cpu_overhead_fused_to_unfused": rest_cpu / rest_unfused_cpu,
        "ratio_cpu_overhead_to_target": rest_cpu / TARGET_OVERHEAD_US,
        "ratio_step_to_invoke": step["mean_us"] / inv["mean_us"],
        "ratio_step_mean_to_target": step["mean_us"] / TARGET_MEAN_US,
        "ratio_step_p99_to_target": step["p99_us"] / TARGET_P99_US,
        "ratio_step_mean_to_hop": step["mean_us"] / hop_us,
        "ratio_step_p99_to_hop": step["p99_us"] / hop_us,
        "target_step_p99_hop_fraction": TARGET_P99_HOP_FRACTION,
        "step_p99_met": step["p99_us"] <= TARGET_P99_HOP_FRACTION * hop_us,
        "ratio_step_cpu_p99_to_hop": step["cpu_p99_us"] / hop_us,
        "step_cpu_p99_met": step["cpu_p99_us"] <= TARGET_P99_HOP_FRACTION * hop_us,
        "fused_inlined_baseline": list(baseline.process_hop.inlined) if baseline is not None else None,
        "baseline_model": args.baseline, "dtln": args.dtln,
    }
    rate = enh.contract.sample_rate_hz
    per_s = {"step": rate / enh.contract.hop_samples, "invoke": rate / enh.contract.hop_samples}
    if baseline is not None:
        per_s["baseline_step"] = per_s["baseline_invoke"] = rate / baseline.contract.hop_samples
    if dtln is not None:
        per_s["dtln_quantized"] = dtln.rate_hz / BLOCK_SHIFT_SAMPLES
    # ms of compute per second of audio: calls per second x us per call / 1000
    audio = {k: {"calls_per_s": n, "wall_ms_per_s": n * res[k]["mean_us"] / 1000.0,
                 "cpu_ms_per_s": n * res[k]["cpu_mean_us"] / 1000.0,
                 "cpu_round_median_ms_per_s": n * res[k]["cpu_round_median_us"] / 1000.0} for k, n in per_s.items()}
    summary["per_audio_s"] = audio
    if baseline is not None:  # the step minus its invoke, for each model: where a difference lies
        summary["baseline_step_minus_invoke_cpu_mean_us"] = (res["baseline_step"]["cpu_mean_us"]
                                                             - res["baseline_invoke"]["cpu_mean_us"])
    for ref in ("baseline_step", "dtln_quantized"):
        if ref in audio:
            summary[f"ratio_step_to_{ref}_per_audio_s"] = audio["step"]["wall_ms_per_s"] / audio[ref]["wall_ms_per_s"]
            summary[f"ratio_step_to_{ref}_per_audio_s_cpu"] = audio["step"]["cpu_ms_per_s"] / audio[ref]["cpu_ms_per_s"]
            summary[f"ratio_step_to_{ref}_per_audio_s_cpu_median"] = (audio["step"]["cpu_round_median_ms_per_s"]
                                                                      / audio[ref]["cpu_round_median_ms_per_s"])
    print(f"model: {len(model) / 1024:.1f} kB" + (f", {params} parameters" if params else "")
          + f", hop {hop_us:.0f} us, latency {enh.latency_ms:.2f} ms, xnnpack {'on' if not args.no_xnnpack else 'off'}, "
          f"{args.rounds}x{args.hops} hops per loop, one core")
    print(f"{'loop':<16}{'mean us':>10}{'p50 us':>10}{'p99 us':>10}{'max us':>10}{'cpu mean us':>13}"
          f"{'cpu p99 us':>12}")
    for name, s in res.items():
        print(f"{name:<16}{s['mean_us']:>10.1f}{s['p50_us']:>10.1f}{s['p99_us']:>10.1f}{s['max_us']:>10.1f}"
              f"{s['cpu_mean_us']:>13.1f}{s['cpu_p99_us']:>12.1f}")
    print(f"split: invoke {inv['mean_us']:.1f} us + everything else {rest:.1f} us "
          f"({100 * rest / step['mean_us']:.0f}% of the step; framing alone {res['framing']['mean_us']:.1f} us); "
          f"medians: {rest_p50:.1f} us around the invoke (less sensitive to preemption on a busy machine)")
    print(f"Python around the invoke (wall): {rest:.1f} us fused vs {rest_unfused:.1f} us stage by stage "
          f"(ratio {summary['ratio_overhead_fused_to_unfused']:.2f}) vs {rest_copy:.1f} us with set_tensor copies "
          f"(ratio {summary['ratio_overhead_views_to_copies']:.2f}); /target({TARGET_OVERHEAD_US:.0f}us) "
          f"{summary['ratio_overhead_to_target']:.2f}")
    print(f"  on CPU time: {rest_cpu:.1f} us fused vs {rest_unfused_cpu:.1f} us stage by stage (ratio "
          f"{summary['ratio_cpu_overhead_fused_to_unfused']:.2f}) vs {rest_copy_cpu:.1f} us with copies (ratio "
          f"{summary['ratio_cpu_overhead_views_to_copies']:.2f}); /target({TARGET_OVERHEAD_US:.0f}us) "
          f"{summary['ratio_cpu_overhead_to_target']:.2f}")
    print(f"fused stages inline: {', '.join(enh.process_hop.inlined) or 'none'}")
    print(f"ratios: step/invoke {summary['ratio_step_to_invoke']:.2f}; step mean/target(100us) "
          f"{summary['ratio_step_mean_to_target']:.2f}; step p99/target(200us) {summary['ratio_step_p99_to_target']:.2f}; "
          f"step mean/hop {summary['ratio_step_mean_to_hop']:.3f}")
    print(f"step p99/hop {summary['ratio_step_p99_to_hop']:.3f} (target <= {TARGET_P99_HOP_FRACTION:.2f}: "
          f"{'met' if summary['step_p99_met'] else 'not met'}); on CPU time (no preemption) p99 "
          f"{step['cpu_p99_us']:.1f} us = {summary['ratio_step_cpu_p99_to_hop']:.3f} of the hop "
          f"({'met' if summary['step_cpu_p99_met'] else 'not met'})")
    print("per second of audio (ms/s, wall / CPU): " + "; ".join(
        f"{k} {v['wall_ms_per_s']:.2f} / {v['cpu_ms_per_s']:.2f}" for k, v in audio.items()))
    if baseline is not None:
        print(f"  CPU: step - invoke {rest_cpu:.1f} us vs the baseline's "
              f"{summary['baseline_step_minus_invoke_cpu_mean_us']:.1f} us; invoke {inv['cpu_mean_us']:.1f} vs "
              f"{res['baseline_invoke']['cpu_mean_us']:.1f} us")
    for ref in ("baseline_step", "dtln_quantized"):
        if ref in audio:
            print(f"  step / {ref} per second of audio: {summary[f'ratio_step_to_{ref}_per_audio_s']:.2f} wall, "
                  f"{summary[f'ratio_step_to_{ref}_per_audio_s_cpu']:.2f} CPU, "
                  f"{summary[f'ratio_step_to_{ref}_per_audio_s_cpu_median']:.2f} CPU (median of the rounds)")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
