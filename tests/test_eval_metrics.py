import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hearsep.errors import AudioError
from hearsep.eval.metrics import pesq_wb, si_sdr_db, si_sdr_improvement_db, snr_db, stoi
from speechlike import noise_like, speech_like


def _zero_mean(x):
    return x - x.mean()


def _scaled_plus_orthogonal_noise(rng, n, alpha, target_db):
    """est = alpha * ref + e with e zero-mean and orthogonal to ref: SI-SDR is exactly target_db."""
    ref = _zero_mean(rng.standard_normal(n))
    e = _zero_mean(rng.standard_normal(n))
    e -= (e @ ref) / (ref @ ref) * ref
    e *= math.sqrt(alpha ** 2 * (ref @ ref) / (e @ e) / 10 ** (target_db / 10))
    return alpha * ref + e, ref


@pytest.mark.parametrize("alpha,target_db", [(1.0, 10.0), (0.3, -4.0), (2.5, 23.7), (-0.7, 3.0)])
def test_si_sdr_matches_analytic_value(alpha, target_db):
    est, ref = _scaled_plus_orthogonal_noise(np.random.default_rng(1), 20000, alpha, target_db)
    analytic = 10 * math.log10((alpha * ref) @ (alpha * ref) / ((est - alpha * ref) @ (est - alpha * ref)))
    assert analytic == pytest.approx(target_db, abs=1e-9)
    assert si_sdr_db(est.astype(np.float32), ref.astype(np.float32)) == pytest.approx(target_db, abs=0.01)


@settings(max_examples=25, deadline=None)
@given(scale_est=st.floats(1e-3, 1e3), scale_ref=st.floats(1e-3, 1e3), seed=st.integers(0, 2 ** 16))
def test_si_sdr_is_scale_invariant(scale_est, scale_ref, seed):
    rng = np.random.default_rng(seed)
    ref = rng.standard_normal(4000)
    est = ref + 0.3 * rng.standard_normal(4000)
    base = si_sdr_db(est, ref)
    assert si_sdr_db(scale_est * est, scale_ref * ref) == pytest.approx(base, abs=1e-6)


def test_si_sdr_ignores_dc_offset_and_extra_samples():
    rng = np.random.default_rng(2)
    ref = rng.standard_normal(8000)
    est = ref + 0.1 * rng.standard_normal(8000)
    assert si_sdr_db(est + 0.5, ref - 0.2) == pytest.approx(si_sdr_db(est, ref), abs=1e-6)
    assert si_sdr_db(np.concatenate([est, np.ones(50)]), ref) == pytest.approx(si_sdr_db(est, ref), abs=1e-9)


def test_si_sdr_improvement_is_the_difference():
    rng = np.random.default_rng(3)
    ref = rng.standard_normal(8000)
    noise = rng.standard_normal(8000)
    mix, est = ref + noise, ref + 0.1 * noise
    assert si_sdr_db(mix, ref) == pytest.approx(0.0, abs=0.5)
    assert si_sdr_db(est, ref) == pytest.approx(20.0, abs=0.5)
    assert si_sdr_improvement_db(est, mix, ref) == pytest.approx(si_sdr_db(est, ref) - si_sdr_db(mix, ref), abs=1e-12)
    assert si_sdr_improvement_db(mix, mix, ref) == 0.0


def test_si_sdr_rejects_silent_reference_and_nan():
    with pytest.raises(AudioError, match="silent reference"):
        si_sdr_db(np.ones(100), np.zeros(100))
    with pytest.raises(AudioError, match="NaN"):
        si_sdr_db(np.full(100, np.nan), np.ones(100))
    with pytest.raises(AudioError, match="empty"):
        si_sdr_db(np.ones(0), np.ones(0))


def test_snr_db_is_the_energy_ratio():
    assert snr_db(np.full(100, 2.0), np.full(100, 0.2)) == pytest.approx(20.0, abs=1e-9)


@pytest.fixture(scope="module")
def speech():
    return speech_like(3.0, seed=4)


def test_pesq_of_clean_against_itself_is_near_the_top(speech):
    assert pesq_wb(speech, speech, 16000) > 4.4


def test_pesq_drops_with_noise_and_resamples_other_rates(speech):
    from hearsep.audio.resample import resample

    noisy = speech + noise_like(3.0, level_dbfs=-30.0)
    p16 = pesq_wb(speech, noisy, 16000)
    assert 1.0 <= p16 < 2.5
    s48, n48 = resample(speech, 16000, 48000), resample(noisy, 16000, 48000)
    assert pesq_wb(s48, s48, 48000) > 4.4
    assert pesq_wb(s48, n48, 48000) == pytest.approx(p16, abs=0.15)


def test_pesq_without_speech_is_nan_not_an_error(speech, monkeypatch):
    import pesq

    assert math.isnan(pesq_wb(np.zeros(32000), np.zeros(32000), 16000))
    assert math.isnan(pesq_wb(speech[:3000], speech[:3000], 16000))  # < 0.25 s: BufferTooShortError

    def no_utterances(*args, **kwargs):
        raise pesq.NoUtterancesError(b"No utterances detected")

    monkeypatch.setattr(pesq, "pesq", no_utterances)
    assert math.isnan(pesq_wb(speech, speech, 16000))


def test_stoi_is_one_for_clean_lower_for_noisy_nan_for_too_short(speech):
    assert stoi(speech, speech, 16000) == pytest.approx(1.0, abs=1e-6)
    noisy = speech + noise_like(3.0, level_dbfs=-25.0)
    assert 0.5 < stoi(speech, noisy, 16000) < 0.95
    assert math.isnan(stoi(speech[:4000], speech[:4000], 16000))
