"""Where the shipped models live, in a checkout and in an installed wheel.

A repository checkout (or an editable install) keeps them at the top level, ``models/<name>``;
a wheel carries the runtime files of ``models/default`` inside the package as
``hearsep/model/shipped/default`` (copied there at build time by ``setup.py``).
:func:`shipped_model_dirs` lists the candidates in that order; the first that holds a
``model.tflite`` is the default.
"""

from __future__ import annotations

import os
from pathlib import Path

from hearsep.errors import ModelError

#: repository folder with shipped models (``models/`` next to the ``hearsep`` package)
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
#: the default model's folder inside an installed package (see ``setup.py``)
PACKAGED_DEFAULT_DIR = Path(__file__).resolve().parent / "shipped" / "default"
#: file name of the model inside a model folder
MODEL_FILE = "model.tflite"


def shipped_model_dirs() -> list[Path]:
    """Candidate folders of the shipped default model: the checkout's, then the package's."""
    return [MODELS_DIR / "default", PACKAGED_DEFAULT_DIR]


def default_model() -> Path:
    """The shipped default ``model.tflite``; :class:`ModelError` if neither location has it."""
    for folder in shipped_model_dirs():
        if (folder / MODEL_FILE).is_file():
            return folder / MODEL_FILE
    raise ModelError(
        "no default model found (looked in " + ", ".join(str(d) for d in shipped_model_dirs()) + "); "
        "reinstall hearsep from its wheel, or pass --model PATH (or set HEARSEP_MODEL)"
    )


#: the default model file found at import (checkout first); prefer :func:`default_model`, which
#: raises a clear error when it is missing
DEFAULT_MODEL = next((d / MODEL_FILE for d in shipped_model_dirs() if (d / MODEL_FILE).is_file()),
                     MODELS_DIR / "default" / MODEL_FILE)


def resolve_model(path: str | os.PathLike | None) -> Path:
    """The model to use: ``path`` if given, else ``$HEARSEP_MODEL``, else the shipped default.

    A folder is accepted and means its ``model.tflite``. Raises :class:`ModelError` naming the
    missing file.
    """
    chosen = path or os.environ.get("HEARSEP_MODEL")
    if chosen is None:
        return default_model()
    p = Path(chosen)
    if p.is_dir():
        p = p / MODEL_FILE
    if not p.is_file():
        raise ModelError(f"model file not found: {p}")
    return p
