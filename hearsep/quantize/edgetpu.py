"""Can the Edge TPU (Coral) run this model? A static check against Coral's documented rules.

Source: Coral, "TensorFlow models on the Edge TPU", section "Supported operations" and the model
requirements above it (https://coral.ai/docs/edgetpu/models-intro/): tensors quantized to 8 bits
(int8/uint8), sizes constant at compile time, at most 3 dimensions with a size above 1 (only the
innermost three), and only the ops of :data:`SUPPORTED_OPS`, with their listed limitations.
The compiler maps the graph up to the first op it cannot map; everything after it runs on the
CPU. Parameters beyond the on-chip memory (about 8 MB) are streamed from the host on each invoke.

Nothing here needs the compiler: it is not installable on this machine (x86-64 Debian package
``edgetpu-compiler`` only). The verdict is a prediction; :data:`COMPILE_STEPS` says what a user runs.
"""

from __future__ import annotations

from hearsep.quantize.analysis import ModelAnalysis, OpInfo

#: TFLite builtin op -> Coral's known limitation (empty: none). Names as the flatbuffer spells them.
SUPPORTED_OPS = {
    "ADD": "", "AVERAGE_POOL_2D": "no fused activation function",
    "CONCATENATION": "no fused activation function; a constant input must be all zeros and the only other input",
    "CONV_2D": "same dilation in x and y", "DEPTHWISE_CONV_2D": "same dilation in x and y",
    "EXPAND_DIMS": "", "FULLY_CONNECTED": "default weights format only; output tensor one-dimensional",
    "L2_NORMALIZATION": "", "LOGISTIC": "", "LSTM": "unidirectional only",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "unidirectional only", "MAXIMUM": "",
    "MAX_POOL_2D": "no fused activation function", "MEAN": "no reduction in the batch dimension",
    "MINIMUM": "", "MUL": "", "PACK": "no packing in the batch dimension", "PAD": "no padding in the batch dimension",
    "PRELU": "alpha one-dimensional", "QUANTIZE": "", "REDUCE_MAX": "not on the batch dimension",
    "REDUCE_MIN": "not on the batch dimension", "RELU": "", "RELU6": "", "RELU_N1_TO_1": "",
    "RESHAPE": "large reshapes may stay on the CPU", "RESIZE_BILINEAR": "3-D input/output",
    "RESIZE_NEAREST_NEIGHBOR": "3-D input/output", "RSQRT": "", "SLICE": "", "SOFTMAX": "1-D input, at most 16000 elements",
    "SPACE_TO_DEPTH": "", "SPLIT": "no splitting in the batch dimension", "SQUEEZE": "",
    "STRIDED_SLICE": "", "SUB": "", "SUM": "not on the batch dimension", "SQUARED_DIFFERENCE": "",
    "TANH": "", "TRANSPOSE": "", "TRANSPOSE_CONV": "",
}

#: parameters held on chip (bytes); more are streamed from host memory on every invoke
ON_CHIP_PARAMETER_BYTES = 8 * 1024 * 1024
EIGHT_BIT = ("int8", "uint8")

COMPILE_STEPS = (
    "The Edge TPU runs only models compiled for it, and the compiler is not part of hearsep: on an "
    "x86-64 Debian/Ubuntu machine install `edgetpu-compiler` (Coral's apt repository), run "
    "`edgetpu_compiler -s MODEL.tflite` on the int8 model (it writes MODEL_edgetpu.tflite and a log of "
    "which ops were mapped), check with `hearsep info MODEL_edgetpu.tflite` that the hearsep contract "
    "survived, then run it with `hearsep enhance --delegate edgetpu --model MODEL_edgetpu.tflite` on a "
    "machine with the Edge TPU runtime (libedgetpu1-std) and a Coral device. Each invoke crosses USB/PCIe "
    "and the state tensors travel with it: measure per-invoke latency there against the hop."
)


def _fail(o: OpInfo | None, reason: str) -> dict:
    if o is None:
        return {"op": None, "index": None, "layer": None, "reason": reason}
    return {"op": o.op, "index": o.index, "layer": o.layer, "reason": reason}


def _op_limitations(o: OpInfo) -> str | None:
    fused = int(o.options.get("fusedActivationFunction", 0) or 0)
    if o.op in ("CONCATENATION", "AVERAGE_POOL_2D", "MAX_POOL_2D") and fused:
        return f"{o.op} with a fused activation function (Coral: none allowed)"
    if o.op == "FULLY_CONNECTED":
        if int(o.options.get("weightsFormat", 0) or 0) != 0:
            return "FULLY_CONNECTED with shuffled weights format (Coral: default format only)"
        out = o.outputs[0].shape if o.outputs else []
        if sum(1 for d in out if d > 1) > 1:
            return f"FULLY_CONNECTED output {out} is not one-dimensional (Coral: output tensor one-dimensional)"
    if o.op == "SOFTMAX" and o.inputs:
        shape = o.inputs[0].shape
        n = 1
        for d in shape:
            n *= d
        if sum(1 for d in shape if d > 1) > 1 or n > 16000:
            return f"SOFTMAX on {shape} (Coral: 1-D input, at most 16000 elements)"
    if o.op == "CONCATENATION":
        consts = [t for t in o.inputs if t.constant]
        if consts and len(o.inputs) != 2:
            return "CONCATENATION with a constant input and more than 2 inputs (Coral: zero padding only)"
    return None


def edgetpu_eligibility(a: ModelAnalysis) -> dict:
    """Coral's rules applied to a model: ``{"eligible", "failures": [{op, index, layer, reason}],
    "notes", "mapped_until_op", "compile_steps"}``. ``mapped_until_op`` is the index of the first
    op the compiler would stop at (``None`` when all map)."""
    failures = []
    for t in a.inputs + a.outputs:
        if t.dtype not in EIGHT_BIT:
            failures.append(_fail(None, f"model {('input' if t in a.inputs else 'output')} {t.name!r} is {t.dtype} "
                                        "(Coral: 8-bit tensors; quantize with --mode int8)"))
    first_stop = None
    for o in a.ops:
        reasons = []
        if o.op.startswith("CUSTOM:"):
            reasons.append(f"custom op {o.op[7:]} (Coral: builtin ops only)")
        elif o.op not in SUPPORTED_OPS:
            reasons.append(f"{o.op} is not on Coral's supported-operations list")
        else:
            lim = _op_limitations(o)
            if lim:
                reasons.append(lim)
        bad_types = sorted({t.dtype for t in o.activation_inputs + o.outputs if t.dtype not in EIGHT_BIT})
        if bad_types and o.op != "QUANTIZE":
            reasons.append(f"{o.op} computes on {'/'.join(bad_types)} tensors (Coral: int8/uint8 only)")
        dyn = [t.name for t in o.inputs + o.outputs if t.dynamic]
        if dyn:
            reasons.append(f"{o.op} has a dynamic shape (tensor {dyn[0]!r}; Coral: sizes constant at compile time)")
        big = [t for t in o.inputs + o.outputs if sum(1 for d in t.shape[:-3] if d > 1)]
        if big:
            reasons.append(f"{o.op} tensor {big[0].shape} has a size above 1 outside the 3 innermost dimensions")
        for r in reasons:
            failures.append(_fail(o, r))
        if reasons and first_stop is None:
            first_stop = o.index
    notes = []
    if a.parameter_bytes > ON_CHIP_PARAMETER_BYTES:
        notes.append(f"parameters {a.parameter_bytes / 1e6:.1f} MB exceed the ~8 MB on-chip memory: the rest "
                     "is streamed from host memory on every invoke (slower)")
    if first_stop is not None:
        notes.append(f"the compiler would map ops before #{first_stop} ({a.ops[first_stop].op}) and run the rest on the CPU")
    return {"eligible": not failures, "failures": failures, "notes": notes, "mapped_until_op": first_stop,
            "supported_ops_source": "https://coral.ai/docs/edgetpu/models-intro/#supported-operations",
            "compile_steps": COMPILE_STEPS}
