#!/usr/bin/env python3
"""Ship a finished training run as ``models/default`` and write its MODEL_CARD.md from committed files.

    python tools/ship_default_model.py runs/default [--out models/default] [--bench DIR] [--runtime-bench JSON]
    python tools/ship_default_model.py [--out models/default] [--bench DIR] [--runtime-bench JSON] [--measure] [--card FILE]

Shipping copies from the run folder ``model.tflite`` (int8, the runtime default),
``model_float.tflite``, ``model.keras``, ``model.contract.json``, ``log.csv`` (as
``training_log.csv``) and ``summary.json``, the recipe named in ``summary.json`` (as
``recipe.toml``) and, with ``--bench DIR``, the ``bench_peers.json`` that ``tools/bench_peers.py
--out DIR`` wrote and, with ``--runtime-bench JSON``, the per-hop step timing of
``tools/bench_runtime.py --json`` (as ``bench_runtime.json``); it measures the int8 and float32 invoke time per hop on one core into
``invoke_timing.json``; then it renders the card. Without a run folder, ``--bench DIR`` replaces
the folder's bench JSON and ``--measure`` re-measures the invoke times; with neither, the card is
only rendered.

The card is a pure function of the files in ``--out`` (nothing is measured while rendering), so
rendering regenerates it byte for byte from the committed folder, and a test checks that it does. Every figure in it comes from one of those files: ``summary.json`` (the trainer's
runtime-shaped float vs int8 evaluation on dev mixtures), ``training_log.csv``, the models and
their contract, ``recipe.toml``, ``invoke_timing.json`` and ``bench_peers.json`` (its tables are
rendered by ``tools/bench_peers.py`` itself, so new peers or metrics appear without changes here).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

ARTEFACTS = {"model.tflite": "model.tflite", "model_float.tflite": "model_float.tflite",
             "model.keras": "model.keras", "log.csv": "training_log.csv", "summary.json": "summary.json",
             "model.contract.json": "model.contract.json"}  # the .keras file's contract (for hearsep quantize)
TIMING = "invoke_timing.json"
BENCH = "bench_peers.json"
RECIPE = "recipe.toml"
#: the peer whose compute the issue-12 target compares against, and the two hearsep rows of a bench
PEER, OURS_INT8, OURS_FLOAT = "DTLN quantized", "hearsep int8", "hearsep float"
RUNTIME = "bench_runtime.json"
#: issue 12's targets: quality against DTLN float (stretch: DeepFilterNet3), compute against DTLN quantized
QUALITY_PEER, STRETCH_PEER = "DTLN float", "DeepFilterNet3"
QUALITY_METRICS = (("si_sdri_db", "SI-SDRi", ".2f"), ("pesq", "PESQ", ".3f"), ("stoi", "STOI", ".3f"),
                   ("dnsmos_ovrl", "DNSMOS OVRL", ".2f"))
STRETCH_METRICS = ("pesq", "dnsmos_ovrl")
INT8_TARGET_DB = 0.2
INT8_TARGET_PESQ = 0.05
SIZE_TARGET_BYTES = 1_000_000
LATENCY_TARGET_MS = 5.0
P99_TARGET_FRACTION = 0.10


# ---- measuring (shipping only) -------------------------------------------------------------------

def measure_invoke(folder: Path, invokes: int = 3000) -> dict:
    """Mean/p50/p99 invoke time (us) of both models, one thread, XNNPACK, pinned to one core."""
    from hearsep.profiling.timing import pin_to_one_core, time_loop, timing_stats
    from hearsep.runtime.interpreter import load_interpreter

    before = pin_to_one_core()
    try:
        out = {}
        for key, name in (("int8", "model.tflite"), ("float32", "model_float.tflite")):
            it = load_interpreter(folder / name, num_threads=1)
            out[key] = timing_stats(time_loop(it.invoke, invokes, warmup=200))
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"), "threads": 1, "xnnpack": True,
            "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None, **out}


def reexport_int8(out: Path) -> dict:
    """Convert ``out/model.keras`` to int8 again with the current export (:func:`hearsep.nn.train.export_int8`,
    the int8 step form of :mod:`hearsep.nn.gru_step`), calibrated per ``out/recipe.toml``, write it as
    ``out/model.tflite``, score it on the trainer's evaluation mixtures (the ones ``summary.json`` ->
    ``eval`` names; float32 re-scored alongside, and checked against the stored figure) and store that in
    ``summary.json`` -> ``eval.int8`` with ``int8_export`` (date, form, the figures it replaced)."""
    from hearsep.errors import HearsepError
    from hearsep.files import write_bytes, write_json
    from hearsep.nn.train import TrainConfig, evaluate_tflite, export_int8

    summary = json.loads((out / "summary.json").read_text())
    cfg = TrainConfig.from_toml(out / RECIPE)
    blob = export_int8(out, cfg)
    ev = summary["eval"]
    new = evaluate_tflite(cfg, {"float32": (out / "model_float.tflite").read_bytes(), "int8": blob},
                          ev["mixtures"], ev["segment_s"])
    if abs(new["float32"]["si_sdri_db_mean"] - ev["float32"]["si_sdri_db_mean"]) > 1e-3:
        raise HearsepError(f"{out}: the float32 model scores {new['float32']['si_sdri_db_mean']:.3f} dB on the "
                           f"evaluation mixtures, summary.json says {ev['float32']['si_sdri_db_mean']:.3f}: not the same set")
    summary["int8_export"] = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
                              "form": "hearsep.nn.gru_step.GRUStepCell: h' = c + z (h - c), h - c on a fixed 1/32 grid",
                              "replaced_int8_eval": ev["int8"]}
    ev["int8"] = new["int8"]
    write_bytes(out / "model.tflite", blob)
    write_json(out / "summary.json", summary)
    return summary


def check_inputs(run: Path | None, bench: Path | None, runtime: Path | None = None) -> None:
    """Refuse, before anything is copied, a run folder that is not a finished run or a bench folder
    without its JSON (:class:`ConfigError`)."""
    from hearsep.errors import ConfigError

    if run is not None:
        for src in ARTEFACTS:
            if not (run / src).is_file():
                raise ConfigError(f"{run} has no {src}: not a finished training run")
        recipe = json.loads((run / "summary.json").read_text()).get("recipe")
        if not recipe or not Path(recipe).is_file():
            raise ConfigError(f"the run's recipe {recipe} is not here (run this tool from where you trained)")
    if bench is not None and not (bench / BENCH).is_file():
        raise ConfigError(f"--bench {bench}: no {BENCH} there (write it with tools/bench_peers.py --out {bench})")
    if runtime is not None and not runtime.is_file():
        raise ConfigError(f"--runtime-bench {runtime}: no such file (write it with tools/bench_runtime.py --json FILE)")


def ship(run: Path | None, out: Path, bench: Path | None, measure: bool, runtime: Path | None = None,
         reexport: bool = False) -> None:
    """Copy a run's artefacts and recipe into ``out`` (``run`` given), the bench JSON (``bench``
    given), and measure the invokes (``run`` or ``measure``); inputs checked by :func:`check_inputs`."""
    from hearsep.files import write_bytes, write_json

    if run is not None:
        recipe = json.loads((run / "summary.json").read_text())["recipe"]
        for src, dst in ARTEFACTS.items():
            write_bytes(out / dst, (run / src).read_bytes())
        write_bytes(out / RECIPE, Path(recipe).read_bytes())
    if bench is not None:
        write_bytes(out / BENCH, (bench / BENCH).read_bytes())
    if runtime is not None:
        write_bytes(out / RUNTIME, runtime.read_bytes())
    if reexport:  # after a run's files are copied: the new int8 file is what gets measured
        reexport_int8(out)
    if run is not None or measure or reexport:
        write_json(out / TIMING, measure_invoke(out))


# ---- rendering (a pure function of the folder) ------------------------------------------------------

def load_bench(folder: Path) -> dict | None:
    path = folder / BENCH
    return json.loads(path.read_text()) if path.is_file() else None


def loss_curve(log: Path) -> str:
    rows = [r for r in csv.DictReader(log.open()) if r["dev_si_sdri_db"]]
    if not rows:
        return "(no dev evaluations logged)"
    keep = rows if len(rows) <= 12 else [rows[int(i)] for i in np.linspace(0, len(rows) - 1, 12)]
    lines = ["| step | minutes | lr | train loss (dB) | dev loss | dev SI-SDRi dB |", "|---|---|---|---|---|---|"]
    for r in keep:
        lines.append(f"| {r['step']} | {float(r['elapsed_s']) / 60:.1f} | {r['lr']} | {r['train_loss'] or '-'} | "
                     f"{r['dev_loss']} | {r['dev_si_sdri_db']} |")
    return "\n".join(lines)


def _pct(p: float) -> str:
    return f"{100 * p:.0f} %"


def data_text(recipe: dict) -> str:
    """The recipe's mixing, in words (from its ``[data]`` table)."""
    d = recipe.get("data", {})
    parts = [f"{d.get('segment_s', 1.0):g} s segments", f"SNR uniform {d['snr_db'][0]:g}..{d['snr_db'][1]:g} dB"
             if "snr_db" in d else "", f"mixture level {d['level_dbfs'][0]:g}..{d['level_dbfs'][1]:g} dBFS RMS"
             if "level_dbfs" in d else ""]
    if d.get("babble_prob"):
        parts.append(f"{_pct(d['babble_prob'])} babble")
    if d.get("reverb_prob"):
        parts.append(f"{_pct(d['reverb_prob'])} synthetic reverberation (target = direct path + first "
                     f"{d.get('early_ms', 50.0):g} ms)")
    if d.get("eq_prob"):
        parts.append(f"{_pct(d['eq_prob'])} random EQ")
    if d.get("speed_prob"):
        lo, hi = d.get("speed_range", (0.9, 1.1))
        parts.append(f"{_pct(d['speed_prob'])} speed perturbation {lo:g}-{hi:g}")
    return ", ".join(p for p in parts if p)


def loss_text(recipe: dict) -> str:
    t = recipe.get("train", {})
    loss = {"snr": "negative SNR", "sisdr": "negative SI-SDR"}.get(t.get("loss", "snr"), t.get("loss"))
    extra = [f"{name} x{t[key]:g}" for key, name in (("mag_weight", "compressed magnitude loss"),
                                                      ("cplx_weight", "compressed complex loss")) if t.get(key)]
    return (f"{loss} of the resynthesised time signal (the same overlap-add as the runtime, in TF)"
            + (f", plus {', '.join(extra)}" if extra else "")
            + f". Adam, clipnorm {t.get('clipnorm', 3.0):g}, cosine learning-rate decay over the time budget.")


def architecture_text(s: dict, c, ops: list[str]) -> str:
    """The per-frame layers (``Architecture.describe`` of the registered architecture) and the ops."""
    from hearsep.nn import architectures

    layers = architectures.get(s["architecture"], **s["model_params"]).describe(c.bins)
    return (f"{layers},\napplied to the complex STFT and resynthesised with the short synthesis window. The step model\n"
            f"is built from the same cells as the training model and converts to {', '.join(ops)} only.")


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def quality_lines(peers: dict) -> str:
    """Issue-12 quality targets: each metric of the int8 model against DTLN float's (and DFN3's,
    the stretch), with ratios; verdicts computed from ``bench_peers.json``."""
    q, ref, dfn = peers.get(OURS_INT8), peers.get(QUALITY_PEER), peers.get(STRETCH_PEER)
    if not (q and ref):
        return (f"* quality and compute against {QUALITY_PEER} and {PEER}: no bench in this folder "
                f"(`tools/bench_peers.py --out DIR`, then ship with `--bench DIR`).\n")
    cells = []
    for key, name, fmt in QUALITY_METRICS:
        line = (f"{name} {q[key]:{fmt}} vs {ref[key]:{fmt}} ({q[key] / ref[key]:.2f}x, "
                f"{'met' if q[key] >= ref[key] else 'not met'})")
        cells.append(line)
    ok = all(q[key] >= ref[key] for key, _, _ in QUALITY_METRICS)
    text = (f"* SI-SDRi, PESQ, STOI and DNSMOS OVRL each at least {QUALITY_PEER}'s (int8, the shipped format): "
            f"{_verdict(ok)} on the same {q['files']} mixtures:\n  " + "; ".join(cells) + ".\n")
    if dfn:
        stretch = [(key, name, fmt) for key, name, fmt in QUALITY_METRICS if key in STRETCH_METRICS]
        ok_s = all(q[key] >= dfn[key] for key, _, _ in stretch)
        text += (f"* stretch, PESQ and DNSMOS OVRL at least {STRETCH_PEER}'s: {_verdict(ok_s)}: " + "; ".join(
            f"{name} {q[key]:{fmt}} vs {dfn[key]:{fmt}} ({q[key] / dfn[key]:.2f}x)" for key, name, fmt in stretch)
            + ".\n")
    bands = [b for b in q.get("bands", {}) if b in ref.get("bands", {})]
    if bands:
        text += (f"  Per input-SNR band (SI-SDRi dB, int8 vs {QUALITY_PEER}): " + "; ".join(
            f"{b} dB: {q['bands'][b]['si_sdri_db']:.2f} vs {ref['bands'][b]['si_sdri_db']:.2f}" for b in bands) + ".\n")
    return text


def int8_lines(peers: dict, ev: dict) -> str:
    """Issue-12 int8 target: int8 - float on the bench (SI-SDRi and PESQ) and on the trainer's evaluation."""
    f32, i8 = ev["float32"]["si_sdri_db_mean"], ev["int8"]["si_sdri_db_mean"]
    trainer = f"the trainer's {ev['mixtures']} evaluation mixtures above: {i8 - f32:+.2f} dB SI-SDRi"
    f, q = peers.get(OURS_FLOAT), peers.get(OURS_INT8)
    if not (f and q):
        return (f"* int8 within {INT8_TARGET_DB} dB SI-SDRi and {INT8_TARGET_PESQ} PESQ of float: no bench in this "
                f"folder; {trainer}.\n")
    d_sdr, d_pesq = q["si_sdri_db"] - f["si_sdri_db"], q["pesq"] - f["pesq"]
    ok = -d_sdr <= INT8_TARGET_DB and -d_pesq <= INT8_TARGET_PESQ
    return (f"* int8 within {INT8_TARGET_DB} dB SI-SDRi and {INT8_TARGET_PESQ} PESQ of float: {_verdict(ok)} on the "
            f"{q['files']} bench mixtures: {d_sdr:+.2f} dB SI-SDRi, {d_pesq:+.3f} PESQ ({trainer}).\n")


def compute_lines(peers: dict, runtime: dict | None, invoke_ms_per_s: float, hops_per_s: float, hop_us: float) -> str:
    """Issue-12 compute targets: whole step per second of audio against DTLN quantized's (same bench
    run) and the per-hop step p99 against 10 % of the hop (``bench_runtime.json``)."""
    q, d = peers.get(OURS_INT8), peers.get(PEER)
    text = ""
    if q and d:
        fast = q["compute_ms_per_s"] <= d["compute_ms_per_s"]
        text += (f"* whole per-hop step per second of audio <= {PEER}'s (same run, one core): {_verdict(fast)}, "
                 f"{q['compute_ms_per_s'] / d['compute_ms_per_s']:.2f}x ({q['compute_ms_per_s']:.1f} vs "
                 f"{d['compute_ms_per_s']:.1f} ms/s). The model's own invoke costs {invoke_ms_per_s:.1f} ms/s;\n  the "
                 f"rest is the per-hop Python step (framing, features, quantize, state copy, synthesis) at "
                 f"{hops_per_s:.0f} hops/s.\n")
    if runtime:
        p99 = runtime["timings"]["step"]["p99_us"]
        text += (f"* per-hop step p99 <= 10 % of the hop ({hop_us * P99_TARGET_FRACTION:.0f} us; `{RUNTIME}`, "
                 f"`tools/bench_runtime.py`): {_verdict(p99 <= P99_TARGET_FRACTION * hop_us)}, p99 {p99:.1f} us = "
                 f"{100 * p99 / hop_us:.1f} % of the hop (mean {runtime['timings']['step']['mean_us']:.1f} us).\n")
    else:
        text += f"* per-hop step p99 <= 10 % of the hop: no `{RUNTIME}` in this folder (ship with `--runtime-bench`).\n"
    return text


def bench_section(doc: dict) -> str:
    """The bench's own tables (``tools/bench_peers.py``'s renderer) under a header made from its meta."""
    import bench_peers

    meta, rows = doc["meta"], doc["summary"]
    corpus = Path(meta["corpus"])
    machine = meta.get("machine", {})
    load = meta.get("loadavg_start")
    head = (f"{meta['mixtures']} mixtures of `{corpus.parent.name}/{corpus.name}` ({meta['split']}), "
            f"{meta['audio_s']:.0f} s of audio, SNR {meta['snr_range_db'][0]:g}..{meta['snr_range_db'][1]:g} dB, "
            f"{meta['seconds'][0]:g}-{meta['seconds'][1]:g} s each, seed {meta['seed']}; one interpreter thread on "
            f"one core of {machine.get('cpu', 'the bench machine')}; run {meta['date']}, {meta['bench_wall_s']:.0f} s"
            + (f", load average {load[0]:.1f} at start (other processes competed for the cores: compare ratios "
               "within the run)" if load else ""))
    align = "alignment (cross-correlation with the clean speech): " + ", ".join(
        f"{r['system']} lag 0 on {r['lag_zero_files']}/{r['files']}" for r in rows)
    notes = "".join(f"\n- {n}" for n in meta.get("notes", []))
    return (f"\n## Side by side with the peers (`tools/bench_peers.py`, `{BENCH}`)\n\n{head}.\n\n"
            f"{bench_peers.tables(rows, markdown=True)}\n\n{align}.\n{notes}\n")


def render_card(folder: Path) -> str:
    """MODEL_CARD.md text from the files in ``folder`` only."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    from hearsep.model.contract import read_contract
    from hearsep.model.inspect import describe_model

    s = json.loads((folder / "summary.json").read_text())
    recipe = tomllib.loads((folder / RECIPE).read_text())
    timing = json.loads((folder / TIMING).read_text())
    c = read_contract(folder / "model.tflite")
    ops = sorted(describe_model(folder / "model.tflite", c)["ops"])
    # the median: robust to the preemptions of a shared machine (the mean is in the JSON too)
    us_int8, us_float = timing["int8"]["p50_us"], timing["float32"]["p50_us"]
    hops_per_s = c.sample_rate_hz / c.hop_samples
    segment_s = recipe.get("data", {}).get("segment_s", 1.0)
    threads = recipe.get("train", {}).get("intra_op_threads", 0)  # TrainConfig's default: 0, all cores
    threads_text = f"{threads} TensorFlow thread{'s' if threads != 1 else ''}" if threads else "all CPU cores"
    ev = s["eval"]
    f32, i8 = ev["float32"]["si_sdri_db_mean"], ev["int8"]["si_sdri_db_mean"]
    mp = s["model_params"]
    size = {k: (folder / k).stat().st_size for k in ("model.tflite", "model_float.tflite", "model.keras")}
    bench = load_bench(folder)
    runtime = json.loads((folder / RUNTIME).read_text()) if (folder / RUNTIME).is_file() else None
    peers = {row["system"]: row for row in bench["summary"]} if bench else {}
    corpus = Path(recipe.get("data", {}).get("manifest", "the corpus")).parent

    title = "hearsep default model" if folder.name == "default" else f"hearsep model `{folder.name}`"
    card = f"""# {title}

A low-latency speech-vs-noise mask estimator for hearing aids: `{s['architecture']}` ({mp.get('layers', '?')} layers) on an
{c.window}-window STFT, shipped as a full-integer int8 TFLite frame-step model (`model.tflite`,
the runtime default) and its float32 twin (`model_float.tflite`). Recipe: `{RECIPE}` (a copy of
`{s.get('recipe')}`, `hearsep train {s.get('recipe')}`); Keras source model: `model.keras`.
This card is generated by `tools/ship_default_model.py` from the files in this folder only.

## At a glance (all measured)

| | value |
|---|---|
| algorithmic latency | **{c.latency_ms:.1f} ms** ({c.latency_samples} samples at {c.sample_rate_hz} Hz; frame {c.frame_samples}, hop {c.hop_samples}, {c.window} windows) |
| parameters | {s['params']:,} |
| int8 file (`model.tflite`) | {size['model.tflite'] / 1000:.1f} kB |
| float32 file (`model_float.tflite`) | {size['model_float.tflite'] / 1000:.1f} kB |
| SI-SDRi, float32, trainer's evaluation ({ev['mixtures']} generated dev mixtures of {ev['segment_s']:g} s; decide on the bench below) | **{f32:.2f} dB** (median {ev['float32']['si_sdri_db_median']:.2f}) |
| SI-SDRi, int8, trainer's evaluation | **{i8:.2f} dB** (median {ev['int8']['si_sdri_db_median']:.2f}); int8 - float = {i8 - f32:+.2f} dB |
| interpreter invoke per hop, one thread (median) | int8 {us_int8:.1f} us, float32 {us_float:.1f} us (`{TIMING}`, {timing['date']}; p99 {timing['int8']['p99_us']:.1f} / {timing['float32']['p99_us']:.1f} us) |
| model compute per second of audio | int8 {us_int8 * hops_per_s / 1000:.1f} ms/s, float32 {us_float * hops_per_s / 1000:.1f} ms/s ({hops_per_s:.0f} invokes/s; invoke only, the Python step around it is extra) |
| training | {s['steps']} steps x {s['examples'] // max(s['steps'], 1)} mixtures of {segment_s:g} s, {s['train_time_s'] / 60:.1f} min, {threads_text} |

## Architecture

Features (outside the model, computed by the runtime): `(log10(|X|^2 + {c.features.eps:g}) - ({c.features.mean})) / {c.features.std}`
per bin of the {c.bins}-bin STFT (mean and std measured on training mixtures). Model, per frame:
{architecture_text(s, c, ops)}
{int8_export_text(s)}State: {len(c.states)} tensors {', '.join(f'{st.input}{list(st.shape)}' for st in c.states)}; {state_copy_text(c)} int8 calibration: {s.get('int8_calibration') or
f"{c.info.get('calibration_frames')} frames of training mixtures"}, streamed through the float model
(states calibrated with real states).

## Training

Data: `{corpus}` split `{recipe.get('data', {}).get('train_split', 'train')}` (see the corpus README and its licences), mixed on the
fly by `hearsep.nn.data.MixtureGenerator`: {data_text(recipe)}.
Loss: {loss_text(recipe)}
{s['examples']:,} mixtures ({s['examples'] * segment_s / 3600:.1f} h of audio) seen in {s['train_time_s'] / 60:.1f} min.{warm_start(recipe)}

Dev curve (the trainer's fixed dev mixtures; `training_log.csv` has every row; losses are negative dB):

{loss_curve(folder / 'training_log.csv')}

## Quality: how it was measured

`summary.json` -> `eval`: {ev['mixtures']} mixtures of {ev['segment_s']} s from the corpus **dev** split
(speech and noise never seen in training), SNR uniform {ev['snr_db'][0]:g}..{ev['snr_db'][1]:g} dB, no reverb,
mean input SI-SDR {ev['input_si_sdr_db_mean']:.2f} dB. Each TFLite model is run hop by hop exactly as
the runtime does (streaming STFT, features, quantize, signature runner, state copy, synthesis;
`hearsep.runtime.enhancer.StreamingEnhancer`, via `hearsep.nn.train.evaluate_tflite`), and
SI-SDRi = SI-SDR(output) - SI-SDR(mixture) against the clean target.

## Targets (issue 12) against the measurements above and the bench below

* algorithmic latency <= {LATENCY_TARGET_MS:g} ms: **{'met' if c.latency_ms <= LATENCY_TARGET_MS else 'not met'}**, {c.latency_ms:.1f} ms.
{quality_lines(peers)}{int8_lines(peers, ev)}{compute_lines(peers, runtime, us_int8 * hops_per_s / 1000, hops_per_s, 1e6 * c.hop_samples / c.sample_rate_hz)}* int8 file <= {SIZE_TARGET_BYTES / 1e6:g} MB: **{'met' if size['model.tflite'] <= SIZE_TARGET_BYTES else 'not met'}**, {size['model.tflite'] / 1000:.1f} kB.
"""
    if bench:
        card += bench_section(bench)
    card += f"""
## Limits

* Trained on the corpus' train split only; expect less on unseen talkers, noises and rooms. The
  hidden evaluation set has other speakers and noises.
* A {kind_words(c)} on {c.bins} bins of {c.sample_rate_hz / c.frame_samples:g} Hz ({1000 * c.frame_samples / c.sample_rate_hz:g} ms analysis window) resolves pitch harmonics
  less well than peers with longer blocks and a second (time-domain) stage; with a
  {c.latency_ms:g} ms latency and CPU training ({s['train_time_s'] / 60:.0f} min in this run{', warm-started' if s.get('init_from') else ''}) a gap to them is expected.
"""
    return card


def int8_export_text(s: dict) -> str:
    x = s.get("int8_export")
    if not x:
        return ""
    old = x["replaced_int8_eval"]["si_sdri_db_mean"]
    return (f"int8 export ({x['date'][:10]}, `--reexport-int8`): {x['form']}; the int8 model first shipped with\n"
            f"these weights scored {old:.2f} dB SI-SDRi on the evaluation below (now {s['eval']['int8']['si_sdri_db_mean']:.2f}).\n")


def state_copy_text(c) -> str:
    if c.info.get("int8_state_copy"):
        return ("in the int8 model each\nstate input shares scale and zero point with its output (`info.int8_state_copy` "
                "in the contract), so\nthe runtime copies int8 state without requantizing.")
    return ("the int8 model's state inputs and outputs\nare quantized differently (`info.int8_state_copy` false in the "
            "contract), so the runtime\nrequantizes the state every hop.")


def warm_start(recipe: dict) -> str:
    init = recipe.get("model", {}).get("init_from")
    return f"\nWarm start: layers with the same names and shapes were copied from `{init}` before training." if init else ""


def kind_words(c) -> str:
    return {"real": "real mask", "complex": "complex ratio mask",
            "deep-filter": "deep-filter mask"}.get(getattr(c, "mask_kind", "real"), "mask")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", nargs="?", help="finished training run folder (holds summary.json) to ship")
    p.add_argument("--out", default=str(REPO / "models" / "default"), help="the model folder (default models/default)")
    p.add_argument("--bench", help="folder with bench_peers.json from tools/bench_peers.py --out")
    p.add_argument("--runtime-bench", help=f"JSON of tools/bench_runtime.py --json for this model (copied as {RUNTIME})")
    p.add_argument("--reexport-int8", action="store_true",
                   help="convert --out's model.keras to int8 again with the current export and re-score it (summary.json)")
    p.add_argument("--measure", action="store_true", help="re-measure the invoke times of the models in --out")
    p.add_argument("--card", help="write the card here (default OUT/MODEL_CARD.md)")
    args = p.parse_args(argv)

    from hearsep.errors import HearsepError
    from hearsep.files import check_output_path, write_text

    out = Path(args.out)
    card_path = Path(args.card) if args.card else out / "MODEL_CARD.md"
    try:
        run, bench = Path(args.run) if args.run else None, Path(args.bench) if args.bench else None
        runtime = Path(args.runtime_bench) if args.runtime_bench else None
        check_inputs(run, bench, runtime)
        if run is not None:
            try:
                out.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise HearsepError(f"cannot create {out}: {exc.strerror}") from None
        check_output_path(card_path)
        ship(run, out, bench, args.measure, runtime, args.reexport_int8)
        for name in ("summary.json", RECIPE, TIMING, "model.tflite", "training_log.csv"):
            if not (out / name).is_file():
                raise HearsepError(f"{out} has no {name} (ship a run with this tool first)")
        write_text(card_path, render_card(out))
    except HearsepError as exc:
        print(f"ship_default_model: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {card_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
