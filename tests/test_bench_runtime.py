"""tools/bench_runtime.py: the per-hop bench with a baseline model and DTLN quantized alongside
(the DTLN part needs ../shared/peers/dtln and is left out without it)."""

import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
DTLN_DIR = REPO.parent / "shared" / "peers" / "dtln"

import bench_runtime  # noqa: E402


def test_deep_filter_model_against_a_baseline_per_second_of_audio(tmp_path):
    df, _ = bench_runtime.build_gru_int8(8, 8, 1, output="deep-filter", df_order=2, df_bins=16)
    real, _ = bench_runtime.build_gru_int8(8, 8, 1)
    (tmp_path / "df.tflite").write_bytes(df)
    (tmp_path / "real.tflite").write_bytes(real)
    out = tmp_path / "bench.json"
    args = ["--model", str(tmp_path / "df.tflite"), "--baseline", str(tmp_path / "real.tflite"),
            "--hops", "40", "--rounds", "3", "--json", str(out)]
    dtln = (DTLN_DIR / "model_quant_2.tflite").is_file()
    if dtln:
        args += ["--dtln", str(DTLN_DIR)]
    before = os.sched_getaffinity(0)
    try:
        assert bench_runtime.main(args) == 0  # pins this process to one core
    finally:
        os.sched_setaffinity(0, before)
    doc = json.loads(out.read_text())
    assert doc["mask_kind"] == "deep-filter" and doc["mask_size"] == 129 + 2 * 2 * 16
    assert "deep filter" in doc["fused_inlined"] and "real mask" in doc["fused_inlined_baseline"]
    audio = doc["per_audio_s"]
    assert audio["step"]["calls_per_s"] == audio["baseline_step"]["calls_per_s"] == 16000 / 32
    for name, a in audio.items():  # ms of compute per second of audio = calls per second x us per call
        t = doc["timings"][name]
        assert a["wall_ms_per_s"] == pytest.approx(a["calls_per_s"] * t["mean_us"] / 1000)
        assert a["cpu_ms_per_s"] == pytest.approx(a["calls_per_s"] * t["cpu_mean_us"] / 1000)
        assert a["cpu_round_median_ms_per_s"] == pytest.approx(a["calls_per_s"] * t["cpu_round_median_us"] / 1000)
    assert doc["ratio_step_to_baseline_step_per_audio_s"] == pytest.approx(
        audio["step"]["wall_ms_per_s"] / audio["baseline_step"]["wall_ms_per_s"])
    assert doc["step_p99_met"] == (doc["timings"]["step"]["p99_us"] <= 0.1 * doc["hop_us"])
    if dtln:
        assert audio["dtln_quantized"]["calls_per_s"] == 16000 / 128
        assert doc["ratio_step_to_dtln_quantized_per_audio_s_cpu"] == pytest.approx(
            audio["step"]["cpu_ms_per_s"] / audio["dtln_quantized"]["cpu_ms_per_s"])
