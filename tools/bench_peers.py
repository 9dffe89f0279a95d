#!/usr/bin/env python3
"""hearsep against DTLN on the same mixtures, in one run, in one process, on one core.

Systems (each skipped with a note when its files are absent):

* ``hearsep float`` / ``hearsep int8``: ``models/default/model_float.tflite`` and
  ``models/default/model.tflite`` (``--model-float`` / ``--model-int8`` to point elsewhere),
  run by hearsep's streaming runtime (``StreamingEnhancer`` via ``ModelSystem``);
* ``DTLN float`` / ``DTLN quantized``: the authors' TFLite models from ``PEERS/dtln`` with their
  published block algorithm (``tools/dtln_runner.py``; block 512, shift 128, lag removed);
* ``unprocessed``: the noisy input itself.

Audio: ``--mixtures`` (default 40) deterministic mixtures of the corpus dev split
(``hearsep.eval.mixtures``; SNR stratified-uniform in ``--snr-range``, 4-8 s, speech at -25 dBFS,
``--seed``). Every system gets the same mixtures.

Measured for each system:

* SI-SDR, SI-SDR improvement, PESQ (wideband) and STOI of the time-aligned output, overall and
  per input-SNR band. Alignment is checked, not assumed: the lag of each output against the clean
  speech is found by cross-correlation (within +-800 samples) and reported.
* Algorithmic latency (ms): hearsep from the model's contract; DTLN one block (32 ms).
* Compute per second of audio (ms/s): wall time of the system's whole Python step over all
  mixtures (framing, FFTs, interpreter calls, state handling) divided by the audio duration, with
  one interpreter thread and the process pinned to one core. Metrics are not timed. Mixtures are
  the outer loop and systems the inner one, so drifts in machine load hit every system alike.

Ratios are to DTLN quantized (the published real-time variant). Prints the table; ``--out DIR``
writes bench_peers.json, bench_peers.md (tables for the model card) and bench_peers.png.

    python tools/bench_peers.py                          # ../shared/corpus, ../shared/peers
    python tools/bench_peers.py --mixtures 8 --model-int8 /tmp/tiny.tflite --out /tmp/bench
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

REFERENCE = "DTLN quantized"
MAX_LAG_SAMPLES = 800


@dataclass
class System:
    name: str
    enhance: Callable[[np.ndarray, int], np.ndarray]
    latency_ms: float
    source: str


def best_lag(y: np.ndarray, ref: np.ndarray, max_lag: int = MAX_LAG_SAMPLES) -> int:
    """Lag (samples) of ``y`` behind ``ref`` maximising their cross-correlation, within +-max_lag."""
    n = len(ref) + len(y)
    nfft = 1 << (n - 1).bit_length()
    xc = np.fft.irfft(np.fft.rfft(y, nfft) * np.conj(np.fft.rfft(ref, nfft)), nfft)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    return int(lags[int(np.argmax(xc[lags]))])


def pin_one_core(cpu: int | None) -> int | None:
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    chosen = allowed[0] if cpu is None else cpu
    os.sched_setaffinity(0, {chosen})
    return chosen


def build_systems(args, notes: list[str]) -> list[System]:
    from hearsep.eval.evaluate import ModelSystem, unprocessed

    systems = []
    for name, path in (("hearsep float", args.model_float), ("hearsep int8", args.model_int8)):
        p = Path(path)
        if not p.is_file():
            notes.append(f"{name}: skipped, no model at {p}")
            continue
        s = ModelSystem(p, num_threads=1, xnnpack=not args.no_xnnpack)
        systems.append(System(name, s, s.latency_ms, str(p)))
    dtln_dir = Path(args.peers) / "dtln"
    if dtln_dir.is_dir():
        from dtln_runner import DTLN

        for name, quant in (("DTLN float", False), (REFERENCE, True)):
            d = DTLN(dtln_dir, quantized=quant, num_threads=1, xnnpack=not args.no_xnnpack)
            systems.append(System(name, d.enhance, d.latency_ms, " + ".join(str(f) for f in d.files)))
    else:
        notes.append(f"DTLN: skipped, no folder {dtln_dir}")
    systems.append(System("unprocessed", unprocessed, 0.0, "noisy input"))
    return systems


def run_bench(systems: list[System], pairs, progress=None):
    """Interleaved: for each pair, every system in turn. Returns evaluations and lags per system."""
    from hearsep.eval.evaluate import Evaluation, input_scores, run_system, score_pair

    scores: dict[str, list] = {s.name: [] for s in systems}
    lags: dict[str, list[int]] = {s.name: [] for s in systems}
    for pair in pairs:
        inputs = input_scores(pair)
        for s in systems:
            y, seconds = run_system(s.enhance, pair)
            scores[s.name].append(score_pair(pair, y, seconds, inputs))
            lags[s.name].append(best_lag(y, pair.clean))
        if progress is not None:
            progress()
    evals = [Evaluation(s.name, scores[s.name], info={"latency_ms": s.latency_ms, "source": s.source})
             for s in systems]
    return evals, lags


def summarise(evals, lags) -> list[dict]:
    rows = []
    for e in evals:
        o = e.overall
        ls = lags[e.system]
        rows.append({
            "system": e.system, "si_sdr_db": o["si_sdr_db"], "si_sdri_db": o["si_sdri_db"], "pesq": o["pesq"],
            "stoi": o["stoi"], "latency_ms": e.info["latency_ms"],
            "compute_ms_per_s": 1000.0 * o["compute_per_audio_s"],
            "files": o["files"], "audio_s": o["audio_s"],
            "lag_zero_files": sum(1 for v in ls if v == 0), "lags_nonzero": sorted({v for v in ls if v != 0}),
        })
    ref = next((r for r in rows if r["system"] == REFERENCE), None)
    for r in rows:
        for k in ("si_sdri_db", "pesq", "stoi", "latency_ms", "compute_ms_per_s"):
            r[f"{k}_ratio"] = (r[k] / ref[k]) if ref is not None and r[k] is not None and ref[k] else None
    return rows


def _f(v, d):
    return "n/a" if v is None else f"{v:.{d}f}"


def tables(rows, evals, markdown: bool) -> str:
    from hearsep.eval.report import render_table

    has_ref = any(r["system"] == REFERENCE for r in rows)
    head = ["system", "SI-SDR dB", "SI-SDRi dB", "PESQ", "STOI", "latency ms", "compute ms/s"]
    if has_ref:
        head += ["SI-SDRi x", "PESQ x", "STOI x", "latency x", "compute x"]
    body = []
    for r in rows:
        row = [r["system"], _f(r["si_sdr_db"], 2), _f(r["si_sdri_db"], 2), _f(r["pesq"], 2), _f(r["stoi"], 3),
               _f(r["latency_ms"], 1), _f(r["compute_ms_per_s"], 1)]
        if has_ref:
            row += [_f(r[f"{k}_ratio"], 2) for k in ("si_sdri_db", "pesq", "stoi", "latency_ms", "compute_ms_per_s")]
        body.append(row)
    main = render_table(head, body, markdown)
    labels = list(evals[0].bands())
    band_head = ["SI-SDRi dB by input SNR band"] + labels
    band_rows = []
    for metric, key, d in (("SI-SDRi dB", "si_sdri_db", 2), ("PESQ", "pesq", 2), ("STOI", "stoi", 3)):
        for e in evals:
            b = e.bands()
            band_rows.append([f"{metric}: {e.system}"] + [_f(b[lbl][key], d) for lbl in labels])
    band_head[0] = "metric: system / input SNR band dB"
    counts = ["files"] + [str(evals[0].bands()[lbl]["files"]) for lbl in labels]
    return main + "\n\n" + render_table(band_head, [counts] + band_rows, markdown)


def machine_info(cpu) -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import importlib.metadata as md

    def ver(p):
        try:
            return md.version(p)
        except md.PackageNotFoundError:
            return None

    return {"cpu": model or platform.processor(), "pinned_cpu": cpu, "cpus": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__, "ai-edge-litert": ver("ai-edge-litert"),
            "pesq": ver("pesq"), "pystoi": ver("pystoi")}


def main(argv=None) -> int:
    from hearsep.model.paths import MODELS_DIR

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus"),
                   help="corpus folder with manifest.csv (default ../shared/corpus)")
    p.add_argument("--split", default="dev", help="manifest split (default dev)")
    p.add_argument("--peers", default=str(REPO.parent / "shared" / "peers"),
                   help="folder holding dtln/ (default ../shared/peers)")
    p.add_argument("--model-float", default=str(MODELS_DIR / "default" / "model_float.tflite"))
    p.add_argument("--model-int8", default=str(MODELS_DIR / "default" / "model.tflite"))
    p.add_argument("--mixtures", type=int, default=40, help="number of mixtures (default 40)")
    p.add_argument("--snr-range", type=float, nargs=2, default=(-5.0, 15.0), metavar=("LO", "HI"))
    p.add_argument("--seconds", type=float, nargs=2, default=(4.0, 8.0), metavar=("MIN", "MAX"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cpu", type=int, help="core to pin to (default: the first allowed)")
    p.add_argument("--no-xnnpack", action="store_true", help="builtin kernels for every model")
    p.add_argument("--out", help="write bench_peers.json, .md and .png here")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)

    from hearsep.errors import HearsepError

    corpus = Path(args.corpus)
    if not (corpus / "manifest.csv").is_file():
        print(f"bench_peers: no corpus at {corpus} (manifest.csv missing); skipping", file=sys.stderr)
        return 0
    try:
        return _run(args, corpus)
    except HearsepError as exc:
        print(f"bench_peers: error: {exc}", file=sys.stderr)
        return 2


def _run(args, corpus: Path) -> int:
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    try:
        return _bench(args, corpus, pin_one_core(args.cpu))
    finally:  # leave the process as we found it (the tool may be called from a test session)
        if affinity is not None:
            os.sched_setaffinity(0, affinity)


def _bench(args, corpus: Path, cpu: int | None) -> int:
    from hearsep.eval.mixtures import MixtureConfig, corpus_files, generate_mixtures
    from hearsep.eval.report import plot_bands, write_text

    notes: list[str] = []
    systems = build_systems(args, notes)
    for n in notes:
        print(f"bench_peers: {n}", file=sys.stderr)
    config = MixtureConfig(count=args.mixtures, snr_range_db=tuple(args.snr_range), seed=args.seed,
                           min_seconds=args.seconds[0], max_seconds=args.seconds[1]).validate()
    speech, noise = corpus_files(corpus, args.split)
    pairs = list(generate_mixtures(speech, noise, config))
    warm = pairs[0]
    for s in systems:  # first invokes pay one-off costs (allocation, delegate set-up): keep them out
        s.enhance(warm.noisy[: warm.rate_hz], warm.rate_hz)

    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(pairs), unit="mix", desc="bench", file=sys.stderr, disable=None, leave=False)
    t0 = time.time()
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else None
    try:
        evals, lags = run_bench(systems, pairs, progress=bar.update if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    wall = time.time() - t0
    rows = summarise(evals, lags)
    audio_s = sum(pp.duration_s for pp in pairs)
    head = (f"{len(pairs)} mixtures of {corpus} ({args.split}), {audio_s:.0f} s of audio, SNR {args.snr_range[0]:g}.."
            f"{args.snr_range[1]:g} dB, seed {args.seed}; one interpreter thread, pinned to core {cpu}; "
            f"ratios to {REFERENCE}; bench took {wall:.0f} s"
            + (f"; load average {load0[0]:.1f} at start (other processes compete for the cores: compare ratios)"
               if load0 else ""))
    for r in rows:
        if r["lag_zero_files"] != r["files"]:
            notes.append(f"{r['system']}: output not aligned with the clean speech on "
                         f"{r['files'] - r['lag_zero_files']} file(s) (lags {r['lags_nonzero']})")
    align = "alignment (cross-correlation with the clean speech): " + ", ".join(
        f"{r['system']} lag 0 on {r['lag_zero_files']}/{r['files']}" for r in rows)
    print(head)
    print(tables(rows, evals, markdown=False))
    print(align)
    for n in notes:
        print(f"note: {n}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "corpus": str(corpus),
                "split": args.split, "mixtures": len(pairs), "audio_s": audio_s,
                "snr_range_db": list(args.snr_range), "seconds": list(args.seconds), "seed": args.seed,
                "xnnpack": not args.no_xnnpack, "bench_wall_s": wall, "loadavg_start": load0,
                "loadavg_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
                "machine": machine_info(cpu), "notes": notes}
        doc = {"meta": meta, "summary": rows, "evaluations": [e.to_dict() for e in evals]}
        from hearsep.eval.report import json_safe

        write_text(out / "bench_peers.json", json.dumps(json_safe(doc), indent=2, default=str) + "\n")
        md = (f"# bench_peers\n\n{head}.\n\n{tables(rows, evals, markdown=True)}\n\n{align}.\n"
              + "".join(f"\n- {n}" for n in notes) + "\n")
        write_text(out / "bench_peers.md", md)
        plot_bands(evals, out / "bench_peers.png", title=f"{len(pairs)} mixtures, {corpus.name} {args.split}",
                   show_input=False)
        print(f"wrote {out / 'bench_peers.json'}, {out / 'bench_peers.md'}, {out / 'bench_peers.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
