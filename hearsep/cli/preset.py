"""``hearsep preset``: validate, show or diff presets (thin layer over hearsep.fitting)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

DESCRIPTION = """\
Check and inspect hearing-aid presets (TOML files written by `hearsep fit` or by hand).

  validate P          schema and safety checks (MPO <= 120 dB SPL; 21 CFR 800.30 limits of
                      111 / 117 dB SPL for otc devices; gain within max_gain_over_target_db of
                      the rule's target; volume.max_db must not push 65 dB SPL input over MPO)
  show P              resolved per-band parameters of the base settings and every program:
                      centre (Hz), gain at 50/65/80 dB SPL input (dB), compression threshold
                      (dB SPL) and ratio, attack/release (ms), MPO (dB SPL)
       --json         the same as JSON, with the calibration and the programs
       --png OUT.png  audiogram (dB HL downward, O right, X left), target vs achieved insertion
                      gain per input level, input/output curve per band
  diff A B            the fields that differ (exit 0 when identical, 1 when they differ)

Exit code 2 with one line naming the file, field and reason when a preset is refused.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("validate", help="check a preset (schema and safety)")
    p.add_argument("preset", type=Path, help="preset TOML file")
    p = sub.add_parser("show", help="print the resolved per-band parameters")
    p.add_argument("preset", type=Path, help="preset TOML file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--png", type=Path, metavar="OUT.png", help="also draw the preset to this PNG file")
    p.add_argument("--program", default=None, help="program to draw in the PNG (default: the base settings)")
    p = sub.add_parser("diff", help="list the fields that differ between two presets")
    p.add_argument("a", type=Path, help="first preset TOML file")
    p.add_argument("b", type=Path, help="second preset TOML file")


def _band_rows(params) -> list[dict]:
    from hearsep.chain import compression_ratio

    rows = []
    for b in params.bands:
        row = asdict(b)
        row["compression_ratio"] = round(compression_ratio(b, 50.0, 80.0), 2)  # static CR, 50 -> 80 dB SPL input
        rows.append(row)
    return rows


def _resolved(preset) -> dict:
    out = {}
    for program in [None, *preset.programs]:
        params = preset.resolve(program)
        out["base" if program is None else program] = {
            "bands": _band_rows(params), "broadband_mpo_db_spl": params.broadband_mpo_db_spl,
            "noise_reduction_db": params.noise_reduction_db, "volume_db": params.volume_db,
            "volume_min_db": params.volume_min_db, "volume_max_db": params.volume_max_db,
        }
    return out


def _table(name: str, settings: dict) -> str:
    head = (f"{name}: noise reduction {settings['noise_reduction_db']:g} dB, volume {settings['volume_db']:+g} dB "
            f"({settings['volume_min_db']:+g}..{settings['volume_max_db']:+g}), broadband MPO "
            f"{settings['broadband_mpo_db_spl']:g} dB SPL")
    lines = [head, "  centre_hz  g50_db  g65_db  g80_db  ratio  thr_db_spl  attack_ms  release_ms  mpo_db_spl"]
    for r in settings["bands"]:
        lines.append(f"  {r['centre_hz']:9g}  {r['gain_50_db']:6.1f}  {r['gain_65_db']:6.1f}  {r['gain_80_db']:6.1f}"
                     f"  {r['compression_ratio']:5.2f}  {r['compression_threshold_db_spl']:10g}  {r['attack_ms']:9g}"
                     f"  {r['release_ms']:10g}  {r['mpo_db_spl']:10g}")
    return "\n".join(lines)


def _flatten(d, prefix=""):
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and v:
            yield from _flatten(v, key)
        else:
            yield key, v


def run(args: argparse.Namespace) -> int:
    from hearsep.fitting import load_preset

    if args.action == "validate":
        preset = load_preset(args.preset)
        print(f"{args.preset}: valid ({preset.device}, rule {preset.rule}, {preset.ear} ear, "
              f"{preset.num_bands} bands, programs: {', '.join(preset.programs) or 'none'})")
        return 0
    if args.action == "show":
        if args.png is not None:
            from hearsep.files import check_output_path

            check_output_path(args.png)
        preset = load_preset(args.preset)
        resolved = _resolved(preset)
        if args.json:
            doc = {"name": preset.name, "device": preset.device, "rule": preset.rule, "ear": preset.ear,
                   "calibration": {"full_scale_db_spl": preset.calibration.full_scale_db_spl},
                   "band_crossovers_hz": list(preset.bands.crossovers_hz),
                   "programs": list(preset.programs), "resolved": resolved}
            print(json.dumps(doc, indent=1))
        else:
            print(f"{preset.name} ({preset.device}, rule {preset.rule}, {preset.ear} ear); calibration: 0 dBFS "
                  f"full-scale sine = {preset.calibration.full_scale_db_spl:g} dB SPL")
            for name, settings in resolved.items():
                print(_table(name, settings))
        if args.png is not None:
            from hearsep.fitting.plot import save_preset_png

            save_preset_png(preset, args.png, args.program)
        return 0
    a, b = load_preset(args.a).to_toml_dict(), load_preset(args.b).to_toml_dict()
    fa, fb = dict(_flatten(a)), dict(_flatten(b))
    differ = 0
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key, "(absent)"), fb.get(key, "(absent)")
        if va != vb:
            differ += 1
            print(f"{key}: {va!r} -> {vb!r}")
    if not differ:
        print(f"{args.a} and {args.b} are the same preset")
    return 1 if differ else 0
