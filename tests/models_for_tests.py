"""Tiny frame-step separators built inside the tests (needs the [train] extra: TensorFlow).

``build_tiny_gru`` makes a Keras frame-step model (features [1,1,bins] + GRU state -> mask +
state) and converts it to TFLite (float32 or full-integer int8 with a representative dataset
of features and states), embedding a hearsep contract. Results are cached per session.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from hearsep.model.contract import FeatureSpec, ModelContract, StatePair, embed_contract

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def tiny_contract(units: int = 16, frame: int = 256, hop: int = 32, window: str = "asymmetric",
                  state_names=("state", "state_out")) -> ModelContract:
    synth = 2 * hop if window == "asymmetric" else frame
    return ModelContract(
        sample_rate_hz=16000, frame_samples=frame, hop_samples=hop, synthesis_samples=synth, window=window,
        features=FeatureSpec(mean=-4.0, std=3.0),
        states=(StatePair(state_names[0], state_names[1], (1, units)),) if units else (),
        architecture="tiny-gru-test",
    )


@functools.lru_cache(maxsize=None)
def build_tiny_gru(mode: str = "int8", units: int = 16, frame: int = 256, hop: int = 32,
                   window: str = "asymmetric", seed: int = 0, with_contract: bool = True) -> bytes:
    """TFLite bytes with contract. ``units=0`` builds a stateless model (Dense only)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    contract = tiny_contract(units, frame, hop, window)
    bins = contract.bins
    f = keras.Input((1, bins), batch_size=1, name="features")
    x = keras.layers.Reshape((bins,))(f)
    inputs = {"features": f}
    outputs = {}
    if units:
        s = keras.Input((units,), batch_size=1, name="state")
        inputs["state"] = s
        h, _ = keras.layers.GRUCell(units)(keras.layers.Dense(units)(x), [s])
        outputs["state_out"] = h
    else:
        h = keras.layers.Dense(16, activation="relu")(x)
    m = keras.layers.Reshape((1, bins))(keras.layers.Dense(bins, activation="sigmoid")(h))
    outputs["mask"] = m
    model = keras.Model(inputs, outputs)

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode in ("int8", "int16x8"):
        rng = np.random.default_rng(seed)

        def rep():
            state = np.zeros((1, units), np.float32)
            for _ in range(100):
                feats = rng.normal(0, 1, (1, 1, bins)).astype(np.float32)
                sample = {"features": feats}
                if units:
                    sample["state"] = state
                    state = model(sample)["state_out"].numpy()
                yield sample

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = rep
        if mode == "int8":
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
        else:
            conv.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
            conv.inference_input_type = tf.int16
            conv.inference_output_type = tf.int16
    elif mode != "float32":
        raise ValueError(mode)
    raw = conv.convert()
    return embed_contract(raw, contract) if with_contract else raw
