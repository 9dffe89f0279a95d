"""What is inside a TFLite separator: ops, tensor types, size, contract (no TensorFlow needed)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from hearsep.errors import ModelError
from hearsep.model.contract import ModelContract, read_contract


def describe_model(path: str | Path, contract: ModelContract | None = None) -> dict:
    """A JSON-ready description of a model file: size, contract, op counts, I/O tensor types."""
    from hearsep.runtime.interpreter import load_interpreter, signature_tensors

    path = Path(path)
    contract = contract or read_contract(path)
    interp = load_interpreter(path, xnnpack=False)  # the model's own ops, not the delegate's
    ops = interp._get_ops_details()
    op_counts = Counter(op["op_name"] for op in ops)
    tensors = interp.get_tensor_details()
    by_index = {t["index"]: t for t in tensors}
    float_ops = sorted({op["op_name"] for op in ops
                        if any(by_index[int(i)]["dtype"] == np.float32 for i in op["inputs"] if int(i) in by_index)
                        and op["op_name"] not in ("QUANTIZE", "DEQUANTIZE")})
    inputs, outputs = signature_tensors(interp, contract.signature)

    def io(table):
        return {name: {"dtype": np.dtype(t.dtype).name, "shape": list(t.shape),
                       "scale": t.scale, "zero_point": t.zero_point} for name, t in table.items()}

    return {
        "path": str(path),
        "size_bytes": path.stat().st_size,
        "contract": contract.to_dict(),
        "latency_samples": contract.latency_samples,
        "latency_ms": contract.latency_ms,
        "hop_ms": contract.hop_ms,
        "ops": dict(sorted(op_counts.items())),
        "float_ops": float_ops,
        "tensor_dtypes": dict(sorted(Counter(np.dtype(t["dtype"]).name for t in tensors).items())),
        "inputs": io(inputs),
        "outputs": io(outputs),
    }


def mask_text(c: dict) -> str:
    """The contract's mask kind in words (``c``: :meth:`ModelContract.to_dict`); bin edges in kHz from the framing."""
    bins = c["frame_samples"] // 2 + 1
    kind = c.get("mask_kind", "real")
    if kind == "deep-filter":
        top_khz = c["df_bins"] * c["sample_rate_hz"] / c["frame_samples"] / 1000
        return (f"deep-filter: a real gain on each of {bins} bins + complex taps over the current and "
                f"{c['df_order'] - 1} past frames on the lowest {c['df_bins']} bins (< {top_khz:.1f} kHz)")
    if kind == "complex":
        return f"complex: a complex gain on each of {bins} bins"
    return f"real: a gain on each of {bins} bins"


def format_description(d: dict) -> str:
    c = d["contract"]
    lines = [
        f"model          {d['path']}  ({d['size_bytes'] / 1024:.1f} kB)",
        f"architecture   {c.get('architecture') or '-'}",
        f"sample rate    {c['sample_rate_hz']} Hz",
        f"framing        frame {c['frame_samples']} samples, hop {c['hop_samples']} ({d['hop_ms']:.2f} ms), "
        f"window {c['window']}, synthesis {c['synthesis_samples']} samples",
        f"latency        {d['latency_samples']} samples = {d['latency_ms']:.2f} ms (algorithmic)",
        f"features       {c['features']['kind']} (mean {c['features']['mean']:.3f}, std {c['features']['std']:.3f})",
        "inputs         " + "; ".join(f"{n} {v['dtype']}{v['shape']}" for n, v in d["inputs"].items()),
        "outputs        " + "; ".join(f"{n} {v['dtype']}{v['shape']}" for n, v in d["outputs"].items()),
        f"mask           {mask_text(c)}",
        f"states         {len(c['states'])}: " + ", ".join(f"{s['input']}->{s['output']}" for s in c["states"]),
        "ops            " + ", ".join(f"{k} x{v}" for k, v in d["ops"].items()),
        "tensor types   " + ", ".join(f"{k} x{v}" for k, v in d["tensor_dtypes"].items()),
        "float ops      " + (", ".join(d["float_ops"]) if d["float_ops"] else "none (integer only)"),
    ]
    return "\n".join(lines)
