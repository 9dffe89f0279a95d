"""From --model/--preset/--program to the live callback (no audio hardware)."""

from pathlib import Path

import pytest

from hearsep.errors import ConfigError
from hearsep.fitting import load_chain_params
from hearsep.live.build import make_processor

PRESET = Path(__file__).resolve().parents[1] / "hearsep" / "fitting" / "presets" / "n3_nal-r.toml"


def test_a_preset_program_configures_the_chain_in_the_live_callback():
    base = load_chain_params(PRESET)
    restaurant = load_chain_params(PRESET, "noisy restaurant")
    assert restaurant.noise_reduction_db == 18.0 and base.noise_reduction_db != 18.0
    processor = make_processor(None, PRESET, "noisy restaurant")
    chain = processor.enhancer.chain
    assert chain is not None and chain.latency_samples > 0
    # the limiter's look-ahead is part of the live latency
    assert processor.latency_samples == processor.enhancer.contract.latency_samples + chain.latency_samples
    assert make_processor(None, None, None).enhancer.chain is None


def test_an_unknown_program_or_a_program_without_preset_is_a_config_error():
    with pytest.raises(ConfigError, match="no program 'gym'"):
        make_processor(None, PRESET, "gym")
    with pytest.raises(ConfigError, match="--program needs --preset"):
        make_processor(None, None, "quiet")


def test_a_preset_that_fails_validation_is_refused_before_anything_runs(tmp_path, capsys):
    from hearsep.cli.main import main

    bad = tmp_path / "too_loud.toml"
    bad.write_text(PRESET.read_text().replace("gain_65_db = [0.1, 9.1, 19.6, 20.8, 22.8, 24.4]",
                                              "gain_65_db = [0.1, 9.1, 19.6, 20.8, 22.8, 64.4]"))
    assert main(["latency", "--preset", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "too_loud.toml" in err[0] and "above the nal-r target" in err[0]
