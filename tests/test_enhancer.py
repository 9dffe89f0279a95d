import numpy as np
import pytest

from hearsep.errors import AudioError
from hearsep.runtime.enhancer import StreamingEnhancer, enhance_signal
from models_for_tests import build_tiny_gru, tiny_contract


def _signal(n=16000, seed=0):
    return np.random.default_rng(seed).normal(0, 0.1, n).astype(np.float32)


@pytest.mark.parametrize("window,frame,hop", [("asymmetric", 256, 32), ("sqrt-hann", 512, 128)])
def test_unity_mask_output_is_input_delayed_by_latency(window, frame, hop):
    enh = StreamingEnhancer(tiny_contract(0, frame, hop, window))
    x = _signal()
    y = enh.process(x)
    lat = enh.latency_samples
    assert lat == (2 * hop if window == "asymmetric" else frame)
    err = y[lat:] - x[:-lat]
    assert 10 * np.log10(np.mean(err[frame:] ** 2) / np.mean(x ** 2)) < -60
    assert np.max(np.abs(y[:lat])) < 1e-6  # nothing comes out before the latency has passed


@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_output_is_bit_identical_under_any_chunking(mode):
    model = build_tiny_gru(mode)
    x = _signal(8000, seed=3)
    reference = StreamingEnhancer.from_model(model).process(x)
    assert np.max(np.abs(reference)) > 0
    rng = np.random.default_rng(7)
    for trial in range(4):
        enh = StreamingEnhancer.from_model(model)
        high = [2, 33, 700, 5000][trial]
        parts, i = [], 0
        while i < len(x):
            k = int(rng.integers(1, high + 1))
            parts.append(enh.process(x[i:i + k]))
            i += k
        np.testing.assert_array_equal(np.concatenate(parts), reference)


def test_model_changes_the_signal_and_reset_restores_start():
    model = build_tiny_gru("int8")
    enh = StreamingEnhancer.from_model(model)
    x = _signal(4000)
    y1 = enh.process(x).copy()
    lat = enh.latency_samples
    assert np.mean((y1[lat:] - x[:-lat]) ** 2) > 1e-4 * np.mean(x ** 2)  # a real mask, not identity
    enh.reset()
    np.testing.assert_array_equal(enh.process(x), y1)


def test_enhance_signal_is_time_aligned():
    enh = StreamingEnhancer(tiny_contract(0))
    x = _signal(5000)
    y = enhance_signal(enh, x)
    assert y.shape == x.shape
    err = y - x
    assert 10 * np.log10(np.mean(err[300:] ** 2) / np.mean(x ** 2)) < -60


@pytest.mark.parametrize("bad,match", [(np.zeros(0, np.float32), "empty"),
                                       (np.array([0.0, np.nan, 0.1], np.float32), "NaN")])
def test_enhance_signal_rejects_bad_audio(bad, match):
    with pytest.raises(AudioError, match=match):
        enhance_signal(StreamingEnhancer(tiny_contract(0)), bad)


def test_steady_state_step_allocates_no_new_buffers():
    import tracemalloc

    enh = StreamingEnhancer.from_model(build_tiny_gru("int8"))
    hop = _signal(32)
    for _ in range(50):
        enh.process_hop(hop)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(500):
        enh.process_hop(hop)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename") if s.size_diff > 0)
    assert grown < 4096, grown  # 500 hops would need >100 kB if any buffer were allocated per hop
