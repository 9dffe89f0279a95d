"""A trained Keras model file -> the step model to convert and its contract.

The ``.keras`` file holds weights and layers but not the framing or feature statistics, so the
contract comes from, in this order:

1. ``--contract FILE``: a contract JSON, or a ``.tflite`` that carries one;
2. the sidecar ``MODEL.contract.json`` next to ``MODEL.keras`` (what the trainer should write:
   the contract JSON, with ``info["model_params"]`` holding the architecture's parameters);
3. a trainer run folder: ``model_float.tflite`` / ``model.tflite`` next to the ``.keras`` (their
   embedded contract), with the architecture parameters from ``summary.json`` (``model_params``).

The model itself is either a **step model** already (its inputs are the contract's features and
state inputs: any Keras model following ``CONTRACT.md``) or a **sequence model** of a registered
architecture (``contract.architecture``), whose step form is built from the same layers.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from hearsep.errors import ModelError, QuantizationError
from hearsep.model.contract import ModelContract, read_contract


@dataclass
class LoadedModel:
    step_model: object  # keras.Model
    contract: ModelContract
    contract_source: str
    built_from: str  # "step model" or "sequence model via architecture 'gru'"
    path: Path
    #: the form converted to full-integer int8 (``Architecture.step(model, int8=True)``) when the
    #: step model was built from a sequence model; ``None``: ``step_model`` is converted as it is
    int8_step_model: object | None = None


def sidecar_path(model_path: str | Path) -> Path:
    """``MODEL.contract.json`` for ``MODEL.keras``."""
    p = Path(model_path)
    return p.with_name(p.name[: -len(p.suffix)] + ".contract.json" if p.suffix else p.name + ".contract.json")


def _contract_from_file(path: Path) -> ModelContract:
    if not path.is_file():
        raise ModelError(f"contract file not found: {path}")
    data = path.read_bytes()
    if len(data) >= 8 and data[4:8] == b"TFL3":
        return read_contract(data)
    return ModelContract.from_json(data)


def find_contract(model_path: Path, contract_path: str | Path | None = None) -> tuple[ModelContract, str]:
    """The contract for ``model_path`` and where it came from (see the module docstring)."""
    if contract_path:
        return _contract_from_file(Path(contract_path)), str(contract_path)
    side = sidecar_path(model_path)
    if side.is_file():
        return _contract_from_file(side), str(side)
    for name in ("model_float.tflite", "model.tflite"):
        cand = model_path.parent / name
        if cand.is_file():
            contract = read_contract(cand)
            summary = model_path.parent / "summary.json"
            if "model_params" not in contract.info and summary.is_file():
                params = json.loads(summary.read_text()).get("model_params")
                if params is not None:
                    contract = replace(contract, info={**contract.info, "model_params": params})
            return contract, f"{cand}" + (f" + {summary.name}" if summary.is_file() else "")
    raise ModelError(
        f"no contract for {model_path}: a .keras file does not hold the framing and feature statistics. "
        f"Put the contract JSON next to it as {side.name}, or pass --contract FILE (a contract JSON or a "
        "contract-carrying .tflite)")


def _is_step_model(model, contract: ModelContract) -> bool:
    names = set()
    for t in model.inputs:
        names.add(getattr(t, "name", "").split(":")[0])
    want = {contract.features_input, *(s.input for s in contract.states)}
    return want <= names


def load_model(path: str | Path, contract_path: str | Path | None = None) -> LoadedModel:
    """Load a ``.keras`` file and build the step model to convert. Raises hearsep errors only."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    if path.suffix != ".keras":
        raise ModelError(f"{path}: expected a Keras model file (.keras)")
    contract, where = find_contract(path, contract_path)
    from hearsep.quantize.convert import import_tensorflow

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _, keras = import_tensorflow()

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many kinds (ValueError, TypeError...) for unloadable files
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load {path} as a Keras model: {msg[:300]}") from None
    if _is_step_model(model, contract):
        return LoadedModel(model, contract, where, "step model", path)
    from hearsep.nn import architectures

    name = contract.architecture
    if name not in architectures.names():
        raise QuantizationError(
            f"{path} is not a step model (its inputs are not the contract's "
            f"{contract.features_input!r} + states) and its architecture {name!r} is not registered "
            f"(known: {', '.join(architectures.names())}); save the step model instead")
    params = contract.info.get("model_params")
    if params is None:
        raise QuantizationError(
            f"{path} is a sequence model of architecture {name!r}, but its contract ({where}) lacks "
            "info.model_params (the architecture's parameters) needed to build the step model; add them to "
            f"{sidecar_path(path).name}")
    arch = architectures.get(name, **params)
    try:
        step, states = arch.step(model)
        int8_step, _ = arch.step(model, int8=True)
    except (ValueError, KeyError) as exc:
        raise QuantizationError(f"cannot build the {name} step model from {path}: {exc}") from None
    got = tuple((s.input, s.output, tuple(s.shape)) for s in states)
    want = tuple((s.input, s.output, tuple(s.shape)) for s in contract.states)
    if got != want:
        raise QuantizationError(f"step model states {got} differ from the contract's {want} ({where})")
    return LoadedModel(step, contract, where, f"sequence model via architecture {name!r}", path, int8_step)
