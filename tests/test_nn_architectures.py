import numpy as np
import pytest

from hearsep.errors import ConfigError
from hearsep.nn import architectures

SMALL = {"gru": {"units": 12, "input_units": 10, "layers": 2}, "tcn": {"channels": 8, "kernel": 3, "blocks": 3},
         "gru-df": {"units": 12, "input_units": 10, "layers": 2, "df_order": 2, "df_bins": 5},
         "gru-cmask": {"units": 12, "input_units": 10, "layers": 1, "output": "complex"}}


def _arch(name):
    return architectures.get("gru-df" if name == "gru-cmask" else name, **SMALL[name])


def test_registry():
    assert {"gru", "tcn"} <= set(architectures.names())
    with pytest.raises(ConfigError):
        architectures.get("transformer")
    with pytest.raises(ConfigError):
        architectures.get("gru", width=3)


@pytest.mark.parametrize("name", list(SMALL))
def test_step_model_equals_sequence_model(name):
    bins, frames = 17, 25
    arch = _arch(name)
    seq = arch.sequence(bins)
    for layer in seq.layers:  # non-zero taps (they start at zero)
        if layer.name == "df_taps":
            layer.set_weights([np.random.default_rng(2).normal(0, 0.5, w.shape) for w in layer.get_weights()])
    step, states = arch.step(seq)
    x = np.random.default_rng(0).standard_normal((1, frames, bins)).astype(np.float32)
    want = seq(x).numpy()[0]
    values = {s.input: np.zeros(s.shape, np.float32) for s in states}
    got = []
    taps = arch.output_spec().get("taps_output")  # gru-df: the taps as their own output (split_taps)
    for t in range(frames):
        out = step([x[:, t:t + 1], *[values[s.input] for s in states]])
        got.append(np.concatenate([out[k].numpy()[0, 0] for k in ("mask", taps) if k]))
        values = {s.input: out[s.output].numpy() for s in states}
    np.testing.assert_allclose(np.array(got), want, atol=1e-5)
    assert set(step.output) == {"mask", *([taps] if taps else []), *(s.output for s in states)}
    assert not any(type(l).__name__ == "LayerNormalization" for l in seq.layers)


def test_phase_heads_sizes_and_warm_start_is_the_real_mask(tmp_path):
    import keras

    from hearsep.nn.train import init_weights

    bins = 17
    gru = _arch("gru").sequence(bins)
    df_arch = _arch("gru-df")
    df = df_arch.sequence(bins)
    assert df_arch.output_spec() == {"mask_kind": "deep-filter", "df_order": 2, "df_bins": 5, "taps_output": "df_taps"}
    assert df.output_shape[-1] == bins + 2 * 2 * 5
    assert _arch("gru-cmask").sequence(bins).output_shape[-1] == 2 * bins
    gru.save(tmp_path / "gru.keras")
    assert init_weights(df, str(tmp_path / "gru.keras")) == ["encoder", "gru0", "gru1", "mask"]
    x = np.random.default_rng(1).standard_normal((1, 9, bins)).astype(np.float32)
    out = df(x).numpy()
    np.testing.assert_allclose(out[..., :bins], gru(x).numpy(), atol=1e-6)  # gains = the gru mask
    assert np.all(out[..., bins:] == 0)  # taps start at zero: step 0 is the real-mask model
    with pytest.raises(ConfigError, match="df_bins"):
        architectures.get("gru-df", df_bins=500).sequence(bins)
    with pytest.raises(ConfigError, match="shares no layer"):
        init_weights(_arch("tcn").sequence(bins), str(tmp_path / "gru.keras"))
    keras.backend.clear_session()
