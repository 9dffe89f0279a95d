"""tools/ship_default_model.py: the shipped model card is regenerated, byte for byte, from committed files."""

import json
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
DEFAULT = REPO / "models" / "default"

import ship_default_model as ship  # noqa: E402


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "models").iterdir() if (p / "MODEL_CARD.md").is_file()))
def test_committed_card_is_what_the_tool_renders_from_committed_files(tmp_path, name):
    """Every shipped model folder (the default and the ones kept for comparison)."""
    card = tmp_path / "MODEL_CARD.md"
    assert ship.main(["--out", str(REPO / "models" / name), "--card", str(card)]) == 0
    assert card.read_text() == (REPO / "models" / name / "MODEL_CARD.md").read_text()


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "model"
    shutil.copytree(DEFAULT, out)
    return out


def test_verdicts_follow_the_bench_json(folder):
    doc = json.loads((folder / ship.BENCH).read_text())
    rows = {r["system"]: r for r in doc["summary"]}
    ours, dtln = rows["hearsep int8"], rows["DTLN float"]
    for key in ("si_sdri_db", "pesq", "stoi"):
        ours[key] = dtln[key] + 0.01
    ours["dnsmos_ovrl"] = dtln["dnsmos_ovrl"] - 0.01  # one metric short: the quality target is not met
    rows["DTLN quantized"]["compute_ms_per_s"] = 10.0
    ours["compute_ms_per_s"] = 9.0
    rows["hearsep float"]["si_sdri_db"] = ours["si_sdri_db"] + 0.19
    rows["hearsep float"]["pesq"] = ours["pesq"] + 0.049
    (folder / ship.BENCH).write_text(json.dumps(doc))
    card = ship.render_card(folder)
    assert "* SI-SDRi, PESQ, STOI and DNSMOS OVRL each at least DTLN float's (int8, the shipped format): **not met**" in card
    assert f"SI-SDRi {ours['si_sdri_db']:.2f} vs {dtln['si_sdri_db']:.2f} (1.00x, met)" in card
    assert f"DNSMOS OVRL {ours['dnsmos_ovrl']:.2f} vs {dtln['dnsmos_ovrl']:.2f} (1.00x, not met)" in card
    assert "* int8 within 0.2 dB SI-SDRi and 0.05 PESQ of float: **met** on the 100 bench mixtures: -0.19 dB" in card
    assert "* whole per-hop step per second of audio <= DTLN quantized's (same run, one core): **met**, 0.90x (9.0 vs 10.0 ms/s" in card
    ours["dnsmos_ovrl"] = dtln["dnsmos_ovrl"] + 0.01
    rows["hearsep float"]["pesq"] = ours["pesq"] + 0.051
    (folder / ship.BENCH).write_text(json.dumps(doc))
    card = ship.render_card(folder)
    assert "each at least DTLN float's (int8, the shipped format): **met**" in card
    assert "* int8 within 0.2 dB SI-SDRi and 0.05 PESQ of float: **not met**" in card
    # a new peer in the JSON shows up in the card's tables without a change to the tool
    new = dict(rows["DTLN float"], system="NewPeer 9000")
    doc["summary"].append(new)
    (folder / ship.BENCH).write_text(json.dumps(doc))
    assert "| NewPeer 9000 |" in ship.render_card(folder)


def test_without_a_bench_the_card_says_so(folder):
    (folder / ship.BENCH).unlink()
    card = ship.render_card(folder)
    assert "against DTLN float and DTLN quantized: no bench in this folder" in card and "Side by side" not in card
    summary = json.loads((folder / "summary.json").read_text())
    summary["eval"]["int8"]["si_sdri_db_mean"] = summary["eval"]["float32"]["si_sdri_db_mean"] - 0.25
    (folder / "summary.json").write_text(json.dumps(summary))
    assert ("PESQ of float: no bench in this folder; the trainer's 100 evaluation mixtures above: -0.25 dB SI-SDRi"
            in ship.render_card(folder))


def test_step_p99_verdict_follows_the_runtime_bench(folder, tmp_path):
    (folder / ship.RUNTIME).unlink(missing_ok=True)
    assert "no `bench_runtime.json` in this folder" in ship.render_card(folder)
    doc = {"timings": {"step": {"mean_us": 20.0, "p99_us": 190.0}}}
    (folder / ship.RUNTIME).write_text(json.dumps(doc))
    assert "* per-hop step p99 <= 10 % of the hop (200 us; `bench_runtime.json`, `tools/bench_runtime.py`): **met**, p99 190.0 us = 9.5 % of the hop" in ship.render_card(folder)
    doc["timings"]["step"]["p99_us"] = 201.0
    (folder / ship.RUNTIME).write_text(json.dumps(doc))
    assert "**not met**, p99 201.0 us" in ship.render_card(folder)


def test_ship_copies_a_run_measures_and_renders(folder, tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir()
    for src, dst in ship.ARTEFACTS.items():
        shutil.copyfile(folder / dst, run / src)
    monkeypatch.chdir(REPO)  # the run's recipe path is relative to where training ran
    out = tmp_path / "shipped"
    bench = tmp_path / "bench"
    bench.mkdir()
    shutil.copyfile(folder / ship.BENCH, bench / ship.BENCH)
    assert ship.main([str(run), "--out", str(out), "--bench", str(bench)]) == 0
    timing = json.loads((out / ship.TIMING).read_text())
    assert timing["int8"]["invokes"] == 3000 and 0 < timing["int8"]["p50_us"] < timing["int8"]["max_us"]
    recipe = json.loads((folder / "summary.json").read_text())["recipe"]  # the recipe the run names
    assert (out / ship.RECIPE).read_text() == (REPO / recipe).read_text()
    card = (out / "MODEL_CARD.md").read_text()
    assert f"int8 {timing['int8']['p50_us']:.1f} us, float32 {timing['float32']['p50_us']:.1f} us" in card


def test_bad_inputs_are_one_line(tmp_path, capsys):
    assert ship.main([str(tmp_path / "norun"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == f"ship_default_model: error: {tmp_path / 'norun'} has no model.tflite: not a finished training run\n"
    assert ship.main(["--out", str(tmp_path)]) == 2
    assert "has no summary.json" in capsys.readouterr().err


@pytest.mark.slow
def test_reexport_int8_rescores_the_new_file_and_keeps_what_it_replaced(folder, monkeypatch):
    if not (REPO.parent / "shared" / "corpus" / "manifest.csv").is_file():
        pytest.skip("needs the corpus at ../shared/corpus (the recipe's calibration and evaluation data)")
    monkeypatch.chdir(REPO)  # the recipe's corpus path is relative to the repository root
    from hearsep.errors import HearsepError
    from hearsep.nn.train import TrainConfig, evaluate_tflite

    recipe = (folder / ship.RECIPE).read_text().replace("calibration_frames = 16000", "calibration_frames = 500")
    (folder / ship.RECIPE).write_text(recipe)
    summary = json.loads((folder / "summary.json").read_text())
    cfg = TrainConfig.from_toml(folder / ship.RECIPE)
    small = evaluate_tflite(cfg, {"float32": (folder / "model_float.tflite").read_bytes(),
                                  "int8": (folder / "model.tflite").read_bytes()}, 2, 1.0)
    summary["eval"].update(small)  # a 2-mixture evaluation stands in for the trainer's 100
    (folder / "summary.json").write_text(json.dumps(summary))
    before = (folder / "model.tflite").read_bytes()
    after = ship.reexport_int8(folder)
    assert after["int8_export"]["replaced_int8_eval"] == small["int8"]
    assert after["eval"]["int8"] != small["int8"] and (folder / "model.tflite").read_bytes() != before
    assert json.loads((folder / "summary.json").read_text()) == after
    assert "int8 export (" in ship.render_card(folder)
    # scored on other mixtures than the stored float figure: refused, nothing written
    after["eval"]["float32"]["si_sdri_db_mean"] += 0.5
    (folder / "summary.json").write_text(json.dumps(after))
    written = (folder / "model.tflite").read_bytes()
    with pytest.raises(HearsepError, match="not the same set"):
        ship.reexport_int8(folder)
    assert (folder / "model.tflite").read_bytes() == written
