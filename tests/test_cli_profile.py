"""``hearsep profile`` end to end on the shipped model: files, keys, power from an emulated meter,
and every bad input as one line with exit 2 and no file written."""

from __future__ import annotations

import json

import pytest

from hearsep.cli.main import main
from um_emulator import PtyMeter

KEYS = {"p50_us", "p99_us", "p999_us", "max_us", "hop_us", "rtf", "misses", "peak_rss_mb", "power_source",
        "power_w", "power_above_idle_w", "energy_j", "joules_per_audio_hour", "machine"}


def test_profile_writes_json_md_png_with_meter_power(tmp_path, capsys):
    out = tmp_path / "p.json"
    with PtyMeter("UM25C", voltage_v=5.05, current_a=0.62) as meter:
        rc = main(["profile", "--seconds", "1", "--power", f"um25c:{meter.port}", "--idle-s", "0.2", "--quiet",
                   "--json", str(out), "--md", str(tmp_path / "p.md"), "--png", str(tmp_path / "p.png")])
    assert rc == 0
    s = json.loads(out.read_text())
    assert KEYS <= set(s)
    assert s["hops"] == 500 and s["hop_us"] == 2000.0
    assert s["p50_us"] <= s["p99_us"] <= s["p999_us"] <= s["max_us"]
    assert s["power_source"] == "um25c"
    assert s["power_w"] == pytest.approx(5.05 * 0.62, rel=0.02)
    assert s["power_above_idle_w"] == pytest.approx(0.0, abs=0.02 * s["power_w"])
    assert s["machine"]["python"] and s["machine"]["litert"]
    assert 20 < s["peak_rss_mb"] < 4000  # MB: numpy + LiteRT + the model, not KiB or bytes
    assert "| hop time p99.9 |" in (tmp_path / "p.md").read_text()
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_profile_reads_a_fake_rapl_tree_through_sysfs_root(tmp_path):
    """A counter advanced at 4 W by a writer thread (monotonic time), read through --sysfs-root.
    The strict 2% check with an exact clock is in test_profiling_power; here the file lags the
    writer by up to a scheduling delay, so 5%."""
    import os
    import threading
    import time

    zone = tmp_path / "class/powercap/intel-rapl:0"
    zone.mkdir(parents=True)
    (zone / "name").write_text("package-0\n")
    (zone / "max_energy_range_uj").write_text("262143328850\n")
    t0, stop = time.monotonic(), threading.Event()

    def writer():
        while not stop.is_set():
            tmp = zone / ".energy_uj"  # replace whole, as sysfs never shows a half-written value
            tmp.write_text(f"{round(4e6 * (time.monotonic() - t0))}\n")
            os.replace(tmp, zone / "energy_uj")
            time.sleep(0.001)

    (zone / "energy_uj").write_text("0\n")
    th = threading.Thread(target=writer, daemon=True)
    th.start()
    try:
        out = tmp_path / "p.json"
        assert main(["profile", "--seconds", "1", "--paced", "--power", "rapl", "--sysfs-root", str(tmp_path),
                     "--idle-s", "0.5", "--quiet", "--json", str(out)]) == 0
    finally:
        stop.set()
        th.join()
    s = json.loads(out.read_text())
    assert s["power_source"] == "rapl" and "intel-rapl:0 (package-0)" in s["power_description"]
    assert s["power_w"] == pytest.approx(4.0, rel=0.05) and s["idle_w"] == pytest.approx(4.0, rel=0.05)


def test_input_file_is_profiled_at_the_model_rate(tmp_path, capsys):
    import numpy as np
    import soundfile

    wav = tmp_path / "in.wav"
    soundfile.write(wav, (0.1 * np.random.default_rng(0).standard_normal((48000, 2))).astype(np.float32), 48000)
    out = tmp_path / "p.json"
    assert main(["profile", "--input", str(wav), "--power", "none", "--quiet", "--json", str(out)]) == 0
    s = json.loads(out.read_text())
    assert s["hops"] == 16000 // 32 and s["input"].startswith(str(wav))  # 1 s at 48 kHz -> 16 kHz


def test_compare_prints_one_column_per_run(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    base = {"schema": "hearsep.profile/1", "p50_us": 100.0, "p99_us": 200.0, "rtf": 0.05}
    a.write_text(json.dumps(base))
    b.write_text(json.dumps({**base, "p50_us": 150.0, "p99_us": 100.0}))
    assert main(["profile", "--compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header[-2:] == ["a", "b"]
    assert "(x1.50)" in out and "(x0.50)" in out


@pytest.mark.parametrize("argv,match", [
    (["--power", "bogus"], "unknown power source 'bogus'"),
    (["--power", "rapl", "--sysfs-root", "{tmp}"], "rapl: no powercap zones"),
    (["--hop-ms", "8"], "--hop-ms 8 does not match the model's hop of 2 ms"),
    (["--model", "{tmp}/missing.tflite"], "model file not found"),
    (["--seconds", "-1"], "--seconds must be positive"),
])
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, capsys, argv, match):
    out = tmp_path / "p.json"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["profile", "--seconds", "0.5", "--quiet", "--json", str(out)] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("mode,answers,match", [("silent", None, "did not answer"),
                                                ("garbage", None, "answered garbage"),
                                                ("ok", 4, "um25c: ")])
def test_meter_failures_before_or_during_the_run(tmp_path, capsys, mode, answers, match):
    """A meter that is silent, talks garbage, or disconnects after 4 answers (mid-run of a paced
    1.5 s profile): one line, exit 2, no JSON."""
    out = tmp_path / "p.json"
    with PtyMeter(mode=mode, answers=answers) as meter:
        rc = main(["profile", "--seconds", "1.5", "--paced", "--idle-s", "0.1", "--quiet", "--json", str(out),
                   "--power", f"um25c:{meter.port}"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and match in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_unwritable_output_is_refused_before_the_run_and_nothing_is_written(tmp_path, capsys):
    ok = tmp_path / "p.json"
    assert main(["profile", "--seconds", "0.5", "--quiet", "--power", "none", "--json", str(ok),
                 "--png", str(tmp_path / "missing" / "p.png")]) == 2
    assert "folder" in capsys.readouterr().err and not ok.exists()


def test_compare_refuses_a_file_that_is_not_a_profile(tmp_path, capsys):
    p = tmp_path / "x.json"
    p.write_text("[1, 2]")
    assert main(["profile", "--compare", str(p)]) == 2
    assert "not a hearsep profile" in capsys.readouterr().err
