import numpy as np
import pytest
import soundfile as sf

from hearsep.errors import AudioError
from hearsep.nn import data
from nn_fixtures import write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root)
    return root


def _gen(corpus, seed=5, **mix):
    speech, noise = data.sources_from_folders(corpus / "speech", corpus / "noise")
    return data.MixtureGenerator(speech, noise, data.MixConfig(segment_s=0.5, **mix), seed=seed)


def test_manifest_splits(corpus):
    speech, noise = data.sources_from_manifest(corpus / "manifest.csv", "train")
    assert len(speech) == 3 and len(noise) == 2
    speech, noise = data.sources_from_manifest(corpus / "manifest.csv", "dev")
    assert len(speech) == 1 and len(noise) == 1
    with pytest.raises(AudioError, match="no speech or no noise in split 'test'"):
        data.sources_from_manifest(corpus / "manifest.csv", "test")


def test_deterministic_by_seed(corpus):
    aug = dict(babble_prob=0.5, reverb_prob=0.5, eq_prob=0.5, speed_prob=0.5)
    a, b, c = _gen(corpus, 5, **aug), _gen(corpus, 5, **aug), _gen(corpus, 6, **aug)
    for i in range(4):
        ma, mb = a.example(i), b.example(i)
        np.testing.assert_array_equal(ma.mixture, mb.mixture)
        np.testing.assert_array_equal(ma.target, mb.target)
    assert not np.array_equal(a.example(0).mixture, c.example(0).mixture)
    assert a.example(0).mixture.shape == (8000,) and a.example(0).mixture.dtype == np.float32


@pytest.mark.parametrize("aug", [{}, {"babble_prob": 1.0, "eq_prob": 1.0, "speed_prob": 1.0}])
def test_snr_matches_request(corpus, aug):
    gen = _gen(corpus, 9, **aug)
    for i in range(6):
        m = gen.example(i)
        # without reverb the target is the speech component: noise = mixture - target
        realised = data.snr_db(m.target, m.mixture - m.target)
        assert abs(realised - m.snr_db) < 0.1
        assert -5.0 <= m.snr_db <= 15.0
        assert np.max(np.abs(m.mixture)) <= 0.99


def test_reverb_target_is_early_part(corpus):
    gen = _gen(corpus, 3, reverb_prob=1.0, early_ms=50.0)
    m = gen.example(0)
    assert not np.allclose(m.target, m.mixture)
    assert np.isfinite(m.mixture).all() and np.isfinite(m.target).all()


def test_dataset_streams_batches_from_start_index(corpus):
    gen = _gen(corpus, 2)
    ds = data.make_dataset(gen, batch_size=3, start_index=4, count=3)
    (mix, tgt), = list(ds)
    assert mix.shape == (3, 8000)
    np.testing.assert_array_equal(mix.numpy()[1], gen.example(5).mixture)


def test_voicebank_pairs(tmp_path):
    for d in ("clean", "noisy"):
        (tmp_path / d).mkdir()
    x = np.linspace(-0.5, 0.5, 24000, dtype=np.float32)
    sf.write(tmp_path / "clean" / "p1.wav", x, 16000)
    sf.write(tmp_path / "noisy" / "p1.wav", x * 0.5, 16000)
    sf.write(tmp_path / "clean" / "lonely.wav", x, 16000)
    pairs = data.voicebank_pairs(tmp_path)
    assert len(pairs) == 1
    seg = data.PairedSegments(pairs, segment_s=0.5, seed=1)
    noisy, clean = seg.pair(0)
    np.testing.assert_allclose(noisy, clean * 0.5, atol=1e-4)
