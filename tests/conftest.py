import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """A tiny int8 GRU frame-step model with its contract, written once per test session."""
    from models_for_tests import build_tiny_gru

    p = tmp_path_factory.mktemp("models") / "tiny.tflite"
    p.write_bytes(build_tiny_gru("int8"))
    return p
