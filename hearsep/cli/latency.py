"""``hearsep latency --loopback``: end-to-end latency measured through a JACK loopback."""

from __future__ import annotations

import sys

DESCRIPTION = """Measure the live runner's end-to-end latency: a probe stream plays clicks into the
runner's input and records its output (JACK connections probe -> runner -> probe, no hardware),
and each click's return is timed to the sample. Printed beside the budget it should equal:

  algorithmic  model framing and hop (the contract's latency) + the chain's limiter look-ahead
  resampling   the streaming resamplers' delay when the device rate is not the model's
  buffering    one block period (a block is processed only once all of it has arrived)
  server       the latency the JACK server reports on the path's ports (0 on a loopback)

Needs a running JACK server (e.g. jackd -a e -d dummy -r 16000 -p 32); the run lasts about
1.5 s. Without --loopback, only the parts computed from the model, preset and rate are printed.
Exit status: 0 when measured = expected, 1 when they differ, 2 for bad input."""


def add_arguments(parser):
    parser.add_argument("--loopback", action="store_true", help="measure through a JACK loopback")
    parser.add_argument("--model", help="a .tflite model or its folder (default: models/default)")
    parser.add_argument("--preset", help="a preset TOML file, or example:N3 (built-in NAL-R fit)")
    parser.add_argument("--program", help="program NAME inside the preset")
    parser.add_argument("--rate", type=int, metavar="HZ", help="device rate in Hz (default: the server's)")
    parser.add_argument("--no-resample", action="store_true", help="refuse a device rate other than the model's")
    parser.add_argument("--clicks", type=int, default=4, help="clicks to time, 0.25 s apart (default 4)")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE",
                        help="print the result as JSON (to FILE if given) instead of text")


def run(args) -> int:
    from hearsep.errors import ConfigError
    from hearsep.files import check_output_path
    from hearsep.live import measure_loopback_latency
    from hearsep.live.build import make_processor

    if args.clicks < 1:
        raise ConfigError(f"--clicks must be at least 1 (got {args.clicks})")
    if args.json and args.json != "-":
        check_output_path(args.json)
    if not args.loopback:
        processor = make_processor(args.model, args.preset, args.program, device_rate_hz=args.rate,
                                   resample=not args.no_resample)
        parts = {"algorithmic_ms": 1000.0 * processor.algorithmic_samples / processor.model_rate_hz,
                 "resampling_ms": processor.resampling_ms,
                 "processing_ms": 1000.0 * processor.latency_samples / processor.device_rate_hz,
                 "rate_hz": processor.device_rate_hz}
        _emit(args, parts, [f"algorithmic {parts['algorithmic_ms']:.3f} ms + resampling {parts['resampling_ms']:.3f} ms"
                            f" = {parts['processing_ms']:.3f} ms at {parts['rate_hz']} Hz, plus the server's "
                            "buffering (not measured: use --loopback)"])
        return 0
    from hearsep.live.stream import device_rate_hz

    rate = device_rate_hz(None, args.rate)
    processor = make_processor(args.model, args.preset, args.program, device_rate_hz=rate,
                               resample=not args.no_resample)
    result = measure_loopback_latency(processor, clicks=args.clicks)
    d = result.as_dict()
    verdict = "measured = expected" if result.agrees else "MEASURED DIFFERS FROM EXPECTED"
    lines = [f"measured {d['measured_ms']:.3f} ms ({result.measured_samples} samples at {rate} Hz; clicks: "
             f"{', '.join(str(x) for x in result.click_delays_samples)}), expected {d['expected_ms']:.3f} ms: {verdict}",
             f"  algorithmic {d['algorithmic_ms']:.3f} ms, resampling {d['resampling_ms']:.3f} ms, "
             f"buffering {d['buffering_ms']:.3f} ms ({d['period_frames']}-frame period), server {d['server_ms']:.3f} ms",
             f"  runner: {d['blocks']} blocks, {d['safe_blocks']} safe-path, {d['xruns']} xruns"]
    _emit(args, d, lines)
    return 0 if result.agrees else 1


def _emit(args, d: dict, lines: list[str]) -> None:
    from hearsep.files import json_text, write_json

    if args.json == "-":
        print(json_text(d))
    elif args.json:
        write_json(args.json, d)
        print("\n".join(lines))
    else:
        print("\n".join(lines))
    sys.stdout.flush()
