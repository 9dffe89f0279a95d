"""``hearsep enhance IN -o OUT [--model PATH]``: parse, call :class:`hearsep.Enhancer`, print."""

from __future__ import annotations

import sys
from pathlib import Path

DESCRIPTION = """Enhance speech in noise in an audio file (wav, flac, ogg) with a hearsep TFLite model.

The file is streamed in blocks (constant memory, any length), resampled to the model's rate and
back, each channel has its own model state, and the output is time-aligned with the input (the
model's algorithmic latency is removed for files; live use keeps it). Levels are not rescaled:
integer formats (PCM wav, flac) are clipped sample by sample at full scale and the number of
clipped samples is reported. The output is written to a temporary file and renamed, so a
failure or an interruption never leaves a half-written file. Without --model the shipped
default model (models/default) is used."""


def add_arguments(parser):
    """The command's arguments (units in the help texts)."""
    parser.add_argument("input", help="audio file to enhance (wav, flac, ogg)")
    parser.add_argument("-o", "--output", required=True,
                        help="output audio file (.wav, .flac or .ogg; same rate, channels and sample format)")
    parser.add_argument("--model", help="a .tflite model or its folder (default: $HEARSEP_MODEL, else the shipped model)")
    parser.add_argument("--threads", type=int, default=1,
                        help="interpreter threads, >= 1 (default 1: more threads are slower for these small models)")
    parser.add_argument("--delegate", choices=["edgetpu"],
                        help="run the model on an accelerator delegate (needs libedgetpu.so.1 and a Coral device)")
    parser.add_argument("--preset", help="hearing-aid preset after the separator: a TOML file (see `hearsep fit`) "
                        "or example:NAME (e.g. example:N3); levels follow its calibration (0 dBFS sine = "
                        "full_scale_db_spl dB SPL)")
    parser.add_argument("--program", help="program of the preset (e.g. quiet, 'noisy restaurant', music)")
    parser.add_argument("--no-separator", action="store_true",
                        help="run the preset's chain alone (amplification only, no model); needs --preset")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def run(args) -> int:
    """Check the inputs and outputs, then stream the file through :class:`hearsep.Enhancer`; 0 on success."""
    import time

    from hearsep.audio.io import AudioWriter, audio_info, check_audio_output, read_blocks
    from hearsep.errors import ConfigError, OutputError
    from hearsep.model.paths import resolve_model
    from hearsep.chain import build_chain
    from hearsep.fitting import load_chain_params
    from hearsep.runtime.api import Enhancer

    if args.threads < 1:
        raise ConfigError(f"--threads must be >= 1 (got {args.threads}); 1 is fastest for these small models")
    out_path = Path(args.output)
    if out_path.resolve() == Path(args.input).resolve():
        raise OutputError("output path equals the input path; refusing to overwrite the input")
    check_audio_output(out_path)  # before any work: suffix, folder, permissions
    info = audio_info(args.input)
    model_path = resolve_model(args.model)
    params = load_chain_params(args.preset, args.program)
    if args.no_separator and params is None:
        raise ConfigError("--no-separator runs the hearing-aid chain alone: give it a --preset")
    chain = None if params is None else (lambda contract: build_chain(params, contract))
    enhancer = Enhancer(model_path, sample_rate_hz=info.sample_rate_hz, channels=info.channels, chain=chain,
                        separator=not args.no_separator, num_threads=args.threads, delegate=args.delegate)

    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=info.frames / info.sample_rate_hz, unit="s", desc="enhancing", file=sys.stderr,
                   disable=None, leave=False, bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s audio [{elapsed}<{remaining}]")

    def blocks():
        for block in read_blocks(args.input):
            yield block
            if bar is not None:
                bar.update(block.shape[1] / info.sample_rate_hz)

    t0 = time.perf_counter()
    with AudioWriter(out_path, info.sample_rate_hz, info.channels, subtype=info.subtype) as writer:
        for part in enhancer.enhance_stream(blocks()):
            writer.write(part)
    elapsed = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    if not args.quiet:
        clipped = writer.clipped_samples
        print(f"wrote {out_path} ({info.duration_s:.2f} s, {info.channels} ch, {writer.subtype}) with "
              f"{model_path.name}: latency {enhancer.latency_ms:.2f} ms (model {enhancer.contract.latency_ms:.2f} ms), "
              f"real-time factor "
              f"{elapsed / max(info.duration_s, 1e-9):.3f}, "
              + (f"{clipped} samples clipped at full scale" if clipped else "no samples clipped"))
    return 0
