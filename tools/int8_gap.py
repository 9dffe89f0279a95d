#!/usr/bin/env python3
"""Where a model's float -> int8 SI-SDRi gap comes from: one model, several quantizations, one evaluation.

    python tools/int8_gap.py RUN_OR_MODEL_DIR [--recipe TOML] [--mixtures 100] [--json OUT.json]

The folder holds ``model.keras`` and ``model.contract.json`` (a training run folder or a shipped
``models/NAME``); its recipe (``--recipe``, default: the ``recipe.toml`` in the folder, else the
one its ``summary.json`` names) gives the calibration and dev data. The model's step form (for a
QAT model, :func:`hearsep.nn.architectures.float_twin` for the float rows) is converted to

* ``float32``: the reference;
* ``dynamic``: int8 weights, float activations (isolates weight quantization);
* ``int16x8``: int16 activations, int8 weights (activation error at 16 bits);
* ``int8``: full integer, the shipped format (weights and activations at 8 bits),

each calibrated like the trainer's export (:func:`hearsep.nn.train.calibration_features`), and all
are scored by :func:`hearsep.nn.train.evaluate_tflite` on the same dev mixtures (the runtime, hop
by hop). ``int8`` is converted from the int8 step form the trainer exports
(``arch.step(model, int8=True)``, :mod:`hearsep.nn.gru_step`); ``--plain-int8`` adds ``int8_plain``,
the same model converted from the default step form (the graph before that form existed).
``--pesq`` adds wideband PESQ per mode (:func:`hearsep.eval.metrics.pesq_wb`, same outputs).
``--dev-seed-offset K`` scores another set of dev mixtures (seed ``train.seed + K``).
``--drift N`` adds, for each integer mode, how its state and mask drift from float32's over the
first N of those dev mixtures (:func:`hearsep.quantize.measure.state_drift`).
Prints one JSON object (and writes it with ``--json``): SI-SDRi (and PESQ) mean per mode and each
mode's gap to float32.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MODES = ("float32", "dynamic", "int16x8", "int8")


def _recipe(folder: Path, given: str | None) -> Path:
    if given:
        return Path(given)
    if (folder / "recipe.toml").is_file():
        return folder / "recipe.toml"
    summary = folder / "summary.json"
    if summary.is_file():
        return Path(json.loads(summary.read_text())["recipe"])
    raise SystemExit(f"int8_gap: no recipe for {folder} (give --recipe)")


def _dev_features(cfg, contract, count: int, seed_offset: int) -> list:
    """Features of the first ``count`` mixtures :func:`hearsep.nn.train.evaluate_tflite` scores."""
    from hearsep.nn.train import dev_generator
    from hearsep.quantize.calibration import EvalItem, feature_sequences

    gen = dev_generator(cfg, cfg.train.eval_segment_s, seed=cfg.train.seed + seed_offset)
    items = [EvalItem(str(i), gen.example(i).mixture, None, contract.sample_rate_hz) for i in range(count)]
    return feature_sequences(items, contract)


def measure(folder: Path, recipe: Path, mixtures: int, pesq: bool = False, plain_int8: bool = False,
            drift: int = 0, seed_offset: int = 7) -> dict:
    from hearsep.model.contract import ModelContract
    from hearsep.nn import architectures
    from hearsep.nn.train import TrainConfig, calibration_features, contract_for, evaluate_tflite
    from hearsep.quantize.convert import convert, import_tensorflow

    _, keras = import_tensorflow()
    cfg = TrainConfig.from_toml(recipe)
    sidecar = ModelContract.from_json((folder / "model.contract.json").read_text())
    params = dict(sidecar.info.get("model_params", {}))
    arch = architectures.get(sidecar.architecture, **params)
    model = keras.models.load_model(folder / "model.keras", compile=False)
    step, states = arch.step(model, int8=True)
    float_arch, float_model = architectures.float_twin(arch, model)
    float_step, _ = float_arch.step(float_model)
    cfg.model = dataclasses.replace(cfg.model, architecture=sidecar.architecture, params=params)
    contract = contract_for(cfg, sidecar.features, states)
    calib = calibration_features(cfg, sidecar.features)
    modes = MODES + (("int8_plain",) if plain_int8 else ())
    blobs = {}
    for mode in modes:
        # int8: the int8 step form of the model (for QAT, the QAT cells with their FakeQuant ranges);
        # int8_plain: the default step form; the other modes: the float twin's default step form
        source = step if mode == "int8" else (arch.step(model)[0] if mode == "int8_plain" else float_step)
        blobs[mode] = convert(source, contract, "int8" if mode == "int8_plain" else mode, calibration_features=calib,
                              max_calibration_frames=cfg.train.calibration_frames)
    ev = evaluate_tflite(cfg, blobs, mixtures, cfg.train.eval_segment_s, pesq=pesq, seed_offset=seed_offset)
    si = {mode: round(ev[mode]["si_sdri_db_mean"], 3) for mode in modes}
    out = {"model": str(folder), "recipe": str(recipe), "mixtures": mixtures, "dev_seed_offset": seed_offset,
           "segment_s": ev["segment_s"],
           "snr_db": ev["snr_db"], "si_sdri_db_mean": si,
           "gap_to_float_db": {mode: round(si[mode] - si["float32"], 3) for mode in modes if mode != "float32"}}
    if pesq:
        pq = {mode: round(ev[mode]["pesq_mean"], 4) for mode in modes}
        out["pesq_mean"] = pq
        out["pesq_gap_to_float"] = {mode: round(pq[mode] - pq["float32"], 4) for mode in modes if mode != "float32"}
    if drift:
        from hearsep.quantize.measure import state_drift

        feats = _dev_features(cfg, contract, drift, seed_offset)
        out["drift_vs_float32"] = {mode: {k: (round(v, 5) if isinstance(v, float) else
                                              [round(x, 5) for x in v] if isinstance(v, list) else v)
                                          for k, v in state_drift(blobs["float32"], blobs[mode], contract, feats).items()}
                                   for mode in modes if mode in ("int8", "int8_plain", "int16x8")}
    out["bytes"] = {mode: len(b) for mode, b in blobs.items()}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("folder", help="folder with model.keras and model.contract.json")
    p.add_argument("--recipe", help="training recipe TOML (default: the folder's recipe.toml or summary.json recipe)")
    p.add_argument("--mixtures", type=int, default=100, help="dev mixtures (default 100)")
    p.add_argument("--pesq", action="store_true", help="also wideband PESQ per mode (same outputs)")
    p.add_argument("--plain-int8", action="store_true",
                   help="also int8_plain: int8 converted from the default step form (the graph before the int8 form)")
    p.add_argument("--drift", type=int, default=0, metavar="N",
                   help="also the state/mask drift of the integer modes from float over the first N mixtures")
    p.add_argument("--dev-seed-offset", type=int, default=7, metavar="K",
                   help="score the dev mixtures of seed train.seed + K (default 7: the trainer's evaluation set)")
    p.add_argument("--json", help="also write the result here")
    args = p.parse_args(argv)
    folder = Path(args.folder)
    if not (folder / "model.keras").is_file() or not (folder / "model.contract.json").is_file():
        print(f"int8_gap: {folder} needs model.keras and model.contract.json", file=sys.stderr)
        return 2
    try:
        tomllib.loads(_recipe(folder, args.recipe).read_text())
        out = measure(folder, _recipe(folder, args.recipe), args.mixtures, args.pesq, args.plain_int8, args.drift,
                      args.dev_seed_offset)
    except Exception as exc:  # one line, no traceback (hearsep errors and file errors alike)
        print(f"int8_gap: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
