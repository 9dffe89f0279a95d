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


@pytest.mark.parametrize("method", ["dft", "fft", "auto"])
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


@pytest.mark.parametrize("method", ["dft", "fft", "auto"])
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


def test_auto_method_uses_matrices_for_small_transforms_only():
    s = StreamingSTFT(256, 32, "asymmetric")  # the default framing: a 264 kB analysis matrix, a 66 kB synthesis one
    assert (s.analysis_method, s.synthesis_method, s.method) == ("fft", "dft", "fft/dft")
    assert StreamingSTFT(512, 128, "sqrt-hann").method == "fft"
    assert StreamingSTFT(32, 8, "asymmetric").method == "dft"


@pytest.mark.parametrize("frame,hop", [(100, 32), (32, 32), (0, 1)])
def test_bad_geometry_is_a_config_error(frame, hop):
    with pytest.raises(ConfigError):
        window_pair(frame, hop, "asymmetric")


def test_unknown_window_kind():
    with pytest.raises(ConfigError, match="unknown window"):
        window_pair(256, 32, "kaiser")


@pytest.mark.parametrize("n", [256, 30, 15])
def test_bound_rfft_matches_numpy_without_allocating(n):
    import tracemalloc

    from hearsep.features.stft import rfft_bound

    x = np.zeros(n, np.float32)
    out = np.zeros(n // 2 + 1, np.complex64)
    fft = rfft_bound(x, out)
    x[:] = np.random.default_rng(3).normal(size=n)  # the function reads x as it is when called
    fft()
    want = np.fft.rfft(x.astype(np.float64))
    assert np.max(np.abs(out - want)) < 1e-6 * np.max(np.abs(want))  # float32 rounding
    tracemalloc.start()
    try:
        live, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        fft()
        peak = tracemalloc.get_traced_memory()[1] - live
    finally:
        tracemalloc.stop()
    # scipy's binding or numpy's float32 ufunc: a few small objects, no work buffer
    # (np.fft.rfft on float32 allocates a float64 copy: 4.8 kB at n = 256)
    assert peak < 1000, peak


def test_bound_rfft_falls_back_to_numpy(monkeypatch):
    import hearsep.features.stft as stft_module

    x = np.random.default_rng(4).normal(size=64).astype(np.float32)
    results = []
    for r2c, ufunc in [(stft_module._R2C, stft_module._rfft_even_ufunc), (None, stft_module._rfft_even_ufunc),
                       (None, None)]:
        monkeypatch.setattr(stft_module, "_R2C", r2c)
        monkeypatch.setattr(stft_module, "_rfft_even_ufunc", ufunc)
        out = np.zeros(33, np.complex64)
        stft_module.rfft_bound(x, out)()
        results.append(out)
    for out in results[1:]:
        np.testing.assert_allclose(out, results[0], rtol=0, atol=1e-5)
