import numpy as np
import pytest

from hearsep.errors import QuantizationError
from hearsep.model.contract import FeatureSpec, ModelContract, StatePair, read_contract
from hearsep.nn import architectures
from hearsep.quantize.convert import convert

BINS = 129


def _models(name="gru", **params):
    params = params or {"units": 16, "input_units": 16, "layers": 2}
    arch = architectures.get(name, **params)
    seq = arch.sequence(BINS)
    step, states = arch.step(seq)
    contract = ModelContract(sample_rate_hz=16000, frame_samples=256, hop_samples=32, synthesis_samples=64,
                             features=FeatureSpec(mean=-3.0, std=2.0), architecture=name,
                             states=tuple(StatePair(s.input, s.output, s.shape) for s in states))
    return seq, step, contract


def _calib(n=2, frames=150):
    rng = np.random.default_rng(1)
    return [rng.standard_normal((frames, BINS)).astype(np.float32) for _ in range(n)]


def _runner(blob, contract):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_content=blob).get_signature_runner(contract.signature)


@pytest.fixture(scope="module")
def gru():
    return _models()


def test_float_tflite_matches_keras(gru):
    seq, step, contract = gru
    blob = convert(step, contract, "float32")
    assert read_contract(blob).info["quantization"] == "float32"
    run = _runner(blob, contract)
    x = _calib(1, 40)[0][None]
    want = seq(x).numpy()[0]
    states = {s.input: np.zeros(s.shape, np.float32) for s in contract.states}
    for t in range(x.shape[1]):
        out = run(features=x[:, t:t + 1], **states)
        np.testing.assert_allclose(out["mask"][0, 0], want[t], atol=1e-5)
        states = {s.input: out[s.output] for s in contract.states}


@pytest.mark.parametrize("name", ["gru", "tcn"])
def test_int8_types_shared_state_scales_and_contract(name):
    params = None if name == "gru" else {"channels": 8, "kernel": 3, "blocks": 2}
    seq, step, contract = _models(name, **(params or {}))
    blob = convert(step, contract, "int8", calibration_features=_calib())
    c = read_contract(blob)
    assert c.info["quantization"] == "int8" and c.info["int8_state_copy"] is True
    assert c.states == contract.states
    run = _runner(blob, contract)
    ins, outs = run.get_input_details(), run.get_output_details()
    for d in list(ins.values()) + list(outs.values()):
        assert d["dtype"] == np.int8
    for s in contract.states:
        assert ins[s.input]["quantization"] == outs[s.output]["quantization"]
    # only integer kernels: no float tensors between ops
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_content=blob)
    it.allocate_tensors()
    float_activations = [t["name"] for t in it.get_tensor_details()
                         if t["dtype"] == np.float32]
    assert float_activations == []


def test_int8_tracks_float(gru):
    seq, step, contract = gru
    x = _calib(1, 100)[0]
    masks = {}
    for mode in ("float32", "int8"):
        blob = convert(step, contract, mode, calibration_features=_calib())
        run = _runner(blob, contract)
        ins, outs = run.get_input_details(), run.get_output_details()
        states = {s.input: np.zeros(s.shape, ins[s.input]["dtype"]) for s in contract.states}
        fs, fz = ins["features"]["quantization"]
        ms, mz = outs["mask"]["quantization"]
        got = []
        for t in range(len(x)):
            f = x[t].reshape(1, 1, -1)
            if mode == "int8":
                f = np.clip(np.round(f / fs) + fz, -128, 127).astype(np.int8)
            out = run(features=f, **states)
            m = out["mask"].astype(np.float32)
            got.append((m - mz) * ms if mode == "int8" else m)
            states = {s.input: out[s.output] for s in contract.states}
        masks[mode] = np.array(got)
    assert np.abs(masks["int8"] - masks["float32"]).mean() < 0.03


def test_bad_requests(gru):
    _, step, contract = gru
    with pytest.raises(QuantizationError):
        convert(step, contract, "int4")
    with pytest.raises(QuantizationError):
        convert(step, contract, "int8")
