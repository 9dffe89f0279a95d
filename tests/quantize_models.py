"""Small Keras step models for the quantization tests, each built to pass or fail one check."""

from __future__ import annotations

import numpy as np

from hearsep.model.contract import FeatureSpec, ModelContract, StatePair

FRAME, HOP = 32, 8  # 17 bins: tiny and fast
BINS = FRAME // 2 + 1


def contract(units: int = 8) -> ModelContract:
    states = (StatePair("state", "state_out", (1, units)),) if units else ()
    return ModelContract(sample_rate_hz=16000, frame_samples=FRAME, hop_samples=HOP, synthesis_samples=2 * HOP,
                         features=FeatureSpec(mean=-6.0, std=2.5), states=states, architecture="test")


def step_model(kind: str = "gru", units: int = 8, seed: int = 0, dynamic_batch: bool = False):
    """``gru``: Dense -> GRUCell -> Dense(sigmoid), integer- and Edge-TPU-clean. Variants add one
    layer after the encoder: ``leaky`` (int8 ok, not on Coral's list), ``sin`` (no integer kernel),
    ``layernorm`` (no full-integer form)."""
    import keras

    keras.utils.set_random_seed(seed)
    f = keras.Input((1, BINS), batch_size=None if dynamic_batch else 1, name="features")
    s = keras.Input((units,), batch_size=None if dynamic_batch else 1, name="state")
    x = keras.layers.Reshape((BINS,), name="squeeze")(f)
    x = keras.layers.Dense(units, activation="relu", name="enc")(x)
    if kind == "leaky":
        x = keras.layers.LeakyReLU(negative_slope=0.1, name="leaky")(x)
    elif kind == "sin":
        x = keras.layers.Lambda(lambda t: keras.ops.sin(t), name="wave")(x)
    elif kind == "layernorm":
        x = keras.layers.LayerNormalization(name="norm")(x)
    h, _ = keras.layers.GRUCell(units, name="cell")(x, [s])
    m = keras.layers.Reshape((1, BINS), name="unsqueeze")(keras.layers.Dense(BINS, activation="sigmoid", name="mask_dense")(h))
    return keras.Model({"features": f, "state": s}, {"mask": m, "state_out": h}, name="test_step")


def calibration(n: int = 2, frames: int = 200, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((frames, BINS)).astype(np.float32) for _ in range(n)]
