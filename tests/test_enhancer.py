import functools

import numpy as np
import pytest

from hearsep.errors import AudioError
from hearsep.runtime.enhancer import StreamingEnhancer, enhance_signal
from models_for_tests import build_tiny_gru, tiny_contract


def _signal(n=16000, seed=0):
    return np.random.default_rng(seed).normal(0, 0.1, n).astype(np.float32)


@pytest.mark.parametrize("window,frame,hop", [("asymmetric", 256, 32), ("sqrt-hann", 512, 128)])
def test_unity_mask_output_is_input_delayed_by_latency(window, frame, hop):
    enh = StreamingEnhancer(tiny_contract(0, frame, hop, window))
    x = _signal()
    y = enh.process(x)
    lat = enh.latency_samples
    assert lat == (2 * hop if window == "asymmetric" else frame)
    err = y[lat:] - x[:-lat]
    assert 10 * np.log10(np.mean(err[frame:] ** 2) / np.mean(x ** 2)) < -60
    assert np.max(np.abs(y[:lat])) < 1e-6  # nothing comes out before the latency has passed


@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_output_is_bit_identical_under_any_chunking(mode):
    model = build_tiny_gru(mode)
    x = _signal(8000, seed=3)
    reference = StreamingEnhancer.from_model(model).process(x)
    assert np.max(np.abs(reference)) > 0
    rng = np.random.default_rng(7)
    for trial in range(4):
        enh = StreamingEnhancer.from_model(model)
        high = [2, 33, 700, 5000][trial]
        parts, i = [], 0
        while i < len(x):
            k = int(rng.integers(1, high + 1))
            parts.append(enh.process(x[i:i + k]))
            i += k
        np.testing.assert_array_equal(np.concatenate(parts), reference)


def test_model_changes_the_signal_and_reset_restores_start():
    model = build_tiny_gru("int8")
    enh = StreamingEnhancer.from_model(model)
    x = _signal(4000)
    y1 = enh.process(x).copy()
    lat = enh.latency_samples
    assert np.mean((y1[lat:] - x[:-lat]) ** 2) > 1e-4 * np.mean(x ** 2)  # a real mask, not identity
    enh.reset()
    np.testing.assert_array_equal(enh.process(x), y1)


def test_enhance_signal_is_time_aligned():
    enh = StreamingEnhancer(tiny_contract(0))
    x = _signal(5000)
    y = enhance_signal(enh, x)
    assert y.shape == x.shape
    err = y - x
    assert 10 * np.log10(np.mean(err[300:] ** 2) / np.mean(x ** 2)) < -60


@pytest.mark.parametrize("bad,match", [(np.zeros(0, np.float32), "empty"),
                                       (np.array([0.0, np.nan, 0.1], np.float32), "NaN")])
def test_enhance_signal_rejects_bad_audio(bad, match):
    with pytest.raises(AudioError, match=match):
        enhance_signal(StreamingEnhancer(tiny_contract(0)), bad)


def _per_call_peak_bytes(fn, calls=300):
    """Largest transient allocation (bytes above the live total) of one call, by tracemalloc."""
    import tracemalloc

    tracemalloc.start()
    try:
        worst = 0
        for _ in range(calls):
            live, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            fn()
            worst = max(worst, tracemalloc.get_traced_memory()[1] - live)
        return worst
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind", ["real", "complex", "deep-filter"])
@pytest.mark.parametrize("mode", ["int8", "float32"])
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "stage by stage"])
def test_steady_state_step_allocates_no_buffers(fused, mode, kind):
    model = build_tiny_gru(mode) if kind == "real" else _kind_model(kind, mode)
    enh = StreamingEnhancer.from_model(model, fused=fused)
    hop = _signal(32)
    block = _signal(32 * 40, seed=2)
    out = np.empty_like(block)
    for _ in range(50):
        enh.process_hop(hop)
    enh.process(block, out=out)
    # the per-call peak, not the growth between snapshots: a buffer allocated and freed inside
    # each hop shows here (a (2, 129) float32 spectrum is 1 kB, 129 intp indices 1 kB, a
    # broadcast multiply's buffer 2 kB), while views and numpy's FFT ufunc objects stay near 0.6 kB
    assert _per_call_peak_bytes(lambda: enh.process_hop(hop)) < 1000
    assert _per_call_peak_bytes(lambda: enh.process(block, out=out), calls=30) < 1000


def test_in_place_processing_matches_separate_output():
    model = build_tiny_gru("int8")
    x = _signal(32 * 50 + 7, seed=4)
    reference = StreamingEnhancer.from_model(model).process(x)
    enh = StreamingEnhancer.from_model(model)
    buf = x.copy()
    for start, stop in [(0, 5), (5, 37), (37, 32 * 20), (32 * 20, 32 * 20 + 64), (32 * 20 + 64, len(x))]:
        part = buf[start:stop]
        assert enh.process(part, out=part) is part
    np.testing.assert_array_equal(buf, reference)


@pytest.mark.parametrize("case", ["2xN", "Nx2", "int16", "out long", "out short", "out float64", "overlap"])
def test_bad_blocks_are_refused_before_any_state_changes(case):
    model = build_tiny_gru("int8")
    x = _signal(640, seed=5)
    reference = StreamingEnhancer.from_model(model).process(x)
    enh = StreamingEnhancer.from_model(model)
    buf = np.zeros(700, np.float32)
    bad = {"2xN": lambda: enh.process(np.stack([x, x])),
           "Nx2": lambda: enh.process(np.stack([x, x], 1)),
           "int16": lambda: enh.process((x * 32767).astype(np.int16)),
           "out long": lambda: enh.process(x, out=np.zeros(641, np.float32)),
           "out short": lambda: enh.process(x, out=np.zeros(639, np.float32)),
           "out float64": lambda: enh.process(x, out=np.zeros(640)),
           "overlap": lambda: enh.process(buf[:640], out=buf[1:641])}[case]
    with pytest.raises(AudioError, match="shape|dtype|out"):
        bad()
    np.testing.assert_array_equal(enh.process(x), reference)  # the failed call left no trace


@functools.lru_cache(maxsize=None)
def _kind_model(kind: str, mode: str, split_taps: bool = True) -> bytes:
    """A tiny gru / gru-df step model with random non-zero weights, converted to ``mode``;
    ``split_taps``: gru-df's gains and taps as two output tensors (its default) or one."""
    import keras

    from hearsep.model.contract import FeatureSpec, ModelContract, StatePair
    from hearsep.nn import architectures
    from hearsep.quantize.convert import convert

    extra = {"real": None, "complex": {"output": "complex"},
             "deep-filter": {"output": "deep-filter", "df_order": 3, "df_bins": 16}}[kind]
    if extra is not None:
        extra = {**extra, "split_taps": split_taps}
    keras.utils.set_random_seed(5)
    arch = architectures.get("gru" if extra is None else "gru-df", units=8, input_units=8,
                             layers=2 if extra is None else 1, **(extra or {}))
    seq = arch.sequence(129)
    for layer in seq.layers:  # zero-initialised taps would hide the tap maths
        if layer.weights:
            layer.set_weights([np.random.default_rng(1).normal(0, 0.3, w.shape).astype(np.float32)
                               for w in layer.get_weights()])
    step, states = arch.step(seq)
    contract = ModelContract(16000, 256, 32, 64, features=FeatureSpec(mean=-4.0, std=3.0), states=tuple(
        StatePair(s.input, s.output, s.shape) for s in states), **arch.output_spec())
    rng = np.random.default_rng(0)
    # a narrow calibration range: silence and loud hops clip the int8 features at both ends
    calib = [rng.normal(0, 0.4, (200, 129)).astype(np.float32)] if mode != "float32" else None
    return convert(step, contract, mode, calib, verify_state=False)


def _run_both(fused, reference, x, rng, bypass_every=0):
    """Feed ``x`` in random chunks to both enhancers, bypass on the same hops; return both outputs."""
    outs = ([], [])
    i, hop = 0, fused.contract.hop_samples
    while i < len(x):
        k = int(rng.integers(1, 5 * hop))
        if bypass_every:
            fused.bypass = reference.bypass = bool(rng.integers(0, bypass_every) == 0)
        for enh, out in zip((fused, reference), outs):
            out.append(enh.process(x[i:i + k]).copy())
        i += k
    return np.concatenate(outs[0]), np.concatenate(outs[1])


FUSED_CASES = {  # case: (model builder, stages that must run inline)
    "int8 real": (lambda: build_tiny_gru("int8"), ("separator", "real mask", "synthesis")),
    "int8 real, 2 layers": (lambda: _kind_model("real", "int8"), ("separator", "real mask", "synthesis")),
    "float32 real": (lambda: build_tiny_gru("float32"), ("synthesis",)),
    "int16x8 real": (lambda: build_tiny_gru("int16x8"), ("synthesis",)),
    "stateless int8": (lambda: build_tiny_gru("int8", units=0), ("separator", "real mask", "synthesis")),
    "int8 complex": (lambda: _kind_model("complex", "int8"), ("separator", "complex mask", "synthesis")),
    "float32 complex": (lambda: _kind_model("complex", "float32"), ("synthesis",)),
    "int8 deep-filter": (lambda: _kind_model("deep-filter", "int8"), ("separator", "deep filter", "synthesis")),
    "float32 deep-filter": (lambda: _kind_model("deep-filter", "float32"), ("synthesis",)),
    "int8 deep-filter, one tensor": (lambda: _kind_model("deep-filter", "int8", split_taps=False),
                                     ("separator", "deep filter", "synthesis")),
    "int8 complex, one tensor": (lambda: _kind_model("complex", "int8", split_taps=False),
                                 ("separator", "complex mask", "synthesis")),
    "int8 fft frame": (lambda: build_tiny_gru("int8", frame=512, hop=128, window="sqrt-hann"),
                       ("separator", "real mask")),
}


@pytest.mark.parametrize("chain", [False, True], ids=["no chain", "chain"])
@pytest.mark.parametrize("case", list(FUSED_CASES))
def test_fused_step_is_bit_identical_to_the_stage_by_stage_step(case, chain):
    from hearsep.runtime.separator import TFLiteSeparator

    build, inlined = FUSED_CASES[case]
    model = build()
    contract = TFLiteSeparator(model).contract

    def make(fused):
        c = None
        if chain:
            from hearsep.chain import build_chain
            from chain_fixtures import wdrc_params

            c = build_chain(wdrc_params(), contract)
        return StreamingEnhancer(contract, TFLiteSeparator(model, contract), c, fused=fused)

    fused, reference = make(True), make(False)
    assert fused.process_hop.inlined == inlined
    assert reference.process_hop.__func__ is StreamingEnhancer.process_hop
    rng = np.random.default_rng(11)
    x = np.concatenate([_signal(contract.hop_samples * 300, seed=8), np.zeros(2000, np.float32),
                        3.0 * _signal(3000, seed=9)])  # loud: features beyond the int8 range, chain limiting
    a, b = _run_both(fused, reference, x, rng)
    assert np.max(np.abs(a)) > 0
    np.testing.assert_array_equal(a, b)
    a, b = _run_both(fused, reference, x, rng, bypass_every=4)  # the safe path on about a quarter of the hops
    np.testing.assert_array_equal(a, b)
    fused.reset()
    reference.reset()
    a, b = _run_both(fused, reference, x[:4000], rng)
    np.testing.assert_array_equal(a, b)


def test_fused_step_sees_a_custom_separator():
    """A separator subclass with its own process (e.g. the bench's set_tensor baseline) is called, not inlined."""
    from hearsep.runtime.separator import TFLiteSeparator

    calls = []

    class Counting(TFLiteSeparator):
        def process(self, features, prescaled=False):
            calls.append(1)
            return super().process(features, prescaled)

    model = build_tiny_gru("int8")
    enh = StreamingEnhancer(TFLiteSeparator(model).contract, Counting(model))
    assert "separator" not in enh.process_hop.inlined
    calls.clear()
    y = enh.process(_signal(32 * 10))
    assert len(calls) == 10
    np.testing.assert_array_equal(y, StreamingEnhancer.from_model(model, fused=False).process(_signal(32 * 10)))
