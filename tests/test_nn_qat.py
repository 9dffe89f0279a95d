import json

import numpy as np
import pytest

from hearsep.nn import architectures, qat


def _gru(qat_on: bool, bins=9):
    return architectures.get("gru", units=8, input_units=6, layers=2, qat=qat_on).sequence(bins)


def _x(bins=9, frames=40, batch=2, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, frames, bins)).astype(np.float32)


def test_numpy_core_is_the_keras_gru():
    model = _gru(False)
    cells = qat.gru_tensors(model, _x(), layers=2)
    import keras

    probe = keras.Model(model.input, model.get_layer("gru1").output)
    np.testing.assert_allclose(cells[1][1]["h"], probe(_x()).numpy(), atol=1e-5)


def test_quant_cell_has_the_gru_weights_and_int8_grids():
    plain, quant = _gru(False), _gru(True)
    quant.set_weights(plain.get_weights())
    x = _x()
    ref, got = plain(x).numpy(), quant(x).numpy()
    assert 0 < np.max(np.abs(got - ref)) < 0.1  # fake quantization changes the mask a little
    import keras

    state = keras.Model(quant.input, quant.get_layer("gru0").output)(x).numpy()
    np.testing.assert_allclose(state * 128, np.round(state * 128), atol=1e-4)  # the fixed 1/128 grid
    assert state.min() >= -1.0 and state.max() <= 127 / 128


def test_measured_ranges_clip_preactivations_and_reach_the_cells():
    model = _gru(True)
    features = _x(frames=60, batch=3) * 3
    ranges = qat.measure_ranges(model, features, layers=2, percentile=100.0)
    assert set(ranges) == {"gru0_cell", "gru1_cell"}
    for r in ranges.values():
        assert set(r) == set(qat.RANGE_NAMES)
        assert all(lo <= 0 <= hi for lo, hi in r.values())
        assert -qat.TANH_INPUT_LIMIT <= r["pre_h"][0] and r["pre_h"][1] <= qat.TANH_INPUT_LIMIT
    # percentile 100 is the measured min/max of the float core
    seen = dict(qat.gru_tensors(model, features, 2)[0][1])
    assert ranges["gru0_cell"]["x_z"][1] == pytest.approx(max(0.0, seen["x_z"].max()), abs=1e-4)
    before = model(features).numpy()
    qat.set_ranges(model, ranges)
    assert model.get_layer("gru0").cell.ranges == ranges["gru0_cell"]
    assert not np.allclose(model(features).numpy(), before)  # the projections are now quantized too


def test_qat_model_saves_with_its_ranges_and_has_a_float_twin(tmp_path):
    import keras

    arch = architectures.get("gru", units=8, input_units=6, layers=1, qat=True)
    model = arch.sequence(9)
    ranges = qat.measure_ranges(model, _x(), layers=1)
    qat.set_ranges(model, ranges)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    assert isinstance(loaded.get_layer("gru0").cell, qat.QuantGRUCell)
    assert loaded.get_layer("gru0").cell.ranges == ranges["gru0_cell"]
    np.testing.assert_allclose(loaded(_x()).numpy(), model(_x()).numpy(), atol=1e-6)
    twin_arch, twin = architectures.float_twin(arch, model)
    assert twin_arch.params["qat"] is False
    assert type(twin.get_layer("gru0").cell) is keras.layers.GRUCell
    for a, b in zip(twin.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert architectures.float_twin(twin_arch, twin)[1] is twin


@pytest.mark.slow
def test_int8_export_keeps_the_fixed_state_grid():
    from hearsep.model.contract import FeatureSpec, read_contract
    from hearsep.nn.train import TrainConfig, contract_for
    from hearsep.quantize.convert import convert

    arch = architectures.get("gru", units=8, input_units=6, layers=2, qat=True)
    model = arch.sequence(129)
    calib = [_x(bins=129, frames=200, batch=1, seed=s)[0] for s in range(2)]
    qat.set_ranges(model, qat.measure_ranges(model, np.stack(calib), 2))
    step, states = arch.step(model)
    cfg = TrainConfig.from_dict({"data": {"manifest": "x.csv"}, "model": {"architecture": "gru", "units": 8,
                                                                       "input_units": 6, "layers": 2, "qat": True}})
    contract = contract_for(cfg, FeatureSpec(mean=0.0, std=1.0), states)
    blob = convert(step, contract, "int8", calibration_features=calib, max_calibration_frames=400)
    info = read_contract(blob).info
    assert info["int8_state_copy"] is True
    # state in and out on the same fixed grid: scale 1/128, zero point 0, whatever calibration saw
    assert info["int8_state_quantization"] == {"state_0": [1 / 128, 0], "state_1": [1 / 128, 0]}
    json.dumps(info)
