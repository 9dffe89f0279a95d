"""``hearsep selftest``: one line per check, exit 1 on any failure; devices injected."""

from __future__ import annotations

import pytest

from hearsep.cli.main import main
from hearsep.deploy.selftest import audio_check, run_selftest

from types import SimpleNamespace

DEVICES = [SimpleNamespace(name="USB mic", max_input_channels=1, max_output_channels=0),
           SimpleNamespace(name="USB earpiece", max_input_channels=0, max_output_channels=2)]


def names(checks):
    return {c.name: c.ok for c in checks}


def test_all_pass_with_a_generous_margin_and_fail_with_an_impossible_one():
    ok = run_selftest(seconds=0.5, margin=-1e6, list_devices=lambda: DEVICES)
    assert names(ok) == {"model": True, "audio": True, "realtime": True}
    assert "1 input device(s) (USB mic), 1 output device(s) (USB earpiece)" in ok[1].detail
    tight = run_selftest(seconds=0.5, margin=0.999999, check_audio=False)
    assert names(tight) == {"model": True, "realtime": False}
    assert "need >= 100%" in tight[-1].detail


def test_audio_check_needs_an_input_and_an_output():
    assert not audio_check(lambda: DEVICES[:1]).ok
    assert not audio_check(lambda: []).ok


def test_missing_model_and_bad_preset_fail_their_lines(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("schema_version = 1\n[bands]\ncentres_hz = 'x'\n")
    checks = run_selftest(model=tmp_path / "none.tflite", preset=bad, check_audio=False)
    assert names(checks) == {"model": False, "preset": False, "realtime": False}
    assert "model file not found" in checks[0].detail
    checks = run_selftest(preset=bad, check_audio=False, seconds=0.5)
    assert names(checks) == {"model": True, "preset": False, "realtime": False}


def test_cli_prints_one_line_per_check_and_exits_1_on_failure(tmp_path, capsys):
    assert main(["selftest", "--no-audio", "--seconds", "0.5", "--margin", "-1000000"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == ["PASS", "PASS"]
    assert main(["selftest", "--no-audio", "--model", str(tmp_path / "x.tflite")]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("FAIL model: model file not found")
    assert main(["selftest", "--margin", "1.5"]) == 2
    assert "--margin must be below 1" in capsys.readouterr().err


def test_preset_that_builds_a_chain_passes(tmp_path):
    chain = pytest.importorskip("hearsep.chain")
    if not hasattr(chain, "build_chain"):
        pytest.skip("hearsep.chain.build_chain has not landed")
    from hearsep.fitting import example_preset, save_preset

    p = save_preset(example_preset(), tmp_path / "n3.toml")
    checks = run_selftest(preset=p, program="quiet", check_audio=False, seconds=0.5, margin=-1e6)
    assert names(checks) == {"model": True, "preset": True, "realtime": True}
