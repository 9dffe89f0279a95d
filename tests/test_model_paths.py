import subprocess
import sys
from pathlib import Path

import pytest

from hearsep.errors import ModelError
from hearsep.model import paths

REPO = Path(__file__).resolve().parents[1]


def _model_dir(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "model.tflite").write_bytes(b"x")
    return root


def test_explicit_path_then_env_then_default(tmp_path, monkeypatch):
    a, b = _model_dir(tmp_path / "a"), _model_dir(tmp_path / "b")
    monkeypatch.setenv("HEARSEP_MODEL", str(b))
    assert paths.resolve_model(a) == a / "model.tflite"  # a folder means its model.tflite
    assert paths.resolve_model(a / "model.tflite") == a / "model.tflite"
    assert paths.resolve_model(None) == b / "model.tflite"
    monkeypatch.delenv("HEARSEP_MODEL")
    assert paths.resolve_model(None) == paths.default_model()


def test_missing_model_names_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv("HEARSEP_MODEL", raising=False)
    with pytest.raises(ModelError, match="not found: .*nope.tflite"):
        paths.resolve_model(tmp_path / "nope.tflite")
    with pytest.raises(ModelError, match="model.tflite"):
        paths.resolve_model(tmp_path)  # a folder without a model


def test_checkout_first_then_the_package(tmp_path, monkeypatch):
    checkout, packaged = tmp_path / "repo" / "models", _model_dir(tmp_path / "pkg" / "default")
    monkeypatch.setattr(paths, "MODELS_DIR", checkout)
    monkeypatch.setattr(paths, "PACKAGED_DEFAULT_DIR", packaged)
    assert paths.default_model() == packaged / "model.tflite"  # installed wheel: no checkout
    _model_dir(checkout / "default")
    assert paths.default_model() == checkout / "default" / "model.tflite"
    (packaged / "model.tflite").unlink()
    (checkout / "default" / "model.tflite").unlink()
    with pytest.raises(ModelError, match="no default model found"):
        paths.default_model()


def test_built_package_carries_the_default_model(tmp_path):
    """setup.py's build_py copies models/default into the package; paths finds it there."""
    lib = tmp_path / "lib"
    r = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(lib)], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    shipped = lib / "hearsep" / "model" / "shipped" / "default"
    assert (shipped / "model.tflite").read_bytes() == (REPO / "models" / "default" / "model.tflite").read_bytes()
    code = "from hearsep.model.paths import default_model; print(default_model())"
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": str(lib), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()) == shipped / "model.tflite"
