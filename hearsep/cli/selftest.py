"""``hearsep selftest``: on the target board, one line per check; exit 1 if any fails."""

from __future__ import annotations

DESCRIPTION = """Check that this machine can run hearsep live. One line per check, PASS or FAIL:

  model     the model loads (with --delegate edgetpu: on the Coral, which needs an
            edgetpu_compiler-compiled model) and its tensors match its contract
  preset    the preset loads, validates, resolves --program and builds the chain
  audio     PortAudio lists at least one input and one output device (--no-audio skips)
  realtime  an unpaced run of --seconds of speech-like audio at the model's hop: the p99.9
            per-hop time must leave at least --margin of the hop free (default 0.5 = half)

Exit 0 when every check passes, 1 otherwise."""


def add_arguments(parser):
    parser.add_argument("--model", help="a .tflite model or its folder (default: models/default)")
    parser.add_argument("--preset", help="a fitting preset (TOML) to validate and run")
    parser.add_argument("--program", help="the preset's program (default: its first)")
    parser.add_argument("--delegate", choices=["edgetpu"], help="load the model on an accelerator delegate")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds of audio for the timed run (default 2)")
    parser.add_argument("--margin", type=float, default=0.5,
                        help="fraction of the hop that p99.9 must leave free (default 0.5)")
    parser.add_argument("--no-audio", action="store_true", help="skip the audio-device check (headless CI)")


def run(args) -> int:
    from hearsep.deploy.selftest import run_selftest
    from hearsep.errors import ConfigError

    if not args.seconds > 0:
        raise ConfigError(f"--seconds must be positive, got {args.seconds:g}")
    if not args.margin < 1:
        raise ConfigError(f"--margin must be below 1 (a fraction of the hop), got {args.margin:g}")
    checks = run_selftest(args.model, args.preset, args.program, args.delegate, args.seconds, args.margin,
                          check_audio=not args.no_audio)
    for c in checks:
        print(c.line())
    return 0 if all(c.ok for c in checks) else 1
