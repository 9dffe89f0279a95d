#!/usr/bin/env python3
"""Where a real-mask GRU's int8 loss sits: float simulations of single int8 grids, and int8 graphs
of the state update written in different but equal ways. One model, one evaluation.

    python tools/int8_localize.py models/default [--mixtures 100] [--json OUT.json]

For a ``gru`` model folder (``model.keras``, ``model.contract.json``, ``recipe.toml``):

* ``sim_*`` rows: **float32** TFLite step models in which only the named tensors are rounded to an
  int8-like grid (round half to even, clipped), everything else float:
  ``sim_state8`` the state written on the int8 state grid (2/255, as the converter calibrates it);
  ``sim_state10`` / ``sim_state12`` the same range at 4x / 16x finer steps; ``sim_z`` the update gate
  on the LOGISTIC output grid (k/256, k = 0..255); ``sim_state8_z`` both.
* ``int8_*`` rows: full-integer int8 models (:func:`hearsep.quantize.convert.convert`, calibrated
  as the trainer's export) of the step model with the GRU update written as
  ``int8_keras``: ``z * h + (1 - z) * c`` (the Keras cell, the shipped graph);
  ``int8_c_plus_zd``: ``c + z * (h - c)`` with ``h - c`` on its calibrated (min/max) grid;
  ``int8_c_plus_zd_64`` / ``_32`` / ``_16``: the same with ``h - c`` pinned to a grid of 1/64,
  1/32 (:data:`hearsep.nn.gru_step.DIFF_RANGE`, the exported form) or 1/16, zero point 0.

All rows are scored by :func:`hearsep.nn.train.evaluate_tflite` (the runtime, hop by hop) on the
same dev mixtures as ``tools/int8_gap.py``, with PESQ. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: (min, max) of the pinned h - c grids of the int8 rows (None: calibrated)
DIFF_GRIDS = {"int8_c_plus_zd": None, "int8_c_plus_zd_64": (-2.0, 2.0 * 127 / 128),
              "int8_c_plus_zd_32": (-4.0, 4.0 * 127 / 128), "int8_c_plus_zd_16": (-8.0, 8.0 * 127 / 128)}
#: float simulations: (state step as a fraction of 2/255, or None; z on the k/256 grid)
SIMS = {"sim_float": (None, False), "sim_state8": (1, False), "sim_state10": (4, False),
        "sim_state12": (16, False), "sim_z": (None, True), "sim_state8_z": (1, True)}


def _step(keras, model, states, cell_layer):
    """The ``gru`` step graph (encoder -> cells -> mask) with each cell run by ``cell_layer(cell, i)``."""
    bins = model.input_shape[-1]
    feats = keras.Input((1, bins), batch_size=1, name="features")
    ins = [keras.Input(s.shape[1:], batch_size=1, name=s.input) for s in states]
    x = model.get_layer("encoder")(keras.layers.Reshape((bins,))(feats))
    outs = {}
    for i, h in enumerate(ins):
        x = cell_layer(model.get_layer(f"gru{i}").cell, i)(x, h)
        outs[states[i].output] = x
    mask = keras.layers.Reshape((1, bins))(model.get_layer("mask")(x))
    return keras.Model([feats, *ins], {"mask": mask, **outs})


def _sim_layer(keras, state_k, z_grid):
    ops = keras.ops
    step = 2.0 / 255.0

    class SimCell(keras.layers.Layer):
        def __init__(self, cell, **kw):
            super().__init__(**kw)
            self.cell = cell

        def call(self, x, h):
            cell, u = self.cell, self.cell.units
            xs = ops.matmul(x, cell.kernel) + cell.bias[0]
            rs = ops.matmul(h, cell.recurrent_kernel) + cell.bias[1]
            z = ops.sigmoid(xs[:, :u] + rs[:, :u])
            if z_grid:
                z = ops.clip(ops.round(z * 256.0), 0.0, 255.0) / 256.0
            r = ops.sigmoid(xs[:, u:2 * u] + rs[:, u:2 * u])
            c = ops.tanh(xs[:, 2 * u:] + r * rs[:, 2 * u:])
            out = z * h + (1.0 - z) * c
            if state_k:
                s = step / state_k
                out = ops.clip(ops.round(out / s), -127.0 * state_k, 128.0 * state_k) * s
            return out

        def compute_output_shape(self, x_shape, h_shape):
            return (x_shape[0], self.cell.units)

    return SimCell


def measure(folder: Path, mixtures: int) -> dict:
    from hearsep.model.contract import ModelContract, embed_contract
    from hearsep.nn import architectures
    from hearsep.nn.gru_step import GRUStepCell
    from hearsep.nn.train import TrainConfig, calibration_features, contract_for, evaluate_tflite
    from hearsep.quantize.convert import convert, import_tensorflow

    _, keras = import_tensorflow()
    cfg = TrainConfig.from_toml(folder / "recipe.toml")
    sidecar = ModelContract.from_json((folder / "model.contract.json").read_text())
    if sidecar.architecture != "gru":
        raise SystemExit(f"int8_localize: {folder} is {sidecar.architecture!r}; this tool builds 'gru' step graphs")
    params = dict(sidecar.info.get("model_params", {}))
    arch = architectures.get("gru", **params)
    model = keras.models.load_model(folder / "model.keras", compile=False)
    plain, states = arch.step(model)
    cfg.model = dataclasses.replace(cfg.model, architecture="gru", params=params)
    contract = contract_for(cfg, sidecar.features, states)
    calib = calibration_features(cfg, sidecar.features)
    blobs = {}
    for name, (state_k, z_grid) in SIMS.items():
        layer = _sim_layer(keras, state_k, z_grid)
        blobs[name] = convert(_step(keras, model, states, lambda cell, i: layer(cell, name=f"sim{i}")), contract)
    int8 = {"int8_keras": plain}
    for name, grid in DIFF_GRIDS.items():
        int8[name] = _step(keras, model, states, lambda cell, i, g=grid: GRUStepCell(cell, g, name=f"gru{i}_step"))
    for name, step in int8.items():
        blobs[name] = convert(step, contract, "int8", calibration_features=calib,
                              max_calibration_frames=cfg.train.calibration_frames)
    blobs = {k: embed_contract(b, contract) if k.startswith("sim") else b for k, b in blobs.items()}
    ev = evaluate_tflite(cfg, blobs, mixtures, cfg.train.eval_segment_s, pesq=True)
    ref = ev["sim_float"]
    return {"model": str(folder), "mixtures": mixtures, "segment_s": ev["segment_s"], "snr_db": ev["snr_db"],
            "rows": {k: {"si_sdri_db": round(ev[k]["si_sdri_db_mean"], 3), "pesq": round(ev[k]["pesq_mean"], 4),
                         "si_sdri_vs_float_db": round(ev[k]["si_sdri_db_mean"] - ref["si_sdri_db_mean"], 3),
                         "pesq_vs_float": round(ev[k]["pesq_mean"] - ref["pesq_mean"], 4)} for k in blobs},
            "diff_grids": {k: v for k, v in DIFF_GRIDS.items()}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("folder", help="gru model folder (model.keras, model.contract.json, recipe.toml)")
    p.add_argument("--mixtures", type=int, default=100, help="dev mixtures (default 100)")
    p.add_argument("--json", help="also write the result here")
    args = p.parse_args(argv)
    out = measure(Path(args.folder), args.mixtures)
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
