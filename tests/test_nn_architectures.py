import numpy as np
import pytest

from hearsep.errors import ConfigError
from hearsep.nn import architectures

SMALL = {"gru": {"units": 12, "input_units": 10, "layers": 2}, "tcn": {"channels": 8, "kernel": 3, "blocks": 3}}


def test_registry():
    assert {"gru", "tcn"} <= set(architectures.names())
    with pytest.raises(ConfigError):
        architectures.get("transformer")
    with pytest.raises(ConfigError):
        architectures.get("gru", width=3)


@pytest.mark.parametrize("name", ["gru", "tcn"])
def test_step_model_equals_sequence_model(name):
    bins, frames = 17, 25
    arch = architectures.get(name, **SMALL[name])
    seq = arch.sequence(bins)
    step, states = arch.step(seq)
    x = np.random.default_rng(0).standard_normal((1, frames, bins)).astype(np.float32)
    want = seq(x).numpy()[0]
    values = {s.input: np.zeros(s.shape, np.float32) for s in states}
    got = []
    for t in range(frames):
        out = step([x[:, t:t + 1], *[values[s.input] for s in states]])
        got.append(out["mask"].numpy()[0, 0])
        values = {s.input: out[s.output].numpy() for s in states}
    np.testing.assert_allclose(np.array(got), want, atol=1e-5)
    assert set(step.output) == {"mask", *(s.output for s in states)}
    assert not any(type(l).__name__ == "LayerNormalization" for l in seq.layers)
