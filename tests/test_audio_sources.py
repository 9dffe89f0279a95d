import pytest

from hearsep.audio.sources import AUDIO_SUFFIXES, audio_files, read_manifest
from hearsep.errors import AudioError


def test_audio_files_finds_known_suffixes_recursively(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.wav", "sub/a.FLAC", "c.ogg", "notes.txt", "d.mp3"):
        (tmp_path / name).write_bytes(b"")
    assert [p.relative_to(tmp_path).as_posix() for p in audio_files(tmp_path)] == ["b.wav", "c.ogg", "sub/a.FLAC"]
    assert AUDIO_SUFFIXES == (".wav", ".flac", ".ogg")


def test_audio_files_errors(tmp_path):
    with pytest.raises(AudioError, match="speech folder not found"):
        audio_files(tmp_path / "nope", "speech")
    with pytest.raises(AudioError, match="no audio files"):
        audio_files(tmp_path, "noise")
    (tmp_path / "f.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="is a file"):
        audio_files(tmp_path / "f.wav")


def test_read_manifest_keeps_order_and_splits(tmp_path):
    rows = ["path,kind,split", "s/b.wav,speech,train", "s/a.wav,speech,train", "n/x.wav,noise,train",
            "s/d.wav,speech,dev", "r/rir.wav,rir,train"]
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    speech, noise = read_manifest(tmp_path / "manifest.csv", "train")
    assert speech == [tmp_path / "s/b.wav", tmp_path / "s/a.wav"] and noise == [tmp_path / "n/x.wav"]
    with pytest.raises(AudioError, match=r"no speech or no noise in split 'dev' \(1 speech, 0 noise"):
        read_manifest(tmp_path / "manifest.csv", "dev")
    (tmp_path / "bad.csv").write_text("path,kind\nx.wav,speech\n")
    with pytest.raises(AudioError, match=r"lacks the column\(s\) split"):
        read_manifest(tmp_path / "bad.csv", "train")
    with pytest.raises(AudioError, match="manifest not found"):
        read_manifest(tmp_path / "none.csv", "train")
