#!/usr/bin/env python3
"""Does hearsep's runtime install on a 64-bit Raspberry Pi OS / Coral board? Resolve it for aarch64.

For each Python version (default 3.11, 3.12, 3.13) pip resolves the base install (the
``[project] dependencies`` of pyproject.toml: the runtime, no TensorFlow) as if on a manylinux
aarch64 machine with the given glibc, binary wheels only, without installing anything::

    pip install --dry-run --ignore-installed --only-binary=:all: --implementation cp
        --python-version 3.X --platform manylinux2014_aarch64 --platform manylinux_2_17_aarch64 ...
        --platform manylinux_2_<glibc>_aarch64 --report - <dependencies>

(``--dry-run --report`` is ``pip download`` without fetching the wheels: pip reads their metadata.)
A failed resolution is retried one requirement at a time to name every dependency without a wheel.
Raspberry Pi OS 12 "bookworm" has glibc 2.36 (the default), Debian 13 "trixie" 2.41; the Coral
Dev Board's Mendel Linux 5 has glibc 2.28 (``--glibc 2.28``). Caveat: pip evaluates environment
markers (``; python_version < "3.11"``) for the interpreter running it, not the target.

    python tools/check_aarch64.py                 # exit 0 when every version resolves
    python tools/check_aarch64.py --glibc 2.28 --json out.json
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHONS = ("3.11", "3.12", "3.13")
#: pure-Python (py3-none-any) wheels that load a C library from the system at import time
SYSTEM_LIBRARIES = {"sounddevice": "libportaudio2", "soundfile": "libsndfile1"}


def base_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    return list(tomllib.loads(pyproject.read_text())["project"]["dependencies"])


def platform_tags(glibc_minor: int) -> list[str]:
    """manylinux2014 (= glibc 2.17) and every manylinux_2_N up to the target's glibc (PEP 600)."""
    return ["manylinux2014_aarch64"] + [f"manylinux_2_{n}_aarch64" for n in range(17, glibc_minor + 1)]


def pip_command(python: str, glibc_minor: int, requirements: list[str], target: str) -> list[str]:
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--target", target,
           "--only-binary=:all:", "--implementation", "cp", "--python-version", python, "--report", "-"]
    for tag in platform_tags(glibc_minor):
        cmd += ["--platform", tag]
    return cmd + requirements


def run_pip(cmd: list[str]) -> tuple[int, str, str]:
    res = subprocess.run(cmd, capture_output=True, text=True)
    return res.returncode, res.stdout, res.stderr


def missing_from(stderr: str) -> list[str]:
    """Requirement names pip could not find a wheel for, from its error text."""
    return sorted(set(re.findall(r"No matching distribution found for ([^\s;]+)", stderr)))


class PipError(RuntimeError):
    """pip failed for a reason other than a missing wheel (network, options): no verdict."""


def check(python: str, glibc_minor: int, requirements: list[str], runner=run_pip) -> dict:
    with tempfile.TemporaryDirectory() as target:  # --platform needs --target; nothing is written there
        def resolve(reqs):
            return runner(pip_command(python, glibc_minor, reqs, target))

        rc, out, err = resolve(requirements)
        if rc == 0:
            report = json.loads(out)
            wheels = {item["metadata"]["name"]: {"version": item["metadata"]["version"],
                                                  "wheel": item["download_info"]["url"].rsplit("/", 1)[-1]}
                      for item in report.get("install", [])}
            return {"python": python, "ok": True, "packages": wheels, "missing": []}
        if not missing_from(err):
            last = err.strip().splitlines()[-1] if err.strip() else f"pip exited {rc}"
            raise PipError(f"pip failed for Python {python} without naming a missing wheel: {last}")
        missing = []
        for req in requirements:  # one at a time, so every missing wheel is named, not just the first
            rc1, _, err1 = resolve([req])
            if rc1 != 0:
                missing += missing_from(err1) or [req]
        return {"python": python, "ok": False, "packages": {}, "missing": sorted(set(missing))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--python", nargs="+", default=list(PYTHONS), help="Python versions (default 3.11 3.12 3.13)")
    p.add_argument("--glibc", default="2.36", help="target glibc as 2.N (default 2.36: Raspberry Pi OS bookworm)")
    p.add_argument("--json", help="write the results here as JSON")
    args = p.parse_args(argv)
    m = re.fullmatch(r"2\.(\d+)", args.glibc)
    if not m or int(m.group(1)) < 17:
        print(f"check_aarch64: --glibc must be 2.N with N >= 17, got {args.glibc!r}", file=sys.stderr)
        return 2
    reqs = base_requirements()
    print(f"base install: {', '.join(reqs)}; target: manylinux aarch64, glibc {args.glibc}, binary wheels only")
    results = []
    for py in args.python:
        try:
            r = check(py, int(m.group(1)), reqs)
        except PipError as exc:
            print(f"check_aarch64: {exc}", file=sys.stderr)
            return 2
        results.append(r)
        if r["ok"]:
            pk = ", ".join(f"{n} {v['version']}" for n, v in sorted(r["packages"].items()))
            print(f"Python {py}: OK, {len(r['packages'])} wheels: {pk}")
            apt = [f"{n} ({SYSTEM_LIBRARIES[n]})" for n, v in sorted(r["packages"].items())
                   if n in SYSTEM_LIBRARIES and v["wheel"].endswith("-none-any.whl")]
            if apt:
                print(f"  pure wheels that need a system library (apt install): {', '.join(apt)}")
        else:
            print(f"Python {py}: FAILS, no aarch64 wheel for: {', '.join(r['missing'])}")
    if args.json:
        sys.path.insert(0, str(ROOT))
        from hearsep.files import write_json

        write_json(args.json, {"glibc": args.glibc, "requirements": reqs, "results": results})
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
