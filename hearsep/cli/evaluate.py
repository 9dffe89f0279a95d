"""``hearsep evaluate MODEL (--clean DIR --noisy DIR | --mixtures N (--speech DIR --noise DIR | --corpus PATH))``."""

from __future__ import annotations

import sys

DESCRIPTION = """Score a hearsep TFLite model on speech in noise: SI-SDR, SI-SDR improvement, PESQ
(wideband) and STOI, overall and per input-SNR band.

Audio, either:
  --clean DIR --noisy DIR      pairs of files matched by name (VoiceBank-DEMAND style)
  --mixtures N --speech DIR --noise DIR
                               N deterministic mixtures (SNR uniform in --snr-range, --seed)
  --mixtures N --corpus PATH   the same from a corpus manifest.csv (--split, default dev)

Prints a table; --out DIR also writes evaluation.json, evaluation.md and evaluation.png;
--json prints the JSON instead of the table. The model runs as on a device (TFLite, streaming,
--threads interpreter threads); the table's compute is wall time of the model's whole per-hop step."""


def add_arguments(parser):
    parser.add_argument("model", nargs="?", help="a .tflite model or its folder (default: models/default)")
    src = parser.add_argument_group("paired files")
    src.add_argument("--clean", metavar="DIR", help="folder of clean reference files")
    src.add_argument("--noisy", metavar="DIR", help="folder of noisy files, same names as in --clean")
    mix = parser.add_argument_group("generated mixtures")
    mix.add_argument("--mixtures", type=int, metavar="N", help="number of mixtures to generate")
    mix.add_argument("--speech", metavar="DIR", help="folder of clean speech files")
    mix.add_argument("--noise", metavar="DIR", help="folder of noise files")
    mix.add_argument("--corpus", metavar="PATH", help="corpus folder with manifest.csv (instead of --speech/--noise)")
    mix.add_argument("--split", default="dev", help="manifest split to use with --corpus (default dev)")
    mix.add_argument("--snr-range", type=float, nargs=2, metavar=("LO", "HI"), default=(-5.0, 15.0),
                     help="input SNR range in dB (default -5 15)")
    mix.add_argument("--seed", type=int, default=0, help="mixture seed (default 0)")
    mix.add_argument("--seconds", type=float, nargs=2, metavar=("MIN", "MAX"), default=(4.0, 8.0),
                     help="mixture duration range in s (default 4 8)")
    parser.add_argument("--out", metavar="DIR", help="write evaluation.json, .md and .png here")
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of the table")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _pairs(args):
    """(iterable of pairs, count, description) from the arguments; raises ConfigError/AudioError."""
    from hearsep.audio.sources import audio_files
    from hearsep.errors import ConfigError
    from hearsep.eval import mixtures as mx

    paired = args.clean is not None or args.noisy is not None
    generated = args.mixtures is not None or args.speech is not None or args.noise is not None or args.corpus is not None
    if paired and generated:
        raise ConfigError("give either --clean/--noisy or --mixtures with --speech/--noise or --corpus, not both")
    if paired:
        if args.clean is None or args.noisy is None:
            raise ConfigError("--clean and --noisy go together: give both folders")
        files = mx.paired_files(args.clean, args.noisy)
        return mx.load_pairs(files), len(files), {"audio": f"paired files: {args.clean} | {args.noisy}"}
    if not generated:
        raise ConfigError("no audio to score: give --clean DIR --noisy DIR, or --mixtures N with "
                          "--speech DIR --noise DIR (or --corpus PATH)")
    if args.mixtures is None:
        raise ConfigError("--speech/--noise/--corpus need --mixtures N (how many mixtures to make)")
    if args.corpus is not None:
        if args.speech is not None or args.noise is not None:
            raise ConfigError("give --corpus or --speech/--noise, not both")
        speech, noise = mx.corpus_files(args.corpus, args.split)
        where = f"corpus {args.corpus} ({args.split})"
    else:
        if args.speech is None or args.noise is None:
            raise ConfigError("--mixtures needs --speech DIR and --noise DIR (or --corpus PATH)")
        speech, noise = audio_files(args.speech, "speech"), audio_files(args.noise, "noise")
        where = f"speech {args.speech}, noise {args.noise}"
    config = mx.MixtureConfig(count=args.mixtures, snr_range_db=tuple(args.snr_range), seed=args.seed,
                              min_seconds=args.seconds[0], max_seconds=args.seconds[1]).validate()
    info = {"audio": f"{config.count} mixtures from {where}",
            "snr_range_db": list(config.snr_range_db), "seed": config.seed,
            "seconds": [config.min_seconds, config.max_seconds]}
    return mx.generate_mixtures(speech, noise, config), config.count, info


def run(args) -> int:
    from hearsep.errors import ConfigError
    from hearsep.eval.evaluate import ModelSystem, evaluate
    from hearsep.eval.report import band_table, report_paths, summary_line, to_json, write_report
    from hearsep.model.paths import resolve_model

    if args.threads < 1:
        raise ConfigError(f"--threads must be at least 1, got {args.threads}")
    pairs, count, info = _pairs(args)  # checks the audio arguments before the model loads
    model_path = resolve_model(args.model)
    if args.out:
        report_paths(args.out)  # an unwritable --out fails now, not after the whole evaluation
    system = ModelSystem(model_path, num_threads=args.threads)
    info = {"model": str(model_path), "latency_ms": round(system.latency_ms, 3), "threads": args.threads, **info}

    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=count, unit="file", desc="evaluating", file=sys.stderr, disable=None, leave=False)
    try:
        result = evaluate(pairs, system, system=model_path.name, info=info,
                          progress=(lambda _: bar.update(1)) if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    if args.out:
        paths = write_report(result, args.out)
    if args.json:
        print(to_json(result))
    else:
        print(summary_line(result))
        print(band_table(result, markdown=args.markdown))
        if args.out:
            print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
