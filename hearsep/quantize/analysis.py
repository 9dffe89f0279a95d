"""What a converted TFLite model computes, op by op, read from the flatbuffer (no TensorFlow).

:func:`analyze_tflite` lists every operator with its input/output tensors (name, type, shape,
constant or not), the Keras layer it came from, and whether it computes on float activations.
Layer names come from the tensor names the converter writes (``<model>_1/<layer>_1/MatMul``;
fused ops join several names with ``;``): Keras scopes each layer as its name plus ``_<n>``.

Float work inside an integer model is grouped into *islands*: connected float ops entered by a
DEQUANTIZE of an activation and left by a QUANTIZE; each island names the layers inside it. A
DEQUANTIZE of a constant (float16 weights) is weight decompression, not an island.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from hearsep.errors import ModelError


def _schema():
    from ai_edge_litert import schema_py_generated as schema

    return schema


def _enum_names(cls) -> dict[int, str]:
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


_SCOPE_SUFFIX = re.compile(r"_\d+$")


def layer_of_tensor(name: str, known_layers: Iterable[str] | None = None) -> str | None:
    """The Keras layer a tensor name belongs to, or ``None``.

    With ``known_layers`` only those names are accepted (a scope ``enc_1`` is layer ``enc``);
    without, the scope after the model's own is taken (``model_1/enc_1/MatMul`` -> ``enc``).
    """
    known = set(known_layers) if known_layers is not None else None
    for part in name.split(";"):
        comps = part.split("/")
        inner = comps[1:] if len(comps) > 1 else comps
        if known is not None:
            for c in inner:
                base = _SCOPE_SUFFIX.sub("", c)
                if base in known:
                    return base
                if c in known:
                    return c
        elif len(comps) >= 3:
            return _SCOPE_SUFFIX.sub("", comps[1])
    return None


@dataclass
class TensorRef:
    index: int
    name: str
    dtype: str
    shape: list[int]
    dynamic: bool  # a -1 in the shape signature
    constant: bool
    scale: float | None = None
    zero_point: int | None = None

    def label(self) -> str:
        return f"{self.dtype}{self.shape}"


@dataclass
class OpInfo:
    index: int
    op: str
    inputs: list[TensorRef]
    outputs: list[TensorRef]
    layer: str | None = None
    compute: str = ""  # dtype of the op's activations: "int8", "int16", "float32", ... or "hybrid"
    options: dict = field(default_factory=dict)

    @property
    def activation_inputs(self) -> list[TensorRef]:
        return [t for t in self.inputs if not t.constant]


@dataclass
class ModelAnalysis:
    size_bytes: int
    parameter_bytes: int
    ops: list[OpInfo]
    inputs: list[TensorRef]
    outputs: list[TensorRef]
    tensors: list[TensorRef]

    @property
    def op_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(o.op for o in self.ops).items()))

    @property
    def activation_dtypes(self) -> dict[str, int]:
        """dtype -> count over non-constant tensors."""
        return dict(sorted(Counter(t.dtype for t in self.tensors if not t.constant).items()))

    @property
    def integer_io(self) -> bool:
        return all(t.dtype.startswith(("int", "uint")) for t in self.inputs + self.outputs)

    def float_ops(self) -> list[OpInfo]:
        """Ops that compute on float activations (weight-only DEQUANTIZE excluded)."""
        return [o for o in self.ops if o.compute in ("float32", "float16", "hybrid")
                and not (o.op == "DEQUANTIZE" and not o.activation_inputs)]

    def islands(self) -> list[dict]:
        """Connected float regions inside an integer model, with their entry/exit ops and layers."""
        if not self.integer_io:
            return []
        float_ops = [o for o in self.ops if o.compute in ("float32", "hybrid") and o.op not in ("QUANTIZE", "DEQUANTIZE")]
        if not float_ops:
            return []
        producers = {t.index: o for o in self.ops for t in o.outputs}
        consumers: dict[int, list[OpInfo]] = {}
        for o in self.ops:
            for t in o.inputs:
                consumers.setdefault(t.index, []).append(o)
        parent = {o.index: o.index for o in float_ops}

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for o in float_ops:
            for t in o.outputs:
                for c in consumers.get(t.index, []):
                    if c.index in parent:
                        parent[find(c.index)] = find(o.index)
        groups: dict[int, list[OpInfo]] = {}
        for o in float_ops:
            groups.setdefault(find(o.index), []).append(o)
        out = []
        for members in groups.values():
            ids = {o.index for o in members}
            entries = sorted({producers[t.index].index for o in members for t in o.activation_inputs
                              if t.index in producers and producers[t.index].op == "DEQUANTIZE"})
            exits = sorted({c.index for o in members for t in o.outputs for c in consumers.get(t.index, [])
                            if c.op == "QUANTIZE" and c.index not in ids})
            layers = sorted({o.layer for o in members if o.layer})
            out.append({"ops": [f"{o.op}#{o.index}" for o in members], "layers": layers,
                        "dequantize_ops": entries, "quantize_ops": exits})
        return out

    def requantize_ops(self) -> list[OpInfo]:
        """QUANTIZE ops from an integer tensor to another scale (cheap, but worth knowing)."""
        return [o for o in self.ops if o.op == "QUANTIZE" and o.inputs and not o.inputs[0].dtype.startswith("float")]

    def to_dict(self) -> dict:
        return {
            "size_bytes": self.size_bytes,
            "parameter_bytes": self.parameter_bytes,
            "op_counts": self.op_counts,
            "activation_dtypes": self.activation_dtypes,
            "integer_io": self.integer_io,
            "inputs": [asdict(t) for t in self.inputs],
            "outputs": [asdict(t) for t in self.outputs],
            "ops": [{"index": o.index, "op": o.op, "layer": o.layer, "compute": o.compute,
                     "inputs": [t.label() + (" const" if t.constant else "") for t in o.inputs],
                     "outputs": [t.label() for t in o.outputs]} for o in self.ops],
            "float_ops": [{"index": o.index, "op": o.op, "layer": o.layer, "compute": o.compute} for o in self.float_ops()],
            "islands": self.islands(),
            "requantize_ops": [{"index": o.index, "layer": o.layer} for o in self.requantize_ops()],
        }


def _compute_dtype(op: str, inputs: list[TensorRef], outputs: list[TensorRef]) -> str:
    acts = [t for t in inputs if not t.constant]
    if op == "DEQUANTIZE":
        return "float32"
    if op == "QUANTIZE":
        return inputs[0].dtype if inputs else ""
    types = {t.dtype for t in acts + outputs}
    floats = {t for t in types if t.startswith("float")}
    if floats:
        weights_int = any(t.constant and t.dtype in ("int8", "uint8") for t in inputs)
        return "hybrid" if weights_int else sorted(floats)[-1]
    for t in acts + outputs:
        if t.dtype in ("int8", "uint8", "int16"):
            return t.dtype
    return sorted(types)[0] if types else ""


def analyze_tflite(source: str | Path | bytes, layer_names: Iterable[str] | None = None) -> ModelAnalysis:
    """Op-level analysis of a TFLite model (path or bytes); ``layer_names`` are the Keras layer names."""
    if isinstance(source, (str, Path)):
        data = Path(source).read_bytes()
    else:
        data = bytes(source)
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError("not a TFLite model (no TFL3 identifier)")
    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    if not model.subgraphs:
        raise ModelError("TFLite model has no subgraph")
    g = model.subgraphs[0]
    type_names = _enum_names(schema.TensorType)
    op_names = _enum_names(schema.BuiltinOperator)
    known = list(layer_names) if layer_names is not None else None

    def buf_len(i: int) -> int:
        if i <= 0 or i >= len(model.buffers):
            return 0
        b = model.buffers[i]
        if b.data is not None:
            return len(b.data)
        return int(getattr(b, "size", 0) or 0)

    tensors = []
    for i, t in enumerate(g.tensors):
        name = t.name.decode() if isinstance(t.name, bytes) else (t.name or "")
        q = t.quantization
        scale = zp = None
        if q is not None and q.scale is not None and len(q.scale) == 1:
            scale, zp = float(q.scale[0]), int(q.zeroPoint[0])
        sig = list(t.shapeSignature) if t.shapeSignature is not None else []
        tensors.append(TensorRef(i, name, type_names.get(t.type, str(t.type)).lower(),
                                 [int(v) for v in (t.shape if t.shape is not None else [])],
                                 any(int(v) < 0 for v in sig), buf_len(t.buffer) > 0, scale, zp))
    parameter_bytes = sum(buf_len(t.buffer) for t in g.tensors)

    ops = []
    for k, o in enumerate(g.operators or []):
        code = model.operatorCodes[o.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        if code.customCode:
            cc = code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode
            name = f"CUSTOM:{cc}"
        else:
            name = op_names.get(builtin, str(builtin))
        ins = [tensors[i] for i in (o.inputs if o.inputs is not None else []) if i >= 0]
        outs = [tensors[i] for i in (o.outputs if o.outputs is not None else []) if i >= 0]
        opts = {}
        if o.builtinOptions is not None:
            opts = {k2: v for k2, v in vars(o.builtinOptions).items() if isinstance(v, (int, float, bool))}
        ops.append(OpInfo(k, name, ins, outs, None, _compute_dtype(name, ins, outs), opts))

    # layer attribution: own tensor names first, then the neighbours (islands' QUANTIZE/DEQUANTIZE,
    # signature outputs named StatefulPartitionedCall:n)
    for o in ops:
        for t in o.outputs + o.activation_inputs:
            layer = layer_of_tensor(t.name, known)
            if layer:
                o.layer = layer
                break
    consumers: dict[int, list[OpInfo]] = {}
    for o in ops:
        for t in o.inputs:
            consumers.setdefault(t.index, []).append(o)
    for o in ops:
        if o.layer is None and o.op == "DEQUANTIZE":
            nxt = [c.layer for t in o.outputs for c in consumers.get(t.index, []) if c.layer]
            o.layer = nxt[0] if nxt else None
    producers = {t.index: o for o in ops for t in o.outputs}
    for o in ops:
        if o.layer is None:
            prev = [producers[t.index].layer for t in o.activation_inputs if t.index in producers and producers[t.index].layer]
            o.layer = prev[0] if prev else None

    inputs = [tensors[i] for i in (g.inputs if g.inputs is not None else [])]
    outputs = [tensors[i] for i in (g.outputs if g.outputs is not None else [])]
    return ModelAnalysis(len(data), parameter_bytes, ops, inputs, outputs, tensors)

