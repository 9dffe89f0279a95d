"""The int8 step form of the GRU (hearsep.nn.gru_step): same maths and weights, pinned h - c grid."""

import keras
import numpy as np
import pytest

from hearsep.model.contract import FeatureSpec, ModelContract, StatePair
from hearsep.nn import architectures
from hearsep.nn.gru_step import DIFF_RANGE, GRUStepCell
from hearsep.nn.qat import QuantGRUCell

BINS = 17


def _arch(name="gru", **extra):
    params = {"units": 12, "input_units": 10, "layers": 2, **extra}
    if name == "gru-df":
        params.update(df_order=2, df_bins=5)
    return architectures.get(name, **params)


def _cell_classes(step):
    return {type(l).__name__ for l in step.layers}


def test_step_cell_is_the_gru_cell_in_float():
    rng = np.random.default_rng(0)
    cell = keras.layers.GRUCell(12)
    cell.build((1, 10))
    cell.set_weights([rng.normal(0, 0.6, w.shape).astype(np.float32) for w in cell.get_weights()])
    x = rng.standard_normal((1, 10)).astype(np.float32)
    h = np.tanh(rng.standard_normal((1, 12))).astype(np.float32)
    want = cell(x, h)[0].numpy()
    got = GRUStepCell(cell)(x, h).numpy()  # no pin: h' = c + z (h - c), the same number
    np.testing.assert_allclose(got, want, atol=2e-6)
    pinned = GRUStepCell(cell, DIFF_RANGE)(x, h).numpy()  # h - c on the 1/32 grid: z * (half a step) at most
    assert 0 < np.max(np.abs(pinned - want)) <= 1 / 64 + 1e-6
    layer = GRUStepCell(cell)
    assert len(layer.weights) == 3 and all(a is b for a, b in zip(layer.weights, cell.weights))  # nothing copied


@pytest.mark.parametrize("name", ["gru", "gru-df"])
def test_float_step_unchanged_and_int8_step_uses_the_step_cell(name):
    arch = _arch(name)
    seq = arch.sequence(BINS)
    plain, states = arch.step(seq)
    int8, states8 = arch.step(seq, int8=True)
    assert "GRUStepCell" not in _cell_classes(plain)  # float exports: the cells as trained
    assert [l.name for l in int8.layers if isinstance(l, GRUStepCell)] == ["gru0_step", "gru1_step"]
    assert states == states8
    x = np.random.default_rng(1).standard_normal((1, 1, BINS)).astype(np.float32)
    h = [np.tanh(np.random.default_rng(2 + i).standard_normal(s.shape)).astype(np.float32) for i, s in enumerate(states)]
    a, b = plain([x, *h]), int8([x, *h])
    for s in states:  # one frame: within the pinned grid's half step of the float update
        assert np.max(np.abs(a[s.output].numpy() - b[s.output].numpy())) <= 1 / 64 + 1e-6


def test_qat_cells_keep_their_own_int8_graph():
    arch = _arch("gru", qat=True)
    step, _ = arch.step(arch.sequence(BINS), int8=True)
    assert "GRUStepCell" not in _cell_classes(step)
    assert any(isinstance(getattr(l, "cell", None), QuantGRUCell) for l in arch.sequence(BINS).layers)


def _tensor_graph(blob):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=blob)
    tensors = {d["index"]: d for d in it.get_tensor_details()}
    ops = it._get_ops_details()
    producer = {int(t): o for o in ops for t in o["outputs"]}
    return tensors, ops, producer


def _state_updates(blob):
    """For each ADD whose output is a state output: the op kinds feeding it, and the SUB it uses."""
    tensors, ops, producer = _tensor_graph(blob)
    found = []
    for o in ops:
        if o["op_name"] != "ADD":
            continue
        kinds = sorted(producer[int(t)]["op_name"] if int(t) in producer else "INPUT" for t in o["inputs"])
        feeds = [producer.get(int(t)) for t in o["inputs"]]
        mul = next((f for f in feeds if f is not None and f["op_name"] == "MUL"), None)
        sub = None
        if mul is not None:
            sub = next((producer[int(t)] for t in mul["inputs"] if int(t) in producer
                        and producer[int(t)]["op_name"] == "SUB"), None)
        found.append((kinds, None if sub is None else tensors[int(sub["outputs"][0])]["quantization"]))
    return found


def test_int8_graph_is_c_plus_z_times_pinned_difference():
    from hearsep.quantize.analysis import analyze_tflite
    from hearsep.quantize.convert import convert
    from hearsep.quantize.edgetpu import edgetpu_eligibility

    arch = _arch("gru", units=16, input_units=16)
    seq = arch.sequence(BINS)
    rng = np.random.default_rng(3)
    seq.set_weights([rng.normal(0, 0.4, w.shape).astype(np.float32) for w in seq.get_weights()])
    step, states = arch.step(seq, int8=True)
    contract = ModelContract(sample_rate_hz=16000, frame_samples=32, hop_samples=8, synthesis_samples=16,
                             features=FeatureSpec(mean=0.0, std=1.0), architecture="gru",
                             states=tuple(StatePair(s.input, s.output, s.shape) for s in states))
    calib = [rng.standard_normal((120, BINS)).astype(np.float32) for _ in range(2)]
    blob = convert(step, contract, "int8", calibration_features=calib, max_calibration_frames=240)
    updates = [(kinds, q) for kinds, q in _state_updates(blob) if kinds == ["MUL", "TANH"]]
    # one state update per cell: ADD(TANH c, MUL(z, SUB d)) with d on scale 1/32, zero point 0
    assert len(updates) == 2
    for _, (scale, zero_point) in updates:
        assert scale == pytest.approx(1 / 32) and zero_point == 0
    assert edgetpu_eligibility(analyze_tflite(blob))["eligible"]


def test_hearsep_quantize_converts_a_sequence_model_from_its_int8_form(tmp_path):
    import dataclasses

    from hearsep.quantize.source import load_model

    arch = _arch("gru")
    seq = arch.sequence(BINS)
    _, states = arch.step(seq)
    contract = ModelContract(sample_rate_hz=16000, frame_samples=32, hop_samples=8, synthesis_samples=16,
                             features=FeatureSpec(mean=0.0, std=1.0), architecture="gru",
                             states=tuple(StatePair(s.input, s.output, s.shape) for s in states))
    seq.save(tmp_path / "m.keras")
    sidecar = dataclasses.replace(contract, info={"model_params": arch.params})
    (tmp_path / "m.contract.json").write_text(sidecar.to_json())
    loaded = load_model(tmp_path / "m.keras")
    assert "GRUStepCell" not in _cell_classes(loaded.step_model)  # float32, dynamic, int16x8
    assert "GRUStepCell" in _cell_classes(loaded.int8_step_model)  # int8 (hearsep.quantize.pipeline)
