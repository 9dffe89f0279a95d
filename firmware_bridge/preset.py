"""Presets on the link are opaque blobs: the bytes of a TOML file, validated before sending.

The fitting issue will define the schema; until then a preset is valid when it is at most
:data:`PRESET_MAX_BYTES` long, decodes as UTF-8 and parses with :mod:`tomllib`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from firmware_bridge.errors import PresetError

PRESET_MAX_BYTES = 4096


def validate_preset(blob: bytes, max_bytes: int = PRESET_MAX_BYTES) -> dict:
    """Return the parsed TOML of ``blob``; raise :class:`PresetError` saying why it is unusable."""
    if not blob:
        raise PresetError("preset is empty")
    if len(blob) > max_bytes:
        raise PresetError(f"preset is {len(blob)} bytes, the device holds at most {max_bytes}")
    try:
        text = bytes(blob).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PresetError(f"preset is not UTF-8 (byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"preset is not valid TOML: {exc}") from None


def load_preset(path: str | Path, max_bytes: int = PRESET_MAX_BYTES) -> bytes:
    """Read and validate a preset file; return its bytes unchanged."""
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise PresetError(f"cannot read preset {path}: {exc.strerror}") from None
    validate_preset(blob, max_bytes)
    return blob
