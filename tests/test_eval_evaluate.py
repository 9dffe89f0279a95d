import json

import numpy as np
import pytest

from hearsep.errors import AudioError
from hearsep.eval.evaluate import FileScore, ModelSystem, band_labels, band_of, evaluate, score_pair, unprocessed
from hearsep.eval.mixtures import Pair
from hearsep.eval.report import band_table, to_json
from models_for_tests import build_tiny_gru
from speechlike import noise_like, speech_like

EDGES = (-5.0, 0.0, 5.0, 10.0, 15.0)


@pytest.mark.parametrize("snr,label", [(-5.0, "[-5, 0)"), (-0.001, "[-5, 0)"), (0.0, "[0, 5)"), (9.99, "[5, 10)"),
                                       (15.0, "[10, 15]"), (15.2, "> 15"), (-7.0, "< -5")])
def test_band_of(snr, label):
    assert band_of(snr, EDGES) == label
    assert label in band_labels(EDGES)


def _score(name, snr, pesq=2.0, sdri=1.0):
    return FileScore(name, 2.0, snr, 0.0, sdri, sdri, 1.5, pesq, 0.8, 0.9, 0.01)


def test_aggregates_skip_nan_and_group_by_band():
    from hearsep.eval.evaluate import Evaluation

    ev = Evaluation("x", [_score("a", -3, pesq=2.0, sdri=4.0), _score("b", -1, pesq=float("nan"), sdri=6.0),
                          _score("c", 12, pesq=3.0, sdri=2.0)])
    bands = ev.bands()
    assert list(bands) == ["[-5, 0)", "[10, 15]"]
    assert bands["[-5, 0)"]["si_sdri_db"] == pytest.approx(5.0) and bands["[-5, 0)"]["pesq"] == pytest.approx(2.0)
    assert bands["[-5, 0)"]["pesq_valid"] == 1
    assert ev.overall["pesq"] == pytest.approx(2.5) and ev.overall["files"] == 3
    assert ev.overall["compute_per_audio_s"] == pytest.approx(0.03 / 6.0)
    doc = json.loads(to_json(ev))  # NaN becomes null: strict JSON
    assert doc["evaluations"][0]["files"][1]["pesq"] is None
    assert "n/a" not in band_table(ev)


def test_unprocessed_scores_zero_improvement():
    s = speech_like(2.0, seed=5)
    pair = Pair("p", s, s + noise_like(2.0, level_dbfs=-30.0), 16000, 5.0)
    ev = evaluate([pair], unprocessed, "unprocessed")
    f = ev.files[0]
    assert f.si_sdri_db == 0.0 and f.pesq == f.pesq_in and f.stoi == f.stoi_in
    assert f.si_sdr_in_db == pytest.approx(5.0, abs=0.3)  # speech at -25, noise at -30 dBFS


def test_a_system_must_keep_the_length():
    s = speech_like(1.0)
    pair = Pair("p", s, s, 16000, 0.0)
    with pytest.raises(AudioError, match="returned 15999 samples for 16000"):
        score_pair(pair, s[:-1])
    with pytest.raises(AudioError, match="nothing to evaluate"):
        evaluate([], unprocessed)


@pytest.mark.parametrize("rate", [16000, 22050])
def test_model_system_output_is_time_aligned(tmp_path, rate):
    path = tmp_path / "m.tflite"
    path.write_bytes(build_tiny_gru("float32"))
    system = ModelSystem(path)
    x = noise_like(1.0, rate_hz=rate, seed=9, level_dbfs=-20.0)
    y = system(x, rate)
    assert y.shape == x.shape
    lags = np.arange(-100, 101)
    xc = [np.dot(y[max(0, k):len(y) + min(0, k)], x[max(0, -k):len(x) + min(0, -k)]) for k in lags]
    assert lags[int(np.argmax(xc))] == 0
    assert np.array_equal(system(x, rate), y)  # state reset between files
