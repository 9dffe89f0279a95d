"""hearsep.fitting.preset: schema, programs, resolve -> ChainParams, safety refusals, atomic save."""

import pytest

from hearsep.chain import ChainParams
from hearsep.errors import ConfigError
from hearsep.fitting import dumps_preset, example_preset, fit_preset, load_preset, loads_preset, save_preset
from hearsep.fitting import standard_audiogram


@pytest.fixture(scope="module")
def n3_text():
    return dumps_preset(example_preset("N3", "nal-r"))


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_round_trip_and_resolve(n3_text, tmp_path):
    preset = example_preset("N3", "nal-r")
    path = save_preset(preset, tmp_path / "n3.toml")
    again = load_preset(path)
    assert again.resolve() == preset.resolve() and again.programs == preset.programs
    params = again.resolve()
    assert isinstance(params, ChainParams) and len(params.bands) == 6 and len(params.crossovers_hz) == 5
    assert params.full_scale_db_spl == 110.0 and params.broadband_mpo_db_spl == 110.0
    # NAL-R of N3 at 1 kHz (0.15 * 125/3 + 0.31 * 40 + 1 = 19.65, written with 0.1 dB resolution)
    assert params.bands[2].centre_hz == 1000 and params.bands[2].gain_65_db == pytest.approx(19.6, abs=0.051)


@pytest.mark.parametrize("audiogram, rule", [("N1", "nal-r"), ("N3", "nal-rp-wdrc"), ("N7", "nal-rp"),
                                             ("S3", "pogo-ii"), ("S2", "camfit-linear")])
def test_every_program_resolves_to_params_the_chain_accepts(audiogram, rule):
    from hearsep.chain.chain import check_params

    preset = example_preset(audiogram, rule)
    for program in [None, *preset.programs]:
        check_params(preset.resolve(program))  # the chain's own edge check (ConfigError if refused)


def test_programs_override_what_they_name(n3_text):
    preset = loads_preset(n3_text)
    assert set(preset.programs) == {"quiet", "noisy restaurant", "music"}
    base, music, noisy = preset.resolve(), preset.resolve("music"), preset.resolve("noisy restaurant")
    assert preset.resolve("quiet") == base
    assert (base.noise_reduction_db, noisy.noise_reduction_db, music.noise_reduction_db) == (6.0, 18.0, 0.0)
    assert music.bands[3].release_ms == 500.0 and base.bands[3].release_ms == 100.0
    assert noisy.bands[3].gain_50_db == pytest.approx(base.bands[3].gain_50_db - 3.0)
    assert noisy.bands[3].gain_65_db == base.bands[3].gain_65_db
    with pytest.raises(ConfigError, match="no program 'cinema'"):
        preset.resolve("cinema")


def test_threshold_form_resolves_to_the_curve(n3_text):
    text = n3_text.split("\n[programs")[0]  # the programs override gain_50/80, which this preset won't have
    text = _edit(text, "gain_50_db = [0.1, 9.1, 19.6, 20.8, 22.8, 24.4]\n", "threshold_db_spl = 50.0\n")
    text = _edit(text, "gain_80_db = [0.1, 9.1, 19.6, 20.8, 22.8, 24.4]\nattack", "ratio = 2.0\nattack")
    text = _edit(text, 'rule = "nal-r"', 'rule = "manual"')  # hand-set compression, no target to meet
    band = loads_preset(text).resolve().bands[3]
    # above 50 dB SPL: 1/2 dB out per dB in -> gain falls 0.5 dB per dB, anchored at 20.8 dB at 65 dB SPL
    assert (band.gain_50_db, band.gain_65_db, band.gain_80_db) == pytest.approx((20.8 + 7.5, 20.8, 20.8 - 7.5))
    assert band.compression_threshold_db_spl == 50.0


@pytest.mark.parametrize("old, new, words", [
    ("broadband_db_spl = 110.0", "broadband_db_spl = 125.0",
     r"mpo.broadband_db_spl: 125 dB SPL is above the 120 dB SPL ceiling"),
    ("\nband_db_spl = 110.0", "\nband_db_spl = [110, 110, 110, 112, 110, 110]",
     r"mpo.band_db_spl\[3\]: 112 dB SPL is above the 111 dB SPL limit .*21 CFR 800.30"),
    ("gain_65_db = [0.1, 9.1, 19.6, 20.8, 22.8, 24.4]", "gain_65_db = [0.1, 9.1, 19.6, 27.0, 22.8, 24.4]",
     r"compression.gain_65_db\[3\]: 27.0 dB at 2000 Hz .* 6.2 dB above the nal-r target 20.8 dB"),
    ('[programs.music.noise_reduction]\nattenuation_limit_db = 0.0',
     '[programs.music.noise_reduction]\nattenuation_limit_db = 0.0\n[programs.music.mpo]\nbroadband_db_spl = 130.0',
     r"programs.music.mpo.broadband_db_spl: 130 dB SPL is above the 120"),
])
def test_safety_refusals_name_the_field(n3_text, old, new, words):
    with pytest.raises(ConfigError, match=words) as exc:
        loads_preset(_edit(n3_text, old, new), "p.toml")
    assert str(exc.value).startswith("p.toml: ") and "\n" not in str(exc.value)


def test_volume_step_that_breaches_mpo_is_refused(n3_text):
    text = _edit(n3_text, "\nband_db_spl = 110.0", "\nband_db_spl = 95.0")
    # 6 kHz band: 65 dB SPL + 24.4 dB = 89.4 dB SPL at the default volume; +6 dB -> 95.4 > 95 dB SPL
    with pytest.raises(ConfigError, match=r"volume.max_db: \+6 dB takes a 65 dB SPL input at 6000 Hz to 95.4 dB SPL, "
                                          r"above that band's MPO 95 dB SPL"):
        loads_preset(text)
    loads_preset(_edit(text, "max_db = 6.0", "max_db = 5.0"))  # 94.4 dB SPL: accepted


def test_otc_limits_depend_on_compression_and_device():
    n3 = standard_audiogram("N3")
    # linear rule: 111 dB SPL; compressive rule: 117 dB SPL (21 CFR 800.30(d)); prescription: 120
    with pytest.raises(ConfigError, match="above the 111 dB SPL limit"):
        fit_preset(n3, "nal-r", mpo_db_spl=112)
    fit_preset(n3, "nal-rp-wdrc", mpo_db_spl=116)
    with pytest.raises(ConfigError, match="above the 117 dB SPL limit .* with input-controlled compression active"):
        fit_preset(n3, "nal-rp-wdrc", mpo_db_spl=118)
    assert fit_preset(n3, "nal-r", mpo_db_spl=118, device="prescription").mpo.broadband_db_spl == 118
    with pytest.raises(ConfigError, match="above the 120 dB SPL ceiling"):
        fit_preset(n3, "nal-r", mpo_db_spl=121, device="prescription")


@pytest.mark.parametrize("old, new, words", [
    ("schema_version = 1", "schema_version = 2", "schema_version: 2 is not supported"),
    ("schema_version = 1\n", "", "schema_version: missing"),
    ('rule = "nal-r"', 'rule = "nal-x"', "rule: 'nal-x' is not a rule"),
    ('ear = "right"', 'ear = "middle"', "ear: 'middle' is not an ear"),
    ("attack_ms = 5.0", 'attack_ms = "5 ms"', r"\[compression\].attack_ms\[0\]: '5 ms' is not a number \(ms\)"),
    ("attack_ms = 5.0", "attack_ms = 0.1", r"\[compression\].attack_ms\[0\]: 0.1 ms is outside 0.5..500"),
    ("attack_ms = 5.0", "attack_ms = [5, 5]", r"\[compression\].attack_ms: has 2 values for 6 bands"),
    ("attack_ms = 5.0", "attack_time = 5.0", r"\[compression\].attack_time: unknown field"),
    ("full_scale_db_spl = 110.0", "full_scale_dbfs = 110.0", r"\[calibration\].full_scale_dbfs: unknown field"),
    ("max_gain_over_target_db = 6.0", "max_gain_over_target_db = 6.0\ncolour = 1", "colour: unknown field"),
    ("crossovers_hz = [354.0, 707.0, 1414.0, 2828.0, 4899.0]", "crossovers_hz = [354.0, 707.0, 2828.0, 1414.0, 4899.0]",
     "must interleave"),
    ("[programs.music.compression]\n", "[programs.music.compression]\nthreshold_db_spl = 40.0\n",
     r"\[programs.music\].compression.threshold_db_spl: overrides a field this preset does not have"),
    ("[programs.music.noise_reduction]\n", "[programs.music.bands]\ncentres_hz = [1]\n[programs.music.noise_reduction]\n",
     r"\[programs.music\].bands: a program can override only"),
    ("[programs.music.noise_reduction]\nattenuation_limit_db = 0.0",
     "[programs.music.noise_reduction]\nattenuation_limit_db = -3.0", r"programs.music.noise_reduction\]"
     r".attenuation_limit_db: -3 dB is outside 0..40"),
    ("[bands]", "[bands\n", "malformed TOML"),
])
def test_bad_input_names_file_field_and_reason(n3_text, old, new, words):
    with pytest.raises(ConfigError, match=words) as exc:
        loads_preset(_edit(n3_text, old, new), "hand.toml")
    assert str(exc.value).startswith("hand.toml: ") and "\n" not in str(exc.value)


def test_save_refuses_and_writes_nothing(tmp_path, n3_text):
    preset = loads_preset(n3_text)
    import dataclasses
    bad = dataclasses.replace(preset, mpo=dataclasses.replace(preset.mpo, broadband_db_spl=130.0))
    with pytest.raises(ConfigError, match="130 dB SPL"):
        save_preset(bad, tmp_path / "bad.toml")
    assert list(tmp_path.iterdir()) == []


def test_shipped_example_presets_are_what_fit_writes():
    from pathlib import Path

    import hearsep.fitting

    folder = Path(hearsep.fitting.__file__).parent / "presets"
    shipped = sorted(folder.glob("*.toml"))
    assert [p.name for p in shipped] == ["n3_nal-r.toml", "n3_nal-rp-wdrc.toml", "s2_camfit-linear.toml"]
    for path in shipped:
        name, rule = path.stem.split("_", 1)
        fitted = fit_preset(standard_audiogram(name), rule, source=str(path))
        assert load_preset(path).resolve() == fitted.resolve(), f"{path} is stale: refit it with hearsep fit"
