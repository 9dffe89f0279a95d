"""Build hook: ship the default model inside the package (metadata lives in pyproject.toml).

The repository keeps shipped models at the top level (``models/default``); a wheel has no such
folder, so ``build_py`` copies the runtime files of ``models/default`` into
``hearsep/model/shipped/default`` of the build, where :mod:`hearsep.model.paths` finds them
when hearsep is installed from a wheel (a checkout or editable install uses ``models/`` directly).
"""

from pathlib import Path
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: what a board needs to run and describe the default model (the .keras training file stays out)
SHIPPED_FILES = ("model.tflite", "model.contract.json", "MODEL_CARD.md", "summary.json")


class build_py_with_models(build_py):
    def run(self):
        super().run()
        source = ROOT / "models" / "default"
        target = Path(self.build_lib) / "hearsep" / "model" / "shipped" / "default"
        target.mkdir(parents=True, exist_ok=True)
        for name in SHIPPED_FILES:
            shutil.copy2(source / name, target / name)


setup(cmdclass={"build_py": build_py_with_models})
