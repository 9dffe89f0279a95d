#!/usr/bin/env python3
"""Ship a finished training run as ``models/default``: copy its artefacts and write MODEL_CARD.md.

    python tools/ship_default_model.py runs/default [--out models/default] [--bench DIR]

Copies ``model.tflite`` (int8, the runtime default), ``model_float.tflite``, ``model.keras``,
``log.csv`` (as ``training_log.csv``) and ``summary.json`` from the run folder, measures the int8
and float invoke time per hop on one core, and renders the card from ``summary.json`` (the
trainer's runtime-shaped float vs int8 evaluation on dev mixtures). ``--bench DIR`` adds the
``bench_peers.md`` tables written by ``tools/bench_peers.py --out DIR`` (DTLN side by side).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ARTEFACTS = {"model.tflite": "model.tflite", "model_float.tflite": "model_float.tflite",
             "model.keras": "model.keras", "log.csv": "training_log.csv", "summary.json": "summary.json",
             "model.contract.json": "model.contract.json"}  # the .keras file's contract (for hearsep quantize)


def bench_int8_line(peers: dict) -> str:
    f, q = peers.get("hearsep float"), peers.get("hearsep int8")
    if not (f and q):
        return ""
    return f"; on the bench mixtures below {q['si_sdri_db'] - f['si_sdri_db']:+.2f} dB"


def peer_lines(peers: dict, invoke_ms_per_s: float, hops_per_s: float) -> str:
    """The DTLN targets, with verdicts computed from a bench_peers.json run."""
    q, d = peers.get("hearsep int8"), peers.get("DTLN quantized")
    if not (q and d):
        return ("* SI-SDRi, PESQ, STOI and compute against DTLN quantized: no bench_peers run given "
                "(`tools/bench_peers.py --out DIR`, then `--bench DIR` here).")
    ok = q["si_sdri_db"] >= d["si_sdri_db"]
    fast = q["compute_ms_per_s"] <= d["compute_ms_per_s"]
    return (f"* SI-SDRi at least DTLN quantized's: **{'met' if ok else 'not met'}**: int8 {q['si_sdri_db']:.2f} dB vs "
            f"{d['si_sdri_db']:.2f} dB on the same {q['files']} mixtures ({q['si_sdri_db_ratio']:.2f}x); PESQ "
            f"{q['pesq']:.2f} vs {d['pesq']:.2f}, STOI {q['stoi']:.3f} vs {d['stoi']:.3f} (per-band table below).\n"
            f"* compute per second of audio <= DTLN quantized's (whole Python step): **{'met' if fast else 'not met'}**, "
            f"{q['compute_ms_per_s_ratio']:.2f}x ({q['compute_ms_per_s']:.1f} vs {d['compute_ms_per_s']:.1f} ms/s, same run, "
            f"one core). The model's own invoke costs {invoke_ms_per_s:.1f} ms/s; the rest is the per-hop Python\n"
            f"  step (framing, features, quantize, state copy, synthesis) at {hops_per_s:.0f} hops/s, where DTLN steps "
            "125 times a second. A 2.5 ms hop with a 5 ms synthesis window (still within the 5 ms target)\n"
            "  or the step in compiled code would close it.")


def invoke_us(path: Path, n: int = 3000) -> float:
    """Mean interpreter invoke time (us) on one thread, after a warm-up."""
    from hearsep.runtime.interpreter import load_interpreter

    it = load_interpreter(path, num_threads=1)
    for _ in range(200):
        it.invoke()
    t = time.perf_counter()
    for _ in range(n):
        it.invoke()
    return 1e6 * (time.perf_counter() - t) / n


def loss_curve(log: Path) -> str:
    rows = [r for r in csv.DictReader(log.open()) if r["dev_si_sdri_db"]]
    if not rows:
        return "(no dev evaluations logged)"
    keep = rows if len(rows) <= 12 else [rows[int(i)] for i in np.linspace(0, len(rows) - 1, 12)]
    lines = ["| step | minutes | lr | train loss (-SNR dB) | dev loss | dev SI-SDRi dB |", "|---|---|---|---|---|---|"]
    for r in keep:
        lines.append(f"| {r['step']} | {float(r['elapsed_s']) / 60:.1f} | {r['lr']} | {r['train_loss'] or '-'} | "
                     f"{r['dev_loss']} | {r['dev_si_sdri_db']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", help="finished training run folder (holds summary.json)")
    p.add_argument("--out", default=str(REPO / "models" / "default"))
    p.add_argument("--bench", help="folder with bench_peers.md from tools/bench_peers.py --out")
    p.add_argument("--recipe", default="tools/recipes/default.toml")
    args = p.parse_args(argv)

    from hearsep.model.contract import read_contract

    run, out = Path(args.run), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for src, dst in ARTEFACTS.items():
        if (run / src).exists() or src != "model.contract.json":  # runs before the sidecar existed lack it
            shutil.copyfile(run / src, out / dst)
    s = json.loads((out / "summary.json").read_text())
    import tomllib

    recipe = tomllib.loads((REPO / args.recipe).read_text())
    s.setdefault("segment_s", recipe["data"]["segment_s"])
    c = read_contract(out / "model.tflite")
    us_int8, us_float = invoke_us(out / "model.tflite"), invoke_us(out / "model_float.tflite")
    hops_per_s = c.sample_rate_hz / c.hop_samples
    ev = s["eval"]
    f32, i8 = ev["float32"]["si_sdri_db_mean"], ev["int8"]["si_sdri_db_mean"]
    mp = s["model_params"]
    size = {k: (out / k).stat().st_size for k in ("model.tflite", "model_float.tflite", "model.keras")}
    bench = ""
    peers: dict = {}
    if args.bench and (Path(args.bench) / "bench_peers.md").is_file():
        bench = (Path(args.bench) / "bench_peers.md").read_text()
        bench_json = Path(args.bench) / "bench_peers.json"
        if bench_json.is_file():
            peers = {row["system"]: row for row in json.loads(bench_json.read_text())["summary"]}

    card = f"""# hearsep default model

A low-latency speech-vs-noise mask estimator for hearing aids: a {mp['layers']}-layer GRU on an
asymmetric-window STFT, shipped as a full-integer int8 TFLite frame-step model (`model.tflite`,
the runtime default) and its float32 twin (`model_float.tflite`). Recipe: `{args.recipe}`
(`hearsep train {args.recipe}`); Keras source model: `model.keras`.

## At a glance (all measured)

| | value |
|---|---|
| algorithmic latency | **{c.latency_ms:.1f} ms** ({c.latency_samples} samples at {c.sample_rate_hz} Hz; frame {c.frame_samples}, hop {c.hop_samples}, {c.window} windows) |
| parameters | {s['params']:,} |
| int8 file (`model.tflite`) | {size['model.tflite'] / 1000:.1f} kB |
| float32 file (`model_float.tflite`) | {size['model_float.tflite'] / 1000:.1f} kB |
| dev SI-SDRi, float32 | **{f32:.2f} dB** (median {ev['float32']['si_sdri_db_median']:.2f}) |
| dev SI-SDRi, int8 | **{i8:.2f} dB** (median {ev['int8']['si_sdri_db_median']:.2f}); int8 - float = {i8 - f32:+.2f} dB |
| interpreter invoke per hop, one thread | int8 {us_int8:.1f} us, float32 {us_float:.1f} us |
| model compute per second of audio | int8 {us_int8 * hops_per_s / 1000:.1f} ms/s, float32 {us_float * hops_per_s / 1000:.1f} ms/s ({hops_per_s:.0f} invokes/s; invoke only, the Python step around it is extra) |
| training | {s['steps']} steps x {s['examples'] // max(s['steps'], 1)} mixtures of {s.get('segment_s', 1.0)} s, {s['train_time_s'] / 60:.1f} min on 2 CPU cores |

## Architecture

Features (outside the model, computed by the runtime): `(log10(|X|^2 + {c.features.eps:g}) - {c.features.mean}) / {c.features.std}`
per bin of the {c.bins}-bin STFT (mean and std measured on training mixtures). Model, per frame:
Dense({mp['input_units']}, relu) -> {mp['layers']} x GRU({mp['units']}) -> Dense({c.bins}, sigmoid) = a real gain per bin,
applied to the complex STFT and resynthesised with the short synthesis window. The step model
is built from the same `GRUCell`s as the training model and converts to FULLY_CONNECTED, LOGISTIC,
TANH, MUL, ADD/SUB, SPLIT/STRIDED_SLICE and RESHAPE only (no while loop, no LayerNormalization).
State: {len(c.states)} tensors {', '.join(f'{st.input}{list(st.shape)}' for st in c.states)}; in the int8 model each
state input shares scale and zero point with its output (`info.int8_state_copy` in the contract), so
the runtime copies int8 state without requantizing. int8 calibration: {c.info.get('calibration_frames')} frames of
training mixtures streamed through the float model (states calibrated with real states).

## Training

Data: `../shared/corpus` train split (real speech and noise recordings, 16 kHz; see its README and
LICENSES.md), mixed on the fly by `hearsep.nn.data.MixtureGenerator`: 1 s segments, SNR
uniform -7.5..17.5 dB, mixture level -40..-15 dBFS RMS, 10 % babble, 10 % synthetic reverberation
(target = direct path + first 50 ms), 30 % random EQ, 20 % speed perturbation 0.92-1.08.
Loss: negative SNR of the resynthesised time signal (the same asymmetric overlap-add as the
runtime, in TF). Adam, clipnorm 3, cosine learning-rate decay over the time budget.
{s['examples']:,} mixtures ({s['examples'] / 3600:.1f} h of audio) seen in {s['train_time_s'] / 60:.1f} min.

Dev curve (32 fixed dev mixtures of 2 s, SNR -5..15 dB; `training_log.csv` has every row):

{loss_curve(out / 'training_log.csv')}

## Quality: how it was measured

`summary.json` -> `eval`: {ev['mixtures']} mixtures of {ev['segment_s']} s from the corpus **dev** split
(speech and noise never seen in training), SNR uniform {ev['snr_db'][0]:g}..{ev['snr_db'][1]:g} dB, no reverb,
mean input SI-SDR {ev['input_si_sdr_db_mean']:.2f} dB. Each TFLite model is run hop by hop exactly as
the runtime does (streaming STFT, features, quantize, signature runner, state copy, synthesis;
`hearsep.runtime.enhancer.StreamingEnhancer`, via `hearsep.nn.train.evaluate_tflite`), and SI-SDRi = SI-SDR(output) - SI-SDR(mixture) against the clean target.
{('int8 calibration used for the shipped file: ' + s['int8_calibration'] + '.') if s.get('int8_calibration') else ''}
"""
    card += f"""
## Targets (issue 3) against the measurements above

* latency <= 5 ms: **met**, {c.latency_ms:.1f} ms (DTLN: 32 ms).
* int8 within 0.3 dB SI-SDRi of float: **{'met' if f32 - i8 <= 0.3 else 'not met'}** on the {ev['mixtures']} mixtures above
  ({i8 - f32:+.2f} dB){bench_int8_line(peers)}. The GRU states use
  their full [-1, 1] range, so int8 state steps are 1/128; quantization-aware fine-tuning is the
  next step (int16x8 keeps float quality but runs ~30x slower per invoke without XNNPACK).
* int8 file <= 300 kB: **{'met' if size['model.tflite'] <= 300_000 else 'not met'}**, {size['model.tflite'] / 1000:.1f} kB.
{peer_lines(peers, us_int8 * hops_per_s / 1000, hops_per_s)}
"""
    if bench:
        card += "\n## Side by side with DTLN (`tools/bench_peers.py`, same mixtures, one core)\n\n" + bench + "\n"
    card += """
## Limits

* Trained on ~1.5 h of speech from a few dozen talkers (IVR prompts, game voice acting, isolated
  words) and ~47 min of noise; expect less on unseen talkers/rooms. The hidden evaluation set has
  other speakers and noises.
* A real mask on 129 bins of 62.5 Hz (16 ms analysis window) resolves pitch harmonics less well
  than DTLN's 512-sample blocks and second (time-domain) stage; with 8x lower latency, a quarter
  of DTLN's parameters and a CPU training budget under 2 hours, the gap to DTLN is expected. Longer
  training, more talkers and a complex (or deep-filtering) mask are what would close it.
"""
    (out / "MODEL_CARD.md").write_text(card)
    print(f"wrote {out}: float {f32:.2f} dB, int8 {i8:.2f} dB, int8 {size['model.tflite']} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
