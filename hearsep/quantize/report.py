"""Quantization reports: one per model (JSON, Markdown, PNG) and a comparison across modes.

Plots use matplotlib's object API with the Agg canvas (no pyplot, no global backend switch).
Files are written through :mod:`hearsep.files` (whole or not at all). In JSON a value that is
not finite (e.g. the output SNR of float32 against itself) is ``null``.
"""

from __future__ import annotations

import math
from pathlib import Path

from hearsep.files import atomic_write, json_text, write_text

#: quality targets: SI-SDRi within this many dB of float
SI_SDRI_TARGET_DB = {"int8": 0.3, "int16x8": 0.1}


def to_json(obj) -> str:
    """A report as JSON text (:func:`hearsep.files.json_text`)."""
    return json_text(obj)


def model_report(blob: bytes, mode: str, path: Path, layer_classes: dict, latency: dict, quality: dict,
                 context: dict) -> dict:
    """Everything known about one converted model, JSON-ready."""
    from hearsep.model.contract import read_contract
    from hearsep.quantize.analysis import analyze_tflite
    from hearsep.quantize.edgetpu import edgetpu_eligibility
    from hearsep.runtime.separator import TFLiteSeparator

    a = analyze_tflite(blob, layer_classes)
    contract = read_contract(blob)
    sep = TFLiteSeparator(blob, contract=contract, xnnpack=False)
    state = {
        "copy": contract.info.get("state_copy", "raw" if all(sep.state_copy_raw) else "requantize"),
        "runtime_raw_copy": {p.input: raw for p, raw in zip(contract.states, sep.state_copy_raw)},
        "check": contract.info.get("state_check"),
        "tensors": {p.input: {"in": [sep.inputs[p.input].dtype.name, sep.inputs[p.input].scale, sep.inputs[p.input].zero_point],
                              "out": [sep.outputs[p.output].dtype.name, sep.outputs[p.output].scale,
                                      sep.outputs[p.output].zero_point]} for p in contract.states},
    }
    ana = a.to_dict()
    for o in ana["ops"]:
        o["layer_class"] = layer_classes.get(o["layer"] or "", None)
    return {
        "model": str(path), "mode": mode, **{k: context[k] for k in ("source", "built_from", "contract_source")},
        "size_bytes": a.size_bytes, "parameter_bytes": a.parameter_bytes,
        "analysis": ana, "state": state, "edgetpu": edgetpu_eligibility(a),
        "latency": latency, "hop_ms": context["hop_ms"], "quality": quality,
        "calibration": context.get("calibration"), "evaluation": context.get("evaluation"),
        "timings_s": {"convert": context.get("convert_s")},
    }


def _f(v, digits=2, unit=""):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    return f"{v:.{digits}f}{unit}"


def _table(headers, rows) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def model_markdown(r: dict) -> str:
    a, e, q, lat = r["analysis"], r["edgetpu"], r["quality"], r["latency"]
    vs = q["vs_float"]
    out = [f"# Quantization report: {Path(r['model']).name} ({r['mode']})", "",
           f"Source `{r['source']}` ({r['built_from']}); contract from `{r['contract_source']}`.", ""]
    if r.get("calibration"):
        out += [f"Calibration: {r['calibration']}.", ""]
    out += [_table(["size", "parameters", "activation types", "float ops", "state copy", "Edge TPU"],
                   [[f"{r['size_bytes'] / 1024:.1f} kB", f"{r['parameter_bytes'] / 1024:.1f} kB",
                     ", ".join(f"{k} x{v}" for k, v in a["activation_dtypes"].items()),
                     str(len(a["float_ops"])), r["state"]["copy"],
                     "eligible" if e["eligible"] else f"not eligible ({len(e['failures'])})"]]), ""]
    out += ["## Latency per invoke (this CPU, 1 thread)", "",
            _table(["kernels", "mean us", "p50 us", "p99 us", "max us"],
                   [[k, _f(v["mean_us"], 1), _f(v["p50_us"], 1), _f(v["p99_us"], 1), _f(v["max_us"], 1)]
                    for k, v in lat.items()]),
            f"\nHop {r['hop_ms']:.2f} ms: the model must finish well inside it.", ""]
    sc, fs = q["scores"], q["float_scores"]
    out += [f"## Quality against the float model", "", f"Evaluation set: {r['evaluation']}.", "",
            _table(["metric", "float", "this model", "delta"],
                   [["SI-SDRi dB", _f(fs["si_sdri_db"]), _f(sc["si_sdri_db"]), _f(vs["delta_si_sdri_db"], 3)],
                    ["PESQ", _f(fs["pesq"]), _f(sc["pesq"]), _f(vs["delta_pesq"], 3)],
                    ["STOI", _f(fs["stoi"], 3), _f(sc["stoi"], 3), _f(vs["delta_stoi"], 4)]]), "",
            f"Mask error vs float: mean {_f(vs['mask_abs_error_mean'], 4)}, p99 {_f(vs['mask_abs_error_p99'], 4)}, "
            f"max {_f(vs['mask_abs_error_max'], 4)}; output SNR vs float {_f(vs['output_snr_vs_float_db'], 1)} dB.", ""]
    st = r["state"]
    out += ["## State tensors", ""]
    if st["tensors"]:
        out += [_table(["state", "input dtype/scale/zp", "output dtype/scale/zp", "runtime copy"],
                       [[k, " / ".join(str(x) for x in v["in"]), " / ".join(str(x) for x in v["out"]),
                         "raw" if st["runtime_raw_copy"][k] else "requantize"] for k, v in st["tensors"].items()])]
        if st.get("check"):
            c = st["check"]
            out += ["", f"Verified on {c['frames']} calibration frames: mask RMSE vs float {c['mask_rmse_raw']:.5f} with "
                        f"the raw copy, {c['mask_rmse_requantize']:.5f} requantizing -> "
                        f"{'raw copy kept' if c['raw_copy_ok'] else 'fell back to requantizing'}."]
    else:
        out += ["No recurrent state."]
    out += ["", "## Float ops and QUANTIZE/DEQUANTIZE islands", ""]
    if a["islands"]:
        for isl in a["islands"]:
            out.append(f"- island {', '.join(isl['ops'])} in layer(s) {', '.join(isl['layers']) or '?'} "
                       f"(entered by DEQUANTIZE {isl['dequantize_ops']}, left by QUANTIZE {isl['quantize_ops']})")
    elif a["float_ops"]:
        out.append(f"Float model: {len(a['float_ops'])} ops compute on float activations"
                   + (" (FULLY_CONNECTED etc. hybrid: int8 weights)" if any(o["compute"] == "hybrid" for o in a["float_ops"]) else "") + ".")
    else:
        out.append("None: integer from input to output.")
    if a["requantize_ops"]:
        out.append(f"\n{len(a['requantize_ops'])} integer requantize op(s) (QUANTIZE int->int): "
                   + ", ".join(f"#{o['index']} ({o['layer']})" for o in a["requantize_ops"]))
    out += ["", "## Edge TPU (Coral)", "",
            ("Eligible: every op is on Coral's supported list, all tensors are 8-bit and all shapes static."
             if e["eligible"] else "Not eligible:"), ""]
    for f in e["failures"][:30]:
        where = f"op #{f['index']} {f['op']} (layer {f['layer']})" if f["op"] else "model"
        out.append(f"- {where}: {f['reason']}")
    if len(e["failures"]) > 30:
        out.append(f"- ... and {len(e['failures']) - 30} more (see the JSON)")
    for n in e["notes"]:
        out.append(f"- note: {n}")
    out += ["", e["compile_steps"], "", f"Supported-op list: {e['supported_ops_source']}", "",
            "## Ops", "",
            _table(["#", "op", "layer", "compute", "inputs", "outputs"],
                   [[o["index"], o["op"], f"{o['layer']} ({o['layer_class']})" if o["layer_class"] else (o["layer"] or ""),
                     o["compute"], ", ".join(o["inputs"]), ", ".join(o["outputs"])] for o in a["ops"]]), ""]
    return "\n".join(out)


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def model_png(r: dict, path: Path) -> Path:
    fig = _figure(11, 3.6)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    counts = {}
    for o in r["analysis"]["ops"]:
        counts.setdefault(o["compute"] or "?", 0)
        counts[o["compute"] or "?"] += 1
    ax1.bar(list(counts), list(counts.values()), color="tab:blue")
    ax1.set_title(f"ops by compute type ({r['mode']})")
    lat = r["latency"]
    names = list(lat)
    ax2.bar([f"{n}\nmean" for n in names], [lat[n]["mean_us"] for n in names], color="tab:green")
    ax2.bar([f"{n}\np99" for n in names], [lat[n]["p99_us"] for n in names], color="tab:olive")
    ax2.set_ylabel("us per invoke")
    ax2.set_title("latency (1 thread)")
    vs = r["quality"]["vs_float"]
    labels = ["dSI-SDRi dB", "dPESQ", "dSTOI x10"]
    vals = [vs["delta_si_sdri_db"], vs["delta_pesq"], None if vs["delta_stoi"] is None else 10 * vs["delta_stoi"]]
    ax3.bar(labels, [0.0 if v is None else v for v in vals], color="tab:red")
    ax3.axhline(0.0, color="k", lw=0.8)
    ax3.set_title(f"vs float (mask err mean {vs['mask_abs_error_mean']:.4f})")
    fig.tight_layout()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))


def report_paths(model_path: Path) -> dict[str, Path]:
    stem = model_path.name[: -len(model_path.suffix)] if model_path.suffix else model_path.name
    return {ext: model_path.with_name(f"{stem}.report.{ext}") for ext in ("json", "md", "png")}


def write_model_report(r: dict, model_path: Path) -> list[Path]:
    """``NAME.report.{json,md,png}`` next to the model."""
    p = report_paths(Path(model_path))
    return [write_text(p["json"], to_json(r) + "\n"), write_text(p["md"], model_markdown(r)), model_png(r, p["png"])]


# ---- comparison -----------------------------------------------------------------------------------

def comparison(reports: dict[str, dict]) -> dict:
    """One row per mode: size, ops, state copy, Edge TPU, latency, quality and its target."""
    rows = []
    for mode, r in reports.items():
        vs, sc = r["quality"]["vs_float"], r["quality"]["scores"]
        d = vs["delta_si_sdri_db"]
        target = SI_SDRI_TARGET_DB.get(mode)
        rows.append({
            "mode": mode, "model": r["model"], "size_bytes": r["size_bytes"],
            "activation_dtypes": r["analysis"]["activation_dtypes"], "float_ops": len(r["analysis"]["float_ops"]),
            "islands": len(r["analysis"]["islands"]), "state_copy": r["state"]["copy"],
            "edgetpu_eligible": r["edgetpu"]["eligible"], "edgetpu_failures": len(r["edgetpu"]["failures"]),
            "latency_xnnpack_mean_us": r["latency"]["xnnpack"]["mean_us"],
            "latency_xnnpack_p99_us": r["latency"]["xnnpack"]["p99_us"],
            "latency_builtin_mean_us": r["latency"]["builtin"]["mean_us"],
            "latency_builtin_p99_us": r["latency"]["builtin"]["p99_us"],
            "si_sdri_db": sc["si_sdri_db"], "delta_si_sdri_db": d, "delta_pesq": vs["delta_pesq"],
            "delta_stoi": vs["delta_stoi"], "mask_abs_error_mean": vs["mask_abs_error_mean"],
            "mask_abs_error_max": vs["mask_abs_error_max"], "output_snr_vs_float_db": vs["output_snr_vs_float_db"],
            "si_sdri_target_db": target,
            "meets_target": None if target is None or d is None else bool(d >= -target),
        })
    any_r = next(iter(reports.values()))
    return {"source": any_r["source"], "evaluation": any_r["evaluation"],
            "calibration": next((r["calibration"] for r in reports.values() if r.get("calibration")), None),
            "rows": rows}


def comparison_markdown(c: dict) -> str:
    headers = ["mode", "size kB", "float ops", "state copy", "Edge TPU", "XNNPACK mean/p99 us", "builtin mean/p99 us",
               "SI-SDRi dB", "dSI-SDRi dB", "dPESQ", "dSTOI", "mask err mean/max", "out SNR vs float dB", "target"]
    rows = []
    for r in c["rows"]:
        tgt = "" if r["si_sdri_target_db"] is None else (
            f"{'met' if r['meets_target'] else 'MISSED'} (>= -{r['si_sdri_target_db']} dB)" if r["meets_target"] is not None else "n/a")
        rows.append([r["mode"], f"{r['size_bytes'] / 1024:.1f}", r["float_ops"], r["state_copy"],
                     "yes" if r["edgetpu_eligible"] else f"no ({r['edgetpu_failures']})",
                     f"{r['latency_xnnpack_mean_us']:.1f} / {r['latency_xnnpack_p99_us']:.1f}",
                     f"{r['latency_builtin_mean_us']:.1f} / {r['latency_builtin_p99_us']:.1f}",
                     _f(r["si_sdri_db"]), _f(r["delta_si_sdri_db"], 3), _f(r["delta_pesq"], 3), _f(r["delta_stoi"], 4),
                     f"{_f(r['mask_abs_error_mean'], 4)} / {_f(r['mask_abs_error_max'], 3)}",
                     _f(r["output_snr_vs_float_db"], 1), tgt])
    out = [f"# Quantization comparison: {c['source']}", "", f"Evaluation: {c['evaluation']}."]
    if c.get("calibration"):
        out.append(f"Calibration: {c['calibration']}.")
    out += ["", _table(headers, rows), "",
            "Latency: bare interpreter.invoke() on this CPU, one thread. Deltas: model minus float32 on the "
            "same items. Edge TPU: see each model's report for the reasons and the compile steps."]
    if c.get("elapsed_s") is not None:
        out.append(f"\nWhole run (conversion, calibration, measurements, reports): {c['elapsed_s']:.1f} s.")
    return "\n".join(out) + "\n"


def comparison_png(c: dict, path: Path) -> Path:
    fig = _figure(12, 3.6)
    axes = fig.subplots(1, 4)
    modes = [r["mode"] for r in c["rows"]]
    panels = [("size kB", [r["size_bytes"] / 1024 for r in c["rows"]]),
              ("invoke mean us (XNNPACK)", [r["latency_xnnpack_mean_us"] for r in c["rows"]]),
              ("dSI-SDRi dB vs float", [r["delta_si_sdri_db"] or 0.0 for r in c["rows"]]),
              ("mask abs error mean", [r["mask_abs_error_mean"] for r in c["rows"]])]
    for ax, (title, vals) in zip(axes, panels):
        ax.bar(modes, vals, color="tab:blue")
        ax.set_title(title, fontsize=9)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.axhline(0.0, color="k", lw=0.6)
    fig.tight_layout()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))


def comparison_paths(folder: Path) -> list[Path]:
    """``comparison.{json,md,png}`` in ``folder``."""
    return [Path(folder) / f"comparison.{ext}" for ext in ("json", "md", "png")]


def write_comparison(c: dict, folder: Path) -> list[Path]:
    """``comparison.{json,md,png}`` in ``folder``."""
    js, md, png = comparison_paths(folder)
    return [write_text(js, to_json(c) + "\n"), write_text(md, comparison_markdown(c)), comparison_png(c, png)]
