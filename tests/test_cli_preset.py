"""hearsep preset validate / show / diff."""

import json

import pytest

from hearsep.cli.main import main
from hearsep.fitting import dumps_preset, example_preset


def _write(tmp_path, name="p.toml", text=None):
    path = tmp_path / name
    path.write_text(text if text is not None else dumps_preset(example_preset("N3", "nal-rp-wdrc")))
    return path


def test_validate_and_refuse(tmp_path, capsys):
    good = _write(tmp_path)
    assert main(["preset", "validate", str(good)]) == 0
    assert "valid (otc, rule nal-rp-wdrc, right ear, 6 bands" in capsys.readouterr().out
    bad = _write(tmp_path, "bad.toml", good.read_text().replace("[programs.music.compression]\n",
                                                                "[programs.music.compression]\nknee_db = 3\n"))
    assert main(["preset", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}: [programs.music].compression.knee_db: overrides a field" in err


def test_show_json_has_resolved_bands_calibration_and_programs(tmp_path, capsys):
    path = _write(tmp_path)
    assert main(["preset", "show", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["calibration"] == {"full_scale_db_spl": 110.0}
    assert doc["programs"] == ["quiet", "noisy restaurant", "music"]
    band = doc["resolved"]["base"]["bands"][3]
    assert band["centre_hz"] == 2000 and band["mpo_db_spl"] == 110.0
    # N3 at 2 kHz: CR = 100 / (100 - 50) = 2 -> gain falls 7.5 dB per 15 dB of input
    # (each gain written with 0.1 dB resolution)
    assert band["gain_50_db"] - band["gain_65_db"] == pytest.approx(7.5, abs=0.11)
    assert band["compression_ratio"] == pytest.approx(2.0, abs=0.03)
    assert doc["resolved"]["music"]["noise_reduction_db"] == 0.0


def test_show_png(tmp_path, capsys):
    path, png = _write(tmp_path), tmp_path / "p.png"
    assert main(["preset", "show", str(path), "--png", str(png), "--program", "music"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["preset", "show", str(path), "--png", str(tmp_path / "q.png"), "--program", "cinema"]) == 2
    assert "no program 'cinema'" in capsys.readouterr().err and not (tmp_path / "q.png").exists()


def test_diff(tmp_path, capsys):
    a = _write(tmp_path, "a.toml")
    b = _write(tmp_path, "b.toml", a.read_text().replace("attenuation_limit_db = 6.0", "attenuation_limit_db = 9.0"))
    assert main(["preset", "diff", str(a), str(a)]) == 0
    assert "are the same preset" in capsys.readouterr().out
    assert main(["preset", "diff", str(a), str(b)]) == 1
    assert capsys.readouterr().out == "noise_reduction.attenuation_limit_db: 6.0 -> 9.0\n"
