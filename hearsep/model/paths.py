"""Where the shipped models live."""

from __future__ import annotations

import os
from pathlib import Path

from hearsep.errors import ModelError

#: repository folder with shipped models (``models/`` next to the ``hearsep`` package)
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
DEFAULT_MODEL = MODELS_DIR / "default" / "model.tflite"


def resolve_model(path: str | os.PathLike | None) -> Path:
    """The model to use: ``path`` if given, else ``$HEARSEP_MODEL``, else the shipped default.

    A folder is accepted and means its ``model.tflite``.
    """
    chosen = path or os.environ.get("HEARSEP_MODEL")
    if chosen is None:
        if not DEFAULT_MODEL.is_file():
            raise ModelError(
                f"no default model at {DEFAULT_MODEL}: it ships with the repository checkout "
                "(models/default); pass --model PATH to use another"
            )
        return DEFAULT_MODEL
    p = Path(chosen)
    if p.is_dir():
        p = p / "model.tflite"
    if not p.is_file():
        raise ModelError(f"model file not found: {p}")
    return p
