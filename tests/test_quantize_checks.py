"""Op lists, tensor types, float islands mapped to layers, layer pre-checks and Edge TPU verdicts."""

import functools

import numpy as np
import pytest

from hearsep.errors import QuantizationError
from hearsep.quantize.analysis import ModelAnalysis, OpInfo, TensorRef, analyze_tflite, layer_of_tensor
from hearsep.quantize.convert import convert
from hearsep.quantize.edgetpu import edgetpu_eligibility
from hearsep.quantize.layers import keras_layers
from quantize_models import calibration, contract, step_model

GRU_INT8_OPS = {"FULLY_CONNECTED", "SPLIT", "STRIDED_SLICE", "ADD", "SUB", "MUL", "LOGISTIC", "TANH", "RESHAPE"}


@functools.lru_cache(maxsize=None)
def converted(kind: str, mode: str, units: int = 8) -> tuple[bytes, dict]:
    model = step_model(kind, units=units)
    blob = convert(model, contract(units), mode, calibration() if mode in ("int8", "int16x8") else None)
    return blob, keras_layers(model)


def test_layer_of_tensor_strips_keras_scope_suffix():
    known = {"enc", "enc_1", "cell"}
    assert layer_of_tensor("test_step_1/enc_1/MatMul", known) == "enc"
    assert layer_of_tensor("test_step_1/enc_1_1/MatMul", known) == "enc_1"
    assert layer_of_tensor("a;test_step_1/cell_1/split", known) == "cell"
    assert layer_of_tensor("StatefulPartitionedCall_1:0", known) is None
    assert layer_of_tensor("m_1/dense_3/BiasAdd") == "dense"


def test_int8_gru_is_integer_only_with_layers_and_edgetpu_eligible():
    blob, layers = converted("gru", "int8")
    a = analyze_tflite(blob, layers)
    assert set(a.op_counts) == GRU_INT8_OPS
    assert a.op_counts["FULLY_CONNECTED"] == 4  # enc, cell input + recurrent kernels, mask_dense
    assert a.activation_dtypes.keys() == {"int8"}
    assert [t.dtype for t in a.inputs + a.outputs] == ["int8"] * 4
    assert a.float_ops() == [] and a.islands() == []
    by_layer = {o.layer for o in a.ops}
    assert {"enc", "cell", "mask_dense"} <= by_layer
    assert all(o.layer for o in a.ops if o.op == "FULLY_CONNECTED")
    verdict = edgetpu_eligibility(a)
    assert verdict["eligible"], verdict["failures"]
    assert "edgetpu_compiler" in verdict["compile_steps"]


def test_int16x8_types_and_edgetpu_rejects_int16():
    blob, layers = converted("gru", "int16x8")
    a = analyze_tflite(blob, layers)
    assert [t.dtype for t in a.inputs + a.outputs] == ["int16"] * 4
    assert a.float_ops() == []
    v = edgetpu_eligibility(a)
    assert not v["eligible"]
    assert any("int16" in f["reason"] for f in v["failures"])


@pytest.mark.parametrize("mode,compute", [("float32", "float32"), ("float16", "float32"), ("dynamic", "hybrid")])
def test_float_modes_report_float_ops_and_fail_edgetpu(mode, compute):
    blob, layers = converted("gru", mode, units=32)  # dynamic mode keeps weights under 1024 values float
    a = analyze_tflite(blob, layers)
    fc = [o for o in a.ops if o.op == "FULLY_CONNECTED"]
    assert fc and any(o.compute == compute for o in fc)
    assert all(o.compute in (compute, "float32") for o in fc)
    assert a.float_ops() and a.islands() == []  # a float model has float ops, not islands
    if mode == "float16":  # fp16 weights are dequantized once: not counted as float work
        deq = [o for o in a.ops if o.op == "DEQUANTIZE"]
        assert deq and all(o not in a.float_ops() for o in deq)
        assert {t.dtype for o in deq for t in o.inputs} == {"float16"}
    v = edgetpu_eligibility(a)
    assert not v["eligible"] and any("float32" in f["reason"] for f in v["failures"])


def test_leaky_relu_converts_to_int8_but_is_not_on_coral_list():
    blob, layers = converted("leaky", "int8")
    a = analyze_tflite(blob, layers)
    assert a.float_ops() == []
    v = edgetpu_eligibility(a)
    assert not v["eligible"]
    (fail,) = [f for f in v["failures"]]
    assert fail["op"] == "LEAKY_RELU" and fail["layer"] == "leaky"
    assert "supported-operations list" in fail["reason"]
    assert v["mapped_until_op"] == fail["index"]


def test_op_without_int8_kernel_names_the_layer():
    with pytest.raises(QuantizationError) as err:
        converted("sin", "int8")
    msg = str(err.value)
    assert "'wave' (Lambda)" in msg and "SIN" in msg and "--mode dynamic" in msg
    assert "\n" not in msg
    with pytest.raises(QuantizationError, match=r"int16x8 conversion failed in layer 'wave' \(Lambda\)"):
        converted("sin", "int16x8")


def test_float_island_is_found_and_attributed_when_allowed():
    model = step_model("sin")
    blob = convert(model, contract(), "int8", calibration(), require_integer=False)
    a = analyze_tflite(blob, keras_layers(model))
    (island,) = a.islands()
    assert island["layers"] == ["wave"]
    assert len(island["dequantize_ops"]) == 1 and len(island["quantize_ops"]) == 1
    assert [o.op for o in a.float_ops() if o.op not in ("QUANTIZE", "DEQUANTIZE")] == ["SIN"]
    v = edgetpu_eligibility(a)
    assert {f["op"] for f in v["failures"]} >= {"SIN", "DEQUANTIZE"}


def test_layernorm_is_refused_before_conversion_with_a_fix():
    with pytest.raises(QuantizationError) as err:
        convert(step_model("layernorm"), contract(), "int8", calibration())
    msg = str(err.value)
    assert "'norm' (LayerNormalization)" in msg and "BatchNormalization" in msg
    # float modes take it
    blob = convert(step_model("layernorm"), contract(), "dynamic")
    assert blob[4:8] == b"TFL3"


def test_dynamic_batch_is_refused():
    with pytest.raises(QuantizationError, match="dynamic shape.*batch_size=1"):
        convert(step_model("gru", dynamic_batch=True), contract(), "float32")


def _t(i, dtype="int8", shape=(1, 8), dynamic=False, constant=False):
    return TensorRef(i, f"m_1/layer{i}_1/x", dtype, list(shape), dynamic, constant)


def test_edgetpu_rules_on_constructed_graphs():
    ok = ModelAnalysis(100, 10, [OpInfo(0, "FULLY_CONNECTED", [_t(0), _t(1, constant=True)], [_t(2)], "enc", "int8")],
                       [_t(0)], [_t(2)], [])
    assert edgetpu_eligibility(ok)["eligible"]
    cases = {
        "dynamic shape": OpInfo(0, "ADD", [_t(0, dynamic=True), _t(1)], [_t(2)], "a", "int8"),
        "fused activation": OpInfo(0, "CONCATENATION", [_t(0), _t(1)], [_t(2)], "a", "int8",
                                   {"fusedActivationFunction": 1}),
        "3 innermost": OpInfo(0, "ADD", [_t(0, shape=(2, 2, 2, 2)), _t(1)], [_t(2)], "a", "int8"),
        "not one-dimensional": OpInfo(0, "FULLY_CONNECTED", [_t(0), _t(1, constant=True)], [_t(2, shape=(1, 4, 8))],
                                      "a", "int8"),
        "custom op": OpInfo(0, "CUSTOM:Foo", [_t(0)], [_t(2)], "a", "int8"),
        "int16": OpInfo(0, "ADD", [_t(0, "int16"), _t(1, "int16")], [_t(2, "int16")], "a", "int16"),
    }
    for needle, op in cases.items():
        a = ModelAnalysis(100, 10, [op], [_t(0)], [_t(2)], [])
        v = edgetpu_eligibility(a)
        assert not v["eligible"], needle
        assert any(needle in f["reason"] for f in v["failures"]), (needle, v["failures"])
    big = ModelAnalysis(100, 9 * 1024 * 1024, ok.ops, ok.inputs, ok.outputs, [])
    v = edgetpu_eligibility(big)
    assert v["eligible"] and any("on-chip" in n for n in v["notes"])
