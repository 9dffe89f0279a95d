"""Keras layers <-> converted ops: pre-checks before conversion, and converter failures and float
islands mapped back to the layer that caused them, each with a suggested fix.

Nothing here raises a converter stack trace at the user: every failure is a
:class:`QuantizationError` whose message names the layer, its class, what went wrong and what to do.
"""

from __future__ import annotations

import re

from hearsep.errors import QuantizationError

#: Keras layer classes with no full-integer TFLite form (they leave float islands), and the fix
FULL_INTEGER_BLOCKERS = {
    "LayerNormalization": "its mean/variance/rsqrt path has no integer kernels (a NEG runs in float)",
    "GroupNormalization": "its per-group statistics have no integer kernels",
    "RMSNormalization": "its rsqrt of a mean square has no integer kernels",
    "UnitNormalization": "its L2 norm of a float vector has no integer kernel here",
}

NORMALIZATION_FIX = ("remove it, or use BatchNormalization (folded into the preceding Dense/Conv at "
                     "conversion), or normalise outside the model (the contract's FeatureSpec already "
                     "normalises the features); or quantize this model with --mode dynamic or float16")

#: TFLite ops that have no integer kernel, with a hint for the fix
FLOAT_ONLY_OP_HINTS = {
    "SIN": "no integer kernel for sin/cos: precompute it outside the model or use a tanh/sigmoid form",
    "COS": "no integer kernel for sin/cos: precompute it outside the model or use a tanh/sigmoid form",
    "CUMSUM": "no integer kernel for cumsum: use a fixed Dense (triangular weights) or a convolution",
    "NEG": "no integer kernel for negation here (LayerNormalization makes one): use BatchNormalization or subtract with a Dense",
    "FLOOR_MOD": "no integer kernel: compute indices outside the model",
    "ERF": "no integer kernel for erf: use gelu(approximate=True) or relu",
    "DIV": "division of activations has no integer kernel here: multiply by a reciprocal or restructure",
    "POW": "no integer kernel for pow: use MUL for small integer powers",
}


def keras_layers(model) -> dict[str, str]:
    """``{layer name: class name}`` of a Keras model, nested models and their layers included."""
    out: dict[str, str] = {}

    def walk(m):
        for layer in getattr(m, "layers", []):
            out[layer.name] = type(layer).__name__
            if hasattr(layer, "layers"):
                walk(layer)
            cell = getattr(layer, "cell", None)
            if cell is not None:
                out[cell.name] = type(cell).__name__

    walk(model)
    return out


def _describe(layer: str | None, classes: dict[str, str]) -> str:
    if not layer:
        return "an unnamed part of the model"
    return f"layer {layer!r} ({classes.get(layer, '?')})"


def precheck(model, contract, mode: str) -> None:
    """Refuse, before converting, what cannot work: dynamic shapes, and layers with no integer
    form in a full-integer mode. Raises :class:`QuantizationError` naming the layer."""
    for t in model.inputs:
        shape = tuple(t.shape)
        if any(d is None for d in shape):
            name = getattr(t, "name", "?")
            raise QuantizationError(
                f"input {name!r} has a dynamic shape {shape}: a step model takes one frame at batch 1; "
                f"build it with keras.Input(shape, batch_size=1) (features [1, 1, {contract.bins}])")
    if mode not in ("int8", "int16x8"):
        return
    classes = keras_layers(model)
    for name, cls in classes.items():
        if cls in FULL_INTEGER_BLOCKERS:
            raise QuantizationError(
                f"{mode}: layer {name!r} ({cls}) cannot be quantized to full integer: "
                f"{FULL_INTEGER_BLOCKERS[cls]}. Fix: {NORMALIZATION_FIX}")


def converter_error(exc: BaseException, model, mode: str, float_tflite: bytes | None = None) -> QuantizationError:
    """A converter exception as a one-line :class:`QuantizationError` naming the layer(s) in it.

    Layers are found in the message's MLIR locations (which carry layer scopes) or, when the
    message names only an op (``op: 'SIN'``), by finding that op in ``float_tflite``.
    """
    text = str(exc)
    classes = keras_layers(model)
    named = []
    for name in sorted(classes, key=len, reverse=True):  # longest first: "dense_1" before "dense"
        if re.search(rf"(^|[/\"' ]){re.escape(name)}(_\d+)?(/|[\"' ]|$)", text) and name not in named:
            named.append(name)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    # MLIR diagnostics read "loc(...): error: 'tfl.xxx' op ..."; keep the first such reason
    reason = next((ln.split("error:", 1)[1].strip() for ln in lines if "error:" in ln), lines[0] if lines else type(exc).__name__)
    ops = sorted(set(re.findall(r"'(?:tf|tfl)\.(\w+)'", text)) | set(re.findall(r"op: '(\w+)'", text)))
    if not named and ops and float_tflite is not None:
        from hearsep.quantize.analysis import analyze_tflite

        wanted = {o.upper() for o in ops}
        for o in analyze_tflite(float_tflite, classes).ops:
            if o.op in wanted and o.layer and o.layer not in named:
                named.append(o.layer)
    where = ", ".join(_describe(n, classes) for n in named[:3]) or "the model"
    hint = ""
    if ops:
        hint = (f" (op{'s' if len(ops) > 1 else ''} {', '.join(ops)}). Fix: replace the op in {where} with "
                "builtin-friendly layers (Dense, Conv, GRUCell, sigmoid/tanh/relu), or try --mode float32/float16")
    return QuantizationError(f"{mode} conversion failed in {where}: {reason[:300]}{hint}")


def check_integer_only(tflite_bytes: bytes, model, mode: str) -> None:
    """Raise when a full-integer model computes anything in float, naming each island's layers."""
    from hearsep.quantize.analysis import analyze_tflite

    classes = keras_layers(model)
    a = analyze_tflite(tflite_bytes, classes)
    bad = a.float_ops()
    if not bad:
        return
    parts = []
    for o in bad:
        if o.op in ("QUANTIZE", "DEQUANTIZE"):
            continue
        hint = FLOAT_ONLY_OP_HINTS.get(o.op, f"TFLite has no {mode} kernel for {o.op}")
        cls = classes.get(o.layer or "", "")
        if cls in FULL_INTEGER_BLOCKERS:
            hint = f"{FULL_INTEGER_BLOCKERS[cls]}; fix: {NORMALIZATION_FIX}"
        parts.append(f"{_describe(o.layer, classes)} runs {o.op} in float ({hint})")
    if not parts:
        parts = [f"{_describe(o.layer, classes)} has a float {o.op}" for o in bad]
    uniq = list(dict.fromkeys(parts))
    raise QuantizationError(
        f"{mode} model is not integer-only: " + "; ".join(uniq[:3])
        + (f"; and {len(uniq) - 3} more" if len(uniq) > 3 else "")
        + ". Change that layer, or quantize with --mode dynamic (int8 weights, float activations)")
