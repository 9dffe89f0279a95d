"""tools/bench_chain.py end to end on a short signal: the figures it reports exist and add up."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_chain", ROOT / "tools" / "bench_chain.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (ROOT / "models" / "default" / "model.tflite").is_file(), reason="no default model")
def test_bench_chain_reports_step_chain_and_ratios_on_a_realistic_sequence(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert _bench().main(["--seconds", "0.4", "--rounds", "2", "--control-hops", "1", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    s = r["summary"]
    assert set(r["stats"]) == {"step", "step+chain", "step+chain R=1", "chain", "chain loud", "chain R=1"}
    for name in r["stats"]:
        assert r["floor_stats"][name]["mean_us"] <= r["stats"][name]["mean_us"]  # least over rounds
    assert s["ratio_chain_to_step_mean"] == pytest.approx(r["stats"]["chain"]["mean_us"] / r["stats"]["step"]["mean_us"])
    assert s["control_hops"] >= 2 and s["work"]["normal"]["hops"] == 200
    # the control rate: a control hop on fewer hops than every one, more than 1 in control_hops
    assert 1.0 / s["control_hops"] - 0.02 <= s["work"]["normal"]["control_hop_fraction"] < 1.0
    assert s["work"]["loud"]["limited_hop_fraction"] > 0.3 > s["work"]["normal"]["limited_hop_fraction"]
    assert r["preset"] == "hearsep/fitting/presets/n3_nal-rp-wdrc.toml"
    assert "target: chain / step (mean) <= 0.30" in capsys.readouterr().out
