import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

CLI = [sys.executable, "-m", "hearsep.cli.main"]


def test_closed_stdout_pipe_gives_no_traceback():
    # `hearsep info --json | head -0`: the reader is gone before the command prints
    p = subprocess.Popen(CLI + ["info", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    _, err = p.communicate(timeout=120)
    err = err.decode()
    assert p.returncode == 141, err  # 128 + SIGPIPE
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_termination_during_the_write_leaves_no_temporary_file(tmp_path, tiny_model_path, sig):
    src = tmp_path / "long.wav"
    sf.write(src, 0.1 * np.random.default_rng(0).normal(size=16000 * 120), 16000, subtype="PCM_16")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "enhanced.wav"
    p = subprocess.Popen(CLI + ["enhance", str(src), "-o", str(out), "--model", str(tiny_model_path), "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not any(out_dir.iterdir()):  # the output is being written into its temporary file
        assert p.poll() is None and time.monotonic() < deadline, "enhance ended before the write began"
        time.sleep(0.05)
    p.send_signal(sig)
    _, err = p.communicate(timeout=120)
    err = err.decode()
    left = sorted(f.name for f in out_dir.iterdir())
    assert p.returncode == 128 + sig, (p.returncode, err, left)
    assert signal.Signals(sig).name in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert left == []  # neither a temporary file nor a half-written output


def test_handlers_are_restored_after_a_command(tmp_path, capsys, tiny_model_path):
    from hearsep.cli.main import main

    before = signal.getsignal(signal.SIGTERM)
    assert main(["info", str(tiny_model_path)]) == 0
    assert signal.getsignal(signal.SIGTERM) is before
