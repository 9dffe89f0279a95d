"""``hearsep enhance --preset P [--program NAME] [--no-separator]`` (the chain in the file path)."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hearsep.cli.main import main

PRESET = Path(__file__).resolve().parents[1] / "hearsep" / "fitting" / "presets" / "n3_nal-r.toml"
pytestmark = pytest.mark.skipif(not PRESET.is_file(), reason="fitting presets not shipped")


def _tone(path, frequency_hz=1000.0, amplitude=0.01):
    t = np.arange(16000) / 16000
    sf.write(path, (amplitude * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32), 16000, subtype="FLOAT")


def test_no_separator_applies_the_preset_gain_alone(tmp_path):
    from hearsep.chain import band_output_db_spl
    from hearsep.fitting import load_preset

    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    _tone(src)
    assert main(["enhance", str(src), "-o", str(dst), "--preset", str(PRESET), "--no-separator", "--quiet"]) == 0
    x, _ = sf.read(src)
    y, _ = sf.read(dst)
    gain_db = 20 * np.log10(np.std(y[4000:]) / np.std(x[4000:]))
    params = load_preset(PRESET).resolve()
    level = 20 * np.log10(0.01) + params.full_scale_db_spl  # input level in dB SPL
    band = params.bands[2]  # the 1000 Hz band
    assert band.centre_hz == 1000.0
    assert abs(gain_db - (float(band_output_db_spl(band, level, params.volume_db)) - level)) < 0.5


def test_no_separator_without_a_preset_is_refused_in_one_line(tmp_path, capsys):
    src = tmp_path / "in.wav"
    _tone(src)
    assert main(["enhance", str(src), "-o", str(tmp_path / "o.wav"), "--no-separator"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--preset" in err
    assert not (tmp_path / "o.wav").exists()
