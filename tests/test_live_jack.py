"""The live runner on a real JACK server (dummy driver): latency to the sample, signal content,
clean stops, the server going away. Timing is not asserted (these VMs show server xruns even with
an empty callback); tools/soak_live.py measures it against a pass-through baseline."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from hearsep.live import LiveProcessor, LoopbackProbe, measure_loopback_latency, run_loopback
from hearsep.live.build import make_processor
from hearsep.live.verify import check_continuity
from hearsep.model.paths import DEFAULT_MODEL
from hearsep.profiling.signals import speech_like_mixture
from hearsep.runtime.enhancer import StreamingEnhancer
from jack_fixture import PERIOD_FRAMES, RATE_HZ, jack_server, jack_server_48k  # noqa: F401 (fixtures)

HEARSEP = [sys.executable, "-m", "hearsep.cli.main"]


def speechlike(n, rate=16000):
    """``n`` samples of the profiler's speech-like mixture (speech-like sound + noise, 5 dB SNR)."""
    return speech_like_mixture(n / rate, rate)[:n].astype(np.float32)


def test_loopback_latency_equals_the_budget_to_the_sample(jack_server):
    processor = make_processor(None, "example:N3", None, device_rate_hz=RATE_HZ)
    result = measure_loopback_latency(processor, clicks=3)
    chain_lookahead = processor.enhancer.chain.latency_samples
    assert chain_lookahead > 0  # the preset's limiter look-ahead is in the path
    assert result.click_delays_samples == (result.expected_samples,) * 3
    assert result.expected_samples == 64 + chain_lookahead + PERIOD_FRAMES  # model framing + limiter + one period
    assert result.algorithmic_ms <= 5.0 and result.measured_ms <= 8.0  # the targets
    assert result.buffering_ms == pytest.approx(2.0) and result.server_ms == 0.0 and result.resampling_ms == 0.0


def test_loopback_latency_with_resampling_equals_the_budget(jack_server_48k):
    processor = make_processor(None, None, None, device_rate_hz=48000)
    result = measure_loopback_latency(processor, clicks=2)
    assert result.summary.period_frames == 96
    assert result.resampling_ms > 0.5
    assert result.agrees and result.measured_samples == processor.latency_samples + 96


@pytest.mark.parametrize("with_model", [True, False])
def test_live_output_is_the_enhanced_input_with_nothing_dropped_or_repeated(jack_server, with_model):
    x = speechlike(RATE_HZ)
    enhancer = StreamingEnhancer.from_model(DEFAULT_MODEL) if with_model else None
    processor = LiveProcessor(enhancer, device_rate_hz=RATE_HZ, budget_fraction=0.75,
                              record_samples=2 * RATE_HZ, hop_log_hops=2 * RATE_HZ // 32)
    probe = LoopbackProbe(x)
    summary, _ = run_loopback(processor, probe)
    assert probe.finished and summary.blocks > 400
    fresh = StreamingEnhancer.from_model(DEFAULT_MODEL) if with_model else None
    result = check_continuity(processor, probe, PERIOD_FRAMES, fresh)
    assert result.input_intact and result.output_replayed and result.returned_intact
    # the session server runs --no-realtime: the policy is read from the thread, not assumed
    assert summary.callback_thread["policy"] == "SCHED_OTHER"
    assert result.compared_samples > RATE_HZ // 2
    if with_model:  # the model changed the signal: the replay is not a copy
        got = processor.recorded_in[:processor.frames]
        assert np.max(np.abs(processor.recorded_out[:got.shape[0]] - got)) > 0.01


def test_hearsep_latency_loopback_json(jack_server):
    out = subprocess.run(HEARSEP + ["latency", "--loopback", "--json", "--clicks", "2"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["measured_ms"] == d["expected_ms"] == pytest.approx(d["algorithmic_ms"] + d["buffering_ms"])
    assert d["algorithmic_ms"] == 4.0 and d["buffering_ms"] == 2.0


def _start_live(args, env=None):
    p = subprocess.Popen(HEARSEP + ["live"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    line = p.stderr.readline()  # "live: ... Ctrl-C to stop" once the stream runs
    assert "Ctrl-C to stop" in line, line + p.stderr.read()
    return p


def test_live_runs_for_the_given_seconds_and_writes_the_json_summary(jack_server, tmp_path):
    path = tmp_path / "live.json"
    out = subprocess.run(HEARSEP + ["live", "--seconds", "1", "--preset", "example:N3", "--json", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    d = json.loads(path.read_text())
    assert list(d)[:8] == ["blocks", "safe_blocks", "xruns", "p50_us", "p99_us", "p999_us", "max_us", "period_us"]
    # stopped at the first check (every 20 ms) after 1 s of audio
    assert RATE_HZ // PERIOD_FRAMES <= d["blocks"] <= 1.2 * RATE_HZ // PERIOD_FRAMES
    assert d["period_us"] == 2000.0 and d["ended"] == "duration" and d["seconds"] >= 1.0
    assert 0 < d["p50_us"] <= d["p999_us"] <= d["max_us"]
    assert "safe-path blocks" in out.stdout and "p99.9" in out.stdout


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_run_cleanly_with_the_summary(jack_server, sig):
    p = _start_live([])
    time.sleep(0.5)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert "ended: signal" in out and "blocks" in out and "Traceback" not in err


def test_the_server_going_away_ends_the_run_with_the_summary_and_a_non_zero_exit(jack_server):
    from hearsep.live.jack import JackServer

    with JackServer(RATE_HZ, PERIOD_FRAMES, name=f"hearsep-test-{os.getpid()}-dies") as doomed:
        env = dict(os.environ, JACK_DEFAULT_SERVER=doomed.name)
        p = _start_live(["--seconds", "60"], env=env)
        time.sleep(0.5)
        doomed.process.terminate()
        doomed.process.wait(timeout=10)
        out, err = p.communicate(timeout=30)
    assert p.returncode == 1
    assert "ended: server stopped" in out and "blocks" in out
    assert "audio server stopped" in err and "Traceback" not in err


def test_devices_lists_the_jack_host_api_and_its_device(jack_server):
    out = subprocess.run(HEARSEP + ["devices", "--json"], capture_output=True, text=True, timeout=60)
    d = json.loads(out.stdout)
    assert "JACK Audio Connection Kit" in d["host_apis"]
    jack_devices = [x for x in d["devices"] if x["host_api"] == "JACK Audio Connection Kit"]
    assert jack_devices and jack_devices[0]["default_samplerate_hz"] == RATE_HZ


@pytest.mark.parametrize("args,message", [
    (["--input", "no-such-device"], "no audio input device named 'no-such-device'"),
    (["--output", "97"], "no audio device with index 97"),
    (["--rate", "44100"], "cannot open 44100 Hz"),
    (["--program", "quiet"], "--program needs --preset"),
])
def test_bad_live_input_is_one_line_and_exit_2(jack_server, args, message, capsys):
    from hearsep.cli.main import main

    assert main(["live", "--seconds", "1"] + args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_a_preset_that_fails_validation_is_one_line_and_exit_2(jack_server, tmp_path, capsys):
    from hearsep.cli.main import main

    bad = tmp_path / "bad.toml"
    bad.write_text("this is = not [a preset\n")
    assert main(["live", "--seconds", "1", "--preset", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.toml" in err[0]


def test_a_model_rate_other_than_the_device_rate_with_resampling_refused(jack_server_48k, capsys):
    from hearsep.cli.main import main

    assert main(["live", "--seconds", "1", "--no-resample"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "48000 Hz" in err[0] and "16000 Hz" in err[0] and "refused" in err[0]


def test_a_realtime_server_runs_the_callback_fifo_on_the_cpu_the_process_was_pinned_to(jack_server):
    from hearsep.live.jack import JackServer, realtime_allowed

    if not realtime_allowed():
        pytest.skip("this process may not use SCHED_FIFO (no CAP_SYS_NICE or RLIMIT_RTPRIO): the fallback is tested")
    before = os.sched_getaffinity(0)
    cpu = max(before)
    os.sched_setaffinity(0, {cpu})  # jackd and PortAudio's JACK client thread inherit it
    try:
        with JackServer(RATE_HZ, PERIOD_FRAMES, name=f"hearsep-test-{os.getpid()}-rt", realtime=True) as server:
            assert server.realtime_active and "-R" in server.flags
            processor = LiveProcessor(None, device_rate_hz=RATE_HZ)
            summary, _ = run_loopback(processor, LoopbackProbe(speechlike(RATE_HZ // 4)))
    finally:
        os.sched_setaffinity(0, before)
    thread = summary.callback_thread
    assert thread["policy"] == "SCHED_FIFO" and 0 < thread["priority"] < server.priority
    assert thread["cpus"] == [cpu]
    assert processor.thread_id != threading.get_native_id()  # PortAudio's thread, not this one


REFUSE_RT = """
from hearsep.live.jack import JackServer, realtime_allowed
assert not realtime_allowed()
assert "--no-realtime" in JackServer(16000, 32, realtime=None).flags
with JackServer(16000, 32, name="hearsep-test-%d-nort", realtime=True) as server:
    print(server.realtime_active, server.describe())
"""


def test_where_realtime_is_refused_the_server_falls_back_and_says_so(jack_server):
    import shutil

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to drop CAP_SYS_NICE")
    from hearsep.live.jack import realtime_allowed

    if os.geteuid() != 0 and realtime_allowed():
        pytest.skip("this user's RLIMIT_RTPRIO allows SCHED_FIFO; setpriv cannot take that away")
    # root: drop CAP_SYS_NICE for the child (what a container without real-time rights looks like)
    drop = ["setpriv", "--inh-caps", "-sys_nice", "--bounding-set", "-sys_nice", "--"] if os.geteuid() == 0 else []
    out = subprocess.run(drop + [sys.executable, "-c", REFUSE_RT % os.getpid()], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("False jackd real-time asked for (-R) but NOT granted: the server runs SCHED_OTHER, "
                                  "asynchronous")
