import errno
import os

import numpy as np
import pytest
import soundfile as sf

from hearsep.audio import io
from hearsep.errors import AudioError, OutputError


def _wav(path, frames=4000, channels=2, subtype="PCM_16", rate=16000):
    x = 0.1 * np.random.default_rng(0).normal(size=(frames, channels))
    sf.write(path, x, rate, subtype=subtype)
    return path


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_blocks_join_to_the_whole_file(tmp_path):
    src = _wav(tmp_path / "a.flac", frames=10001)
    whole, info = io.read_audio(src)
    assert whole.shape == (2, 10001) and whole.dtype == np.float32
    assert (info.sample_rate_hz, info.channels, info.frames, info.format) == (16000, 2, 10001, "FLAC")
    blocks = list(io.read_blocks(src, block_frames=3000))
    assert [b.shape[1] for b in blocks] == [3000, 3000, 3000, 1001]
    np.testing.assert_array_equal(np.concatenate(blocks, axis=1), whole)


def test_truncated_wav_is_refused_with_both_lengths(tmp_path):
    src = _wav(tmp_path / "full.wav", frames=16000, channels=1)
    data = src.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[:44 + 2 * 6000])  # header (44 bytes) + 6000 of 16000 samples
    assert io.wav_header_frames(cut) == 16000
    with pytest.raises(AudioError, match="header says 16000 .* holds 6000"):
        io.audio_info(cut)
    with pytest.raises(AudioError, match="truncated"):
        next(io.read_blocks(cut))
    assert io.audio_info(src).frames == 16000  # the whole file passes


def test_nan_is_refused_when_its_block_is_read(tmp_path):
    x = np.zeros(5000, np.float32)
    x[4500] = np.nan
    sf.write(tmp_path / "n.wav", x, 16000, subtype="FLOAT")
    blocks = io.read_blocks(tmp_path / "n.wav", block_frames=4096)
    assert next(blocks).shape == (1, 4096)
    with pytest.raises(AudioError, match="1 NaN/Inf samples \\(from sample 4096\\)"):
        next(blocks)


@pytest.mark.parametrize("suffix,subtype,clips", [(".wav", "PCM_16", True), (".flac", "PCM_24", True),
                                                  (".wav", "FLOAT", False)])
def test_integer_formats_clip_per_sample_and_count(tmp_path, suffix, subtype, clips):
    x = np.array([[0.5, 1.5, -2.0, 0.25, -1.0]], np.float32)
    out = tmp_path / f"o{suffix}"
    clipped = io.write_audio(out, x, 16000, subtype=subtype)
    y, _ = sf.read(out, dtype="float32", always_2d=True)
    assert clipped == (2 if clips else 0)
    if clips:  # only the two samples beyond full scale change; nothing is rescaled
        np.testing.assert_allclose(y[:, 0], [0.5, 1.0, -1.0, 0.25, -1.0], atol=1e-4)
    else:
        np.testing.assert_array_equal(y[:, 0], x[0])


def test_mode_follows_umask_and_the_replaced_file(tmp_path):
    x = np.zeros(100, np.float32)
    old = os.umask(0o027)
    try:
        io.write_audio(tmp_path / "new.wav", x, 16000)
        assert (tmp_path / "new.wav").stat().st_mode & 0o777 == 0o640
        existing = tmp_path / "kept.wav"
        io.write_audio(existing, x, 16000)
        existing.chmod(0o604)
        io.write_audio(existing, x, 16000)
        assert existing.stat().st_mode & 0o777 == 0o604
    finally:
        os.umask(old)


@pytest.mark.parametrize("code,words", [(errno.ENOSPC, "disk full"), (errno.EACCES, "permission denied"),
                                        (errno.EDQUOT, "quota")])
def test_write_failures_say_which_and_leave_nothing(tmp_path, monkeypatch, code, words):
    existing = tmp_path / "out.wav"
    io.write_audio(existing, np.full(10, 0.5, np.float32), 16000)
    before = existing.read_bytes()

    def failing_write(self, data):
        sf._ffi.errno = code  # what libsndfile leaves behind when write(2) fails
        raise sf.LibsndfileError(0, "System error.")  # ... and all it says

    monkeypatch.setattr(sf.SoundFile, "write", failing_write)
    with pytest.raises(OutputError, match=f"cannot write .*out.wav: .*{words}"):
        io.write_audio(existing, np.zeros(1000, np.float32), 16000)
    assert existing.read_bytes() == before and _leftovers(tmp_path) == []


def test_output_checks_before_any_work(tmp_path):
    with pytest.raises(OutputError, match="suffix"):
        io.check_audio_output(tmp_path / "x.mp3")
    with pytest.raises(OutputError, match="does not exist"):
        io.check_audio_output(tmp_path / "missing" / "x.wav")
    (tmp_path / "d.wav").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        io.check_audio_output(tmp_path / "d.wav")
    assert io.check_audio_output(tmp_path / "ok.flac") == tmp_path / "ok.flac"


def test_exception_inside_the_writer_leaves_no_file(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with io.AudioWriter(tmp_path / "o.wav", 16000, 1) as w:
            w.write(np.zeros(100, np.float32))
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_interruption_while_opening_leaves_no_temporary_file(tmp_path, monkeypatch, exc):
    def interrupted(*args, **kwargs):
        raise exc

    monkeypatch.setattr(sf, "SoundFile", interrupted)
    writer = io.AudioWriter(tmp_path / "o.wav", 16000, 1)  # kept alive: no help from garbage collection
    with pytest.raises(exc):
        with writer:
            pass
    assert list(tmp_path.iterdir()) == []
