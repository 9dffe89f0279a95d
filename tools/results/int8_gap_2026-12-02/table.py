#!/usr/bin/env python3
"""The README tables of this folder, printed from its JSON files: python table.py"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def gap_table(g: dict) -> str:
    rows = ["| same weights, quantized as | SI-SDRi dB | vs float | PESQ | vs float | bytes |", "|---|---|---|---|---|---|"]
    names = {"float32": "float32", "dynamic": "dynamic (int8 weights)", "int16x8": "int16x8",
             "int8": "int8, int8 step form (`arch.step(model, int8=True)`)",
             "int8_plain": "int8, default step form (the shipped graph)"}
    for mode, label in names.items():
        gap = g["gap_to_float_db"].get(mode)
        pgap = g["pesq_gap_to_float"].get(mode)
        rows.append(f"| {label} | {g['si_sdri_db_mean'][mode]:.3f} | {'' if gap is None else f'{gap:+.3f}'} | "
                    f"{g['pesq_mean'][mode]:.3f} | {'' if pgap is None else f'{pgap:+.3f}'} | {g['bytes'][mode]} |")
    return "\n".join(rows)


def drift_table(g: dict) -> str:
    d = g["drift_vs_float32"]
    rows = ["| model vs float32 | state RMSE | by second | mask RMSE | state codes held | held while float moved |",
            "|---|---|---|---|---|---|"]
    for mode, v in d.items():
        rows.append(f"| {mode} | {v['state_rmse']:.4f} | {' / '.join(f'{x:.3f}' for x in v['state_rmse_by_bucket'])} | "
                    f"{v['mask_rmse']:.4f} | {v['held_fraction']:.3f} | {v['held_while_reference_moved']:.3f} |")
    return "\n".join(rows)


def localize_table(loc: dict) -> str:
    rows = ["| row | SI-SDRi dB | vs float | PESQ | vs float |", "|---|---|---|---|---|"]
    for name, v in loc["rows"].items():
        rows.append(f"| {name} | {v['si_sdri_db']:.3f} | {v['si_sdri_vs_float_db']:+.3f} | {v['pesq']:.3f} | "
                    f"{v['pesq_vs_float']:+.3f} |")
    return "\n".join(rows)


def main() -> None:
    g = json.loads((HERE / "int8_gap_default.json").read_text())
    print(gap_table(g), end="\n\n")
    if (HERE / "int8_gap_default_dev11.json").is_file():
        print(gap_table(json.loads((HERE / "int8_gap_default_dev11.json").read_text())), end="\n\n")
    if "drift_vs_float32" in g:
        print(drift_table(g), end="\n\n")
    if (HERE / "int8_localize_default.json").is_file():
        print(localize_table(json.loads((HERE / "int8_localize_default.json").read_text())))


if __name__ == "__main__":
    main()
