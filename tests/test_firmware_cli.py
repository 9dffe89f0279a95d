"""hearsep device ...: thin CLI over firmware_bridge, one-line errors, against the emulator."""

import soundfile as sf

from firmware_bridge import Emulator
from hearsep.cli.main import main


def test_info_push_pull_capture(tmp_path, capsys):
    preset = tmp_path / "quiet.toml"
    preset.write_bytes(b'gain_db = 2.0\n')
    with Emulator() as emu:
        assert main(["device", "info", "--port", emu.port]) == 0
        assert "device: hearsep-emulator\nfirmware: 0.1.0" in capsys.readouterr().out
        assert main(["device", "push-preset", str(preset), "--slot", "1", "--port", emu.port]) == 0
        assert "(14 bytes, crc32 " in capsys.readouterr().out
        out = tmp_path / "pulled.toml"
        assert main(["device", "pull-preset", "--slot", "1", "-o", str(out), "--port", emu.port]) == 0
        assert out.read_bytes() == preset.read_bytes()
        assert main(["device", "program", "1", "--port", emu.port]) == 0
        assert main(["device", "volume", "-3", "--port", emu.port]) == 0
        assert main(["device", "telemetry", "--port", emu.port]) == 0
        assert "program 1  volume -3 dB" in capsys.readouterr().out
        wav = tmp_path / "cap.wav"
        assert main(["device", "capture", "--seconds", "0.3", "-o", str(wav), "--port", emu.port]) == 0
        assert "lost 0 (0.00 %)" in capsys.readouterr().out
        data, sr = sf.read(wav)
        assert sr == 16000 and data.shape == (4800, 2)


def test_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"gain_db = \n")
    with Emulator() as emu:
        assert main(["device", "volume", "40", "--port", emu.port]) == 2
        assert capsys.readouterr().err == "hearsep device: error: device refused SET_VOLUME: BAD_ARG (4)\n"
        assert main(["device", "push-preset", str(bad), "--port", emu.port]) == 2
        err = capsys.readouterr().err
        assert err.startswith("hearsep device: error: preset is not valid TOML") and err.count("\n") == 1
        assert main(["device", "pull-preset", "--slot", "3", "--port", emu.port]) == 2
        assert "EMPTY_SLOT (11)" in capsys.readouterr().err
    assert main(["device", "info", "--port", str(tmp_path / "ttyACM0")]) == 2
    assert capsys.readouterr().err.startswith("hearsep device: error: cannot open")
