import numpy as np
import pytest
import soundfile as sf

from hearsep.errors import AudioError, ConfigError
from hearsep.eval.metrics import snr_db
from hearsep.audio.mix import rms_dbfs
from hearsep.audio.sources import audio_files
from hearsep.eval.mixtures import (MixtureConfig, corpus_files, generate_mixtures, load_pairs, paired_files,
                                   stratified_snrs_db)
from speechlike import noise_like, speech_like


def test_stratified_snrs_cover_each_slice_once():
    snrs = stratified_snrs_db(8, (-5.0, 15.0), np.random.default_rng(0))
    assert sorted(np.floor((snrs + 5.0) / 2.5).astype(int).tolist()) == list(range(8))


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixsrc")
    (root / "speech" / "sub").mkdir(parents=True)
    (root / "noise").mkdir()
    for i, sec in enumerate([1.5, 2.5, 1.2, 3.0]):
        sub = "sub/" if i % 2 else ""
        sf.write(root / "speech" / f"{sub}s{i}.flac", speech_like(sec, seed=10 + i), 16000, subtype="PCM_16")
    sf.write(root / "noise" / "n0.wav", noise_like(0.8, seed=20), 16000)  # shorter than any mixture: loops
    sf.write(root / "noise" / "n1.wav", np.stack([noise_like(6.0, seed=21)] * 2, axis=1), 16000)  # stereo
    sf.write(root / "noise" / "n2.flac", noise_like(5.0, rate_hz=22050, seed=22), 22050)  # resampled
    (root / "noise" / "readme.txt").write_text("not audio")
    return root


def _mixtures(folders, **kw):
    cfg = MixtureConfig(**{"count": 8, "min_seconds": 2.0, "max_seconds": 3.0, **kw})
    return list(generate_mixtures(audio_files(folders / "speech"), audio_files(folders / "noise"), cfg))


def test_generated_mixtures_have_requested_snr_length_and_level(folders):
    mixes = _mixtures(folders)
    assert len(mixes) == 8
    assert sorted(np.floor((np.array([m.snr_db for m in mixes]) + 5.0) / 5.0).astype(int).tolist()) == [0, 0, 1, 1, 2, 2, 3, 3]
    for m in mixes:
        assert -5.0 <= m.snr_db <= 15.0
        assert m.clean.dtype == m.noisy.dtype == np.float32 and m.clean.shape == m.noisy.shape
        assert 2.0 <= m.duration_s <= 3.0
        assert snr_db(m.clean, m.noisy - m.clean) == pytest.approx(m.snr_db, abs=0.05)
        assert np.max(np.abs(m.noisy)) <= 0.99 + 1e-6
        assert rms_dbfs(m.clean) == pytest.approx(-25.0, abs=0.01)


def test_mixtures_are_deterministic_by_seed(folders):
    a, b, c = _mixtures(folders, seed=7), _mixtures(folders, seed=7), _mixtures(folders, seed=8)
    assert [m.name for m in a] == [m.name for m in b]
    assert all(np.array_equal(x.noisy, y.noisy) and np.array_equal(x.clean, y.clean) for x, y in zip(a, b))
    assert [m.snr_db for m in a] != [m.snr_db for m in c]


def test_peak_limit_and_level_range(folders):
    loud = _mixtures(folders, speech_level_dbfs=(-3.0, -3.0), snr_range_db=(-5.0, 0.0))
    assert all(np.max(np.abs(m.noisy)) == pytest.approx(0.99, abs=1e-4) for m in loud)
    assert all(snr_db(m.clean, m.noisy - m.clean) == pytest.approx(m.snr_db, abs=0.05) for m in loud)
    ranged = _mixtures(folders, speech_level_dbfs=(-35.0, -20.0))
    levels = [rms_dbfs(m.clean) for m in ranged]
    assert all(-35.01 <= v <= -19.99 for v in levels) and max(levels) - min(levels) > 3.0


@pytest.mark.parametrize("kw,match", [({"count": 0}, "positive"), ({"snr_range_db": (5.0, 5.0)}, "LO < HI"),
                                      ({"min_seconds": 4.0, "max_seconds": 3.0}, "min_seconds")])
def test_bad_config_is_a_config_error(kw, match):
    with pytest.raises(ConfigError, match=match):
        MixtureConfig(**kw).validate()


def test_audio_files_errors(tmp_path):
    with pytest.raises(AudioError, match="speech folder not found"):
        audio_files(tmp_path / "nope", "speech")
    with pytest.raises(AudioError, match="no audio files"):
        audio_files(tmp_path, "noise")


def test_corpus_manifest_selects_split(tmp_path, folders):
    rows = ["path,kind,split", "speech/s0.flac,speech,dev", "speech/sub/s1.flac,speech,train",
            "noise/n0.wav,noise,dev", "noise/n1.wav,noise,train"]
    for d in ("speech", "noise"):
        (tmp_path / d).symlink_to(folders / d)
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    speech, noise = corpus_files(tmp_path, "dev")
    assert [p.name for p in speech] == ["s0.flac"] and [p.name for p in noise] == ["n0.wav"]
    with pytest.raises(AudioError, match="no speech or no noise in split 'test'"):
        corpus_files(tmp_path, "test")
    with pytest.raises(AudioError, match="no manifest.csv"):
        corpus_files(folders, "dev")


def test_paired_files_match_by_name_and_report_strays(tmp_path):
    c, n = tmp_path / "clean", tmp_path / "noisy"
    c.mkdir(), n.mkdir()
    s = speech_like(1.0, seed=3)
    for name in ("a", "b"):
        sf.write(c / f"{name}.wav", s, 16000)
        sf.write(n / f"{name}.flac", s + noise_like(1.0, seed=4, level_dbfs=-35.0), 16000)
    pairs = paired_files(c, n)
    assert [p[0] for p in pairs] == ["a", "b"]
    loaded = list(load_pairs(pairs))
    assert loaded[0].snr_db == pytest.approx(10.0, abs=0.05)
    sf.write(c / "only_clean.wav", s, 16000)
    sf.write(n / "only_noisy.wav", s, 16000)
    with pytest.raises(AudioError, match=r"1 clean file\(s\) without a noisy partner \(e.g. only_clean\).*"
                                         r"1 noisy file\(s\) without a clean partner \(e.g. only_noisy\)"):
        paired_files(c, n)


def test_load_pairs_rejects_very_different_lengths(tmp_path):
    c, n = tmp_path / "c.wav", tmp_path / "n.wav"
    sf.write(c, speech_like(1.0), 16000)
    sf.write(n, speech_like(1.5), 16000)
    with pytest.raises(AudioError, match="lengths differ"):
        list(load_pairs([("x", c, n)]))
