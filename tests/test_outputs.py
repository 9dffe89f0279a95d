"""Mask kinds: the runtime (hearsep.runtime.outputs inside StreamingEnhancer, TFLite models) against
the training DSP (hearsep.nn.dsp.apply_mask + Framing, Keras sequence model) on tiny gru-df models."""

import dataclasses
import functools
import json

import numpy as np
import pytest

from hearsep.errors import ModelError
from hearsep.model.contract import CONTRACT_FORMAT_VERSION, CONTRACT_METADATA_NAME, FeatureSpec, ModelContract, embed_contract, read_contract
from hearsep.runtime.enhancer import StreamingEnhancer, enhance_signal
from hearsep.runtime.outputs import ComplexMask, DeepFilter, mask_output
from models_for_tests import build_tiny_gru, tiny_contract

SPEC = FeatureSpec(mean=-4.0, std=3.0)
KINDS = {"deep-filter": dict(output="deep-filter", df_order=3, df_bins=40),
         "complex": dict(output="complex"), "real": None}


def _signal(n=4800, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    return (0.1 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + rng.normal(0, 0.03, n)).astype(np.float32)


@functools.lru_cache(maxsize=None)
def _tiny(kind: str, split: bool = False, mode: str = "float32", tap_gain: float = 1.0):
    """(sequence model, TFLite bytes) of a tiny architecture with random non-zero taps.
    ``split``: gains and taps as two outputs (``split_taps``, gru-df's default) or one; ``mode``: ``float32`` or ``int8``
    (calibrated on random features); ``tap_gain`` scales the tap layer's weights (small taps, as
    trained deep filters have)."""
    import keras

    from hearsep.nn import architectures
    from hearsep.quantize.convert import convert
    from hearsep.model.contract import StatePair

    keras.utils.set_random_seed(5)
    arch = architectures.get("gru" if KINDS[kind] is None else "gru-df", units=8, input_units=8, layers=1,
                             **(KINDS[kind] or {}), **({"split_taps": split} if KINDS[kind] else {}))
    seq = arch.sequence(129)
    for layer in seq.layers:  # zero-initialised taps would hide the tap maths: randomise every weight
        if layer.weights:
            layer.set_weights([np.random.default_rng(1).normal(0, 0.3, w.shape).astype(np.float32)
                               for w in layer.get_weights()])
    if tap_gain != 1.0:
        taps = seq.get_layer("df_taps")
        taps.set_weights([w * tap_gain for w in taps.get_weights()])
    step, states = arch.step(seq)
    contract = ModelContract(16000, 256, 32, 64, features=SPEC, states=tuple(
        StatePair(s.input, s.output, s.shape) for s in states), **arch.output_spec())
    calibration = [np.random.default_rng(i).normal(0, 1, (300, 129)).astype(np.float32) for i in range(3)]
    return seq, convert(step, contract, mode, **({"calibration_features": calibration} if mode == "int8" else {}))


def _training_path(seq, contract: ModelContract, x: np.ndarray) -> np.ndarray:
    """What training optimises: TF framing, features, sequence model, apply_mask, synthesis (time-aligned)."""
    import tensorflow as tf

    from hearsep.nn.dsp import Framing, apply_mask, log_power

    f = Framing(256, 32, "asymmetric")
    spectra = f.analysis(tf.constant(x[None]))
    mask = seq(log_power(spectra, contract.features))
    y = f.synthesis(apply_mask(spectra, mask, contract.mask_kind, contract.df_order, contract.df_bins))
    return y.numpy()[0, f.delay_samples:]


@pytest.mark.parametrize("kind", list(KINDS))
def test_runtime_matches_training_dsp(kind):
    seq, model = _tiny(kind)
    contract = read_contract(model)
    assert contract.mask_kind == kind and contract.format_version == CONTRACT_FORMAT_VERSION
    x = _signal()
    runtime = enhance_signal(StreamingEnhancer.from_model(model), x)
    trained = _training_path(seq, contract, x)
    n = len(trained)
    err_db = 10 * np.log10(np.sum((runtime[:n] - trained) ** 2) / np.sum(trained ** 2))
    assert err_db < -60, f"{kind}: runtime differs from the training DSP by {err_db:.1f} dB"
    # the kind matters: the same output read as a real mask would be far off
    if kind != "real":
        assert np.max(np.abs(runtime - x)) > 1e-3


def test_deep_filter_taps_reach_past_frames():
    c = ModelContract(16000, 256, 32, 64, mask_kind="deep-filter", df_order=2, df_bins=3)
    df = DeepFilter(c)
    rng = np.random.default_rng(0)
    x0, x1 = rng.normal(size=(2, 2, 129)).astype(np.float32)
    mask = df.unity.copy()
    out = np.zeros((2, 129), np.float32)
    df.apply(x0, mask, out)
    np.testing.assert_allclose(out, x0)  # unity: gains 1, taps 0
    mask[129 + 2 * 3 + 1] = 0.5  # tap n=1 (one frame back), real part, bin 1
    df.apply(x1, mask, out)
    np.testing.assert_allclose(out[:, 1], x1[:, 1] + 0.5 * x0[:, 1], rtol=1e-6)
    np.testing.assert_allclose(np.delete(out, 1, axis=1), np.delete(x1, 1, axis=1))
    df.skip(x0)  # bypass hop: no output, but the frame enters the history
    df.apply(x1, mask, out)
    np.testing.assert_allclose(out[:, 1], x1[:, 1] + 0.5 * x0[:, 1], rtol=1e-6)
    df.reset()
    df.apply(x1, mask, out)
    np.testing.assert_allclose(out, x1)


def test_complex_mask_is_a_complex_product():
    c = ModelContract(16000, 256, 32, 64, mask_kind="complex")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 129)).astype(np.float32)
    m = rng.normal(size=258).astype(np.float32)
    out = np.zeros_like(x)
    ComplexMask(c).apply(x, m, out)
    want = (x[0] + 1j * x[1]) * (m[:129] + 1j * m[129:])
    np.testing.assert_allclose(out[0] + 1j * out[1], want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("order,df_bins", [(1, 129), (2, 3), (3, 80)])
def test_deep_filter_is_the_complex_fir_over_many_hops(order, df_bins):
    """Against ``g X_t + sum_n C_n X_{t-n}`` in complex128, past several history moves, bypass hops and a reset."""
    from hearsep.runtime.outputs import HISTORY_HOPS

    c = ModelContract(16000, 256, 32, 64, mask_kind="deep-filter", df_order=order, df_bins=df_bins)
    df = DeepFilter(c)
    rng = np.random.default_rng(order)
    history, out = [], np.zeros((2, 129), np.float32)
    for hop in range(3 * HISTORY_HOPS + 5):
        if hop == 2 * HISTORY_HOPS:
            df.reset()
            history = []
        x = (rng.normal(size=(2, 129)) * 10.0 ** rng.uniform(-4, 0)).astype(np.float32)
        history.insert(0, x[0].astype(np.float64) + 1j * x[1])
        if hop % 7 == 3:
            df.skip(x)  # bypass: no output, the frame still enters the history
            continue
        mask = rng.normal(size=c.mask_size).astype(np.float32)
        df.apply(x, mask, out)
        want = mask[:129] * history[0]
        taps = mask[129:].astype(np.float64).reshape(order, 2, df_bins)
        for n, frame in enumerate(history[:order]):
            want[:df_bins] += (taps[n, 0] + 1j * taps[n, 1]) * frame[:df_bins]
        # float32 products and sums of at most order + 1 terms: a few float32 ulps of the largest term
        largest = max(np.max(np.abs(frame)) for frame in history[:order])
        tol = 4 * np.finfo(np.float32).eps * (order + 1) * np.max(np.abs(mask)) * largest
        np.testing.assert_allclose(out[0] + 1j * out[1], want, rtol=0, atol=tol)


@pytest.mark.parametrize("kind", ["complex", "deep-filter"])
def test_code_reader_fills_what_expand_fills_from_the_dequantized_mask(kind):
    """The int8 path of the fused step: byte copies + one take give exactly expand(table[codes])."""
    c = ModelContract(16000, 256, 32, 64, mask_kind=kind, **(dict(df_order=3, df_bins=80) if kind == "deep-filter" else {}))
    out_obj = mask_output(c)
    rng = np.random.default_rng(2)
    raw = np.zeros(c.mask_size, np.int8)
    codes = raw.view(np.uint8)
    table = np.multiply(np.subtract(np.arange(256, dtype=np.uint8).view(np.int8), np.float32(-47.0)),
                        np.float32(0.0057597733))  # as _Quantizer.int8_table: float32 ops
    copies, index, signed = out_obj.code_reader(codes, table)
    for _ in range(3):
        raw[:] = rng.integers(-128, 128, c.mask_size)
        for dst, src in copies:
            dst[...] = src
        got = signed.take(index, None, np.zeros_like(out_obj.expanded), "clip")
        want = out_obj.expand(table[codes]).copy()
        np.testing.assert_array_equal(got, want)
    assert np.count_nonzero(out_obj.negated) == {"complex": 129, "deep-filter": 3 * 80}[kind]
    assert np.count_nonzero(out_obj.source < 0) == {"complex": 0, "deep-filter": 6 * 2 * (129 - 80)}[kind]


def test_bit_identical_under_chunking_deep_filter():
    _, model = _tiny("deep-filter")
    x = _signal(6000, seed=2)
    reference = StreamingEnhancer.from_model(model).process(x)
    rng = np.random.default_rng(3)
    enh = StreamingEnhancer.from_model(model)
    parts, i = [], 0
    while i < len(x):
        k = int(rng.integers(1, 100))
        parts.append(enh.process(x[i:i + k]))
        i += k
    np.testing.assert_array_equal(np.concatenate(parts), reference)


def test_bypass_passes_input_with_deep_filter():
    _, model = _tiny("deep-filter")
    enh = StreamingEnhancer.from_model(model)
    enh.bypass = True
    x = _signal(3200, seed=4)
    y = enh.process(x)
    lat = enh.latency_samples
    assert np.max(np.abs(y[lat + 256:] - x[256:-lat])) < 1e-5


def test_version_1_contract_still_loads_and_runs():
    model = build_tiny_gru("int8")
    v2 = read_contract(model)
    v1 = {k: v for k, v in v2.to_dict().items() if k not in ("df_order", "df_bins")}
    v1["format_version"] = 1
    from ai_edge_litert import schema_py_generated as schema
    import flatbuffers

    fb = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    for md in fb.metadata:
        if md.name in (CONTRACT_METADATA_NAME, CONTRACT_METADATA_NAME.encode()):
            fb.buffers[md.buffer].data = list(json.dumps(v1).encode())
    builder = flatbuffers.Builder(len(model) + 4096)
    builder.Finish(fb.Pack(builder), file_identifier=b"TFL3")
    old = bytes(builder.Output())
    c = read_contract(old)
    assert c.format_version == 1 and c.mask_kind == "real" and c.mask_size == c.bins
    x = _signal(3200)
    np.testing.assert_array_equal(StreamingEnhancer.from_model(old).process(x),
                                  StreamingEnhancer.from_model(model).process(x))


@pytest.mark.parametrize("kwargs,match", [
    (dict(mask_kind="deep-filter"), "df_order >= 1"),
    (dict(mask_kind="deep-filter", df_order=2, df_bins=200), "df_bins <= 129"),
    (dict(mask_kind="complex", df_order=2), "only to mask kind 'deep-filter'"),
    (dict(mask_kind="complex", format_version=1), "needs format_version 2"),
    (dict(mask_kind="polar"), "unknown mask kind"),
    (dict(taps_output="df_taps"), "only to mask kinds 'complex' and 'deep-filter'"),
    (dict(mask_kind="complex", taps_output="df_taps", format_version=2), "needs format_version 3"),
    (dict(mask_kind="complex", taps_output="mask"), "both 'mask'"),
])
def test_bad_mask_kinds_are_rejected(kwargs, match):
    with pytest.raises(ModelError, match=match):
        ModelContract(16000, 256, 32, 64, **kwargs).validate()


def test_mask_size_per_kind():
    c = tiny_contract()
    assert mask_output(c).unity.shape == (129,)
    assert dataclasses.replace(c, mask_kind="complex").mask_size == 258
    assert dataclasses.replace(c, mask_kind="deep-filter", df_order=3, df_bins=80).mask_size == 129 + 480


@pytest.mark.parametrize("kind", ["deep-filter", "complex"])
def test_split_taps_float_model_runs_as_the_one_tensor_model(kind):
    """Gains and taps as two outputs (contract taps_output): the runtime joins them into the same mask."""
    _, one = _tiny(kind)
    _, two = _tiny(kind, split=True)
    c = read_contract(two)
    assert c.taps_output == "df_taps" and c.format_version >= 3 and "taps_output" not in read_contract(one).to_dict()
    x = _signal()
    np.testing.assert_allclose(enhance_signal(StreamingEnhancer.from_model(two), x),
                               enhance_signal(StreamingEnhancer.from_model(one), x), atol=1e-5)


def test_split_taps_int8_model_has_two_scales_and_runs():
    """An int8 model with split taps: the taps tensor gets its own (finer) scale, and the enhancer
    runs it (the one-tensor int8 fast path would read only the gains) close to the float model.
    (In int8 TFLite the tanh before the taps has a fixed 1/128 output grid, so the split cannot
    make the taps finer than tap_scale / 128: see the tap layer in hearsep.nn.architectures.)"""
    from hearsep.runtime.separator import TFLiteSeparator

    two = _tiny("deep-filter", split=True, mode="int8", tap_gain=0.03)[1]
    sep = TFLiteSeparator(two)
    assert sep._taps.info.scale < 0.5 * sep._mask.info.scale
    x = _signal(4800)
    y = enhance_signal(StreamingEnhancer.from_model(two), x)
    y_ref = enhance_signal(StreamingEnhancer.from_model(_tiny("deep-filter", tap_gain=0.03)[1]), x)
    assert 10 * np.log10(np.sum((y - y_ref) ** 2) / np.sum(y_ref ** 2)) < -20


def test_an_integer_output_that_clips_the_float_values_is_refused():
    """The split int8 model holds its float model's values; the same model with its taps tensor on the
    gains' sigmoid grid [0, 255/256] (what one shared tensor got in gru-df-long) clips the negative taps."""
    from hearsep.errors import QuantizationError
    from hearsep.quantize.convert import check_output_ranges, set_quantization, stream_calibration_inputs

    _, int8 = _tiny("deep-filter", split=True, mode="int8", tap_gain=0.03)
    _, float_bytes = _tiny("deep-filter", split=True, tap_gain=0.03)  # the same weights (seeded)
    c = read_contract(int8)
    samples = stream_calibration_inputs(float_bytes, c, [np.random.default_rng(7).normal(0, 1, (300, 129))])
    fractions = check_output_ranges(int8, float_bytes, c, samples)
    assert set(fractions) == {"mask", "df_taps", *(s.output for s in c.states)}
    assert max(fractions.values()) <= 0.01
    clipping = set_quantization(int8, c, {"df_taps": (1 / 256, -128)})
    with pytest.raises(QuantizationError, match="'df_taps'.*split_taps"):
        check_output_ranges(clipping, float_bytes, c, samples)
