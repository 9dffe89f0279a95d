"""hearsep.quantize.measure.state_drift: how far a model's state and mask drift from a reference's."""

import numpy as np

from hearsep.quantize.convert import convert
from hearsep.quantize.measure import state_drift
from quantize_models import calibration, contract, step_model


def test_state_drift_is_zero_against_itself_and_counts_int8_holds():
    c = contract()
    step = step_model()
    fl = convert(step, c, "float32")
    q = convert(step, c, "int8", calibration_features=calibration(), max_calibration_frames=400)
    seqs = calibration(n=2, frames=120, seed=5)
    same = state_drift(fl, fl, c, seqs, frames_per_bucket=50)
    assert same["state_rmse"] == 0.0 and same["mask_rmse"] == 0.0 and same["held_while_reference_moved"] == 0.0
    assert same["frames"] == 240 and len(same["state_rmse_by_bucket"]) == 3  # 120 frames in buckets of 50
    d = state_drift(fl, q, c, seqs, frames_per_bucket=50)
    assert 0.0 < d["state_rmse"] < 0.5 and 0.0 < d["mask_rmse"] < 0.5
    assert 0.0 <= d["held_while_reference_moved"] <= d["held_fraction"] <= 1.0
    # held: the int8 state codes did not change; recomputed here from the signature runner
    from hearsep.runtime.interpreter import load_interpreter

    runner = load_interpreter(q, num_threads=1, xnnpack=False).get_signature_runner("serving_default")
    ins = runner.get_input_details()
    scale, zp = ins["features"]["quantization"]
    state = np.full((1, 8), ins["state"]["quantization"][1], np.int8)
    held = []
    for seq in seqs:
        state = np.full((1, 8), ins["state"]["quantization"][1], np.int8)
        for t in range(seq.shape[0]):
            f = np.clip(np.round(seq[t] / scale) + zp, -128, 127).astype(np.int8).reshape(1, 1, -1)
            new = runner(features=f, state=state)["state_out"]
            held.append(new == state)
            state = new
    assert d["held_fraction"] == np.mean(held)
