"""firmware_bridge.preset: a blob is a preset only if the host accepts it; the emulated device refuses the rest.

Presets are pushed the way the host pushes them: ``hearsep.fitting.save_preset`` writes the file,
``firmware_bridge.preset.load_preset`` reads its bytes unchanged (``hearsep device push-preset``).
"""

import pytest

from firmware_bridge import Client, DeviceNack, Emulator, MsgType, Status
from firmware_bridge import messages as m
from firmware_bridge.errors import PresetError
from firmware_bridge.framing import crc32
from firmware_bridge.preset import PRESET_MAX_BYTES, load_preset, validate_preset
from hearsep.errors import ConfigError
from hearsep.fitting import example_preset, loads_preset, save_preset

NO_SCHEMA_VERSION = b"schema_version = 1\n", b""
MPO_125 = b"broadband_db_spl = 110.0", b"broadband_db_spl = 125.0"   # above the 120 dB SPL ceiling


@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    return save_preset(example_preset("N3", "nal-r"), tmp_path_factory.mktemp("presets") / "n3_nal-r.toml")


@pytest.fixture(scope="module")
def good_blob(good_file):
    blob = load_preset(good_file)
    assert blob.startswith(b"schema_version = 1\n") and len(blob) < PRESET_MAX_BYTES
    return blob


def _edit(blob: bytes, old: bytes, new: bytes) -> bytes:
    assert blob.count(old) == 1
    return blob.replace(old, new)


def _refused_by_host(blob: bytes, source: str = "preset") -> str:
    with pytest.raises(ConfigError) as exc:
        loads_preset(blob.decode(), source)
    return str(exc.value)


def test_a_host_preset_file_is_pushed_unchanged_and_reads_as_the_same_preset(good_file, good_blob):
    assert good_blob == good_file.read_bytes()
    assert validate_preset(good_blob).resolve() == example_preset("N3", "nal-r").resolve()


@pytest.mark.parametrize("blob, words", [
    (b"", "^preset is empty$"),
    (b"\xff\xfe = 1", r"^preset is not UTF-8 \(byte 0\)$"),
    (b"gain_db = ", "^preset: malformed TOML: "),
    (b"# " + b"x" * PRESET_MAX_BYTES, "^preset is 4098 bytes, the device holds at most 4096$"),
    (b'name = "quiet"\ngain_db = 3.0\n', "^preset: gain_db: unknown field"),   # a toy blob is no preset
])
def test_invalid_presets_say_why(blob, words):
    with pytest.raises(PresetError, match=words):
        validate_preset(blob)


def test_missing_file(tmp_path):
    with pytest.raises(PresetError, match="cannot read"):
        load_preset(tmp_path / "nope.toml")


@pytest.mark.parametrize("old, new", [
    NO_SCHEMA_VERSION,
    MPO_125,
    (b"\nband_db_spl = 110.0", b"\nband_db_spl = 114.0"),         # over the OTC 111 dB SPL limit, linear rule
    (b"attack_ms = 5.0", b"attack_ms = 5.0\nknee = 1"),           # unknown field
])
def test_the_device_refuses_what_the_host_refuses(good_blob, old, new, tmp_path):
    bad = _edit(good_blob, old, new)
    host_says = _refused_by_host(bad)
    with pytest.raises(PresetError) as exc:
        validate_preset(bad)
    assert str(exc.value) == host_says  # the same check, the same words
    path = tmp_path / "bad.toml"
    path.write_bytes(bad)
    with pytest.raises(PresetError, match=f"^{path}: "):
        load_preset(path)


def test_the_client_refuses_before_sending(good_blob):
    bad = _edit(good_blob, *MPO_125)
    with Emulator() as emu:
        with Client(emu.port) as dev:
            dev.push_preset(good_blob, slot=1)
            assert dev.pull_preset(1) == good_blob
            frames = emu.device.reader.stats.frames
            with pytest.raises(PresetError) as exc:
                dev.push_preset(bad, slot=2)
            assert str(exc.value) == _refused_by_host(bad)
            assert emu.device.reader.stats.frames == frames  # nothing went on the wire
        assert emu.device.presets[2] is None and emu.device.presets[1] == good_blob
    assert emu.error is None


def _push_unchecked(dev: Client, blob: bytes, slot: int) -> None:
    """BEGIN / WRITE / COMMIT by hand: what a host that skips validation would send."""
    crc = crc32(blob)
    dev.request(MsgType.PRESET_BEGIN, m.PRESET_BEGIN.pack(slot, len(blob), crc))
    for offset in range(0, len(blob), 512):
        dev.request(MsgType.PRESET_WRITE, m.PRESET_WRITE.pack(offset) + blob[offset:offset + 512])
    dev.request(MsgType.PRESET_COMMIT, m.PRESET_COMMIT.pack(slot, crc))


@pytest.mark.parametrize("edit", [NO_SCHEMA_VERSION, MPO_125], ids=["no schema_version", "MPO 125 dB SPL"])
def test_the_emulated_device_refuses_with_the_host_message(good_blob, edit):
    bad = _edit(good_blob, *edit)
    with Emulator() as emu:
        with Client(emu.port) as dev:
            _push_unchecked(dev, good_blob, slot=2)  # the device takes a valid preset from anyone
            with pytest.raises(DeviceNack) as exc:
                _push_unchecked(dev, bad, slot=2)
            assert exc.value.status == Status.BAD_PRESET
            host_says = _refused_by_host(bad, "slot 2")
            assert exc.value.data.decode() == host_says
            assert str(exc.value) == f"device refused PRESET_COMMIT: BAD_PRESET (12); {host_says}"
            assert dev.pull_preset(2) == good_blob  # the old preset stays
            logs = [line.text for line in dev.read_logs()]  # events follow their reply: all here by now
            assert logs == [f"preset slot 2 committed ({len(good_blob)} bytes, crc {crc32(good_blob):08x})",
                            f"preset slot 2 refused ({len(bad)} bytes): content check failed"]
        assert emu.device.transfer is None and emu.device.presets[2] == good_blob
    assert emu.error is None
    words = {NO_SCHEMA_VERSION: "schema_version: missing", MPO_125: "125 dB SPL is above the 120 dB SPL ceiling"}
    assert words[edit] in host_says
