"""``hearsep quantize MODEL.keras --mode MODE -o OUT.tflite`` / ``--all-modes -o DIR``."""

from __future__ import annotations

import sys
from pathlib import Path

DESCRIPTION = """Convert a trained Keras separator to a contract-carrying TFLite model, and report what the
choice costs: size, ops and tensor types, float islands (with the Keras layer that caused them),
state copy (raw or requantized), Edge TPU eligibility, per-invoke latency (XNNPACK on/off) and
quality against the float model (SI-SDRi, PESQ, STOI, mask error, output SNR vs float).

Modes: float32; float16 (fp16 weights); dynamic (int8 weights, float activations); int8 (full
integer, int8 I/O: what an Edge TPU or a DSP needs); int16x8 (int16 activations, int8 weights).

MODEL.keras needs its contract (framing and feature statistics): MODEL.contract.json next to it,
--contract FILE, or a trainer run folder (model_float.tflite + summary.json next to it).

Calibration (int8, int16x8) streams audio through the float model frame by frame:
  --calib CORPUS   a folder with manifest.csv: speech+noise mixtures of its train split
  --calib AUDIO    a folder of audio files (e.g. noisy recordings): used as they are
  (none)           synthetic speech-like signals (NOT speech: tones with formants plus coloured
                   noise): always works, calibrates worse, and quality figures measured on them
                   say nothing about speech; the output and the report say so
The quality comparison uses --eval (same forms; a corpus gives its dev split), default the
calibration source. Reports: OUT.report.{json,md,png}; with --all-modes also comparison.{json,md,png}.

Edge TPU: the int8 model is the input of Coral's edgetpu_compiler (not installable here); the report
lists what would block it and the steps to compile and run it (hearsep enhance --delegate edgetpu)."""


def add_arguments(parser):
    from hearsep.quantize.convert import MODES

    parser.add_argument("model", help="a trained Keras model (.keras): step model or registered sequence model")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--mode", choices=MODES, help="the quantization mode")
    group.add_argument("--all-modes", action="store_true", help="every mode into the folder -o, plus a comparison")
    parser.add_argument("-o", "--output", required=True, help="OUT.tflite (with --mode) or a folder (with --all-modes)")
    parser.add_argument("--calib", metavar="DIR", help="calibration audio: a corpus folder (manifest.csv) or audio files")
    parser.add_argument("--calib-seconds", type=float, default=60.0, metavar="N",
                        help="seconds of calibration audio, > 0 (default 60)")
    parser.add_argument("--eval", dest="eval_source", metavar="DIR", help="evaluation audio (default: --calib)")
    parser.add_argument("--eval-items", type=int, default=8, help="evaluation mixtures/segments (default 8)")
    parser.add_argument("--eval-seconds", type=float, default=4.0, help="seconds per evaluation item (default 4)")
    parser.add_argument("--contract", metavar="FILE", help="the contract: JSON, or a contract-carrying .tflite")
    parser.add_argument("--invokes", type=int, default=2000, help="timed invokes per latency measurement (default 2000)")
    parser.add_argument("--no-report", action="store_true", help="only write the model(s)")
    parser.add_argument("--quiet", action="store_true", help="print only the result")


def run(args) -> int:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from hearsep.errors import ConfigError
    from hearsep.quantize.convert import MODES
    from hearsep.quantize.pipeline import QuantizeOptions, quantize
    from hearsep.quantize.report import comparison_markdown

    if args.calib_seconds <= 0 or args.eval_items <= 0 or args.eval_seconds <= 0 or args.invokes <= 0:
        raise ConfigError("--calib-seconds, --eval-items, --eval-seconds and --invokes must be positive")
    out = Path(args.output)
    stem = Path(args.model).stem
    if args.all_modes:
        if out.suffix == ".tflite":
            raise ConfigError("--all-modes writes a folder: give -o DIR, not a .tflite file")
        modes = list(MODES)
        outputs = {m: out / f"{stem}_{m}.tflite" for m in modes}
    else:
        if out.suffix != ".tflite":
            raise ConfigError(f"-o {out}: give the output model file, ending in .tflite")
        modes = [args.mode]
        outputs = {args.mode: out}
    opts = QuantizeOptions(calib=args.calib, calib_seconds=args.calib_seconds, eval_source=args.eval_source,
                           eval_count=args.eval_items, eval_seconds=args.eval_seconds, contract=args.contract,
                           latency_invokes=args.invokes, report=not args.no_report)
    say = None if args.quiet else (lambda msg: print(f"  {msg}", file=sys.stderr))
    result = quantize(args.model, modes, outputs, opts, report_dir=out if args.all_modes else None, progress=say)
    for mode, path in result.models.items():
        line = f"{mode:8s} {path}  {path.stat().st_size / 1024:.1f} kB"
        r = result.reports.get(mode)
        if r:
            vs = r["quality"]["vs_float"]
            d = vs["delta_si_sdri_db"]
            line += (f"  state {r['state']['copy']}  Edge TPU {'eligible' if r['edgetpu']['eligible'] else 'no'}"
                     f"  invoke {r['latency']['xnnpack']['mean_us']:.0f} us"
                     + (f"  dSI-SDRi {d:+.3f} dB" if d is not None else "")
                     + f"  mask err {vs['mask_abs_error_mean']:.4f}")
        print(line)
    if result.comparison is not None and not args.quiet:
        print()
        print(comparison_markdown(result.comparison))
    if result.synthetic_calibration:
        print("warning: calibrated on synthetic speech-like signals, not speech (no --calib); give --calib "
              "CORPUS or a folder of recordings for a model that will hear speech", file=sys.stderr)
    if result.synthetic_evaluation:
        print("warning: quality measured on synthetic signals, not speech (no --eval/--calib): the SI-SDRi, PESQ "
              "and STOI figures are no statement about speech; the deltas against float still compare the modes",
              file=sys.stderr)
    print(f"done in {result.elapsed_s:.1f} s; wrote {len(result.files)} files")
    return 0
