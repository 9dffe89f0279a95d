"""``hearsep profile``: per-hop time, misses, CPU, memory and energy of the enhancer on this machine."""

from __future__ import annotations

import sys

DESCRIPTION = """Profile the streaming enhancer (and, with --preset, the hearing-aid chain) on this machine.

Runs N seconds of audio hop by hop (synthetic speech-like sound in noise by default, or --input FILE),
as fast as possible or --paced at the audio rate like a live runner, and reports per-hop processing
time p50/p90/p99/p99.9/max in µs and as a fraction of the hop, the real-time factor (processing time /
audio time; below 1 keeps up), deadline misses (output ready more than one hop after the hop's input
arrived), CPU use (% of one core), peak RSS (MB, whole process), the model invoke against the rest
of the hop, and the machine (CPU, cores, governor, Python, LiteRT).

Energy (--power): mean power during the run, power above an idle baseline measured just before it
(--idle-s seconds of sleep), energy in J and J per hour of audio. Sources:
  auto         try rapl, hwmon, pi5; say which was found, or that none was (no number is invented)
  rapl         Linux powercap intel-rapl:N/energy_uj (CPU package; root-only since Linux 5.10)
  hwmon        a hwmon power monitor (INA219/INA226...): energy*/power*/curr*+in* inputs; hwmon:NAME picks one
  pi5          Raspberry Pi 5 PMIC via `vcgencmd pmic_read_adc` (board rails, not the 5 V input)
  um25c:PORT   RuiDeng UM24C/UM25C/UM34C USB meter on a serial port (e.g. /dev/rfcomm0)
  none         no power measurement
For energy per hour of live use, combine --power with --paced.

Examples:
  hearsep profile --seconds 20 --json p.json --md p.md --png p.png
  hearsep profile --preset my.toml --paced --power um25c:/dev/rfcomm0
  hearsep profile --compare pi5.json pi4.json coral.json"""


def add_arguments(parser):
    parser.add_argument("--model", metavar="PATH", help="a .tflite model or its folder (default: models/default)")
    parser.add_argument("--preset", metavar="TOML", help="a fitting preset (TOML): also run the hearing-aid chain it configures")
    parser.add_argument("--program", metavar="NAME", help="the preset's program to use (default: its first)")
    parser.add_argument("--seconds", type=float, metavar="S", help="seconds of audio to run (default 10; with --input, the whole file)")
    parser.add_argument("--input", metavar="FILE", help="profile on this audio file instead of synthetic speech in noise")
    parser.add_argument("--hop-ms", type=float, metavar="MS", help="expected hop in ms: refuse to run if the model's differs")
    parser.add_argument("--paced", action="store_true", help="release hops at the audio rate (live-like) instead of back to back")
    parser.add_argument("--power", default="auto", metavar="SOURCE",
                        help="auto | rapl | hwmon[:NAME] | pi5 | um25c:PORT | none (default auto)")
    parser.add_argument("--sysfs-root", default="/sys", metavar="DIR", help="where sysfs is (default /sys; tests use fake trees)")
    parser.add_argument("--idle-s", type=float, default=1.0, metavar="S", help="seconds of idle baseline before the run (default 1)")
    parser.add_argument("--threads", type=int, default=1, metavar="N", help="interpreter threads (default 1)")
    parser.add_argument("--delegate", choices=["edgetpu"], help="run the model on an accelerator delegate")
    parser.add_argument("--json", metavar="FILE", help="write the summary as JSON here")
    parser.add_argument("--md", metavar="FILE", help="write a Markdown report here")
    parser.add_argument("--png", metavar="FILE", help="write a plot (hop-time histogram with the deadline, timeline) here")
    parser.add_argument("--compare", nargs="+", metavar="JSON",
                        help="print a ratio table of earlier --json profiles (one column per run) and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or report (files are still written)")


def _compare(args) -> int:
    from pathlib import Path

    from hearsep.profiling.report import compare_table, load_profile

    profiles = [load_profile(p) for p in args.compare]
    print(compare_table(profiles, [Path(p).stem for p in args.compare]))
    print(f"ratios (xN) are to the first run, {Path(args.compare[0]).stem}")
    return 0


def run(args) -> int:
    if args.compare:
        return _compare(args)

    from hearsep.errors import ConfigError
    from hearsep.files import check_output_path
    from hearsep.profiling.power import open_power_source
    from hearsep.profiling.profile import check_hop_ms, load_enhancer, profile_audio, profile_enhancer
    from hearsep.profiling.report import check_png_possible, format_text, write_reports

    for path in (args.json, args.md, args.png):
        if path:
            check_output_path(path)
    if args.png:
        check_png_possible()
    if not args.idle_s >= 0:
        raise ConfigError(f"--idle-s must be >= 0, got {args.idle_s:g}")
    enhancer, model_path = load_enhancer(args.model, args.preset, args.program, args.threads, args.delegate)
    c = enhancer.contract
    check_hop_ms(args.hop_ms, c)
    x, what = profile_audio(c.sample_rate_hz, args.input, args.seconds)
    power, note = open_power_source(args.power, args.sysfs_root)

    bar = None
    if not args.quiet:
        try:
            from tqdm import tqdm

            bar = tqdm(total=x.shape[0] // c.hop_samples, unit="hop", desc="profiling", file=sys.stderr,
                       disable=None, leave=False)
        except ImportError:
            pass
    done = [0]

    def progress(n):
        bar.update(n - done[0])
        done[0] = n

    labels = {"model": f"{model_path.parent.name}/{model_path.name}", "model_path": str(model_path), "preset": args.preset,
              "program": args.program, "input": what, "threads": args.threads, "delegate": args.delegate}
    try:
        result = profile_enhancer(enhancer, x, paced=args.paced, power=power, power_note=note,
                                  idle_s=args.idle_s,
                                  progress=progress if bar is not None else None,
                                  sysfs_root=args.sysfs_root, labels=labels)
    finally:
        if bar is not None:
            bar.close()
        if power is not None:
            power.close()
    write_reports(result, args.json, args.md, args.png)
    if not args.quiet:
        print(format_text(result.summary))
    return 0
