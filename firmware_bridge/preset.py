"""Presets on the link: the bytes of a hearsep preset TOML file, validated before they are sent or stored.

A blob is checked in two steps. The link checks: not empty, at most :data:`PRESET_MAX_BYTES`
long, UTF-8. Then the host's own parser, schema and safety rules,
:func:`hearsep.fitting.loads_preset`: ``schema_version``, unknown fields, ranges, the MPO ceiling,
21 CFR 800.30, gain-over-target and volume checks, exactly as ``hearsep preset validate`` runs
them, with the host's words. So a blob is accepted here only if the host would accept the same
bytes as a preset file; a blob without ``schema_version`` is refused.

The host client runs this before sending (:meth:`firmware_bridge.Client.push_preset`) and the
emulated device runs it again at PRESET_COMMIT (:class:`firmware_bridge.Emulator`, NACK
``BAD_PRESET`` with the reason), so the device never trusts the host to have checked.
(The dependency points one way: firmware_bridge uses hearsep.fitting, never the reverse.)
"""

from __future__ import annotations

from pathlib import Path

from firmware_bridge.errors import PresetError
from hearsep.errors import ConfigError
from hearsep.fitting import Preset, loads_preset

PRESET_MAX_BYTES = 4096


def validate_preset(blob: bytes, max_bytes: int = PRESET_MAX_BYTES, source: str = "preset") -> Preset:
    """Return the :class:`hearsep.fitting.Preset` that ``blob`` holds; raise :class:`PresetError` if unusable.

    ``max_bytes``: the device's store (bytes). ``source`` (e.g. the file name) starts the message of
    a schema or safety refusal, which is the host's :class:`hearsep.errors.ConfigError` text unchanged.
    """
    if not blob:
        raise PresetError("preset is empty")
    if len(blob) > max_bytes:
        raise PresetError(f"preset is {len(blob)} bytes, the device holds at most {max_bytes}")
    try:
        text = bytes(blob).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PresetError(f"preset is not UTF-8 (byte {exc.start})") from None
    try:
        return loads_preset(text, source)
    except ConfigError as exc:
        raise PresetError(str(exc)) from None


def load_preset(path: str | Path, max_bytes: int = PRESET_MAX_BYTES) -> bytes:
    """Read and validate a preset file; return its bytes unchanged (what ``hearsep device push-preset`` sends)."""
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise PresetError(f"cannot read preset {path}: {exc.strerror}") from None
    validate_preset(blob, max_bytes, source=str(path))
    return blob
