"""Keras step model -> TFLite bytes with the hearsep contract embedded.

``convert(step_model, contract, mode, calibration_features)`` is the core every front end (the
trainer, ``hearsep quantize``) calls. Modes:

* ``float32``: plain float model.
* ``float16``: float16 weights, dequantized to float32 at load; float activations.
* ``dynamic``: int8 weights, float activations (dynamic-range / hybrid kernels); no calibration.
* ``int8``: full integer: int8 input/output tensors, ``TFLITE_BUILTINS_INT8`` only.
* ``int16x8``: int16 activations and int16 I/O, int8 weights
  (``EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8``).

Full-integer modes (``int8``, ``int16x8``) must be integer from input to output. The TF 2.21
converter does not fail on an op without an integer kernel: it silently leaves a float island
(DEQUANTIZE -> float op -> QUANTIZE). :func:`convert` finds such islands and raises a
:class:`QuantizationError` naming the Keras layer (see :mod:`hearsep.quantize.layers`).

int8 calibration streams real feature sequences through the *float* TFLite step model frame by
frame and records every step's inputs, so state tensors are calibrated with the states the model
really produces. Afterwards each state's input tensor is given the scale and zero point of its
output tensor (patched in the flatbuffer; kernels derive their rescaling from the tensors at
prepare time, so this is exact), and the contract's ``info["int8_state_copy"]`` says the runtime
may copy int8 state from output to input without requantizing. The patch is *verified*
(:func:`verify_state_sharing`): the patched and the unpatched model (whose state the runtime
requantizes) are streamed over the calibration frames, and the patch is kept only when its mask
error against the float model is no worse; otherwise the unpatched model is kept, and
``info["state_copy"]`` says ``"requantize"``.

Each full-integer output must also be able to hold what the float model puts out
(:func:`check_output_ranges`): an int8 tensor can only hold the values of its one scale and zero
point, and the converter may give a tensor that joins values of different ranges (gains in [0, 1]
and deep-filter taps around 0, concatenated) the grid of one of them. That raises
:class:`QuantizationError` instead of shipping a model that clips.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Iterable

import numpy as np

from hearsep.errors import QuantizationError
from hearsep.model.contract import ModelContract, embed_contract

MODES = ("float32", "float16", "dynamic", "int8", "int16x8")
#: modes whose activations are integers (need calibration, get state scale sharing)
INTEGER_MODES = ("int8", "int16x8")


def _converter(step_model):
    tf, _ = import_tensorflow()

    return tf.lite.TFLiteConverter.from_keras_model(step_model)


def _run_quiet(fn):
    """Run a converter call silently: TF's C++ log, the Keras export's prints (file descriptors 1
    and 2) and Python warnings are dropped; failures still raise (their message is what we report)."""
    import sys
    import tempfile
    import warnings

    old = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    sys.stdout.flush()
    sys.stderr.flush()
    saved = []
    try:
        saved = [os.dup(1), os.dup(2)]
    except OSError:
        saved = []
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if saved:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
        try:
            return fn()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            if saved:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                for fd in saved:
                    os.close(fd)
            if old is None:
                os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
            else:
                os.environ["TF_CPP_MIN_LOG_LEVEL"] = old


def import_tensorflow():
    """Import TensorFlow and Keras with their start-up log lines (absl, oneDNN) dropped."""
    return _run_quiet(lambda: (__import__("tensorflow"), __import__("keras")))


def _interpreter(tflite_bytes: bytes):
    from hearsep.runtime.interpreter import load_interpreter

    return load_interpreter(tflite_bytes, num_threads=1, xnnpack=False)


def _check_signature(tflite_bytes: bytes, contract: ModelContract) -> None:
    sigs = _interpreter(tflite_bytes).get_signature_list()
    if contract.signature not in sigs:
        raise QuantizationError(f"converted model has no signature {contract.signature!r} (has {sorted(sigs)})")
    sig = sigs[contract.signature]
    want_in = {contract.features_input, *(s.input for s in contract.states)}
    want_out = {contract.mask_output, *([contract.taps_output] if contract.taps_output else []),
                *(s.output for s in contract.states)}
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


#: step-model cells whose state has a fixed int8 range (QAT: :mod:`hearsep.nn.qat`), and that range
FIXED_STATE_CELLS = {"QuantGRUCell": (-1.0, 127.0 / 128.0)}


def fixed_state_samples(step_model, contract: ModelContract, first: dict[str, np.ndarray]) -> list[dict]:
    """Two extra calibration inputs with every state at the ends of its fixed range, for step models
    whose cells fake-quantize their state on a fixed grid (:data:`FIXED_STATE_CELLS`); else none.

    The converter takes a FakeQuant's range for the tensor it quantizes, but a *signature input*
    gets the range calibration saw: states that never reached +-1 would give the state input a
    narrower scale than the FakeQuant behind it, and the converter would requantize between them
    (a DEQUANTIZE -> QUANTIZE pair, a float island). With both ends seen, the input scale is the
    fixed one and state in and out share it."""
    from hearsep.quantize.layers import keras_layers

    ranges = {FIXED_STATE_CELLS[c] for c in keras_layers(step_model).values() if c in FIXED_STATE_CELLS}
    if not ranges or not contract.states:
        return []
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    return [{**first, **{s.input: np.full(s.shape, v, np.float32) for s in contract.states}} for v in (lo, hi)]


def _tensor_indices(tflite_bytes: bytes, contract: ModelContract) -> dict[str, int]:
    it = _interpreter(tflite_bytes)
    runner = it.get_signature_runner(contract.signature)
    out = {name: d["index"] for name, d in runner.get_input_details().items()}
    out.update({name: d["index"] for name, d in runner.get_output_details().items()})
    return out


def set_quantization(tflite_bytes: bytes, contract: ModelContract, params: dict[str, tuple[float, int]]) -> bytes:
    """``tflite_bytes`` with the per-tensor quantization of the named signature tensors (``{name:
    (scale, zero_point)}``) replaced in the flatbuffer (kernels derive their rescaling from the
    tensors at prepare time, so the model computes with the new parameters)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    index = _tensor_indices(tflite_bytes, contract)
    model = schema.ModelT.InitFromPackedBuf(bytearray(tflite_bytes), 0)
    for name, (scale, zero_point) in params.items():
        q = schema.QuantizationParametersT()
        q.scale, q.zeroPoint = [float(scale)], [int(zero_point)]
        model.subgraphs[0].tensors[index[name]].quantization = q
    builder = flatbuffers.Builder(len(tflite_bytes) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def share_state_quantization(tflite_bytes: bytes, contract: ModelContract) -> tuple[bytes, list[dict]]:
    """Give each state input the scale/zero point of its state output; returns (model, per-state report)."""
    it = _interpreter(tflite_bytes)
    runner = it.get_signature_runner(contract.signature)
    ins, outs = runner.get_input_details(), runner.get_output_details()
    report, shared = [], {}
    for s in contract.states:
        q_out, q_in = outs[s.output]["quantization_parameters"], ins[s.input]["quantization_parameters"]
        if len(q_out["scales"]) != 1:
            raise QuantizationError(f"state output {s.output!r} is not per-tensor quantized")
        before = (float(q_in["scales"][0]), int(q_in["zero_points"][0])) if len(q_in["scales"]) else None
        shared[s.input] = (float(q_out["scales"][0]), int(q_out["zero_points"][0]))
        report.append({"state": s.input, "input_before": before, "shared": list(shared[s.input])})
    return set_quantization(tflite_bytes, contract, shared), report


def _mode_converter(step_model, mode: str, samples: list | None):
    tf, _ = import_tensorflow()

    conv = _converter(step_model)
    if mode == "float32":
        return conv
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        conv.target_spec.supported_types = [tf.float16]
    elif mode in INTEGER_MODES:
        def representative():
            yield from samples  # dicts keyed by signature input name

        conv.representative_dataset = representative
        if mode == "int8":
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
        else:
            conv.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
            conv.inference_input_type = tf.int16
            conv.inference_output_type = tf.int16
    return conv


def _convert_mode(step_model, mode: str, samples: list | None = None, float_bytes: bytes | None = None) -> bytes:
    from hearsep.quantize.layers import converter_error

    try:
        return _run_quiet(_mode_converter(step_model, mode, samples).convert)
    except Exception as exc:  # the converter raises many types; map them to the layer at fault
        raise converter_error(exc, step_model, mode, float_bytes) from None


def _stream_masks(tflite_bytes: bytes, contract: ModelContract, samples: list[dict[str, np.ndarray]]) -> np.ndarray:
    """Masks of the calibration stream (state carried by the runtime, reset where the stream's state is zero)."""
    from hearsep.runtime.separator import TFLiteSeparator

    sep = TFLiteSeparator(tflite_bytes, contract=contract, xnnpack=False)
    out = np.empty((len(samples), contract.mask_size), np.float32)
    for i, feed in enumerate(samples):
        if all(not np.any(feed[s.input]) for s in contract.states):
            sep.reset()  # a new sequence starts (stream_calibration_inputs resets state per sequence)
        out[i] = sep.process(feed[contract.features_input].reshape(-1))
    return out


def verify_state_sharing(patched: bytes, unpatched: bytes, float_bytes: bytes, contract: ModelContract,
                         samples: list[dict[str, np.ndarray]], max_frames: int = 1500) -> dict:
    """Is the state-scale-shared model (raw int copy) as close to float as the requantizing one?

    Both are run as the runtime runs them (raw copy for ``patched`` when in/out quantization now
    agree, dequantize/requantize for ``unpatched``) over the first ``max_frames`` calibration
    frames. Returns ``{"raw_copy_ok", "mask_rmse_raw", "mask_rmse_requantize", "frames"}``;
    ``raw_copy_ok`` when the raw copy's mask RMSE vs float is at most 10 % (+ 1e-4) worse.
    """
    from hearsep.runtime.separator import TFLiteSeparator

    sub = samples[:max_frames]
    ref = _stream_masks(float_bytes, contract, sub)
    raw = _stream_masks(patched, contract, sub)
    req = _stream_masks(unpatched, contract, sub)
    rmse_raw = float(np.sqrt(np.mean((raw - ref) ** 2)))
    rmse_req = float(np.sqrt(np.mean((req - ref) ** 2)))
    shared = all(TFLiteSeparator(patched, contract=contract, xnnpack=False).state_copy_raw)
    return {"raw_copy_ok": bool(shared and rmse_raw <= 1.1 * rmse_req + 1e-4), "shared_in_model": bool(shared),
            "mask_rmse_raw": rmse_raw, "mask_rmse_requantize": rmse_req, "frames": len(sub)}


#: full-integer outputs may clip at most this fraction of the float model's values by more than one step
MAX_CLIPPED_FRACTION = 0.01


def check_output_ranges(blob: bytes, float_bytes: bytes, contract: ModelContract,
                        samples: list[dict[str, np.ndarray]], max_frames: int = 4000) -> dict[str, float]:
    """The fraction of each output's float values (the float model on the calibration inputs
    ``samples``, each with its streamed state) that the integer model's output tensor cannot
    represent: further than one quantization step outside ``scale * ([qmin, qmax] - zero_point)``.
    Raises :class:`QuantizationError` naming the output when a fraction exceeds
    :data:`MAX_CLIPPED_FRACTION`; returns ``{output name: fraction}``."""
    ref = _interpreter(float_bytes).get_signature_runner(contract.signature)
    quant = _interpreter(blob).get_signature_runner(contract.signature).get_output_details()
    values: dict[str, list[np.ndarray]] = {name: [] for name in quant}
    for feed in samples[:max_frames]:
        for name, v in ref(**feed).items():
            values[name].append(np.asarray(v, np.float32).ravel())
    out = {}
    for name, detail in quant.items():
        scale, zero_point = detail["quantization"]
        if not scale:
            continue
        info = np.iinfo(detail["dtype"])
        lo, hi = scale * (info.min - zero_point), scale * (info.max - zero_point)
        v = np.concatenate(values[name])
        frac = float(np.mean((v < lo - scale) | (v > hi + scale)))
        out[name] = frac
        if frac > MAX_CLIPPED_FRACTION:
            raise QuantizationError(
                f"integer output {name!r} holds only [{lo:.4g}, {hi:.4g}] (scale {scale:.4g}, zero point {zero_point}) "
                f"but the float model puts {100 * frac:.1f} % of its values outside, in [{v.min():.4g}, {v.max():.4g}]: "
                "give values of different ranges their own output tensor (gru-df: split_taps = true)")
    return out


def convert(step_model, contract: ModelContract, mode: str = "float32",
            calibration_features: Iterable[np.ndarray] | None = None, max_calibration_frames: int = 4000,
            verify_state: bool = True, require_integer: bool = True) -> bytes:
    """Convert a Keras step model (see :mod:`hearsep.nn.architectures`) to TFLite with ``contract``.

    ``calibration_features``: for ``int8`` and ``int16x8``, normalised feature sequences
    ``[T, bins]`` (e.g. of training mixtures); they are streamed through the float model to
    collect realistic states. ``verify_state``: check the shared state quantization (see
    :func:`verify_state_sharing`) and fall back to the requantizing model when it costs accuracy.
    ``require_integer``: a full-integer mode with a float island raises :class:`QuantizationError`
    naming the layer. Returns the model bytes (the contract's ``info`` records mode, state copy
    and calibration).
    """
    from hearsep.quantize.layers import check_integer_only, precheck

    if mode not in MODES:
        raise QuantizationError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
    contract.validate()
    precheck(step_model, contract, mode)
    float_bytes = _convert_mode(step_model, "float32")
    _check_signature(float_bytes, contract)
    info = dict(contract.info)
    info["quantization"] = mode
    if mode == "float32":
        return embed_contract(float_bytes, dataclasses.replace(contract, info=info))
    if mode not in INTEGER_MODES:
        blob = _convert_mode(step_model, mode, None, float_bytes)
        _check_signature(blob, contract)
        return embed_contract(blob, dataclasses.replace(contract, info=info))

    if calibration_features is None:
        raise QuantizationError(f"{mode} needs calibration_features (feature sequences [T, bins] of real mixtures)")
    samples = stream_calibration_inputs(float_bytes, contract, calibration_features, max_calibration_frames)
    if not samples:
        raise QuantizationError("calibration_features gave no frames")
    samples += fixed_state_samples(step_model, contract, samples[0])
    blob = _convert_mode(step_model, mode, samples, float_bytes)
    _check_signature(blob, contract)
    if require_integer:
        check_integer_only(blob, step_model, mode)
    check_output_ranges(blob, float_bytes, contract, samples)
    patched, report = share_state_quantization(blob, contract)
    state_copy = "raw"
    if contract.states and verify_state:
        check = verify_state_sharing(patched, blob, float_bytes, contract, samples)
        info["state_check"] = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in check.items()}
        if not check["raw_copy_ok"]:
            state_copy = "requantize"
    if state_copy == "raw":
        blob = patched
        info["int8_state_quantization" if mode == "int8" else "state_quantization"] = {
            r["state"]: r["shared"] for r in report}
    info["state_copy"] = state_copy if contract.states else "none"
    if mode == "int8":
        info["int8_state_copy"] = state_copy == "raw"
    info["calibration_frames"] = len(samples)
    return embed_contract(blob, dataclasses.replace(contract, info=info))
