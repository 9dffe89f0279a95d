import numpy as np
import pytest

from hearsep.errors import ConfigError
from hearsep.features.stft import StreamingSTFT, analysis_frames, overlap_add, window_pair

CONFIGS = [("asymmetric", 256, 32), ("asymmetric", 128, 16), ("asymmetric", 512, 64),
           ("sqrt-hann", 512, 128), ("sqrt-hann", 256, 64), ("sqrt-hann", 256, 32)]


def _stream(stft, x):
    h = stft.hop_samples
    return np.concatenate([stft.synthesize(stft.analyze(x[i:i + h])).copy() for i in range(0, len(x), h)])


@pytest.mark.parametrize("kind,frame,hop", CONFIGS)
def test_window_pair_overlap_adds_to_one(kind, frame, hop):
    a, s, m = window_pair(frame, hop, kind)
    prod = a * s
    total = np.zeros(frame)
    for k in range(frame // hop):
        total += np.roll(prod, k * hop)
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    assert np.all(s[:frame - m] == 0) and m == (2 * hop if kind == "asymmetric" else frame)


@pytest.mark.parametrize("method", ["dft", "fft"])
@pytest.mark.parametrize("kind,frame,hop", CONFIGS)
def test_unity_reconstruction_is_a_pure_delay(kind, frame, hop, method):
    rng = np.random.default_rng(1)
    x = rng.normal(0, 0.1, hop * 300).astype(np.float32)
    stft = StreamingSTFT(frame, hop, kind, method=method)
    y = _stream(stft, x)
    d = stft.synthesis_samples - hop
    err = y[d:] - x[:len(x) - d]
    err_db = 10 * np.log10(np.mean(err[frame:] ** 2) / np.mean(x ** 2))
    assert err_db < -60, err_db
    # any other delay reconstructs badly: the delay is exactly d
    wrong = y[d + 1:] - x[:len(x) - d - 1]
    assert 10 * np.log10(np.mean(wrong[frame:] ** 2) / np.mean(x ** 2)) > -10


def test_asymmetric_latency_is_short():
    stft = StreamingSTFT(256, 32, "asymmetric")
    assert stft.latency_samples == 64 and stft.bins == 129  # 4 ms at 16 kHz with 16 ms resolution


@pytest.mark.parametrize("method", ["dft", "fft"])
@pytest.mark.parametrize("kind,frame,hop", CONFIGS[:4])
def test_batch_helpers_match_streaming(kind, frame, hop, method):
    rng = np.random.default_rng(2)
    x = rng.normal(0, 0.1, hop * 50).astype(np.float32)
    stft = StreamingSTFT(frame, hop, kind, method=method)
    spectra = []
    for i in range(0, len(x), hop):
        s = stft.analyze(x[i:i + hop])
        spectra.append(s[0] + 1j * s[1])
    batch = analysis_frames(x, frame, hop, kind)
    assert np.max(np.abs(np.array(spectra) - batch)) < 1e-5 * np.max(np.abs(batch))
    stft.reset()
    np.testing.assert_allclose(_stream(stft, x), overlap_add(batch, frame, hop, kind), atol=1e-6)


def test_auto_method_uses_matrices_for_small_frames_only():
    assert StreamingSTFT(256, 32, "asymmetric").method == "dft"
    assert StreamingSTFT(512, 128, "sqrt-hann").method == "fft"


@pytest.mark.parametrize("frame,hop", [(100, 32), (32, 32), (0, 1)])
def test_bad_geometry_is_a_config_error(frame, hop):
    with pytest.raises(ConfigError):
        window_pair(frame, hop, "asymmetric")


def test_unknown_window_kind():
    with pytest.raises(ConfigError, match="unknown window"):
        window_pair(256, 32, "kaiser")
