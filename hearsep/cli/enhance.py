"""``hearsep enhance IN -o OUT [--model PATH]``."""

from __future__ import annotations

import sys
from pathlib import Path

HELP = "enhance an audio file with a separator model"
DESCRIPTION = """Enhance speech in noise in an audio file (wav, flac, ogg) with a hearsep TFLite model.

The file is resampled to the model's rate and back (polyphase), each channel gets its own model
state, and the output is time-aligned with the input (the model's algorithmic latency is removed
for files; live use keeps it). The output is written to a temporary file and renamed, so a failure
never leaves a half-written file. Without --model the shipped default (models/default) is used."""


def add_arguments(parser):
    parser.add_argument("input", help="audio file to enhance (wav, flac, ogg)")
    parser.add_argument("-o", "--output", required=True, help="output audio file (.wav, .flac or .ogg)")
    parser.add_argument("--model", help="a .tflite model or its folder (default: models/default)")
    parser.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    parser.add_argument("--delegate", choices=["edgetpu"], help="run the model on an accelerator delegate")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def run(args) -> int:
    import time

    import numpy as np

    from hearsep.audio.io import read_audio, resample, write_audio
    from hearsep.errors import OutputError
    from hearsep.model.paths import resolve_model
    from hearsep.runtime.enhancer import StreamingEnhancer, enhance_signal

    out_path = Path(args.output)
    if out_path.resolve() == Path(args.input).resolve():
        raise OutputError("output path equals the input path; refusing to overwrite the input")
    model_path = resolve_model(args.model)
    audio, info = read_audio(args.input)
    first = StreamingEnhancer.from_model(model_path, num_threads=args.threads, delegate=args.delegate)
    rate = first.contract.sample_rate_hz
    x = resample(audio, info.sample_rate_hz, rate)
    total = x.shape[0] * x.shape[1]

    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="sample", unit_scale=True, desc="enhancing", file=sys.stderr,
                   disable=None, leave=False)
    t0 = time.perf_counter()
    channels = []
    for ch in range(x.shape[0]):
        enh = first if ch == 0 else StreamingEnhancer.from_model(model_path, num_threads=args.threads,
                                                                 delegate=args.delegate)
        channels.append(enhance_signal(enh, x[ch], progress=bar.update if bar else None))
    elapsed = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    y = resample(np.stack(channels), rate, info.sample_rate_hz)[:, :audio.shape[1]]
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 1.0:  # keep the file valid for integer formats; report it
        y = y / peak
    write_audio(out_path, y, info.sample_rate_hz, subtype=info.subtype)
    if not args.quiet:
        dur = audio.shape[1] / info.sample_rate_hz
        print(f"wrote {out_path} ({dur:.2f} s, {audio.shape[0]} ch) with {model_path.name}: "
              f"latency {first.latency_ms:.2f} ms, real-time factor {elapsed / max(dur, 1e-9):.3f}"
              + (f", peak {peak:.2f} normalised to 1.0" if peak > 1.0 else ""))
    return 0
