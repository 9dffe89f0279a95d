"""``hearsep testbox``: thin CLI over hearsep.eval.testbox (table, JSON, PNG, bad input)."""

import json
from pathlib import Path

import pytest

from hearsep.cli.main import main

PRESET = Path(__file__).resolve().parents[1] / "hearsep" / "fitting" / "presets" / "n3_nal-r.toml"
pytestmark = pytest.mark.skipif(not PRESET.is_file(), reason="fitting presets not shipped")


def test_json_report_and_png(tmp_path, capsys):
    png = tmp_path / "box.png"
    assert main(["testbox", "--preset", str(PRESET), "--program", "quiet", "--json", "--png", str(png),
                 "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["program"] == "quiet"
    assert {"ospl90", "full_on_gain", "reference_test_gain", "frequency_response", "io_curves",
            "attack_release", "equivalent_input_noise", "harmonic_distortion"} <= set(report)
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    # a linear NAL-R preset: measured HFA full-on gain within 1.5 dB of what it asks for
    fog = report["full_on_gain"]
    assert abs(fog["hfa_db"] - fog["expected_hfa_db"]) < 1.5


def test_table_names_each_figure_with_what_the_preset_asks(capsys):
    assert main(["testbox", "--preset", "example:N3", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "HFA-OSPL90 (dB SPL)" in out and "attack 2000 Hz (ms)" in out and "preset" in out


@pytest.mark.parametrize("argv,needle", [
    (["--preset", "/nonexistent/p.toml"], "p.toml"),
    (["--preset", str(PRESET), "--program", "nope"], "nope"),
    (["--preset", str(PRESET), "--png", "/nonexistent/dir/x.png"], "does not exist"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(argv, needle, capsys, monkeypatch):
    from hearsep.eval import testbox

    def no_measuring(self):  # every bad input must be refused before the measurements start
        raise AssertionError("measured before checking the input")

    monkeypatch.setattr(testbox.Testbox, "measure", no_measuring)
    assert main(["testbox", *argv, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
