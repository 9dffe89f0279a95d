"""``.keras`` -> TFLite in one or all modes, with a report per model and a comparison table.

:func:`quantize` is what ``hearsep quantize`` calls: load the model and its contract
(:mod:`hearsep.quantize.source`), make calibration features from audio
(:mod:`hearsep.quantize.calibration`), convert (:func:`hearsep.quantize.convert.convert`), and
for every model measure what the choice costs: size, ops and tensor types, float islands with
their layers, state copy (raw or requantized), Edge TPU eligibility, per-invoke latency with and
without XNNPACK, and quality deltas against the float model on a fixed evaluation set.
Reports are made and written by :mod:`hearsep.quantize.report`; every file goes through
:mod:`hearsep.files` (written whole or not at all), and the outputs are checked before any work.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hearsep.errors import OutputError, QuantizationError
from hearsep.files import check_output_path, write_bytes
from hearsep.quantize.convert import INTEGER_MODES, MODES


@dataclass
class QuantizeOptions:
    calib: str | None = None
    calib_seconds: float = 60.0
    eval_source: str | None = None  # default: the calibration source (its dev split for a corpus)
    eval_count: int = 8
    eval_seconds: float = 4.0
    contract: str | None = None
    latency_invokes: int = 2000
    report: bool = True
    seed: int = 0


@dataclass
class QuantizeResult:
    models: dict[str, Path] = field(default_factory=dict)  # mode -> .tflite written
    reports: dict[str, dict] = field(default_factory=dict)  # mode -> report dict
    files: list[Path] = field(default_factory=list)
    comparison: dict | None = None
    elapsed_s: float = 0.0
    synthetic_calibration: bool = False  # calibrated on synthetic speech-like signals (no --calib)
    synthetic_evaluation: bool = False   # quality measured on synthetic signals: not a claim about speech


def _prepare_outputs(paths: list[Path]) -> None:
    """Create the output folders and check every output can be written, before any work."""
    for path in paths:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create folder {path.parent}: {exc.strerror or exc}") from None
        check_output_path(path)


def quantize(model_path: str | Path, modes: list[str], outputs: dict[str, Path], options: QuantizeOptions,
             report_dir: Path | None = None, progress: Callable[[str], None] | None = None) -> QuantizeResult:
    """Convert ``model_path`` in each of ``modes`` to ``outputs[mode]`` and report on each.

    ``report_dir``: where ``comparison.{json,md,png}`` go (only with several modes). Per-model
    reports are written next to each model as ``NAME.report.{json,md,png}``.
    """
    from hearsep.quantize import calibration, report as report_mod
    from hearsep.quantize.convert import convert
    from hearsep.quantize.layers import keras_layers, precheck
    from hearsep.quantize.source import load_model

    say = progress or (lambda msg: None)
    t_start = time.perf_counter()
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise QuantizationError(f"unknown mode(s) {', '.join(bad)} (known: {', '.join(MODES)})")
    planned = [Path(outputs[m]) for m in modes]
    if options.report:
        planned += [p for m in modes for p in report_mod.report_paths(Path(outputs[m])).values()]
        if len(modes) > 1:
            planned += report_mod.comparison_paths(Path(report_dir or Path(outputs[modes[0]]).parent))
    _prepare_outputs(planned)
    loaded = load_model(model_path, options.contract)
    contract = loaded.contract
    layer_classes = keras_layers(loaded.step_model)
    say(f"loaded {loaded.path} ({loaded.built_from}; contract from {loaded.contract_source})")
    for mode in modes:  # refuse early, before calibration, what cannot work
        precheck(loaded.step_model, contract, mode)

    calib_desc, calib_features = None, None
    if any(m in INTEGER_MODES for m in modes):
        items, calib_desc = calibration.calibration_audio(options.calib, contract, options.calib_seconds,
                                                          seed=options.seed)
        calib_features = calibration.feature_sequences(items, contract)
        say(f"calibration: {calib_desc}")
    frames = int(options.calib_seconds * contract.sample_rate_hz / contract.hop_samples)

    blobs: dict[str, bytes] = {}
    convert_s: dict[str, float] = {}
    for mode in dict.fromkeys(["float32", *modes]):  # float32 first: the reference
        t0 = time.perf_counter()
        source = loaded.int8_step_model if mode == "int8" and loaded.int8_step_model is not None else loaded.step_model
        blobs[mode] = convert(source, contract, mode,
                              calib_features if mode in INTEGER_MODES else None, max_calibration_frames=frames)
        convert_s[mode] = time.perf_counter() - t0
        say(f"converted {mode} in {convert_s[mode]:.1f} s ({len(blobs[mode]) / 1024:.1f} kB)")

    result = QuantizeResult()
    result.synthetic_calibration = calib_desc is not None and calibration.source_kind(options.calib) == "synthetic"
    for mode in modes:
        result.models[mode] = write_bytes(Path(outputs[mode]), blobs[mode])
        result.files.append(result.models[mode])
    if not options.report:
        result.elapsed_s = time.perf_counter() - t_start
        return result

    from hearsep.quantize import measure

    eval_source = options.eval_source if options.eval_source is not None else options.calib
    result.synthetic_evaluation = calibration.source_kind(eval_source) == "synthetic"
    items, eval_desc = calibration.evaluation_items(eval_source, contract, options.eval_count,
                                                    options.eval_seconds, seed=options.seed + 1)
    say(f"evaluation set: {eval_desc}")
    ref_run = measure.run_items(blobs["float32"], contract, items)
    ref_scores = measure.scores(ref_run, items)
    for mode in modes:
        t0 = time.perf_counter()
        blob = blobs[mode]
        run = ref_run if mode == "float32" else measure.run_items(blob, contract, items)
        sc = ref_scores if mode == "float32" else measure.scores(run, items)
        quality = {"scores": sc, "float_scores": ref_scores, "vs_float": measure.compare(ref_run, run, ref_scores, sc)}
        latency = {"xnnpack": measure.invoke_latency(blob, contract, True, options.latency_invokes),
                   "builtin": measure.invoke_latency(blob, contract, False, options.latency_invokes)}
        rep = report_mod.model_report(
            blob, mode, result.models[mode], layer_classes, latency, quality,
            {"source": str(loaded.path), "built_from": loaded.built_from, "contract_source": loaded.contract_source,
             "calibration": calib_desc if mode in INTEGER_MODES else None, "evaluation": eval_desc,
             "convert_s": round(convert_s[mode], 2), "hop_ms": contract.hop_ms})
        rep["timings_s"]["measure"] = round(time.perf_counter() - t0, 2)
        result.reports[mode] = rep
        result.files += report_mod.write_model_report(rep, result.models[mode])
        say(f"measured {mode} in {rep['timings_s']['measure']:.1f} s")
    result.elapsed_s = time.perf_counter() - t_start
    if len(modes) > 1:
        result.comparison = report_mod.comparison(result.reports)
        result.comparison["elapsed_s"] = round(result.elapsed_s, 1)
        result.files += report_mod.write_comparison(result.comparison, Path(report_dir or Path(outputs[modes[0]]).parent))
    return result
