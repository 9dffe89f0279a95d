"""Tiny frame-step separators built inside the tests (needs the [train] extra: TensorFlow).

``build_tiny_gru`` makes a Keras frame-step model (features [1,1,bins] + GRU state -> mask +
state) and converts it with hearsep's own converter (float32, int8, int16x8; calibration from
random features streamed through the float model), embedding a hearsep contract. Results are
cached per session; ``with_contract=False`` strips the contract again for the error tests.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from hearsep.model.contract import FeatureSpec, ModelContract, StatePair

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

    from hearsep.quantize.convert import convert

    calibration = None
    if mode != "float32":
        rng = np.random.default_rng(seed)
        calibration = [rng.normal(0, 1, (100, bins)).astype(np.float32)]
    model_bytes = convert(model, contract, mode, calibration, verify_state=False)
    if with_contract:
        return model_bytes
    from hearsep.model.contract import CONTRACT_METADATA_NAME
    from ai_edge_litert import schema_py_generated as schema
    import flatbuffers

    fb = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    fb.metadata = [m for m in fb.metadata if m.name not in (CONTRACT_METADATA_NAME, CONTRACT_METADATA_NAME.encode())]
    builder = flatbuffers.Builder(len(model_bytes))
    builder.Finish(fb.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
