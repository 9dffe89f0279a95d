"""hearsep.fitting.audiogram: validation at the edge, log-frequency fill-in, Bisgaard standard audiograms."""

import math

import pytest

from hearsep.errors import ConfigError
from hearsep.fitting import Audiogram, load_audiogram, standard_audiogram


def test_bisgaard_values_from_the_paper():
    # Bisgaard, Vlaming & Dahlquist 2010, Trends Amplif 14(2):113-120, Table 2 (N3, moderate) and
    # Table 4 (S2, steep sloping): thresholds in dB HL
    n3 = standard_audiogram("N3")
    assert dict(zip(n3.frequencies_hz, n3.hl_db("right"))) == {
        250: 35, 500: 35, 750: 35, 1000: 40, 1500: 45, 2000: 50, 3000: 55, 4000: 60, 6000: 65, 8000: 65}
    s2 = standard_audiogram("s2")
    assert list(s2.hl_db_at("left", [1000, 2000, 3000, 4000])) == [25, 55, 75, 95]
    assert n3.interpolated_hz == (8000.0,)  # the paper stops at 6 kHz: 8 kHz is filled, and says so
    assert set(n3.ears) == {"right", "left"}


def test_missing_frequencies_are_interpolated_in_log_frequency_and_reported():
    a = Audiogram.build([500, 1000, 2000, 4000], right_db_hl=[20, 30, 50, 70])
    assert a.interpolated_hz == (250.0, 750.0, 1500.0, 3000.0, 8000.0)
    hl = dict(zip(a.frequencies_hz, a.hl_db("right")))
    # 1500 Hz lies log2(1.5) = 0.585 octaves above 1000 Hz: 30 + 0.585 * 20 dB
    assert hl[1500] == pytest.approx(30 + math.log2(1.5) * 20)
    assert hl[250] == 20 and hl[8000] == 70  # held beyond the measured range, not extrapolated
    assert a.hl_db("right")[a.frequencies_hz.index(1000)] == 30  # measured values untouched


@pytest.mark.parametrize("kwargs, words", [
    (dict(frequencies_hz=[500, 1000, 2000, 4000], right_db_hl=[20, 30, 125, 70]), "125 dB HL is outside -10..120"),
    (dict(frequencies_hz=[500, 1000, 2000, 4000], right_db_hl=[20, 30, -15, 70]), "-15 dB HL is outside"),
    (dict(frequencies_hz=[500, 1000, 2000, 4000, 5000], right_db_hl=[1, 2, 3, 4, 5]), "5000 is not a standard"),
    (dict(frequencies_hz=[500, 1000, 1000, 2000, 4000], right_db_hl=[1, 2, 3, 4, 5]), "1000 Hz appears twice"),
    (dict(frequencies_hz=[250, 500, 1000, 4000], right_db_hl=[1, 2, 3, 4]), "2000 Hz missing"),
    (dict(frequencies_hz=[500, 1000, 2000, 4000], right_db_hl=[1, 2, 3]), "3 values for 4 frequencies"),
    (dict(frequencies_hz=[500, 1000, 2000, 4000], right_db_hl=[1, 2, "3", 4]), "'3' is not a number"),
    (dict(frequencies_hz=[500, 1000, 2000, 4000], right_db_hl=[1, 2, True, 4]), "True is not a number"),
    (dict(frequencies_hz=[500, 1000, 2000, 4000]), "needs right_db_hl or left_db_hl"),
])
def test_invalid_audiograms_name_the_field(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        Audiogram.build(kwargs.pop("frequencies_hz"), **kwargs, where="a.toml: [audiogram]")


def test_toml_file_with_bone_and_ucl(tmp_path):
    path = tmp_path / "me.toml"
    path.write_text('[audiogram]\nfrequencies_hz = [250, 500, 1000, 2000, 4000, 6000]\n'
                    'right_db_hl = [20, 25, 35, 50, 60, 65]\n'
                    '[audiogram.bone]\nfrequencies_hz = [500, 1000, 2000, 4000]\nright_db_hl = [20, 30, 45, 55]\n'
                    '[audiogram.ucl]\nfrequencies_hz = [500, 2000]\nright_db_hl = [100, 90]\n')
    a = load_audiogram(path)
    assert a.ears == ("right",)
    assert a.ucl_db_hl["right"].at([1000])[0] == pytest.approx(95.0)  # halfway in log-frequency
    assert a.bone_db_hl["right"].db_hl == (20, 30, 45, 55)
    with pytest.raises(ConfigError, match="no left ear"):
        a.hl_db("left")


@pytest.mark.parametrize("text, words", [
    ("[audiogram\n", "malformed TOML"),
    ("[audiogram]\nfrequencies_hz = [500, 1000, 2000, 4000]\nright_db_hl = [1, 2, 3, 4]\nleft_hl = [1]\n",
     r"\[audiogram\].left_hl: unknown field"),
    ("[audiograms]\n", "no \\[audiogram\\] table"),
])
def test_bad_files_say_which_file_and_field(tmp_path, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=words) as exc:
        load_audiogram(path)
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_unknown_standard_name():
    with pytest.raises(ConfigError, match="neither a TOML file nor a standard audiogram"):
        load_audiogram("N8")
