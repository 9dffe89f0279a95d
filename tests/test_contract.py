import dataclasses

import pytest

from hearsep.errors import ModelError
from hearsep.model.contract import (CONTRACT_METADATA_NAME, FeatureSpec, ModelContract, StatePair,
                                    embed_contract, read_contract, read_metadata)
from models_for_tests import build_tiny_gru, tiny_contract


def test_json_round_trip():
    c = ModelContract(16000, 256, 32, 64, features=FeatureSpec(mean=-3.5, std=2.5),
                      states=(StatePair("a", "b", (1, 2, 8)),), info={"note": "x"})
    assert ModelContract.from_json(c.to_json()) == c
    assert c.latency_samples == 64 and c.latency_ms == pytest.approx(4.0) and c.bins == 129


def test_embedded_contract_round_trips_and_replaces():
    model = build_tiny_gru("int8")
    c = read_contract(model)
    assert dataclasses.replace(c, info={}) == tiny_contract() and c.info["quantization"] == "int8"
    c2 = ModelContract(16000, 256, 32, 64, architecture="other", states=c.states)
    again = embed_contract(model, c2)
    assert read_contract(again) == c2
    assert list(read_metadata(again)).count(CONTRACT_METADATA_NAME) == 1


@pytest.mark.parametrize("kwargs,match", [
    (dict(hop_samples=0), "hop_samples"),
    (dict(synthesis_samples=96), "2 \\* hop"),
    (dict(window="hamming"), "unknown window"),
    (dict(features=FeatureSpec(std=0)), "positive"),
    (dict(format_version=99), "newer"),
])
def test_invalid_contracts_are_rejected(kwargs, match):
    base = dict(sample_rate_hz=16000, frame_samples=256, hop_samples=32, synthesis_samples=64)
    base.update(kwargs)
    with pytest.raises(ModelError, match=match):
        ModelContract(**base).validate()


def test_not_tflite_and_missing_contract(tmp_path):
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"this is not a model at all")
    with pytest.raises(ModelError, match="not a TFLite model"):
        read_contract(junk)
    with pytest.raises(ModelError, match="not found"):
        read_contract(tmp_path / "missing.tflite")
    with pytest.raises(ModelError, match="malformed|unknown fields"):
        ModelContract.from_dict({"sample_rate_hz": 16000, "bogus": 1})
