"""tools/check_aarch64.py with pip replaced: its verdicts and the missing wheels it names."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("check_aarch64", Path(__file__).resolve().parents[1] / "tools/check_aarch64.py")
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


def fake_pip(no_wheel: set[str]):
    """A pip that has an aarch64 wheel for everything except the names in ``no_wheel``."""
    def run(cmd):
        assert "--only-binary=:all:" in cmd and "manylinux_2_36_aarch64" in cmd and "--target" in cmd
        reqs = cmd[cmd.index("-") + 1:]
        reqs = [r for r in reqs if not r.startswith("--") and "aarch64" not in r]
        bad = [r for r in reqs if r.split(">")[0] in no_wheel]
        if bad:
            return 1, "", f"ERROR: Could not find a version that satisfies the requirement {bad[0]}\n" \
                          f"ERROR: No matching distribution found for {bad[0]}\n"
        report = {"install": [{"metadata": {"name": r.split(">")[0], "version": "1.0"},
                               "download_info": {"url": f"https://x/{r.split('>')[0]}-1.0-cp312-manylinux_2_28_aarch64.whl"}}
                              for r in reqs]}
        return 0, json.dumps(report), ""
    return run


def test_all_wheels_found():
    r = tool.check("3.12", 36, ["numpy>=2", "scipy>=1.11"], runner=fake_pip(set()))
    assert r["ok"] and set(r["packages"]) == {"numpy", "scipy"} and r["missing"] == []


def test_every_missing_wheel_is_named_not_just_the_first():
    r = tool.check("3.13", 36, ["numpy>=2", "ai-edge-litert>=1.2", "soundfile>=0.12"],
                   runner=fake_pip({"ai-edge-litert", "soundfile"}))
    assert not r["ok"] and r["missing"] == ["ai-edge-litert>=1.2", "soundfile>=0.12"]


def test_a_pip_failure_that_names_no_wheel_is_not_a_verdict():
    with pytest.raises(tool.PipError, match="network is unreachable"):
        tool.check("3.11", 36, ["numpy"], runner=lambda cmd: (1, "", "ERROR: network is unreachable\n"))


def test_platform_tags_cover_every_glibc_up_to_the_target():
    tags = tool.platform_tags(28)
    assert tags[0] == "manylinux2014_aarch64" and tags[-1] == "manylinux_2_28_aarch64" and len(tags) == 13
