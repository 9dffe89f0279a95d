import subprocess
import sys

import numpy as np
import pytest

from hearsep.errors import ModelError
from hearsep.runtime import interpreter
from hearsep.runtime.interpreter import load_interpreter, signature_tensors
from hearsep.runtime.separator import TFLiteSeparator
from models_for_tests import build_tiny_gru


def _reference_masks(model: bytes, features: np.ndarray) -> np.ndarray:
    """The frame loop written plainly with set_tensor/get_tensor on a separate interpreter."""
    it = load_interpreter(model)
    inputs, outputs = signature_tensors(it)
    fin, mout, sin, sout = inputs["features"], outputs["mask"], inputs["state"], outputs["state_out"]

    def quantize(x, info):
        q = x.astype(np.float32) * np.float32(1.0 / info.scale) + np.float32(info.zero_point)
        lim = np.iinfo(info.dtype)
        return np.rint(np.clip(q, lim.min, lim.max)).astype(info.dtype).reshape(info.shape)

    it.set_tensor(sin.index, quantize(np.zeros(sin.shape, np.float32), sin))
    masks = []
    for f in features:
        it.set_tensor(fin.index, quantize(f, fin))
        it.invoke()
        raw = it.get_tensor(mout.index).reshape(-1).astype(np.float32)
        masks.append((raw - mout.zero_point) * np.float32(mout.scale))
        it.set_tensor(sin.index, it.get_tensor(sout.index))
    return np.array(masks)


def test_pinned_buffers_give_the_set_tensor_results():
    model = build_tiny_gru("int8")
    feats = np.random.default_rng(0).normal(0, 1, (40, 129)).astype(np.float32)
    reference = _reference_masks(model, feats)
    sep = TFLiteSeparator(model)
    np.testing.assert_array_equal(np.array([sep.process(f).copy() for f in feats]), reference)
    # the requantizing state copy (used when state scales differ) agrees when they are equal
    sep.reset()
    sep._state_links = [(a, b, sin, sout, False) for a, b, sin, sout, _ in sep._state_links]
    np.testing.assert_array_equal(np.array([sep.process(f).copy() for f in feats]), reference)


def test_bare_invoke_still_runs_with_pinned_buffers():
    sep = TFLiteSeparator(build_tiny_gru("int8"))
    sep.interpreter.invoke()  # profiling and quantize.measure time this call
    with pytest.raises(RuntimeError):
        sep.interpreter.allocate_tensors()  # would move the pinned buffers: LiteRT refuses


def test_pinned_check_notices_a_moved_buffer():
    sep = TFLiteSeparator(build_tiny_gru("int8"))
    index = next(iter(sep._pinned.arrays))
    sep._pinned.arrays[index] = np.zeros_like(sep._pinned.arrays[index])  # no longer the tensor's memory
    with pytest.raises(ModelError, match="moved"):
        sep._pinned.check()


def test_missing_delegate_library_is_one_clean_error(monkeypatch, tiny_model_path):
    monkeypatch.setattr(interpreter, "EDGETPU_LIBRARY", "libhearsep-no-such-delegate.so.1")
    with pytest.raises(ModelError, match="libhearsep-no-such-delegate.so.1"):
        load_interpreter(tiny_model_path, delegate="edgetpu")
    with pytest.raises(ModelError, match="unknown delegate"):
        load_interpreter(tiny_model_path, delegate="gpu")


def test_missing_delegate_prints_no_traceback_at_exit(tmp_path, tiny_model_path):
    # LiteRT's Delegate.__del__ prints "Exception ignored ... Traceback" when its constructor failed
    code = ("import hearsep.runtime.interpreter as i; i.EDGETPU_LIBRARY = 'libhearsep-no-such-delegate.so.1'\n"
            "try:\n    i.load_interpreter(%r, delegate='edgetpu')\nexcept Exception as e:\n    print(e)\n"
            "import gc; gc.collect()\n") % str(tiny_model_path)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "Edge TPU delegate unavailable" in r.stdout
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr


def test_prescaled_features_give_the_same_masks():
    model = build_tiny_gru("int8")
    feats = np.random.default_rng(1).normal(0, 2, (30, 129)).astype(np.float32)  # some beyond int8 range
    plain, pre = TFLiteSeparator(model), TFLiteSeparator(model)
    scale, zero_point = pre.input_quantization
    units = feats * np.float32(1.0 / scale) + np.float32(zero_point)  # what LogPowerFeatures emits
    for f, u in zip(feats, units):
        np.testing.assert_array_equal(pre.process(u, True), plain.process(f))
