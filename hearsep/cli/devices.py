"""``hearsep devices``: the audio host APIs and devices PortAudio sees."""

from __future__ import annotations

DESCRIPTION = """List the audio host APIs (JACK, ALSA, ...) and devices PortAudio sees, with their input
and output channel counts and default sample rate in Hz; '>' marks the default input, '<' the
default output. Use the index or (part of) the name with hearsep live --input/--output. A JACK
server shows up only while it runs."""


def add_arguments(parser):
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args) -> int:
    import json
    from dataclasses import asdict

    from hearsep.live import list_devices

    apis, devices = list_devices()
    if args.json:
        print(json.dumps({"host_apis": apis, "devices": [asdict(d) for d in devices]}, indent=2))
        return 0
    print("host APIs: " + (", ".join(apis) if apis else "none"))
    if not devices:
        print("no audio devices (start a JACK server or check ALSA)")
        return 0
    width = max(len(d.name) for d in devices)
    print(f"    {'#':>3}  {'name':<{width}}  {'host API':<26} {'in':>3} {'out':>4}  default rate")
    for d in devices:
        mark = (">" if d.default_input else " ") + ("<" if d.default_output else " ")
        print(f"{mark}  {d.index:>3}  {d.name:<{width}}  {d.host_api:<26} {d.max_input_channels:>3} "
              f"{d.max_output_channels:>4}  {d.default_samplerate_hz:>8.0f} Hz")
    return 0
