"""``hearsep`` command line: a thin dispatcher over the library.

Each subcommand lives in its own module under ``hearsep.cli`` exposing ``add_arguments(parser)``,
``run(args) -> int`` and optionally ``DESCRIPTION``; its one-line help lives in :data:`COMMANDS`
(so ``hearsep --help`` imports no command module). Modules are imported only when their
command runs, so ``hearsep enhance`` never imports TensorFlow. Any :class:`HearsepError`
becomes a one-line ``hearsep: error: ...`` message and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import importlib
import sys

from hearsep import __version__
from hearsep.errors import HearsepError

# command name -> (module, one-line help). Keep the help here so `hearsep --help` imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "enhance": ("hearsep.cli.enhance", "enhance an audio file with a separator model"),
    "info": ("hearsep.cli.info", "print a model's contract, ops, tensor types, size and latency"),
    "train": ("hearsep.cli.train", "train a separator from a TOML config (needs the [train] extra)"),
    "evaluate": ("hearsep.cli.evaluate", "score a model: SI-SDR, SI-SDRi, PESQ, STOI per SNR band"),
    "quantize": ("hearsep.cli.quantize", "convert a Keras separator to TFLite (float/int8/...) with a report"),
    "device": ("hearsep.cli.device", "talk to hearing-aid firmware over serial (info, presets, telemetry...)"),
    "testbox": ("hearsep.cli.testbox", "measure a preset's hearing-aid chain like an analyzer (ANSI S3.22)"),
    "live": ("hearsep.cli.live", "run the enhancer live: microphone -> model (-> preset chain) -> earpiece"),
    "devices": ("hearsep.cli.devices", "list audio host APIs and devices (channels, default rate) for hearsep live"),
    "latency": ("hearsep.cli.latency", "measure end-to-end latency with a click through a JACK loopback"),
    "fit": ("hearsep.cli.fit", "prescribe gains for an audiogram (NAL-R, POGO, CAMFIT...) and write a preset TOML"),
    "preset": ("hearsep.cli.preset", "validate, show (text, JSON, PNG) or diff hearing-aid presets"),
    "profile": ("hearsep.cli.profile", "profile the enhancer (+ chain) here: hop times, RTF, misses, CPU, RSS, power"),
    "selftest": ("hearsep.cli.selftest", "check a board: model loads, preset validates, audio devices, keeps up"),
    "service": ("hearsep.cli.service", "install / uninstall / show the systemd unit that runs `hearsep live` at boot"),
}


def _available_commands() -> dict[str, tuple[str, str]]:
    out = {}
    for name, (module, help_) in COMMANDS.items():
        if importlib.util.find_spec(module) is not None:
            out[name] = (module, help_)
    return out


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    """The top-level parser (one sub-parser per available command) and the commands it knows."""
    parser = argparse.ArgumentParser(
        prog="hearsep",
        description="Low-latency neural speech enhancement for hearing aids: enhance, train, "
        "quantize, evaluate and talk to devices.",
    )
    parser.add_argument("--version", action="version", version=f"hearsep {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands = _available_commands()
    for name, (module, help_) in commands.items():
        sub.add_parser(name, help=help_, add_help=False)
    return parser, commands


def main(argv: list[str] | None = None) -> int:
    """Run ``hearsep ARGV``; returns the exit code (0 ok, 2 bad input, 128+N stopped by signal N)."""
    import importlib.util  # noqa: F401  (used by _available_commands)

    argv = list(sys.argv[1:] if argv is None else argv)
    parser, commands = build_parser()
    if not argv or argv[0] not in commands:
        parser.parse_args(argv or ["--help"])  # prints help / usage error and exits
        return 2
    name = argv[0]
    module = importlib.import_module(commands[name][0])
    sub = argparse.ArgumentParser(prog=f"hearsep {name}", description=getattr(module, "DESCRIPTION", commands[name][1]),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    module.add_arguments(sub)
    args = sub.parse_args(argv[1:])
    previous = _install_signal_handlers()
    try:
        return int(module.run(args) or 0)
    except HearsepError as exc:
        print(f"hearsep {name}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"hearsep {name}: interrupted", file=sys.stderr)
        return 130
    except Terminated as exc:
        print(f"hearsep {name}: stopped by {exc.signal_name}; nothing half-written was left", file=sys.stderr)
        return int(exc.code)
    except BrokenPipeError:
        _silence_stdout()
        return 141  # 128 + SIGPIPE, as a shell reports a reader that left early
    finally:
        _restore_signal_handlers(previous)


class Terminated(SystemExit):
    """Raised by the SIGTERM/SIGHUP handler: unwinds like an exception, so every ``with``
    block (e.g. :func:`hearsep.files.atomic_path`) removes its temporary files on the way out.
    ``code`` is ``128 + signal number`` (the shell convention)."""

    def __init__(self, signum: int):
        import signal

        super().__init__(128 + signum)
        self.signal_name = signal.Signals(signum).name


def _raise_terminated(signum, frame):
    # one is enough: a second SIGTERM/SIGHUP must not interrupt the clean-up this one starts
    import signal

    for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)


def _install_signal_handlers() -> dict:
    """SIGTERM and SIGHUP raise :class:`Terminated` (default: die at once, leaving temp files)."""
    import signal

    previous = {}
    for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
        if sig is None:
            continue
        try:
            previous[sig] = signal.signal(sig, _raise_terminated)
        except ValueError:  # not the main thread: leave the handlers alone
            break
    return previous


def _restore_signal_handlers(previous: dict) -> None:
    import signal

    for sig, handler in previous.items():
        signal.signal(sig, handler)


def _silence_stdout() -> None:
    """After EPIPE on stdout (``hearsep info --json | head``): point stdout at /dev/null so the
    interpreter's final flush does not raise again (Python docs, ``signal`` module, "Note on
    SIGPIPE")."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
