"""tools/bench_diff.py: one bench row against another, and the ship verdict, from a bench_peers.json."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import bench_diff  # noqa: E402


def _row(system, sdr, pesq, ovrl, step):
    return {"system": system, "si_sdri_db": sdr, "pesq": pesq, "stoi": 0.9, "dnsmos_bak": 3.0,
            "dnsmos_ovrl": ovrl, "compute_ms_per_s": step}


def _bench(tmp_path, rows):
    path = tmp_path / "bench_peers.json"
    path.write_text(json.dumps({"meta": {}, "summary": rows}))
    return path


def test_deltas_ratio_and_verdict(tmp_path, capsys):
    path = _bench(tmp_path, [_row("new int8", 6.5, 1.60, 2.60, 20.0), _row("new float", 6.6, 1.61, 2.62, 30.0),
                             _row("old int8", 6.0, 1.58, 2.58, 18.0), _row("DTLN quantized", 7.8, 1.58, 2.78, 25.0)])
    assert bench_diff.main([str(path), "new int8", "old int8", "--float", "new float",
                            "--require-better", "si_sdri_db,pesq,dnsmos_ovrl"]) == 0
    out = capsys.readouterr().out
    assert "| new int8 - old int8 | +0.500 | +0.020 | +0.000 | +0.000 | +0.020 | +2.0 |" in out
    assert "new int8 step: 0.80x DTLN quantized (20.0 vs 25.0 ms/s" in out
    assert "new int8 - new float: SI-SDRi -0.10 dB, PESQ -0.010" in out
    assert "verdict: new int8 is better than or level with old int8" in out
    # the other way round it loses on all three, and says which
    assert bench_diff.main([str(path), "old int8", "new int8", "--require-better", "si_sdri_db,pesq,dnsmos_ovrl"]) == 1
    assert "not better than new int8 (worse on si_sdri_db, pesq, dnsmos_ovrl)" in capsys.readouterr().out
    # the step is lower-is-better: the old model (18 ms/s) is no slower than the new one (20 ms/s)
    assert bench_diff.main([str(path), "old int8", "new int8", "--require-better", "compute_ms_per_s"]) == 0
    assert bench_diff.main([str(path), "new int8", "old int8", "--require-better", "compute_ms_per_s"]) == 1


def test_paired_standard_error_of_the_per_file_differences(tmp_path, capsys):
    """Per-file records of both systems: std(d) / sqrt(n) of the paired differences, on shared files only."""
    def files(values):
        return [{"name": n, "si_sdri_db": v, "pesq": 1.5} for n, v in values.items()]

    path = tmp_path / "bench_peers.json"
    path.write_text(json.dumps({"meta": {}, "summary": [_row("a", 6.2, 1.5, 2.6, 1), _row("b", 6.0, 1.5, 2.6, 1),
                                                        _row("DTLN quantized", 1, 1, 1, 2)],
                                "evaluations": [{"system": "a", "files": files({"x": 6.1, "y": 6.3, "z": 9.0})},
                                                {"system": "b", "files": files({"x": 6.0, "y": 6.0})}]}))
    assert bench_diff.main([str(path), "a", "b"]) == 0
    # d = [0.1, 0.3] on x and y (z: a only): std 0.1414, / sqrt(2) = 0.100; PESQ: d = 0 on both
    assert "| paired standard error (2 files) | 0.100 | 0.000 | - | - | - | - |" in capsys.readouterr().out
    assert "paired standard error" not in _main_out(_bench(tmp_path, [_row("a", 1, 1, 1, 1), _row("b", 1, 1, 1, 1),
                                                                      _row("DTLN quantized", 1, 1, 1, 2)]), capsys)


def _main_out(path, capsys):
    assert bench_diff.main([str(path), "a", "b"]) == 0
    return capsys.readouterr().out


def test_trainer_summaries_are_tabled(tmp_path, capsys):
    path = _bench(tmp_path, [_row("a", 1, 1, 1, 1), _row("b", 1, 1, 1, 1), _row("DTLN quantized", 1, 1, 1, 2)])
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"steps": 120, "train_time_s": 600, "eval": {
        "mixtures": 100, "segment_s": 4.0, "float32": {"si_sdri_db_mean": 7.531}, "int8": {"si_sdri_db_mean": 7.394}}}))
    assert bench_diff.main([str(path), "a", "b", "--summary", f"run={summary}"]) == 0
    assert "| run | 120 | 10 | 100 x 4 s | 7.53 | 7.39 |" in capsys.readouterr().out


def test_bad_inputs_are_one_line_exit_2(tmp_path, capsys):
    path = _bench(tmp_path, [_row("a", 1, 1, 1, 1), _row("DTLN quantized", 1, 1, 1, 1)])
    for argv in ([str(path), "a", "missing"], [str(tmp_path / "none.json"), "a", "b"],
                 [str(path), "a", "a", "--require-better", "nope"], [str(path), "a", "a", "--summary", "x"]):
        assert bench_diff.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("bench_diff: error:") and err.count("\n") == 1


def test_a_closed_pipe_ends_quietly(tmp_path):
    """``bench_diff ... | head -1``: the reader is gone before the table is written; no traceback."""
    path = _bench(tmp_path, [_row("a", 1, 1, 1, 1), _row("b", 1, 1, 1, 1), _row("DTLN quantized", 1, 1, 1, 1)])
    r, w = os.pipe()
    proc = subprocess.Popen([sys.executable, str(REPO / "tools" / "bench_diff.py"), str(path), "a", "b"],
                            stdout=w, stderr=subprocess.PIPE)
    os.close(w)
    os.close(r)  # the reader leaves before the child (still importing) writes
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and b"Traceback" not in err, err.decode()
