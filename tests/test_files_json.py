import json
from pathlib import Path

import numpy as np
import pytest

from hearsep.files import json_text, to_jsonable, write_json


def test_non_finite_numbers_become_null_and_numpy_becomes_plain():
    doc = {"nan": float("nan"), "inf": float("inf"), "ninf": -np.inf, "np_nan": np.float32("nan"),
           "arr": np.array([1.5, np.inf]), "i": np.int16(3), "p": Path("a/b"), 4: (1, 2)}
    assert to_jsonable(doc) == {"nan": None, "inf": None, "ninf": None, "np_nan": None, "arr": [1.5, None],
                                "i": 3, "p": "a/b", "4": [1, 2]}
    text = json_text(doc)
    assert "NaN" not in text and "Infinity" not in text and json.loads(text)["i"] == 3


def test_write_json_is_strict_json(tmp_path):
    path = write_json(tmp_path / "x.json", {"snr_db": np.float64("inf")})
    assert path.read_text() == '{\n  "snr_db": null\n}\n'
    with pytest.raises(TypeError):
        json_text({"x": object()})


def test_atomic_path_suffix_for_writers_that_need_one(tmp_path):
    from hearsep.files import atomic_path

    seen = []
    with atomic_path(tmp_path / "m.keras", suffix=".keras") as tmp:
        seen.append(tmp.name)
        tmp.write_bytes(b"zip")
    assert seen[0].startswith(".m.keras.") and seen[0].endswith(".keras")
    assert (tmp_path / "m.keras").read_bytes() == b"zip" and [p.name for p in tmp_path.iterdir()] == ["m.keras"]
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "n.keras", suffix=".keras") as tmp:
            raise RuntimeError("save failed")
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]  # no temporary left, nothing half-written
