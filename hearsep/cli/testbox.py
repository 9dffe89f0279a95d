"""``hearsep testbox --preset P [--program NAME] [--json] [--png OUT.png]``."""

from __future__ import annotations

import sys
from pathlib import Path

DESCRIPTION = """\
Measure the hearing-aid chain a preset configures, the way a hearing-aid analyzer measures a
device per ANSI S3.22, with pure tones through the streaming chain (no separator):

  OSPL90         output (dB SPL) for 90 dB SPL input at full-on volume, 200 Hz .. 0.45 fs;
                 HFA = average at 1000/1600/2500 Hz, and the maximum
  full-on gain   gain (dB) for 50 dB SPL input at full-on volume; HFA
  RTS / RTG      volume (dB) where the HFA gain for 60 dB SPL input is HFA-OSPL90 - 77 dB,
                 and that gain
  response       gain (dB) per frequency at RTS, 60 dB SPL input
  I/O curves     output (dB SPL) at 500/1000/2000/4000 Hz for 40..90 dB SPL input
  attack/release ms, tone stepped 55 -> 90 -> 55 dB SPL (within 3 dB / 4 dB of steady state)
  EIN            equivalent input noise (dB SPL) - undefined for a noiseless digital chain
  THD            harmonic distortion (%) at 500/800/1600 Hz, 70/70/65 dB SPL input, at RTS

Each figure is printed next to what the preset asks for (its static curves and times).
Levels use the preset's calibration (a 0 dBFS sine = full_scale_db_spl dB SPL). The STFT
framing comes from the model's contract (default: models/default)."""


def add_arguments(parser):
    parser.add_argument("--preset", required=True, help="preset TOML file (see `hearsep fit`) or example:NAME "
                        "(e.g. example:N3)")
    parser.add_argument("--program", help="program of the preset to measure (default: the base settings)")
    parser.add_argument("--model", help="model whose STFT framing the chain runs in (default: models/default)")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON instead of a table")
    parser.add_argument("--png", type=Path, metavar="OUT.png", help="also draw the curves and envelopes here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    from hearsep.eval.testbox import Testbox, save_testbox_png, summary_rows
    from hearsep.files import check_output_path, json_text
    from hearsep.fitting import load_chain_params
    from hearsep.model.contract import read_contract
    from hearsep.model.paths import resolve_model

    params = load_chain_params(args.preset, args.program)
    contract = read_contract(resolve_model(args.model))
    if args.png is not None:
        check_output_path(args.png)
    box = Testbox(params, contract)
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=box.signal_count(), unit="signal", desc="measuring", file=sys.stderr, disable=None,
                   leave=False)
        box.progress = bar.update
    report = box.measure()
    if bar is not None:
        bar.close()
    name = f"{Path(args.preset).name}" + (f" program {args.program!r}" if args.program else "")
    report = {"preset": str(args.preset), "program": args.program, **report}
    if args.png is not None:
        save_testbox_png(report, args.png, f"virtual test box: {name}")
    if args.json:
        print(json_text(report))
        return 0
    cal = report["calibration"]["full_scale_db_spl"]
    vol = report["volume_db"]
    print(f"test box: {name}  (0 dBFS sine = {cal:g} dB SPL; volume {vol['preset']:g} dB in "
          f"[{vol['min']:g}, {vol['max']:g}]; broadband MPO {report['mpo_db_spl']['broadband']:g} dB SPL)")
    print(f"{'measurement':<62}{'measured':>10}{'preset':>10}")
    for label, measured, asked in summary_rows(report):
        m = "n/a" if measured is None else f"{measured:.1f}"
        a = "-" if asked is None else f"{asked:.1f}"
        print(f"{label:<62}{m:>10}{a:>10}")
    print(f"EIN: {report['equivalent_input_noise']['note']}")
    if args.png is not None:
        print(f"wrote {args.png}")
    return 0
