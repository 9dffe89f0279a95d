"""The one place that knows about TFLite interpreters.

Import order: ``ai_edge_litert`` (LiteRT, maintained, aarch64 wheels) -> ``tflite_runtime``
(legacy: needs numpy<2, cannot load models made by TF 2.21) -> ``tensorflow.lite``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hearsep.errors import ModelError

EDGETPU_LIBRARY = "libedgetpu.so.1"


def _interpreter_module():
    try:
        from ai_edge_litert import interpreter as mod
        return mod
    except ImportError:
        pass
    try:
        from tflite_runtime import interpreter as mod  # type: ignore
        return mod
    except ImportError:
        pass
    try:
        import tensorflow as tf  # type: ignore

        return tf.lite
    except ImportError:
        raise ModelError(
            "no TFLite interpreter found: install ai-edge-litert (`pip install ai-edge-litert`)"
        ) from None


def load_interpreter(model: str | Path | bytes, num_threads: int = 1, xnnpack: bool = True,
                     delegate: str | None = None):
    """Create and allocate an interpreter for a model path or model bytes.

    ``xnnpack=False`` uses the builtin kernels without default delegates (for comparisons);
    ``delegate="edgetpu"`` loads ``libedgetpu.so.1`` (the model must be Edge-TPU-compiled).
    Raises :class:`ModelError` with a one-line reason on any failure.
    """
    mod = _interpreter_module()
    kwargs: dict = {"num_threads": int(num_threads)}
    if isinstance(model, (str, Path)):
        path = Path(model)
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        kwargs["model_path"] = str(path)
        where = str(path)
    else:
        kwargs["model_content"] = bytes(model)
        where = "model"
    if not xnnpack:
        resolver = getattr(mod, "OpResolverType", None)
        if resolver is not None:
            kwargs["experimental_op_resolver_type"] = resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    if delegate:
        if delegate != "edgetpu":
            raise ModelError(f"unknown delegate {delegate!r} (known: edgetpu)")
        kwargs["experimental_delegates"] = [_load_delegate(mod, EDGETPU_LIBRARY)]
    try:
        with _quiet_native_stderr():
            interp = mod.Interpreter(**kwargs)
            interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load {where} as a TFLite model: {msg}") from None
    return interp


def _load_delegate(mod, library: str):
    """``mod.load_delegate(library)``, with one-line errors.

    The shared library is opened with ctypes first: when it is missing, LiteRT's ``Delegate``
    would fail inside its constructor and then print an ignored-exception traceback from its
    ``__del__`` (it reads an attribute the failed constructor never set).
    """
    import ctypes

    hint = "Install the Edge TPU runtime (libedgetpu1-std) and plug in the Coral device"
    try:
        ctypes.CDLL(library)
    except OSError as exc:
        raise ModelError(f"Edge TPU delegate unavailable: cannot load {library} ({exc}). {hint}") from None
    try:
        return mod.load_delegate(library)
    except (ValueError, OSError, AttributeError, RuntimeError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"Edge TPU delegate unavailable: {library} loaded but failed ({msg}). {hint}") from None


@contextlib.contextmanager
def _quiet_native_stderr():
    """Drop the runtime's native ``INFO:`` lines (e.g. "Created TensorFlow Lite XNNPACK delegate")
    printed on file descriptor 2 while an interpreter is built; other lines are passed through."""
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = [ln for ln in tmp.read().decode("utf-8", "replace").splitlines(True) if not ln.startswith("INFO:")]
            if kept:
                os.write(2, "".join(kept).encode())


@dataclass(frozen=True)
class TensorInfo:
    """A signature tensor: interpreter index, dtype, shape and affine quantization (scale, zero point)."""

    name: str
    index: int
    dtype: np.dtype
    shape: tuple[int, ...]
    scale: float
    zero_point: int

    @property
    def quantized(self) -> bool:
        """True for an integer tensor with an affine scale (real = scale * (q - zero_point))."""
        return np.issubdtype(self.dtype, np.integer) and self.scale > 0


def signature_tensors(interp, signature: str = "serving_default") -> tuple[dict[str, TensorInfo], dict[str, TensorInfo]]:
    """Inputs and outputs of a signature, keyed by signature name."""
    sigs = interp.get_signature_list()
    if signature not in sigs:
        raise ModelError(f"model has no signature {signature!r} (has: {', '.join(sigs) or 'none'})")
    runner = interp.get_signature_runner(signature)

    def conv(details: dict) -> dict[str, TensorInfo]:
        out = {}
        for name, d in details.items():
            scale, zp = d.get("quantization", (0.0, 0))
            out[name] = TensorInfo(name, int(d["index"]), np.dtype(d["dtype"]), tuple(int(v) for v in d["shape"]),
                                   float(scale), int(zp))
        return out

    return conv(runner.get_input_details()), conv(runner.get_output_details())


class PinnedTensors:
    """numpy arrays over an allocated interpreter's tensor buffers, held for its lifetime.

    LiteRT's ``Interpreter.invoke()`` refuses to run while any array from ``tensor(i)()`` is
    alive, because ``allocate_tensors``/``resize_tensor_input`` may move the buffers; for a
    frame-step model of fixed shapes, allocated once, the buffers never move during
    ``Invoke``, so the hot path keeps one array per tensor (no per-hop view or ``set_tensor``
    copies) and calls the wrapper's ``Invoke`` directly. The interpreter must not be resized
    or re-allocated afterwards. :meth:`check` confirms (after an invoke) that every held array
    still points at its tensor's buffer.
    """

    def __init__(self, interp, indices: list[int]):
        self.interp = interp
        wrapper = getattr(interp, "_interpreter", None)
        if wrapper is None or not hasattr(wrapper, "Invoke"):
            raise ModelError("this TFLite interpreter build has no wrapper Invoke; cannot pin tensors")
        self.invoke = wrapper.Invoke
        self.arrays = {i: interp.tensor(i)() for i in indices}
        # interp.invoke() would now refuse to run (arrays alive): callers that time or run the
        # bare interpreter (profiling, quantize.measure) get the same unchecked Invoke instead;
        # allocate_tensors() still refuses, which protects the pinned buffers
        interp.invoke = self.invoke

    def check(self) -> None:
        """Raise :class:`ModelError` if a held array no longer aliases its tensor's buffer."""
        for i, arr in self.arrays.items():
            fresh = self.interp.tensor(i)()
            same = fresh.__array_interface__["data"][0] == arr.__array_interface__["data"][0]
            del fresh
            if not same:
                raise ModelError(f"tensor {i} moved after invoke; pinned buffers are not safe with this runtime")
