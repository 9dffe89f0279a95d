import numpy as np
import pytest
from scipy.signal import firwin, resample_poly

from hearsep.audio.resample import StreamingResampler, resample_filter
from hearsep.errors import AudioError

RATIOS = [(48000, 16000), (16000, 48000), (44100, 16000), (16000, 44100), (8000, 16000)]


def _noise(n, seed=0):
    return (0.1 * np.random.default_rng(seed).normal(size=n)).astype(np.float32)


def _stream(r, x, sizes):
    parts, i, k = [], 0, 0
    while i < len(x):
        n = sizes[k % len(sizes)]
        parts.append(r.process(x[i:i + n]).copy())
        i, k = i + n, k + 1
    return np.concatenate(parts)


@pytest.mark.parametrize("up,down", [(1, 3), (3, 1), (160, 441), (441, 160)])
def test_filter_is_scipy_firwin_kaiser(up, down):
    taps, half_len = resample_filter(up, down)
    assert half_len >= 10 * max(up, down) and half_len % down == 0
    ref = firwin(2 * half_len + 1, 1.0 / max(up, down), window=("kaiser", 5.0)) * up
    np.testing.assert_allclose(taps, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("from_hz,to_hz", RATIOS)
def test_output_is_resample_poly_delayed_by_whole_samples(from_hz, to_hz):
    x = _noise(from_hz // 2)
    r = StreamingResampler(from_hz, to_hz)
    y = _stream(r, x, [4096])
    assert len(y) == len(x) * to_hz // from_hz
    taps, _ = resample_filter(r.up, r.down)
    ref = resample_poly(x.astype(np.float64), r.up, r.down, window=taps / r.up)  # same filter, zero phase
    d = r.delay_samples
    assert d == r.half_len // r.down and d * r.down == r.half_len
    err = y[d:] - ref[:len(y) - d]
    assert 20 * np.log10(np.std(err) / np.std(ref)) < -120  # float32 rounding only


def test_input_delay_makes_the_total_delay_whole():
    r = StreamingResampler(16000, 44100, input_delay_samples=74)
    assert (74 * r.up + r.half_len) % r.down == 0
    assert r.delay_samples == (74 * r.up + r.half_len) // r.down
    assert r.delay_s == pytest.approx(r.delay_samples / 44100 - 74 / 16000)


@pytest.mark.parametrize("from_hz,to_hz", RATIOS)
def test_chunking_does_not_change_a_bit(from_hz, to_hz):
    x = _noise(from_hz // 4, seed=1)
    whole = _stream(StreamingResampler(from_hz, to_hz), x, [4096])
    odd = _stream(StreamingResampler(from_hz, to_hz), x, [1, 7, 333, 4096, 2, 1000])
    np.testing.assert_array_equal(odd, whole)


def test_channels_are_independent():
    a, b = _noise(9600, 2), _noise(9600, 3)
    r2 = StreamingResampler(48000, 16000, channels=2)
    out = np.concatenate([r2.process(np.stack([a[i:i + 1000], b[i:i + 1000]])).copy() for i in range(0, 9600, 1000)], 1)
    np.testing.assert_array_equal(out[0], _stream(StreamingResampler(48000, 16000), a, [1000]))
    np.testing.assert_array_equal(out[1], _stream(StreamingResampler(48000, 16000), b, [1000]))


def test_same_rate_passes_samples_through():
    x = _noise(1000)
    np.testing.assert_array_equal(_stream(StreamingResampler(16000, 16000), x, [33]), x)


def test_process_allocates_no_buffers():
    import tracemalloc

    r = StreamingResampler(44100, 16000)
    x = _noise(4096)
    for _ in range(20):
        r.process(x)
    tracemalloc.start()
    worst = 0
    for _ in range(30):
        live, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        r.process(x)
        worst = max(worst, tracemalloc.get_traced_memory()[1] - live)
    tracemalloc.stop()
    assert worst < 4096, worst  # a gather buffer alone would be ~1500 x 55 x 4 bytes


def test_bad_blocks_are_refused():
    r = StreamingResampler(48000, 16000, max_block_samples=100)
    with pytest.raises(AudioError, match="max_block_samples"):
        r.process(np.zeros(101, np.float32))
    with pytest.raises(AudioError, match="shape"):
        r.process(np.zeros((2, 10), np.float32))
