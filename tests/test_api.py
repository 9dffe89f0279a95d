import numpy as np
import pytest

from hearsep import Enhancer
from hearsep.errors import AudioError, ConfigError


def _tones(rate, seconds=0.5, channels=1):
    """Sines well inside the 8 kHz model band (the resampler's pass band)."""
    t = np.arange(int(rate * seconds)) / rate
    x = np.stack([0.3 * np.sin(2 * np.pi * (440 + 300 * c) * t) + 0.2 * np.sin(2 * np.pi * 2000 * t + c)
                  for c in range(channels)]).astype(np.float32)
    return x[0] if channels == 1 else x


def _noise(shape, seed=0):
    return (0.1 * np.random.default_rng(seed).normal(size=shape)).astype(np.float32)


@pytest.mark.parametrize("rate", [16000, 48000, 44100, 8000])
def test_without_separator_enhance_returns_the_input_time_aligned(tiny_model_path, rate):
    enh = Enhancer(tiny_model_path, sample_rate_hz=rate, separator=False)
    x = _tones(rate)
    y = enh.enhance(x)
    assert y.shape == x.shape and y.dtype == np.float32
    inner = slice(rate // 20, -rate // 20)  # away from the start/end transients of the filters
    err_db = 10 * np.log10(np.mean((y[inner] - x[inner]) ** 2) / np.mean(x ** 2))
    assert err_db < (-100 if rate == 16000 else -45)  # resampling filters: Kaiser beta 5 ripple
    assert enh.latency_samples == round(enh.latency_ms * rate / 1000)
    # one sample of misalignment would cost far more than the ripple
    shifted = 10 * np.log10(np.mean((y[inner] - np.roll(x, 1)[inner]) ** 2) / np.mean(x ** 2))
    assert shifted > err_db + 10


def test_latency_is_model_latency_plus_whole_resampler_delay(tiny_model_path):
    assert Enhancer(tiny_model_path).latency_samples == 64  # 4 ms at the model's 16 kHz
    enh = Enhancer(tiny_model_path, sample_rate_hz=48000)
    assert isinstance(enh.latency_samples, int)
    assert enh.latency_ms == pytest.approx(4.0 + 1000 * enh.resampler_delay_s)


@pytest.mark.parametrize("rate,channels", [(16000, 1), (44100, 2)])
def test_blocks_and_whole_signal_agree_bit_for_bit(tiny_model_path, rate, channels):
    enh = Enhancer(tiny_model_path, sample_rate_hz=rate, channels=channels)
    x = _noise((channels, rate // 2) if channels > 1 else rate // 2, seed=1)
    whole = enh.enhance(x)
    assert np.std(whole) > 0.01
    n = x.shape[-1]
    parts, i, rng = [], 0, np.random.default_rng(2)
    while i < n:
        k = int(rng.integers(1, 6000))
        parts.append(enh.process(x[..., i:i + k]))
        i += k
    parts.append(enh.flush())
    streamed = np.concatenate(parts, axis=-1)[..., enh.latency_samples:]
    np.testing.assert_array_equal(streamed, whole)
    np.testing.assert_array_equal(np.concatenate(list(enh.enhance_stream([x[..., :999], x[..., 999:]])), -1)
                                  .reshape(whole.shape), whole)


def test_each_channel_has_its_own_state(tiny_model_path):
    a, b = _noise(8000, 3), _noise(8000, 4)
    stereo = Enhancer(tiny_model_path, sample_rate_hz=22050, channels=2).enhance(np.stack([a, b]))
    mono = Enhancer(tiny_model_path, sample_rate_hz=22050)
    np.testing.assert_array_equal(stereo[0], mono.enhance(a))
    np.testing.assert_array_equal(stereo[1], mono.enhance(b))


def test_in_place_processing(tiny_model_path):
    x = _noise((2, 5000), 5)
    reference = Enhancer(tiny_model_path, channels=2).process(x)
    enh = Enhancer(tiny_model_path, channels=2)
    buf = x.copy()
    assert enh.process(buf, out=buf) is buf
    np.testing.assert_array_equal(buf, reference)


class _HalfGain:
    """A HopChain that halves the spectrum and adds a 10-sample look-ahead delay."""

    latency_samples = 10

    def __init__(self):
        self._line = np.zeros(32 + 10, np.float32)
        self.resets = 0

    def process_spectrum(self, noisy, enhanced):
        enhanced *= 0.5

    def process_hop(self, samples):
        self._line[:10] = self._line[-10:]
        self._line[10:] = samples
        return self._line[:32]

    def reset(self):
        self._line[:] = 0
        self.resets += 1


def test_chain_runs_once_per_channel_after_the_separator(tiny_model_path):
    made = []

    def chain(contract):
        made.append(contract.sample_rate_hz)
        return _HalfGain()

    enh = Enhancer(tiny_model_path, channels=2, chain=chain, separator=False)
    assert made == [16000, 16000] and enh.latency_samples == 64 + 10
    x = _tones(16000, channels=2)
    y = enh.enhance(x)
    np.testing.assert_allclose(y[:, 200:-200], 0.5 * x[:, 200:-200], atol=1e-5)


@pytest.mark.parametrize("case", ["int16", "channels last", "too many channels", "nan", "out shape", "out dtype"])
def test_bad_blocks_are_refused_before_any_state_changes(tiny_model_path, case):
    x = _noise((2, 3000), 6)
    reference = Enhancer(tiny_model_path, channels=2, sample_rate_hz=48000).process(x)
    enh = Enhancer(tiny_model_path, channels=2, sample_rate_hz=48000)
    nan = x.copy()
    nan[1, 7] = np.nan
    bad = {"int16": lambda: enh.process((x * 32767).astype(np.int16)),
           "channels last": lambda: enh.process(x.T.copy()),
           "too many channels": lambda: enh.process(np.zeros((3, 100), np.float32)),
           "nan": lambda: enh.process(nan),
           "out shape": lambda: enh.process(x, out=np.zeros((2, 3001), np.float32)),
           "out dtype": lambda: enh.process(x, out=np.zeros((2, 3000)))}[case]
    with pytest.raises(AudioError, match="PCM|shape|NaN|out"):
        bad()
    np.testing.assert_array_equal(enh.process(x), reference)


@pytest.mark.parametrize("kwargs,match", [({"channels": 0}, "channels"), ({"num_threads": 0}, "num_threads"),
                                          ({"num_threads": -1}, "num_threads"), ({"sample_rate_hz": -8000}, "sample_rate")])
def test_bad_settings_are_config_errors(tiny_model_path, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        Enhancer(tiny_model_path, **kwargs)


def test_empty_audio_is_refused(tiny_model_path):
    with pytest.raises(AudioError, match="empty"):
        Enhancer(tiny_model_path).enhance(np.zeros(0, np.float32))
