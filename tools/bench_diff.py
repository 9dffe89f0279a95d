#!/usr/bin/env python3
"""One bench system against another, from a committed ``bench_peers.json``: the figures a results
README or a ship decision quotes, printed by code instead of copied by hand.

    python tools/bench_diff.py BENCH.json NEW OLD [--peer "DTLN quantized"] [--float "hearsep float"]
                               [--require-better si_sdri_db,pesq,dnsmos_ovrl] [--summary NAME=summary.json ...]

Prints, for the metrics of ``METRICS`` (SI-SDRi dB, PESQ, STOI, DNSMOS BAK / OVRL, step ms/s):

* a table of NEW, OLD and NEW - OLD (both rows of the same run: same mixtures, same machine load),
  and, where the bench kept its per-file records, the paired standard error of NEW - OLD
  (``std(d) / sqrt(n)`` of the per-file differences ``d`` on the ``n`` files both scored): a
  difference within about two of them is not resolved by this many mixtures;
* NEW's whole per-hop step per second of audio as a ratio to ``--peer`` in the same run (issue 12's
  compute target: <= 1);
* with ``--float ROW`` (NEW's float32 twin in the same run), NEW int8 - float for SI-SDRi and PESQ
  (issue 12's integer target: within 0.2 dB and 0.05);
* with ``--summary NAME=PATH`` (repeatable), the trainer's own evaluation of each run
  (``summary.json`` -> ``eval``: float32 and int8 SI-SDRi on its evaluation mixtures), steps and minutes;
* with ``--require-better KEYS``, a verdict: ``better`` when NEW is no worse than OLD on every metric named (the step: no slower; exit 0),
  else ``not better`` with the metrics that fell (exit 1). Input errors: one line, exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

#: (key in a bench_peers.json summary row, label, format); higher is better except in LOWER_IS_BETTER
LOWER_IS_BETTER = ("compute_ms_per_s",)
METRICS = (("si_sdri_db", "SI-SDRi dB", ".3f"), ("pesq", "PESQ", ".3f"), ("stoi", "STOI", ".3f"),
           ("dnsmos_bak", "DNSMOS BAK", ".3f"), ("dnsmos_ovrl", "DNSMOS OVRL", ".3f"),
           ("compute_ms_per_s", "step ms/s", ".1f"))


class InputError(Exception):
    """Bad arguments or files: reported as one line, exit 2."""


def load_rows(path: Path) -> dict[str, dict]:
    """The bench's summary rows by system name."""
    try:
        doc = json.loads(path.read_text())
        return {row["system"]: row for row in doc["summary"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a bench_peers.json ({exc})") from None


def _row(rows: dict, name: str, path: Path) -> dict:
    if name not in rows:
        raise InputError(f"{path} has no system {name!r} (it has: {', '.join(rows)})")
    return rows[name]


def load_files(path: Path) -> dict[str, dict[str, dict]]:
    """The bench's per-file records by system name, then file name (empty where it kept none)."""
    try:
        doc = json.loads(path.read_text())
        return {e["system"]: {f["name"]: f for f in e.get("files", [])} for e in doc.get("evaluations", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: its per-file records are not a bench_peers.json's ({exc})") from None


def paired_se(files: dict, new: str, old: str, key: str) -> tuple[float, int] | None:
    """``(std(d) / sqrt(n), n)`` of the per-file differences ``d = NEW - OLD`` of ``key`` on the files
    both systems scored (sample standard deviation); ``None`` with fewer than two such files."""
    a, b = files.get(new, {}), files.get(old, {})
    d = [a[n][key] - b[n][key] for n in a if n in b and a[n].get(key) is not None and b[n].get(key) is not None]
    d = [v for v in d if v == v]  # NaN: a metric that could not score the file
    if len(d) < 2:
        return None
    mean = sum(d) / len(d)
    return (sum((v - mean) ** 2 for v in d) / (len(d) - 1)) ** 0.5 / len(d) ** 0.5, len(d)


def diff_lines(rows: dict, new: str, old: str, path: Path, files: dict | None = None) -> list[str]:
    """Markdown table: NEW, OLD and NEW - OLD per metric (a metric absent from a row is skipped), and
    the paired standard error of NEW - OLD where ``files`` (:func:`load_files`) has both systems."""
    a, b = _row(rows, new, path), _row(rows, old, path)
    keys = [m for m in METRICS if m[0] in a and m[0] in b]
    lines = ["| system | " + " | ".join(label for _, label, _ in keys) + " |", "|---|" + "---:|" * len(keys)]
    for name, r in ((new, a), (old, b)):
        lines.append(f"| {name} | " + " | ".join(f"{r[k]:{fmt}}" for k, _, fmt in keys) + " |")
    lines.append(f"| {new} - {old} | " + " | ".join(f"{a[k] - b[k]:+{fmt}}" for k, _, fmt in keys) + " |")
    errors = {k: paired_se(files or {}, new, old, k) for k, _, _ in keys if k not in LOWER_IS_BETTER}
    if any(errors.values()):
        n = max(e[1] for e in errors.values() if e)
        lines.append(f"| paired standard error ({n} files) | " + " | ".join(
            f"{errors[k][0]:{fmt}}" if errors.get(k) else "-" for k, _, fmt in keys) + " |")
    return lines


def worse(rows: dict, new: str, old: str, keys: list[str], path: Path) -> list[str]:
    """The metrics of ``keys`` on which NEW is worse than OLD (below it; above it for ``LOWER_IS_BETTER``)."""
    a, b = _row(rows, new, path), _row(rows, old, path)
    unknown = [k for k in keys if k not in a or k not in b]
    if unknown:
        raise InputError(f"--require-better: no metric {', '.join(unknown)} in both rows")
    return [k for k in keys if (a[k] > b[k] if k in LOWER_IS_BETTER else a[k] < b[k])]


def summary_line(name: str, path: Path) -> str:
    """The trainer's own evaluation of one run (its summary.json)."""
    try:
        s = json.loads(path.read_text())
        e = s["eval"]
        return (f"| {name} | {s['steps']} | {s['train_time_s'] / 60:.0f} | {e['mixtures']} x {e['segment_s']:g} s "
                f"| {e['float32']['si_sdri_db_mean']:.2f} | {e['int8']['si_sdri_db_mean']:.2f} |")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a training summary.json ({exc})") from None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("bench", type=Path, help="bench_peers.json (tools/bench_peers.py --out DIR)")
    p.add_argument("new", help="the system to judge, e.g. 'hearsep int8'")
    p.add_argument("old", help="the system it is compared with, e.g. 'df-long int8'")
    p.add_argument("--peer", default="DTLN quantized", help="compute reference row (default: DTLN quantized)")
    p.add_argument("--float", dest="float_row", help="NEW's float32 row, for the int8 - float gap")
    p.add_argument("--require-better", help="comma-separated metric keys NEW must not lose on (exit 1 if it does)")
    p.add_argument("--summary", action="append", default=[], metavar="NAME=PATH",
                   help="a run's summary.json: its trainer evaluation is printed (repeatable)")
    args = p.parse_args(argv)
    try:
        rows = load_rows(args.bench)
        lines = diff_lines(rows, args.new, args.old, args.bench, load_files(args.bench))
        new, peer = rows[args.new], _row(rows, args.peer, args.bench)
        lines += ["", f"{args.new} step: {new['compute_ms_per_s'] / peer['compute_ms_per_s']:.2f}x {args.peer} "
                      f"({new['compute_ms_per_s']:.1f} vs {peer['compute_ms_per_s']:.1f} ms/s, same run)"]
        if args.float_row:
            f = _row(rows, args.float_row, args.bench)
            lines.append(f"{args.new} - {args.float_row}: SI-SDRi {new['si_sdri_db'] - f['si_sdri_db']:+.2f} dB, "
                         f"PESQ {new['pesq'] - f['pesq']:+.3f}")
        if args.summary:
            lines += ["", "| run (trainer's evaluation) | steps | minutes | mixtures | float32 SI-SDRi dB | int8 SI-SDRi dB |",
                      "|---|---:|---:|---|---:|---:|"]
            for item in args.summary:
                name, sep, path = item.partition("=")
                if not sep or not name or not path:
                    raise InputError(f"--summary {item!r}: expected NAME=PATH")
                lines.append(summary_line(name, Path(path)))
        verdict = 0
        if args.require_better:
            fell = worse(rows, args.new, args.old, [k.strip() for k in args.require_better.split(",") if k.strip()],
                         args.bench)
            verdict = 1 if fell else 0
            lines += ["", f"verdict: {args.new} is " + (f"not better than {args.old} (worse on {', '.join(fell)})" if fell
                                                         else f"better than or level with {args.old} on {args.require_better}")]
    except InputError as exc:
        print(f"bench_diff: error: {exc}", file=sys.stderr)
        return 2
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:  # the reader (e.g. | head) has gone: the Python docs' idiom (signal, "Note on SIGPIPE")
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return verdict


if __name__ == "__main__":
    sys.exit(main())
