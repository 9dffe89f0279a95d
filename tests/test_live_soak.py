"""tools/soak_live.py: where its load goes, and a two-second soak end to end on its own JACK server."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "soak_live.py"
spec = importlib.util.spec_from_file_location("soak_live", TOOL)
soak_live = importlib.util.module_from_spec(spec)
spec.loader.exec_module(soak_live)


def test_the_load_goes_to_another_cpu_than_the_runner_even_under_taskset(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})  # as under `taskset -c 0`
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert soak_live.soak_cpus() == (0, 3)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {2, 3})
    assert soak_live.soak_cpus() == (2, 3)  # the last online CPU that is not the runner's
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert soak_live.soak_cpus() == (0, 0)  # one CPU: the load shares it


def test_a_short_soak_writes_the_report_and_the_json_with_the_server_it_ran(tmp_path):
    from hearsep.live.jack import jack_available, realtime_allowed

    if not jack_available():
        pytest.skip("jackd is not installed (Debian: apt-get install jackd2); .ci/run installs it")
    js, txt = tmp_path / "soak.json", tmp_path / "soak.txt"
    out = subprocess.run([sys.executable, str(TOOL), "--seconds", "2", "--segments", "2", "--no-load", "--quiet",
                          "--corpus", "", "--json", str(js), "--text", str(txt)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode in (0, 1), out.stderr  # 1: a timing target not met on this machine
    assert out.stdout == txt.read_text()
    d = json.loads(js.read_text())
    assert d["verdicts"]["no_dropped_or_repeated_blocks"] and d["verdicts"]["safe_blocks_counted"]
    assert d["load"] is False and d["load_cpu"] is None and "SYNTHETIC" in d["input"]
    realtime = realtime_allowed()
    assert ("-R" in d["server_flags"]) == realtime and ("--no-realtime" in d["server_flags"]) != realtime
    policy = "SCHED_FIFO" if realtime else "SCHED_OTHER"
    assert d["model"]["callback_thread"]["policy"] == d["passthrough"]["callback_thread"]["policy"] == policy
    assert d["model"]["callback_thread"]["cpus"] == [d["runner_cpu"]]
    assert f"callback thread: {policy}" in txt.read_text()
    blocks = d["segment_blocks"]["model"]
    assert len(blocks) == 2 and sum(blocks) == d["model"]["blocks"]
    assert all(0 <= b < n for seg, n in zip(d["xrun_blocks"]["model"], blocks) for b in seg)
