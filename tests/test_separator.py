import numpy as np
import pytest

from hearsep.errors import ModelError
from hearsep.model.contract import ModelContract, StatePair, embed_contract, read_contract
from hearsep.runtime.separator import TFLiteSeparator
from models_for_tests import build_tiny_gru


def _features(n, bins=129, seed=0):
    return np.random.default_rng(seed).normal(0, 1, (n, bins)).astype(np.float32)


@pytest.mark.parametrize("mode,dtype", [("float32", np.float32), ("int8", np.int8), ("int16x8", np.int16)])
def test_io_types_and_mask_range(mode, dtype):
    sep = TFLiteSeparator(build_tiny_gru(mode))
    assert sep.inputs["features"].dtype == dtype and sep.outputs["mask"].dtype == dtype
    masks = np.array([sep.process(f).copy() for f in _features(20)])
    assert masks.shape == (20, 129) and masks.min() >= 0 and masks.max() <= 1


def test_int8_tracks_float_model():
    f32, i8 = TFLiteSeparator(build_tiny_gru("float32")), TFLiteSeparator(build_tiny_gru("int8"))
    feats = _features(50)
    a = np.array([f32.process(f).copy() for f in feats])
    b = np.array([i8.process(f).copy() for f in feats])
    assert np.max(np.abs(a - b)) < 0.05  # int8 mask step is 1/256; recurrent error stays bounded


def test_int8_quantize_dequantize_round_trip():
    sep = TFLiteSeparator(build_tiny_gru("int8"))
    q = sep._features
    x = np.linspace(-3, 3, 129).astype(np.float32)
    raw = q.quantize(x).copy()
    back = (raw.reshape(-1).astype(np.float32) - q.info.zero_point) * q.info.scale
    in_range = (x > (-128 - q.info.zero_point) * q.info.scale) & (x < (127 - q.info.zero_point) * q.info.scale)
    assert np.max(np.abs(back - x)[in_range]) <= q.info.scale / 2 + 1e-6
    assert raw.dtype == np.int8


def test_state_is_carried_and_reset():
    sep = TFLiteSeparator(build_tiny_gru("float32"))
    f = _features(1)[0]
    first = sep.process(f).copy()
    second = sep.process(f).copy()
    assert np.max(np.abs(first - second)) > 1e-4  # same input, different state -> different mask
    sep.reset()
    np.testing.assert_array_equal(sep.process(f), first)


def _scale_tensor(blob: bytes, index: int, factor: float) -> bytes:
    """Multiply the quantization scale of tensor ``index`` by ``factor`` (a model with mismatched state scales)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(blob), 0)
    q = model.subgraphs[0].tensors[index].quantization
    q.scale = [q.scale[0] * factor]
    b = flatbuffers.Builder(len(blob) + 1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def test_state_copy_raw_only_when_scales_match():
    model = build_tiny_gru("int8")  # hearsep's converter shares the state scales
    sep = TFLiteSeparator(model)
    sin, sout = sep.inputs["state"], sep.outputs["state_out"]
    assert (sin.scale, sin.zero_point) == (sout.scale, sout.zero_point)
    assert sep.state_copy_raw == [True]
    mismatched = TFLiteSeparator(_scale_tensor(model, sin.index, 2.0))
    assert mismatched.inputs["state"].scale == pytest.approx(2 * sout.scale)
    assert mismatched.state_copy_raw == [False]


def test_contract_must_match_signature():
    model = build_tiny_gru("int8")
    c = read_contract(model)
    bad = ModelContract(16000, 256, 32, 64, states=(StatePair("nope", "state_out", (1, 16)),))
    with pytest.raises(ModelError, match="'nope'"):
        TFLiteSeparator(embed_contract(model, bad))
    wrong_bins = ModelContract(16000, 512, 32, 64, states=c.states)
    with pytest.raises(ModelError, match="bins"):
        TFLiteSeparator(embed_contract(model, wrong_bins))
    undescribed = ModelContract(16000, 256, 32, 64)
    with pytest.raises(ModelError, match="does not describe"):
        TFLiteSeparator(embed_contract(model, undescribed))


def test_merged_copies_join_neighbours_only():
    from hearsep.runtime.separator import merged_copies

    src, dst = np.arange(40, dtype=np.int8), np.zeros(40, np.int8)
    # states 0 and 1 side by side on both ends, state 2 after a gap
    pairs = [(dst[8:16], src[8:16]), (dst[0:8], src[0:8]), (dst[20:28].reshape(2, 4), src[20:28].reshape(2, 4))]
    copies = merged_copies(pairs)
    assert [d.shape for d, _ in copies] == [(16,), (8,)]
    for d, s in copies:
        d[:] = s
    want = np.zeros(40, np.int8)
    want[0:16], want[20:28] = src[0:16], src[20:28]
    np.testing.assert_array_equal(dst, want)  # exactly the pairs' bytes, nothing in the gap
    # neighbours on one side only stay separate
    assert len(merged_copies([(dst[0:8], src[0:8]), (dst[8:16], src[24:32])])) == 2
    assert len(merged_copies([(dst[0:8], src[0:8]), (dst[12:20], src[8:16])])) == 2


def test_default_model_state_copies_merge_into_one():
    """LiteRT places the default model's two GRU states side by side (inputs and outputs): one copy per hop."""
    from pathlib import Path

    sep = TFLiteSeparator(Path(__file__).resolve().parents[1] / "models" / "default" / "model.tflite")
    assert len(sep.contract.states) == 2 and all(sep.state_copy_raw)
    assert [d.shape for d, _ in sep.raw_state_copies] == [(256,)]


def test_prescaled_writer_clips_and_rounds_like_quantize():
    # the per-hop writer (one clip ufunc + rint) must store what quantize(prescaled=True) stores
    # (minimum, maximum, rint): values far outside int8, on the edges, and halves (round to even)
    from hearsep.runtime.interpreter import TensorInfo
    from hearsep.runtime.separator import _Quantizer

    q = _Quantizer(TensorInfo("features", 0, np.dtype(np.int8), (1, 12), 0.05, -3))
    x = np.array([-1e6, -129.0, -128.5, -127.5, -0.5, 0.5, 1.5, 2.5, 126.5, 127.4, 127.6, 1e6], np.float32)
    dest = np.zeros((1, 12), np.int8)
    q.prescaled_writer(dest)(x)
    assert dest.tolist() == [[-128, -128, -128, -128, 0, 0, 2, 2, 126, 127, 127, 127]]
    assert np.array_equal(dest, q.quantize(x, prescaled=True).copy())
