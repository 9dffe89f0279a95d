"""``hearsep live``: microphone -> enhancer (-> preset chain) -> earpiece, until stopped."""

from __future__ import annotations

import sys

DESCRIPTION = """Run the enhancer live through PortAudio (JACK, ALSA): microphone -> separator model
-> hearing-aid chain (with --preset) -> earpiece, mono, one block per audio-server period.

The stream runs at the device's rate (--rate to ask for another; a JACK server runs at its own
rate only). A device rate other than the model's is resampled to the model's rate and back, and
the resamplers' delay is part of the latency shown. A hop that would miss the callback's time
budget (--budget, a fraction of the block period) takes the safe path: the input delayed by the
same latency, with the preset's gains and limiter, crossfaded in and out; such blocks are
counted. Ctrl-C or SIGTERM stops the run; the summary gives blocks, safe-path blocks, xruns
(PortAudio's under/overflow flags), the callback time (p50/p99/p99.9/max in microseconds and as
a fraction of the period) and the real-time factor. Exit status: 0, 1 if the audio server (or
the device's stream) went away mid-run, 2 for bad input.

On a JACK server started with autoconnect off (jackd -a e), the stream's ports are connected to
the first system capture and playback ports (--no-connect leaves them for you)."""


def add_arguments(parser):
    parser.add_argument("--model", help="a .tflite model or its folder (default: models/default)")
    parser.add_argument("--preset", help="a preset TOML file (hearsep fit), or example:N3 for a built-in "
                        "NAL-R fit of a Bisgaard audiogram; without it no hearing-aid chain runs")
    parser.add_argument("--program", help="program NAME inside the preset (default: its base settings)")
    parser.add_argument("--input", help="input device: index or (part of a) name (default: the default device)")
    parser.add_argument("--output", help="output device: index or (part of a) name (default: the default device)")
    parser.add_argument("--rate", type=int, metavar="HZ", help="device sample rate in Hz (default: the device's)")
    parser.add_argument("--no-resample", action="store_true",
                        help="refuse to run when the device rate differs from the model's")
    parser.add_argument("--seconds", type=float, metavar="N", help="stop after N seconds of audio (checked every "
                        "20 ms; default: run until Ctrl-C / SIGTERM)")
    parser.add_argument("--budget", type=float, default=0.75, metavar="FRACTION",
                        help="share of the block period the model may use before a hop takes the safe path "
                        "(0 < FRACTION <= 1, default 0.75)")
    parser.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    parser.add_argument("--no-connect", action="store_true", help="JACK: do not connect the ports to system:*")
    parser.add_argument("--json", metavar="FILE", help="also write the summary as JSON to FILE")


def run(args) -> int:
    import threading

    from hearsep.errors import ConfigError
    from hearsep.files import check_output_path, write_json
    from hearsep.live import run_live, stop_on_signals
    from hearsep.live.build import make_processor
    from hearsep.live.stream import device_rate_hz

    if args.seconds is not None and not args.seconds > 0:
        raise ConfigError(f"--seconds must be positive (got {args.seconds})")
    if args.json:
        check_output_path(args.json)
    rate = device_rate_hz(args.input, args.rate)
    processor = make_processor(args.model, args.preset, args.program, device_rate_hz=rate,
                               resample=not args.no_resample, budget_fraction=args.budget, num_threads=args.threads)

    def started(info):
        ports = f" (JACK {info['in_port']} -> {info['out_port']})" if info["in_port"] else ""
        server = info["server_frames"]
        server_text = (f" + {1000.0 * server / rate:.2f} ms JACK-reported port latency"
                       if server is not None else " + the audio server's")
        print(f"live: {info['input'].name} -> {info['output'].name} at {info['rate_hz']} Hz{ports}, "
              f"latency {1000.0 * processor.latency_samples / rate:.2f} ms{server_text}; "
              "Ctrl-C to stop", file=sys.stderr, flush=True)

    stop = threading.Event()
    with stop_on_signals(stop):
        summary = run_live(processor, input_device=args.input, output_device=args.output, seconds=args.seconds,
                           stop=stop, connect_system=not args.no_connect, on_start=started)
    print("\n".join(summary.lines()))
    if args.json:
        write_json(args.json, summary.as_dict())
    if not summary.ok:
        what = "audio server" if summary.ended == "server stopped" else "audio stream"
        print(f"hearsep live: error: the {what} stopped during the run", file=sys.stderr)
        return 1
    return 0

