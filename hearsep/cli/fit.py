"""``hearsep fit``: prescribe gains for an audiogram and write a validated preset (thin layer over hearsep.fitting)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

DESCRIPTION = """\
Prescribe real-ear insertion gain for an audiogram and write a validated preset for one ear.

AUDIOGRAM is a TOML file with an [audiogram] table (thresholds in dB HL) or the name of one of
the Bisgaard et al. (2010) standard audiograms N1-N7, S1-S3. Rules (gain in dB from thresholds
in dB HL): half-gain, pogo, pogo-ii, nal-r, nal-rp, camfit-linear (linear), nal-rp-wdrc
(compressive: gains for 50/65/80 dB SPL input).

The preset has 6 bands (250..6000 Hz), MPO 110 dB SPL (otc) or 115 dB SPL (prescription), a
calibration of "0 dBFS full-scale sine = --full-scale-db-spl dB SPL" and the programs "quiet",
"noisy restaurant" and "music". It is checked before it is written (MPO, 21 CFR 800.30 limits
for otc devices, gain against target, volume range); nothing is written if it is refused.

examples:
  hearsep fit --audiogram N3 --rule nal-r -o n3.toml
  hearsep fit --audiogram me.toml --rule nal-rp --ear both -o me.toml    # me-right.toml, me-left.toml
  hearsep fit --audiogram S2 --rule camfit-linear --print-targets
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audiogram", required=True, metavar="FILE|NAME",
                        help="audiogram TOML file, or a standard audiogram N1..N7, S1..S3")
    parser.add_argument("--rule", default="nal-r", help="prescription rule (default nal-r)")
    parser.add_argument("--ear", choices=("right", "left", "both"), default=None,
                        help="ear to fit (default: right if measured, else left; with --print-targets: "
                             "every ear measured). 'both' with -o writes NAME-right.toml and NAME-left.toml")
    parser.add_argument("-o", "--output", type=Path, help="preset TOML to write")
    parser.add_argument("--print-targets", action="store_true",
                        help="print the target insertion gains (dB) at the audiogram's frequencies as JSON")
    parser.add_argument("--device", choices=("otc", "prescription"), default="otc",
                        help="device class: otc applies the 21 CFR 800.30 output limits (default otc)")
    parser.add_argument("--full-scale-db-spl", type=float, default=110.0,
                        help="calibration: dB SPL at the eardrum of a 0 dBFS full-scale sine (default 110)")
    parser.add_argument("--mpo-db-spl", type=float, default=None,
                        help="maximum power output, dB SPL, every band and broadband (default 110 otc, 115 prescription)")


def _hz(f: float):
    return int(f) if float(f).is_integer() else f


def _outputs(path: Path, ears: tuple[str, ...]) -> dict[str, Path]:
    if len(ears) == 1:
        return {ears[0]: path}
    return {ear: path.with_name(f"{path.stem}-{ear}{path.suffix or '.toml'}") for ear in ears}


def run(args: argparse.Namespace) -> int:
    from hearsep.errors import ConfigError
    from hearsep.files import check_output_path
    from hearsep.fitting import fit_preset, get_rule, load_audiogram, prescribe, save_preset

    if args.output is None and not args.print_targets:
        raise ConfigError("give -o PRESET.toml to write a preset, or --print-targets")
    rule = get_rule(args.rule).name
    audiogram = load_audiogram(args.audiogram)
    if args.ear == "both":
        ears = audiogram.ears
        if len(ears) < 2:
            raise ConfigError(f"--ear both: {args.audiogram} has only the {ears[0]} ear")
    elif args.ear is not None:
        ears = (args.ear,)
        audiogram.hl_db(args.ear)  # names the missing ear
    else:
        ears = audiogram.ears if args.print_targets and args.output is None else audiogram.ears[:1]
    outputs = _outputs(args.output, ears) if args.output is not None else {}
    for path in outputs.values():
        check_output_path(path)
    presets = {ear: fit_preset(audiogram, rule, ear, device=args.device, full_scale_db_spl=args.full_scale_db_spl,
                               mpo_db_spl=args.mpo_db_spl, source=str(outputs.get(ear, f"{ear} ear")))
               for ear in ears}
    for ear, path in outputs.items():  # all fitted and validated before anything is written
        save_preset(presets[ear], path)
        clipped = prescribe(audiogram, rule, ear).clipped_anywhere_hz
        note = f"; negative {rule} gain clipped to 0 dB at {', '.join(f'{f:g}' for f in clipped)} Hz" if clipped else ""
        print(f"wrote {path} ({ear} ear, {rule}, {len(presets[ear].bands.centres_hz)} bands{note})",
              file=sys.stderr if args.print_targets else sys.stdout)
    if args.print_targets:
        out = {"rule": rule, "ears": {}}
        for ear in ears:
            rx = prescribe(audiogram, rule, ear)
            out["ears"][ear] = {
                "frequencies_hz": [_hz(f) for f in rx.frequencies_hz],
                "insertion_gain_db": [round(g, 2) for g in rx.gain_db[65]],
                "insertion_gain_db_by_input_db_spl": {str(level): [round(g, 2) for g in gains]
                                                      for level, gains in rx.gain_db.items()},
                "clipped_to_0_db_hz": [_hz(f) for f in rx.clipped_anywhere_hz],
                "interpolated_hz": [_hz(f) for f in audiogram.interpolated_hz],
            }
        text = json.dumps(out, indent=2)
        print(re.sub(r"\[\s+([-0-9.,\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text))
    return 0
