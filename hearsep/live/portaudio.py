"""PortAudio through ``sounddevice``: loading it, listing devices, choosing one, checking a rate.

``sounddevice`` is imported here (and only when a function is called), never at ``import
hearsep``: a machine without the PortAudio C library still runs everything offline. PortAudio
lists a host API's devices when it is initialised, so a JACK server started later is missing
until PortAudio is initialised again (:func:`load_sounddevice` with ``refresh=True``): the
``sd._terminate()`` / ``sd._initialize()`` pair and the ``sd._initialized`` count are what the
sounddevice maintainer points to for this (python-sounddevice issues #3 and #125); they stop any
stream of this process, so they are only called while none runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from hearsep.errors import LiveAudioError

#: the host API name PortAudio gives JACK (``Pa_GetHostApiInfo(...)->name``)
JACK_HOST_API = "JACK Audio Connection Kit"


def load_sounddevice(refresh: bool = False):
    """The ``sounddevice`` module, with PortAudio initialised; ``refresh`` re-initialises it.

    Raises :class:`LiveAudioError` naming the package to install when the Python package or the
    PortAudio shared library (Debian ``libportaudio2``) is missing.
    """
    try:
        import sounddevice as sd
    except OSError as exc:  # sounddevice raises OSError when libportaudio.so.2 is not found
        raise LiveAudioError(f"the PortAudio library is missing ({exc}); install the Debian package "
                             "libportaudio2 (apt-get install libportaudio2)") from None
    except ImportError:
        raise LiveAudioError("the Python package sounddevice is missing; pip install sounddevice") from None
    if refresh or not sd._initialized:
        if sd._initialized:
            sd._terminate()
        sd._initialize()
    return sd


def release_portaudio() -> None:
    """Terminate PortAudio if this process initialised it (before its JACK server goes away:
    PortAudio's JACK host API aborts the process when it terminates without its server)."""
    import sys

    sd = sys.modules.get("sounddevice")
    if sd is None:
        return
    while getattr(sd, "_initialized", 0) > 0:
        sd._terminate()


def abandon_portaudio() -> None:
    """Forget PortAudio without terminating it, after its JACK server died under an open stream
    (terminating would abort the process; the operating system frees it at exit)."""
    import sys

    sd = sys.modules.get("sounddevice")
    if sd is not None and getattr(sd, "_initialized", 0) > 0:
        sd._initialized = 0


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device: its index, name, host API, channels and default rate (Hz)."""

    index: int
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate_hz: float
    default_input: bool
    default_output: bool


def list_devices(refresh: bool = True) -> tuple[list[str], list[DeviceInfo]]:
    """``(host API names, devices)`` as PortAudio sees them now (re-initialised by default)."""
    sd = load_sounddevice(refresh=refresh)
    apis = sd.query_hostapis()
    default_in, default_out = _default_devices(sd)
    devices = [DeviceInfo(index=int(d["index"]), name=str(d["name"]), host_api=str(apis[d["hostapi"]]["name"]),
                          max_input_channels=int(d["max_input_channels"]),
                          max_output_channels=int(d["max_output_channels"]),
                          default_samplerate_hz=float(d["default_samplerate"]),
                          default_input=int(d["index"]) == default_in, default_output=int(d["index"]) == default_out)
               for d in sd.query_devices()]
    return [str(a["name"]) for a in apis], devices


def _default_devices(sd) -> tuple[int, int]:
    try:
        default_in, default_out = (int(i) for i in sd.default.device)
    except (TypeError, ValueError):
        return -1, -1
    return default_in, default_out


def resolve_device(spec: str | int | None, kind: str, devices: list[DeviceInfo]) -> DeviceInfo:
    """The device for ``spec`` (an index, a name or part of one; ``None`` = the default).

    ``kind`` is ``"input"`` or ``"output"``. Raises :class:`LiveAudioError` when there is no
    such device, it has no channels of that kind, or several devices match a name.
    """
    channels = (lambda d: d.max_input_channels) if kind == "input" else (lambda d: d.max_output_channels)
    usable = [d for d in devices if channels(d) > 0]
    if not usable:
        raise LiveAudioError(f"no audio {kind} device found (is a JACK server or an ALSA device there? "
                             "`hearsep devices` lists what PortAudio sees)")
    if spec is None or spec == "":
        default = [d for d in usable if (d.default_input if kind == "input" else d.default_output)]
        return default[0] if default else usable[0]
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        match = [d for d in devices if d.index == index]
        if not match:
            raise LiveAudioError(f"no audio device with index {index} (devices: "
                                 f"{', '.join(str(d.index) for d in devices)}; see `hearsep devices`)")
        if channels(match[0]) == 0:
            raise LiveAudioError(f"device {index} ({match[0].name}) has no {kind} channels")
        return match[0]
    match = [d for d in usable if d.name == text] or [d for d in usable if text.lower() in d.name.lower()]
    if not match:
        raise LiveAudioError(f"no audio {kind} device named {text!r} (see `hearsep devices`)")
    if len(match) > 1:
        raise LiveAudioError(f"{len(match)} {kind} devices match {text!r} "
                             f"({', '.join(repr(d.name) for d in match)}); give the index")
    return match[0]


def check_rate(sd, input_device: DeviceInfo, output_device: DeviceInfo, rate_hz: int) -> None:
    """Raise :class:`LiveAudioError` unless both devices open mono float32 at ``rate_hz``."""
    try:
        sd.check_input_settings(device=input_device.index, channels=1, dtype="float32", samplerate=rate_hz)
        sd.check_output_settings(device=output_device.index, channels=1, dtype="float32", samplerate=rate_hz)
    except Exception as exc:  # sounddevice.PortAudioError or ValueError, with PortAudio's reason
        raise LiveAudioError(f"the device cannot open {rate_hz} Hz ({_reason(exc)}); its default rate is "
                             f"{input_device.default_samplerate_hz:g} Hz (a JACK server runs at its own rate only)") from None


def _reason(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return text.split("[PaErrorCode")[0].strip().rstrip(":")
