"""Presets on the link: the bytes of a TOML file, validated before they are sent or stored.

A blob is checked in two steps. The link checks: at most :data:`PRESET_MAX_BYTES` long, UTF-8,
valid TOML (:mod:`tomllib`). Then, for a hearsep preset (one that declares ``schema_version``),
the host's own schema and safety rules, :func:`hearsep.fitting.parse_preset`: the same MPO,
21 CFR 800.30, gain-over-target and volume checks as ``hearsep preset validate``, so the device
never accepts a preset the host would refuse. (The dependency points one way: firmware_bridge
uses hearsep.fitting, never the reverse.)

Blobs without ``schema_version`` are opaque legacy blobs (the protocol tests push such toy
presets); set :data:`REQUIRE_HEARSEP_SCHEMA` to refuse them too.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from firmware_bridge.errors import PresetError
from hearsep.errors import ConfigError

PRESET_MAX_BYTES = 4096
REQUIRE_HEARSEP_SCHEMA = False


def validate_preset(blob: bytes, max_bytes: int = PRESET_MAX_BYTES, source: str = "preset") -> dict:
    """Return the parsed TOML of ``blob``; raise :class:`PresetError` saying why it is unusable.

    ``source`` (e.g. the file name) starts the message of a schema or safety refusal."""
    if not blob:
        raise PresetError("preset is empty")
    if len(blob) > max_bytes:
        raise PresetError(f"preset is {len(blob)} bytes, the device holds at most {max_bytes}")
    try:
        text = bytes(blob).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PresetError(f"preset is not UTF-8 (byte {exc.start})") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"preset is not valid TOML: {exc}") from None
    if "schema_version" in doc or REQUIRE_HEARSEP_SCHEMA:
        from hearsep.fitting import parse_preset

        try:
            parse_preset(doc, source)
        except ConfigError as exc:
            raise PresetError(str(exc)) from None
    return doc


def load_preset(path: str | Path, max_bytes: int = PRESET_MAX_BYTES) -> bytes:
    """Read and validate a preset file; return its bytes unchanged."""
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise PresetError(f"cannot read preset {path}: {exc.strerror}") from None
    validate_preset(blob, max_bytes, source=str(path))
    return blob
