import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from hearsep.cli.main import main
from models_for_tests import build_tiny_gru


@pytest.fixture(scope="module")
def model(tiny_model_path):
    return tiny_model_path


@pytest.fixture(scope="module")
def raw_model(tmp_path_factory):
    p = tmp_path_factory.mktemp("m") / "raw.tflite"
    p.write_bytes(build_tiny_gru("int8", with_contract=False))
    return p


def _wav(path, seconds=1.0, rate=16000, channels=1, subtype="PCM_16"):
    rng = np.random.default_rng(0)
    x = 0.1 * rng.normal(size=(int(seconds * rate), channels))
    sf.write(path, x, rate, subtype=subtype)
    return path


def _run(capsys, *argv):
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.mark.parametrize("rate,channels,suffix", [(16000, 1, ".wav"), (44100, 2, ".flac"), (8000, 1, ".ogg")])
def test_enhance_keeps_rate_length_and_channels(tmp_path, capsys, model, rate, channels, suffix):
    src = _wav(tmp_path / f"in{suffix}", 0.8, rate, channels, subtype="VORBIS" if suffix == ".ogg" else "PCM_16")
    out = tmp_path / f"out{suffix}"
    code, stdout, err = _run(capsys, "enhance", str(src), "-o", str(out), "--model", str(model))
    assert code == 0, err
    y, r = sf.read(out, always_2d=True)
    x, _ = sf.read(src, always_2d=True)
    assert r == rate and y.shape == x.shape and "(model 4.00 ms)" in stdout
    assert np.std(y) > 0.01


def test_channels_have_their_own_state(tmp_path, capsys, model):
    rng = np.random.default_rng(1)
    mono = 0.1 * rng.normal(size=16000)
    sf.write(tmp_path / "m.wav", mono, 16000, subtype="FLOAT")
    sf.write(tmp_path / "s.wav", np.stack([mono, mono * 0.5], 1), 16000, subtype="FLOAT")
    assert _run(capsys, "enhance", str(tmp_path / "m.wav"), "-o", str(tmp_path / "mo.wav"), "--model", str(model))[0] == 0
    assert _run(capsys, "enhance", str(tmp_path / "s.wav"), "-o", str(tmp_path / "so.wav"), "--model", str(model))[0] == 0
    m, _ = sf.read(tmp_path / "mo.wav")
    s, _ = sf.read(tmp_path / "so.wav")
    np.testing.assert_allclose(s[:, 0], m, atol=1e-6)  # channel 0 alone == mono run: no state leaks across


def _bad_inputs(tmp_path):
    (tmp_path / "text.wav").write_text("not audio")
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1)), 16000)
    nan = 0.1 * np.ones(1600)
    nan[100] = np.nan
    sf.write(tmp_path / "nan.wav", nan, 16000, subtype="FLOAT")
    return {
        "missing": (tmp_path / "nope.wav", "not found"),
        "not audio": (tmp_path / "text.wav", "cannot read"),
        "empty": (tmp_path / "empty.wav", "no samples"),
        "nan": (tmp_path / "nan.wav", "NaN/Inf"),
    }


@pytest.mark.parametrize("case", ["missing", "not audio", "empty", "nan"])
def test_bad_audio_gives_one_line_and_no_output(tmp_path, capsys, model, case):
    src, expect = _bad_inputs(tmp_path)[case]
    out = tmp_path / "out.wav"
    code, _, err = _run(capsys, "enhance", str(src), "-o", str(out), "--model", str(model))
    assert code == 2 and expect in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_bad_models(tmp_path, capsys, raw_model):
    src = _wav(tmp_path / "in.wav")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 100)
    for model, expect in [(junk, "not a TFLite model"), (raw_model, "no hearsep contract"),
                          (tmp_path / "none.tflite", "not found")]:
        code, _, err = _run(capsys, "enhance", str(src), "-o", str(tmp_path / "o.wav"), "--model", str(model))
        assert code == 2 and expect in err, err
    assert not (tmp_path / "o.wav").exists()


def test_unwritable_output_keeps_existing_file(tmp_path, capsys, model):
    src = _wav(tmp_path / "in.wav")
    code, _, err = _run(capsys, "enhance", str(src), "-o", str(tmp_path / "no_dir" / "o.wav"), "--model", str(model))
    assert code == 2 and "does not exist" in err
    code, _, err = _run(capsys, "enhance", str(src), "-o", str(tmp_path / "o.mp3"), "--model", str(model))
    assert code == 2 and "suffix" in err
    code, _, err = _run(capsys, "enhance", str(src), "-o", str(src), "--model", str(model))
    assert code == 2 and "refusing to overwrite" in err
    assert sf.info(src).frames == 16000
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_info_prints_contract_and_ops(capsys, model):
    code, out, _ = _run(capsys, "info", str(model))
    assert code == 0
    assert "64 samples = 4.00 ms" in out and "FULLY_CONNECTED" in out and "integer only" in out
    assert "mask           real: a gain on each of 129 bins" in out
    code, out, _ = _run(capsys, "info", str(model), "--json")
    import json
    d = json.loads(out)
    assert d["inputs"]["features"]["dtype"] == "int8" and d["float_ops"] == []


def test_info_names_the_shipped_deep_filter(capsys):
    """The shipped default is a deep filter: 80 bins of 62.5 Hz = below 5.0 kHz, 3 taps."""
    code, out, _ = _run(capsys, "info")
    assert code == 0
    assert ("mask           deep-filter: a real gain on each of 129 bins + complex taps over the current "
            "and 2 past frames on the lowest 80 bins (< 5.0 kHz)") in out


def test_console_errors_have_no_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "hearsep.cli.main", "enhance", str(tmp_path / "x.wav"), "-o",
                        str(tmp_path / "y.wav")], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.startswith("hearsep enhance: error:")


def test_streamed_file_equals_the_whole_signal_path(tmp_path, capsys, model, monkeypatch):
    from hearsep import Enhancer
    from hearsep.audio import io

    src = _wav(tmp_path / "in.wav", 0.7, 44100, 2)
    monkeypatch.setattr(io, "BLOCK_FRAMES", 1000)  # many blocks, lengths unrelated to the hop
    code, _, err = _run(capsys, "enhance", str(src), "-o", str(tmp_path / "streamed.wav"), "--model", str(model))
    assert code == 0, err
    audio, info = io.read_audio(src)
    whole = Enhancer(model, sample_rate_hz=info.sample_rate_hz, channels=info.channels).enhance(audio)
    io.write_audio(tmp_path / "whole.wav", whole, info.sample_rate_hz, subtype=info.subtype)
    streamed, _ = sf.read(tmp_path / "streamed.wav", dtype="int16")
    reference, _ = sf.read(tmp_path / "whole.wav", dtype="int16")
    np.testing.assert_array_equal(streamed, reference)


def test_clipped_samples_are_counted_not_normalised(tmp_path, capsys, model, monkeypatch):
    from hearsep.runtime.api import Enhancer

    src = _wav(tmp_path / "in.wav", 0.25)  # 4000 samples, PCM_16

    def overshooting(self, blocks):  # stands in for a model output beyond full scale
        for _ in blocks:
            pass
        y = np.full((1, 4000), 0.25, np.float32)
        y[0, :3] = [1.5, -3.0, 1.2]
        yield y

    monkeypatch.setattr(Enhancer, "enhance_stream", overshooting)
    code, out, err = _run(capsys, "enhance", str(src), "-o", str(tmp_path / "o.wav"), "--model", str(model))
    assert code == 0, err
    assert "3 samples clipped at full scale" in out
    y, _ = sf.read(tmp_path / "o.wav", dtype="float32")
    np.testing.assert_allclose(y[:4], [1.0, -1.0, 1.0, 0.25], atol=1e-4)  # clipped, the rest not rescaled
    np.testing.assert_allclose(y[4:], 0.25, atol=1e-4)


def test_truncated_wav_is_one_line_and_no_output(tmp_path, capsys, model):
    src = _wav(tmp_path / "full.wav", 1.0)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(src.read_bytes()[:44 + 2 * 4000])
    code, _, err = _run(capsys, "enhance", str(cut), "-o", str(tmp_path / "o.wav"), "--model", str(model))
    assert code == 2 and "header says 16000" in err and "holds 4000" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.parametrize("threads", ["0", "-1"])
def test_threads_are_checked_at_the_edge(tmp_path, capsys, model, threads):
    src = _wav(tmp_path / "in.wav")
    code, _, err = _run(capsys, "enhance", str(src), "-o", str(tmp_path / "o.wav"), "--model", str(model),
                        "--threads", threads)
    assert code == 2 and "--threads must be >= 1" in err and "model" not in err.split("(")[0]


def test_help_says_more_threads_are_slower(capsys):
    with pytest.raises(SystemExit):
        main(["enhance", "--help"])
    assert "more threads are slower" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("target,expect", [("dir.wav", "is a directory"), ("missing/o.wav", "does not exist"),
                                           ("o.mp3", "suffix")])
def test_output_is_checked_before_the_model_is_even_opened(tmp_path, capsys, target, expect):
    (tmp_path / "dir.wav").mkdir()
    src = _wav(tmp_path / "in.wav")
    code, _, err = _run(capsys, "enhance", str(src), "-o", str(tmp_path / target), "--model",
                        str(tmp_path / "no-such-model.tflite"))
    assert code == 2 and expect in err and "model" not in err  # failed on the output, first


def test_missing_edgetpu_library_is_one_clean_line(tmp_path, model):
    src = _wav(tmp_path / "in.wav", 0.1)
    r = subprocess.run([sys.executable, "-m", "hearsep.cli.main", "enhance", str(src), "-o", str(tmp_path / "o.wav"),
                        "--model", str(model), "--delegate", "edgetpu"], capture_output=True, text=True, timeout=120)
    if r.returncode == 0:
        pytest.skip("an Edge TPU runtime is installed here")
    assert r.returncode == 2 and "Edge TPU delegate unavailable" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "o.wav").exists()
