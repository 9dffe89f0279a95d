"""firmware_bridge.preset: blobs are validated before they go on the wire, hearsep presets with the host's schema."""

import pytest

from firmware_bridge import Client, Emulator
from firmware_bridge.errors import PresetError
from firmware_bridge.preset import PRESET_MAX_BYTES, load_preset, validate_preset
from hearsep.errors import ConfigError
from hearsep.fitting import dumps_preset, example_preset, loads_preset


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


@pytest.fixture(scope="module")
def good_blob():
    blob = dumps_preset(example_preset("N3", "nal-r")).encode()
    assert len(blob) < PRESET_MAX_BYTES
    return blob


def _refused_by_host(blob: bytes) -> str:
    with pytest.raises(ConfigError) as exc:
        loads_preset(blob.decode(), "preset")
    return str(exc.value)


@pytest.mark.parametrize("old, new", [
    (b"broadband_db_spl = 110.0", b"broadband_db_spl = 125.0"),   # MPO above 120 dB SPL
    (b"\nband_db_spl = 110.0", b"\nband_db_spl = 114.0"),         # over the OTC 111 dB SPL limit, linear rule
    (b"attack_ms = 5.0", b"attack_ms = 5.0\nknee = 1"),           # unknown field
])
def test_the_device_refuses_what_the_host_refuses(good_blob, old, new, tmp_path):
    bad = good_blob.replace(old, new)
    host_says = _refused_by_host(bad)
    with pytest.raises(PresetError) as exc:
        validate_preset(bad)
    assert str(exc.value) == host_says  # the same check, the same words
    path = tmp_path / "bad.toml"
    path.write_bytes(bad)
    with pytest.raises(PresetError, match=f"^{path}: "):
        load_preset(path)


def test_emulated_device_accepts_host_presets_and_refuses_the_rest(good_blob):
    bad = good_blob.replace(b"broadband_db_spl = 110.0", b"broadband_db_spl = 125.0")
    with Emulator() as emu:
        with Client(emu.port) as dev:
            dev.push_preset(good_blob, slot=1)
            assert dev.pull_preset(1) == good_blob
            with pytest.raises(PresetError, match="125 dB SPL is above the 120 dB SPL ceiling"):
                dev.push_preset(bad, slot=2)
        assert emu.device.presets[2] is None and emu.device.presets[1] == good_blob
    assert emu.error is None
