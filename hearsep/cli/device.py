"""``hearsep device``: talk to hearing-aid firmware over serial (thin layer over firmware_bridge)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hearsep.errors import OutputError

DESCRIPTION = """\
Talk to a hearing aid over its serial link (see firmware_bridge/PROTOCOL.md).

PORT is anything pyserial opens: /dev/ttyACM0, COM3, socket://host:port, or the pty path that
`hearsep device emulate` prints.

examples:
  hearsep device emulate                      # prints /dev/pts/N, serves until Ctrl-C
  hearsep device info --port /dev/pts/N
  hearsep device push-preset quiet.toml --slot 1 --port /dev/pts/N
  hearsep device capture --seconds 5 -o capture.wav --port /dev/pts/N

Arguments out of the protocol's range (slot/program 0..programs-1, volume -30..+10 dB, capture
0.001..60 s) are refused before anything is sent. The emulator's telemetry and capture audio are
synthetic; they are printed with the label "emulated".
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help_: str, port_required: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--port", required=port_required, metavar="PORT",
                       help="serial port or pyserial URL" if port_required
                       else "also make PORT a symlink to the emulator's pty")
        p.add_argument("--baud", type=int, default=921_600, help="link speed in bit/s, > 0 (default 921600; the emulator paces its output at it)")
        if port_required:
            p.add_argument("--timeout-s", type=float, default=0.5, help="reply timeout per attempt in s (> 0, default 0.5)")
            p.add_argument("--retries", type=int, default=3, help="resends of an unanswered request (>= 0, default 3)")
        return p

    action("info", "print firmware version, capabilities, sample rate and block size")
    p = action("push-preset", "send a preset TOML file to a program slot (staged, then committed)")
    p.add_argument("preset", type=Path, help="preset TOML file")
    p.add_argument("--slot", type=int, default=0, help="program slot, 0..programs-1 (default 0)")
    p = action("pull-preset", "read the preset in a program slot")
    p.add_argument("--slot", type=int, default=0, help="program slot, 0..programs-1 (default 0)")
    p.add_argument("-o", "--output", type=Path, help="write to this file (default: stdout)")
    p = action("program", "select the active program")
    p.add_argument("program", type=int, help="program number (0-based)")
    p = action("volume", "set the volume")
    p.add_argument("volume_db", type=int, help="volume in dB relative to the fitting, -30..+10 (e.g. -6)")
    p = action("telemetry", "print processing load, block time, xruns, battery, current, temperature")
    p.add_argument("--count", type=int, default=1, help="number of readings, at least 1 (default 1)")
    p.add_argument("--interval-s", type=float, default=1.0, help="seconds between readings, >= 0 (default 1)")
    p = action("capture", "record the device's input and output audio to a 2-channel audio file")
    p.add_argument("--seconds", type=float, default=5.0, help="duration in seconds, up to 60 (default 5)")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="audio file (.wav, .flac or .ogg; 16-bit): channel 1 input, channel 2 output")
    p = action("emulate", "run a virtual hearing aid on a pseudo-terminal until Ctrl-C", port_required=False)
    p.add_argument("--no-pacing", action="store_true", help="do not pace output at the baud rate")


def _format_info(info) -> str:
    fw = ".".join(map(str, info.firmware_version))
    caps = ", ".join(c.name.lower() for c in type(info.capabilities) if c in info.capabilities)
    return (f"device: {info.name}\nfirmware: {fw}\nprotocol: {info.protocol_version}\ncapabilities: {caps}\n"
            f"sample_rate_hz: {info.sample_rate_hz}\nblock_size_samples: {info.block_size_samples}\n"
            f"programs: {info.num_programs}\npreset_max_bytes: {info.preset_max_bytes}\n"
            f"max_payload_bytes: {info.max_payload_bytes}")


def _format_telemetry(t, emulated: bool) -> str:
    return ("emulated: " if emulated else "") + (f"load {t.load_percent:.1f} %  block {t.block_time_us} us  underruns {t.underruns}  "
            f"overruns {t.overruns}  battery {t.battery_mv} mV  current {t.current_ma:.2f} mA  "
            f"temperature {t.temperature_c:.2f} C  program {t.program}  volume {t.volume_db:+d} dB")


def _emulate(args) -> int:
    from firmware_bridge import Emulator
    from hearsep.errors import ConfigError

    if args.baud <= 0:
        raise ConfigError(f"--baud must be positive, got {args.baud} bit/s")
    emu = Emulator(baudrate=None if args.no_pacing else args.baud)
    port = emu.start()
    link = None
    try:
        if args.port:
            link = Path(args.port)
            try:
                if link.is_symlink():
                    link.unlink()
                link.symlink_to(port)
            except OSError as exc:
                raise OutputError(f"cannot create symlink {link}: {exc.strerror}") from None
        print(port if link is None else f"{port} (also {link})", flush=True)
        emu.serve_forever()
    finally:
        emu.stop()
        if link is not None and link.is_symlink():
            link.unlink()
    return 0


def _progress_bar(seconds: float):
    """A seconds-of-audio bar on stderr (only on a terminal; None without tqdm)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=seconds, unit="s", desc="capturing", file=sys.stderr, disable=None, leave=False,
                bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s audio")


def _check_output(path: Path, audio: bool) -> None:
    """Refuse an output that cannot be written before any work (and before a recording is lost)."""
    from hearsep.audio.sources import AUDIO_SUFFIXES
    from hearsep.files import check_output_path

    if audio and path.suffix.lower() not in AUDIO_SUFFIXES:
        raise OutputError(f"cannot write {path}: unknown audio suffix (use {', '.join(AUDIO_SUFFIXES)})")
    check_output_path(path)


def run(args) -> int:
    if args.action == "emulate":
        return _emulate(args)

    from firmware_bridge import Client
    from firmware_bridge.preset import load_preset

    preset = load_preset(args.preset) if args.action == "push-preset" else None
    if getattr(args, "output", None) is not None:
        _check_output(args.output, audio=args.action == "capture")
    with Client(args.port, baudrate=args.baud, timeout_s=args.timeout_s, retries=args.retries) as dev:
        if args.action == "info":
            print(_format_info(dev.info))
        elif args.action == "push-preset":
            r = dev.push_preset(preset, slot=args.slot)
            resumed = f", resumed at byte {r.resumed_from}" if r.resumed_from else ""
            print(f"preset {args.preset} ({r.size_bytes} bytes, crc32 {r.crc32:08x}) committed to slot "
                  f"{args.slot}{resumed}")
        elif args.action == "pull-preset":
            blob = dev.pull_preset(args.slot)
            if args.output is None:
                sys.stdout.buffer.write(blob)
                sys.stdout.flush()
            else:
                from hearsep.files import write_bytes

                write_bytes(args.output, blob)
                print(f"slot {args.slot}: {len(blob)} bytes -> {args.output}")
        elif args.action == "program":
            print(f"program {dev.select_program(args.program)}")
        elif args.action == "volume":
            print(f"volume {dev.set_volume(args.volume_db):+d} dB")
        elif args.action == "telemetry":
            for reading in dev.telemetry_readings(args.count, args.interval_s):
                print(_format_telemetry(reading, dev.emulated), flush=True)
        elif args.action == "capture":
            import numpy as np

            from hearsep.audio.io import write_audio

            bar = _progress_bar(args.seconds)
            try:
                cap = dev.capture(args.seconds, progress=None if bar is None else
                                  (lambda done, total: bar.update(round(args.seconds * done / total, 3) - bar.n)))
            finally:
                if bar is not None:
                    bar.close()
            write_audio(args.output, np.stack([cap.input, cap.output]), cap.sample_rate_hz, subtype="PCM_16")
            dropped = "?" if cap.device_blocks_dropped is None else cap.device_blocks_dropped
            label = " (emulated audio)" if dev.emulated else ""
            print(f"{args.output}{label}: {cap.samples_expected} samples at {cap.sample_rate_hz} Hz (in, out); "
                  f"lost {cap.lost_samples} ({100 * cap.loss_ratio:.2f} %), device dropped {dropped} blocks, "
                  f"{cap.bad_frames} bad frames, {cap.rx_bytes_per_s / 1000:.1f} kB/s over {cap.elapsed_s:.2f} s")
    return 0
