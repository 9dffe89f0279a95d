import importlib
import subprocess
import sys
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
TOML_READERS = ["hearsep.nn.train"]


def test_runtime_path_imports_no_tensorflow_keras_or_sounddevice(tiny_model_path, tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "in.wav", np.zeros((4800, 2)), 48000, subtype="PCM_16")
    code = f"""
import sys, numpy as np
from hearsep import Enhancer
from hearsep.cli.main import main
enh = Enhancer({str(tiny_model_path)!r}, sample_rate_hz=48000, channels=2)
enh.enhance(np.zeros((2, 4800), np.float32))
assert main(["enhance", "in.wav", "-o", "out.wav", "--quiet", "--model", {str(tiny_model_path)!r}]) == 0
heavy = sorted(m for m in ("tensorflow", "keras", "sounddevice") if m in sys.modules)
print(",".join(heavy))
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    # a Pi needs numpy, scipy (the STFT's FFT and the chain's BLAS calls), soundfile and ai-edge-litert;
    # sounddevice only for live audio
    assert r.stdout.strip() == ""


def test_python_310_toml_backport_is_declared():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.replace(" ", "").startswith("tomli>=") and "python_version<'3.11'" in d.replace(" ", "")
               for d in deps), deps


@pytest.mark.parametrize("module", TOML_READERS)
def test_toml_readers_fall_back_to_tomli(monkeypatch, module):
    # Python 3.10 has no tomllib: the module must import tomli instead (stand-in: tomllib itself)
    monkeypatch.setitem(sys.modules, "tomllib", None)  # makes `import tomllib` raise ImportError
    monkeypatch.setitem(sys.modules, "tomli", tomllib)
    monkeypatch.delitem(sys.modules, module, raising=False)
    mod = importlib.import_module(module)
    assert mod.tomllib is tomllib
    monkeypatch.delitem(sys.modules, module)  # re-import normally in later tests
