import numpy as np
import pytest

from hearsep.audio.mix import loop_to_length, mix_at_snr, power, rms_dbfs
from hearsep.errors import AudioError


def test_levels_of_known_signals():
    # a full-scale square wave is 0 dBFS, a full-scale sine -3.01 dBFS, half amplitude -6.02 dB more
    square = np.tile([1.0, -1.0], 500)
    sine = np.sin(2 * np.pi * np.arange(16000) / 160)
    assert rms_dbfs(square) == pytest.approx(0.0, abs=1e-9)
    assert rms_dbfs(sine) == pytest.approx(-3.0103, abs=1e-3)
    assert rms_dbfs(0.5 * sine) == pytest.approx(-9.0309, abs=1e-3)
    assert power(np.full(10, 0.1)) == pytest.approx(0.01)


def test_loop_to_length_wraps_from_the_offset():
    assert loop_to_length(np.arange(4), 7, offset=2).tolist() == [2, 3, 0, 1, 2, 3, 0]
    with pytest.raises(AudioError, match="empty"):
        loop_to_length(np.zeros(0), 3)


def test_noise_gain_for_constant_signals():
    # speech power 1, noise power 0.25: for 6.0206 dB SNR the noise needs gain 1 (sqrt(1 / (0.25 * 4)))
    mixed = mix_at_snr(np.ones(8), np.full(8, 0.5), 20 * np.log10(2.0))
    assert mixed.noise_gain == pytest.approx(1.0)
    assert mixed.gain == 1.0
    np.testing.assert_allclose(mixed.mixture, 1.5)
    np.testing.assert_allclose(mixed.noise, 0.5)
    # 0 dB: noise scaled up to the speech power
    assert mix_at_snr(np.ones(8), np.full(8, 0.5), 0.0).noise_gain == pytest.approx(2.0)


@pytest.mark.parametrize("snr", [-5.0, 0.0, 3.3, 15.0])
@pytest.mark.parametrize("noise_samples", [700, 2000, 5000])  # looped, equal, cut
def test_requested_snr_is_realised(snr, noise_samples):
    rng = np.random.default_rng(1)
    speech, noise = rng.standard_normal(2000) * 0.1, rng.standard_normal(noise_samples)
    mixed = mix_at_snr(speech, noise, snr)
    assert mixed.mixture.dtype == np.float32 and mixed.mixture.shape == (2000,)
    assert 10 * np.log10(power(mixed.speech) / power(mixed.noise)) == pytest.approx(snr, abs=1e-4)
    np.testing.assert_allclose(mixed.speech, speech, atol=1e-7)  # no level asked: speech unchanged


@pytest.mark.parametrize("level_of", ["speech", "mixture"])
def test_level_is_set_on_the_chosen_signal(level_of):
    rng = np.random.default_rng(2)
    mixed = mix_at_snr(rng.standard_normal(4000) * 0.01, rng.standard_normal(4000), 0.0, level_dbfs=-30.0,
                       level_of=level_of)
    ref = mixed.speech if level_of == "speech" else mixed.mixture
    assert rms_dbfs(ref) == pytest.approx(-30.0, abs=1e-4)
    # at 0 dB SNR of independent signals the mixture is ~3 dB above the speech
    other = mixed.mixture if level_of == "speech" else mixed.speech
    assert rms_dbfs(other) - rms_dbfs(ref) == pytest.approx(3.0 if level_of == "speech" else -3.0, abs=0.3)


def test_peak_cap_lowers_both_components_and_keeps_the_snr():
    speech = np.zeros(100)
    speech[10] = 1.0
    speech[20:30] = 0.1
    noise = np.tile([0.01, -0.01], 50)
    mixed = mix_at_snr(speech, noise, 10.0, level_dbfs=-3.0, max_peak=0.5)
    assert np.max(np.abs(mixed.mixture)) == pytest.approx(0.5, rel=1e-6)
    assert 10 * np.log10(power(mixed.speech) / power(mixed.noise)) == pytest.approx(10.0, abs=1e-4)
    assert rms_dbfs(mixed.speech) < -3.0


def test_silence_is_refused_unless_allowed():
    with pytest.raises(AudioError, match="speech is silent"):
        mix_at_snr(np.zeros(100), np.ones(100), 0.0)
    with pytest.raises(AudioError, match="noise is silent"):
        mix_at_snr(np.ones(100), np.zeros(100), 0.0)
    mixed = mix_at_snr(np.zeros(100), np.ones(100), 0.0, level_dbfs=-20.0, level_of="mixture", allow_silence=True)
    assert np.all(np.isfinite(mixed.mixture))
