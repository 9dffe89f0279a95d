"""hearsep fit: targets JSON, preset files, one-line errors with nothing written."""

import json

import pytest

from hearsep.cli.main import main
from hearsep.fitting import load_preset


def test_print_targets_json(capsys):
    assert main(["fit", "--audiogram", "N3", "--rule", "nal-r", "--print-targets"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rule"] == "nal-r" and set(out["ears"]) == {"right", "left"}
    right = out["ears"]["right"]
    assert right["frequencies_hz"][:4] == [250, 500, 750, 1000]
    # N3 at 1 kHz: 0.15 * (35 + 40 + 50) / 3 + 0.31 * 40 + 1 = 19.65 dB (Byrne & Dillon 1986)
    assert right["insertion_gain_db"][3] == pytest.approx(19.65)
    assert right["interpolated_hz"] == [8000]


def test_fit_writes_a_valid_preset(tmp_path, capsys):
    out = tmp_path / "n3.toml"
    assert main(["fit", "--audiogram", "N3", "--rule", "nal-rp-wdrc", "--ear", "left", "-o", str(out)]) == 0
    preset = load_preset(out)
    assert (preset.rule, preset.ear, preset.device) == ("nal-rp-wdrc", "left", "otc")
    assert preset.resolve().bands[3].gain_50_db > preset.resolve().bands[3].gain_80_db  # compressive
    assert "wrote" in capsys.readouterr().out
    assert main(["fit", "--audiogram", "N1", "--rule", "nal-r", "-o", str(tmp_path / "n1.toml")]) == 0
    # N1: 10 dB HL at 250 Hz -> 0.31 * 10 + 0.15 * 35/3 - 17 < 0 (and at 500 Hz: 3.1 + 1.75 - 8 < 0)
    assert capsys.readouterr().out.endswith("negative nal-r gain clipped to 0 dB at 250, 500 Hz)\n")


def test_both_ears_write_two_presets(tmp_path):
    aud = tmp_path / "me.toml"
    aud.write_text("[audiogram]\nfrequencies_hz = [250, 500, 1000, 2000, 4000, 8000]\n"
                   "right_db_hl = [20, 25, 35, 50, 60, 65]\nleft_db_hl = [30, 35, 45, 55, 65, 70]\n")
    assert main(["fit", "--audiogram", str(aud), "--rule", "pogo", "--ear", "both", "-o", str(tmp_path / "p.toml")]) == 0
    right, left = load_preset(tmp_path / "p-right.toml"), load_preset(tmp_path / "p-left.toml")
    assert right.ear == "right" and left.ear == "left"
    # POGO at 1 kHz: H/2 -> 17.5 and 22.5 dB
    assert (right.resolve().bands[2].gain_65_db, left.resolve().bands[2].gain_65_db) == (17.5, 22.5)


def test_both_ears_check_every_output_before_writing_any(tmp_path, capsys):
    (tmp_path / "p-left.toml").mkdir()  # the left preset cannot be written
    assert main(["fit", "--audiogram", "N3", "--ear", "both", "-o", str(tmp_path / "p.toml")]) == 2
    assert "p-left.toml: it is a directory" in capsys.readouterr().err
    assert not (tmp_path / "p-right.toml").exists()


@pytest.mark.parametrize("args, words", [
    (["--audiogram", "N3", "--rule", "nal-x"], "unknown rule 'nal-x'"),
    (["--audiogram", "Q9"], "Q9: neither a TOML file nor a standard audiogram"),
    (["--audiogram", "{bad}", "--rule", "nal-r"], "bad.toml: [audiogram].right_db_hl: 130 dB HL is outside -10..120"),
    (["--audiogram", "{bad}", "--ear", "both"], "bad.toml: [audiogram].right_db_hl: 130 dB HL"),
    (["--audiogram", "N3", "--mpo-db-spl", "125"], "mpo.broadband_db_spl: 125 dB SPL is above the 120 dB SPL"),
    (["--audiogram", "N3"], "give -o PRESET.toml"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, args, words):
    bad = tmp_path / "bad.toml"
    bad.write_text("[audiogram]\nfrequencies_hz = [500, 1000, 2000, 4000]\nright_db_hl = [20, 30, 130, 50]\n")
    args = [a.replace("{bad}", str(bad)) for a in args]
    out = tmp_path / "out.toml"
    argv = ["fit", *args] + ([] if words.startswith("give") else ["-o", str(out)])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("hearsep fit: error: ") and err.count("\n") == 1 and words in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]
