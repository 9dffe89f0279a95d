"""firmware_bridge.preset: opaque TOML blobs are validated before they go on the wire."""

import pytest

from firmware_bridge.errors import PresetError
from firmware_bridge.preset import PRESET_MAX_BYTES, load_preset, validate_preset


def test_valid_toml_is_accepted(tmp_path):
    path = tmp_path / "quiet.toml"
    path.write_bytes(b'name = "quiet"\ngain_db = 3.0\n')
    assert load_preset(path) == b'name = "quiet"\ngain_db = 3.0\n'
    assert validate_preset(path.read_bytes())["gain_db"] == 3.0


@pytest.mark.parametrize("blob, words", [
    (b"", "empty"),
    (b"\xff\xfe = 1", "not UTF-8"),
    (b"gain_db = ", "not valid TOML"),
    (b"# " + b"x" * PRESET_MAX_BYTES, "4098 bytes"),
])
def test_invalid_presets_say_why(blob, words):
    with pytest.raises(PresetError, match=words):
        validate_preset(blob)


def test_missing_file(tmp_path):
    with pytest.raises(PresetError, match="cannot read"):
        load_preset(tmp_path / "nope.toml")
