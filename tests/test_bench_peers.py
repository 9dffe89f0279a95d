"""tools/bench_peers.py and tools/dtln_runner.py (the DTLN parts need ../shared; skipped without it)."""

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
    rows = ["path,kind,split"]
    for i in range(3):
        sf.write(tmp_path / f"speech/dev/s{i}.flac", speech_like(1.2, seed=50 + i), 16000)
        rows.append(f"speech/dev/s{i}.flac,speech,dev")
    sf.write(tmp_path / "noise/dev/n.flac", noise_like(3.0, seed=60), 16000)
    rows.append("noise/dev/n.flac,noise,dev")
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_bench_runs_models_and_writes_reports(tiny_corpus, tmp_path, capsys):
    fl, q = tmp_path / "f.tflite", tmp_path / "q.tflite"
    fl.write_bytes(build_tiny_gru("float32"))
    q.write_bytes(build_tiny_gru("int8"))
    peers = SHARED / "peers" if DTLN_DIR.is_dir() else tmp_path / "no-peers"
    code = bench_peers.main(["--corpus", str(tiny_corpus), "--peers", str(peers), "--mixtures", "2",
                             "--seconds", "1", "2", "--model-float", str(fl), "--model-int8", str(q),
                             "--out", str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads((tmp_path / "out" / "bench_peers.json").read_text())
    rows = {r["system"]: r for r in doc["summary"]}
    expected = {"hearsep float", "hearsep int8", "unprocessed"} | ({"DTLN float", "DTLN quantized"} if DTLN_DIR.is_dir() else set())
    assert set(rows) == expected
    assert rows["hearsep int8"]["latency_ms"] == pytest.approx(4.0)
    assert rows["unprocessed"]["si_sdri_db"] == 0.0
    assert all(r["lag_zero_files"] == 2 for r in rows.values())
    assert rows["hearsep int8"]["compute_ms_per_s"] > 0
    if DTLN_DIR.is_dir():
        assert rows["DTLN quantized"]["compute_ms_per_s_ratio"] == pytest.approx(1.0)
        assert rows["hearsep int8"]["latency_ms_ratio"] == pytest.approx(4.0 / 32.0)
    assert "SI-SDRi dB" in out and "| system |" in (tmp_path / "out" / "bench_peers.md").read_text()


def test_bench_restores_cpu_affinity(tiny_corpus, tmp_path):
    import os

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    before = os.sched_getaffinity(0)
    assert bench_peers.main(["--corpus", str(tiny_corpus), "--peers", str(tmp_path / "none"), "--mixtures", "1",
                             "--seconds", "1", "1.5", "--model-float", str(tmp_path / "none.tflite"),
                             "--model-int8", str(tmp_path / "none.tflite"), "--quiet"]) == 0
    assert os.sched_getaffinity(0) == before
