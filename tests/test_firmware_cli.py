"""hearsep device ...: thin CLI over firmware_bridge, one-line errors, against the emulator."""

import pytest
import soundfile as sf

from firmware_bridge import Emulator
from firmware_bridge.framing import crc32
from hearsep.cli.main import main
from hearsep.errors import ConfigError
from hearsep.fitting import example_preset, loads_preset, save_preset


def test_info_push_pull_capture(tmp_path, capsys):
    preset = tmp_path / "n3.toml"  # what an audiologist pushes: the file hearsep fit writes
    assert main(["fit", "--audiogram", "N3", "--rule", "nal-r", "--ear", "right", "-o", str(preset)]) == 0
    capsys.readouterr()
    blob = preset.read_bytes()
    with Emulator() as emu:
        assert main(["device", "info", "--port", emu.port]) == 0
        assert "device: hearsep-emulator\nfirmware: 0.1.0" in capsys.readouterr().out
        assert main(["device", "push-preset", str(preset), "--slot", "1", "--port", emu.port]) == 0
        assert f"({len(blob)} bytes, crc32 {crc32(blob):08x}) committed to slot 1" in capsys.readouterr().out
        assert emu.device.presets[1] == blob
        out = tmp_path / "pulled.toml"
        assert main(["device", "pull-preset", "--slot", "1", "-o", str(out), "--port", emu.port]) == 0
        assert out.read_bytes() == preset.read_bytes()
        assert main(["device", "program", "1", "--port", emu.port]) == 0
        assert main(["device", "volume", "-3", "--port", emu.port]) == 0
        assert capsys.readouterr().out.splitlines()[-2:] == ["program 1", "volume -3 dB"]
        assert main(["device", "telemetry", "--count", "2", "--interval-s", "0", "--port", emu.port]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 2 and all(line.startswith("emulated: load ") for line in lines)
        assert lines[0].endswith("program 1  volume -3 dB")
        wav = tmp_path / "cap.wav"
        assert main(["device", "capture", "--seconds", "0.3", "-o", str(wav), "--port", emu.port]) == 0
        out = capsys.readouterr().out
        # (loss itself is measured in test_firmware_client; a loaded machine may drop a block here)
        assert out.startswith(f"{wav} (emulated audio): 4800 samples at 16000 Hz (in, out); lost ")
        data, sr = sf.read(wav)
        assert sr == 16000 and data.shape == (4800, 2)


def test_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"gain_db = \n")
    with Emulator() as emu:
        assert main(["device", "volume", "40", "--port", emu.port]) == 2
        assert capsys.readouterr().err == ("hearsep device: error: volume_db 40 dB is outside -30..10 dB; "
                                           "nothing was sent to the device\n")
        assert main(["device", "push-preset", str(bad), "--port", emu.port]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"hearsep device: error: {bad}: malformed TOML") and err.count("\n") == 1
        assert main(["device", "pull-preset", "--slot", "3", "--port", emu.port]) == 2
        assert "EMPTY_SLOT (11)" in capsys.readouterr().err
    assert main(["device", "info", "--port", str(tmp_path / "ttyACM0")]) == 2
    assert capsys.readouterr().err.startswith("hearsep device: error: cannot open")


@pytest.mark.parametrize("old, new", [
    (b"schema_version = 1\n", b""),                               # a blob without schema_version
    (b"broadband_db_spl = 110.0", b"broadband_db_spl = 125.0"),   # MPO above the 120 dB SPL ceiling
])
def test_push_preset_refuses_what_the_host_refuses_and_sends_nothing(tmp_path, capsys, old, new):
    path = save_preset(example_preset("N3", "nal-r"), tmp_path / "n3.toml")
    path.write_bytes(path.read_bytes().replace(old, new))
    with pytest.raises(ConfigError) as host:
        loads_preset(path.read_text(), str(path))
    with Emulator() as emu:
        frames = emu.device.reader.stats.frames
        assert main(["device", "push-preset", str(path), "--slot", "1", "--port", emu.port]) == 2
        assert emu.device.reader.stats.frames == frames and emu.device.presets[1] is None
    captured = capsys.readouterr()
    assert captured.err == f"hearsep device: error: {host.value}\n" and captured.out == ""


@pytest.mark.parametrize("argv,message", [
    (["push-preset", "{preset}", "--slot", "-1"], "slot -1 is outside 0..3; nothing was sent to the device"),
    (["push-preset", "{preset}", "--slot", "256"], "slot 256 is outside 0..3; nothing was sent to the device"),
    (["pull-preset", "--slot", "4"], "slot 4 is outside 0..3; nothing was sent to the device"),
    (["program", "-1"], "program -1 is outside 0..3; nothing was sent to the device"),
    (["capture", "--seconds", "-1", "-o", "{tmp}/c.wav"], "capture duration must be positive, got -1.0 s"),
    (["capture", "--seconds", "61", "-o", "{tmp}/c.wav"], "capture duration 61000 ms is outside 1..60000 ms"),
    (["capture", "--seconds", "0.1", "-o", "{tmp}/c.mp3"], "cannot write {tmp}/c.mp3: unknown audio suffix"),
    (["capture", "--seconds", "0.1", "-o", "{tmp}/no/c.wav"], "cannot write {tmp}/no/c.wav: folder {tmp}/no does not"),
    (["pull-preset", "-o", "{tmp}/no/p.toml"], "cannot write {tmp}/no/p.toml: folder {tmp}/no does not exist"),
    (["telemetry", "--count", "0"], "number of telemetry readings must be at least 1, got 0"),
    (["telemetry", "--interval-s", "-1", "--count", "2"], "telemetry interval must be 0 s or more, got -1.0 s"),
    (["info", "--retries", "-1"], "retries must be 0 or more, got -1"),
    (["info", "--timeout-s", "0"], "reply timeout must be positive, got 0.0 s"),
    (["info", "--baud", "0"], "baud rate must be positive, got 0"),
])
def test_bad_arguments_are_one_line_and_send_nothing(tmp_path, capsys, emu_port, argv, message):
    preset = save_preset(example_preset("N3", "nal-r"), tmp_path / "p.toml")
    argv = [a.format(preset=preset, tmp=tmp_path) for a in argv]
    emu, port = emu_port
    before = emu.device.reader.stats.frames
    assert main(["device", *argv, "--port", port]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("hearsep device: error: " + message.format(tmp=tmp_path))
    assert captured.err.count("\n") == 1 and captured.out == ""
    # only the HELLO of opening the link (if it got that far) reached the device
    assert emu.device.reader.stats.frames - before <= 1
    assert emu.device.capture is None and not list(tmp_path.glob("c.*"))


@pytest.fixture(scope="module")
def emu_port():
    with Emulator() as emu:
        yield emu, emu.port


def test_emulate_refuses_a_bad_baud_rate(capsys):
    assert main(["device", "emulate", "--baud", "-1"]) == 2
    assert capsys.readouterr().err == "hearsep device: error: --baud must be positive, got -1 bit/s\n"
