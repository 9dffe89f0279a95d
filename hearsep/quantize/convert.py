"""Keras step model -> TFLite bytes with the hearsep contract embedded.

``convert(step_model, contract, mode, calibration_features)`` is the core every front end (the
trainer, ``hearsep quantize``) calls. Modes here: ``float32`` and ``int8`` (full integer: int8
input/output tensors, ``TFLITE_BUILTINS_INT8`` only).

int8 calibration streams real feature sequences through the *float* TFLite step model frame by
frame and records every step's inputs, so state tensors are calibrated with the states the model
really produces. Afterwards each state's input tensor is given the scale and zero point of its
output tensor (patched in the flatbuffer; kernels derive their rescaling from the tensors at
prepare time, so this is exact), and the contract's ``info["int8_state_copy"]`` says the runtime
may copy int8 state from output to input without requantizing.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Iterable

import numpy as np

from hearsep.errors import QuantizationError
from hearsep.model.contract import ModelContract, embed_contract

MODES = ("float32", "int8")


def _converter(step_model):
    import tensorflow as tf

    return tf.lite.TFLiteConverter.from_keras_model(step_model)


def _run_quiet(fn):
    """Run a converter call with TF's C++ log noise lowered (the converter prints to stderr)."""
    old = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    try:
        return fn()
    finally:
        if old is None:
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
        else:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = old


def _interpreter(tflite_bytes: bytes):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=tflite_bytes, num_threads=1)
    it.allocate_tensors()
    return it


def _check_signature(tflite_bytes: bytes, contract: ModelContract) -> None:
    sigs = _interpreter(tflite_bytes).get_signature_list()
    if contract.signature not in sigs:
        raise QuantizationError(f"converted model has no signature {contract.signature!r} (has {sorted(sigs)})")
    sig = sigs[contract.signature]
    want_in = {contract.features_input, *(s.input for s in contract.states)}
    want_out = {contract.mask_output, *(s.output for s in contract.states)}
    missing = (want_in - set(sig["inputs"])) | (want_out - set(sig["outputs"]))
    if missing:
        raise QuantizationError(
            f"converted model lacks signature tensors {sorted(missing)} named in the contract "
            f"(inputs {sig['inputs']}, outputs {sig['outputs']}); name the Keras inputs and output keys after the contract"
        )


def stream_calibration_inputs(float_tflite: bytes, contract: ModelContract, sequences: Iterable[np.ndarray],
                              max_frames: int = 4000) -> list[dict[str, np.ndarray]]:
    """Run feature sequences ``[T, bins]`` through the float model frame by frame (state carried,
    reset per sequence); return the input dict of every step, up to ``max_frames`` in all."""
    it = _interpreter(float_tflite)
    runner = it.get_signature_runner(contract.signature)
    samples = []
    for seq in sequences:
        seq = np.asarray(seq, np.float32)
        states = {s.input: np.zeros(s.shape, np.float32) for s in contract.states}
        for t in range(seq.shape[0]):
            feed = {contract.features_input: seq[t].reshape(1, 1, -1), **states}
            samples.append({k: v.copy() for k, v in feed.items()})
            out = runner(**feed)
            states = {s.input: out[s.output] for s in contract.states}
            if len(samples) >= max_frames:
                return samples
    return samples


def _tensor_indices(tflite_bytes: bytes, contract: ModelContract) -> dict[str, int]:
    it = _interpreter(tflite_bytes)
    runner = it.get_signature_runner(contract.signature)
    out = {name: d["index"] for name, d in runner.get_input_details().items()}
    out.update({name: d["index"] for name, d in runner.get_output_details().items()})
    return out


def share_state_quantization(tflite_bytes: bytes, contract: ModelContract) -> tuple[bytes, list[dict]]:
    """Give each state input the scale/zero point of its state output; returns (model, per-state report)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    index = _tensor_indices(tflite_bytes, contract)
    model = schema.ModelT.InitFromPackedBuf(bytearray(tflite_bytes), 0)
    tensors = model.subgraphs[0].tensors
    report = []
    for s in contract.states:
        t_in, t_out = tensors[index[s.input]], tensors[index[s.output]]
        q_in, q_out = t_in.quantization, t_out.quantization
        if q_out is None or q_out.scale is None or len(q_out.scale) != 1:
            raise QuantizationError(f"state output {s.output!r} is not per-tensor quantized")
        before = (float(q_in.scale[0]), int(q_in.zeroPoint[0])) if q_in is not None and q_in.scale is not None else None
        q = schema.QuantizationParametersT()
        q.scale = [float(q_out.scale[0])]
        q.zeroPoint = [int(q_out.zeroPoint[0])]
        t_in.quantization = q
        report.append({"state": s.input, "input_before": before, "shared": [q.scale[0], q.zeroPoint[0]]})
    builder = flatbuffers.Builder(len(tflite_bytes) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), report


def convert(step_model, contract: ModelContract, mode: str = "float32",
            calibration_features: Iterable[np.ndarray] | None = None, max_calibration_frames: int = 4000) -> bytes:
    """Convert a Keras step model (see :mod:`hearsep.nn.architectures`) to TFLite with ``contract``.

    ``calibration_features``: for ``int8``, normalised feature sequences ``[T, bins]`` (e.g. of
    training mixtures); they are streamed through the float model to collect realistic states.
    Returns the model bytes (the contract's ``info`` records mode and state quantization).
    """
    import tensorflow as tf

    if mode not in MODES:
        raise QuantizationError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
    contract.validate()
    float_bytes = _run_quiet(lambda: _converter(step_model).convert())
    _check_signature(float_bytes, contract)
    info = dict(contract.info)
    info["quantization"] = mode
    if mode == "float32":
        return embed_contract(float_bytes, dataclasses.replace(contract, info=info))

    if calibration_features is None:
        raise QuantizationError("int8 needs calibration_features (feature sequences [T, bins] of real mixtures)")
    samples = stream_calibration_inputs(float_bytes, contract, calibration_features, max_calibration_frames)
    if not samples:
        raise QuantizationError("calibration_features gave no frames")
    def representative():
        yield from samples  # dicts keyed by signature input name

    conv = _converter(step_model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    try:
        int8_bytes = _run_quiet(conv.convert)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QuantizationError(f"int8 conversion failed: {first}") from None
    _check_signature(int8_bytes, contract)
    int8_bytes, report = share_state_quantization(int8_bytes, contract)
    info["int8_state_copy"] = True
    info["int8_state_quantization"] = {r["state"]: r["shared"] for r in report}
    info["calibration_frames"] = len(samples)
    return embed_contract(int8_bytes, dataclasses.replace(contract, info=info))
