"""Power sources and energy integration: fake sysfs trees, an injected vcgencmd, a UM25C on a pty."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hearsep.errors import PowerSourceError
from hearsep.profiling.power import (HwmonSource, Pi5PmicSource, PowerRecorder, RaplSource, open_power_source,
                                     parse_pmic_adc)
from hearsep.profiling.um_meter import FRAME_BYTES, UMFrame, encode_frame
from um_emulator import PtyMeter


def rapl_tree(root: Path, zones: dict[str, int], range_uj: int = 2 ** 32) -> Path:
    """powercap zones {dir name: energy_uj}, each with a name and a wrap range."""
    for zone, energy in zones.items():
        d = root / "class" / "powercap" / zone
        d.mkdir(parents=True, exist_ok=True)
        (d / "name").write_text("psys\n" if zone == "intel-rapl:9" else f"package-{zone.split(':')[1]}\n")
        (d / "energy_uj").write_text(f"{energy}\n")
        (d / "max_energy_range_uj").write_text(f"{range_uj}\n")
    return root


def set_energy(root: Path, zone: str, uj: int) -> None:
    (root / "class" / "powercap" / zone / "energy_uj").write_text(f"{uj}\n")


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_rapl_energy_matches_set_power_across_wraps(tmp_path):
    """Two packages at 6 W and 3.5 W, counters wrapping every 2 J: the recorder's mean power is
    the set 9.5 W within 2%; a subzone (intel-rapl:0:0) and psys are not added on top."""
    range_uj = 2_000_000
    root = rapl_tree(tmp_path, {"intel-rapl:0": 1_900_000, "intel-rapl:1": 0, "intel-rapl:9": 0})
    sub = root / "class" / "powercap" / "intel-rapl:0:0"
    sub.mkdir()
    (sub / "energy_uj").write_text("5\n")
    for z in ("intel-rapl:0", "intel-rapl:1"):
        (root / "class" / "powercap" / z / "max_energy_range_uj").write_text(f"{range_uj}\n")
    src = RaplSource(root)
    assert "intel-rapl:0 (package-0)" in src.description and "psys" not in src.description
    clock = Clock()
    rec = PowerRecorder(src, clock=clock)
    rec.sample()
    e0, e1 = 1_900_000, 0
    for _ in range(40):  # 4 s at 0.1 s steps: 24 J on zone 0 (12 wraps), 14 J on zone 1
        clock.t += 0.1
        e0 = (e0 + 600_000) % range_uj
        e1 = (e1 + 350_000) % range_uj
        set_energy(root, "intel-rapl:0", e0)
        set_energy(root, "intel-rapl:1", e1)
        rec.sample()
    r = rec.result()
    assert r.mean_w == pytest.approx(9.5, rel=0.02)
    assert r.energy_j == pytest.approx(38.0, rel=0.02)


def test_rapl_unreadable_says_root_only(tmp_path, monkeypatch):
    root = rapl_tree(tmp_path, {"intel-rapl:0": 10})
    real = Path.read_text

    def deny(self, *a, **k):
        if self.name == "energy_uj":
            raise PermissionError(13, "Permission denied")
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", deny)
    with pytest.raises(PowerSourceError, match="permission denied.*root only since Linux 5.10"):
        RaplSource(root)


def test_rapl_missing_and_garbage(tmp_path):
    with pytest.raises(PowerSourceError, match="no powercap zones"):
        RaplSource(tmp_path)
    root = rapl_tree(tmp_path, {"intel-rapl:0": 10})
    set_energy(root, "intel-rapl:0", 10)
    (root / "class/powercap/intel-rapl:0/energy_uj").write_text("banana\n")
    with pytest.raises(PowerSourceError, match="'banana', not an integer"):
        RaplSource(root)


def hwmon_dev(root: Path, index: int, name: str, files: dict[str, int]) -> Path:
    d = root / "class" / "hwmon" / f"hwmon{index}"
    d.mkdir(parents=True)
    (d / "name").write_text(name + "\n")
    for k, v in files.items():
        (d / k).write_text(f"{v}\n")
    return d


def test_hwmon_power_current_voltage_and_energy(tmp_path):
    hwmon_dev(tmp_path, 0, "coretemp", {"temp1_input": 45000})  # no power: skipped
    hwmon_dev(tmp_path, 1, "ina219", {"in0_input": 12, "in1_input": 5000, "curr1_input": 400})  # mA x mV
    hwmon_dev(tmp_path, 2, "ina226", {"power1_input": 2_250_000})  # µW
    src = HwmonSource(tmp_path)
    assert "ina219" in src.description and src.kind == "power"
    assert src.read() == pytest.approx(2.0)  # 400 mA x 5000 mV (in1, not the shunt's in0)
    assert HwmonSource(tmp_path, "ina226").read() == pytest.approx(2.25)
    e = hwmon_dev(tmp_path, 3, "meter", {"energy1_input": 1_000_000})
    src = HwmonSource(tmp_path, "meter")
    assert src.kind == "energy"
    (e / "energy1_input").write_text("4500000\n")
    assert src.read() == pytest.approx(3.5)
    with pytest.raises(PowerSourceError, match="no device named 'nope'.*coretemp"):
        HwmonSource(tmp_path, "nope")


PMIC = """\
     3V7_WL_SW_A current(0)=0.10000000A
       3V3_SYS_A current(1)=0.20000000A
        VDD_CORE_A current(7)=2.00000000A
     3V7_WL_SW_V volt(8)=3.70000000V
       3V3_SYS_V volt(9)=3.30000000V
        VDD_CORE_V volt(15)=0.80000000V
         EXT5V_V volt(24)=5.10000000V
         ODD_A volt(26)=1.00000000V
          BATT_V volt(25)=0.00000000V
"""


def test_pi5_pairs_rails_by_name():
    rails = parse_pmic_adc(PMIC)
    assert set(rails) == {"3V7_WL_SW", "3V3_SYS", "VDD_CORE"}  # EXT5V, BATT: no current; ODD_A: a volt
    src = Pi5PmicSource(lambda: PMIC)
    assert src.read() == pytest.approx(0.1 * 3.7 + 0.2 * 3.3 + 2.0 * 0.8)
    assert "not the 5 V input" in src.note
    with pytest.raises(PowerSourceError, match="no NAME_A/NAME_V rail pairs"):
        Pi5PmicSource(lambda: "error=1 error_msg=\"Command not registered\"\n")


def test_um_frames_round_trip_and_reject_garbage():
    for model, v, a in (("UM25C", 5.123, 0.4567), ("UM24C", 5.12, 0.456), ("UM34C", 9.01, 1.234)):
        f = UMFrame.decode(encode_frame(model, v, a))
        assert (f.model, f.voltage_v, f.current_a) == (model, pytest.approx(v), pytest.approx(a))
        assert f.power_field_w == pytest.approx(v * a, abs=1e-3)
    bad = bytearray(encode_frame("UM25C", 5.0, 1.0))
    bad[129] ^= 0xFF
    with pytest.raises(PowerSourceError, match="does not end in 0xFFF1"):
        UMFrame.decode(bytes(bad))
    bad = bytearray(encode_frame("UM34C", 5.0, 1.0))
    bad[3] ^= 0x01  # a checksummed byte
    with pytest.raises(PowerSourceError, match="checksum"):
        UMFrame.decode(bytes(bad))
    with pytest.raises(PowerSourceError, match="model id 0x1234"):
        UMFrame.decode(b"\x12\x34" + bytes(FRAME_BYTES - 2))


def test_um25c_frame_decoded_from_the_documented_layout():
    """Bytes laid out by hand from libsigrok's table (not by encode_frame): UM25C counts are
    1 mV and 0.1 mA; UM24C counts are 10 mV and 1 mA."""
    frame = bytearray(FRAME_BYTES)
    frame[0:2] = b"\x09\xc9"                      # UM25C
    frame[2:4] = (5123).to_bytes(2, "big")          # 5.123 V
    frame[4:6] = (4567).to_bytes(2, "big")          # 0.4567 A
    frame[6:10] = (2340).to_bytes(4, "big")         # 2.340 W
    frame[10:12] = (31).to_bytes(2, "big")          # 31 °C
    frame[128:130] = b"\xff\xf1"
    f = UMFrame.decode(bytes(frame))
    assert (f.model, f.voltage_v, f.current_a, f.power_field_w, f.temperature_c) == (
        "UM25C", pytest.approx(5.123), pytest.approx(0.4567), pytest.approx(2.34), 31)
    frame[0:2] = b"\x09\x63"                      # the same counts on a UM24C
    f = UMFrame.decode(bytes(frame))
    assert (f.voltage_v, f.current_a) == (pytest.approx(51.23), pytest.approx(4.567))


class Ramp:
    """A power source whose reading is ``slope_w_per_s`` x the injected clock."""

    name, kind, description, note = "ramp", "power", "", ""

    def __init__(self, clock, slope_w_per_s):
        self.clock, self.slope = clock, slope_w_per_s

    def read(self):
        return self.slope * (self.clock() - 100.0)


def test_power_samples_integrate_by_the_trapezoidal_rule():
    """P(t) = 2 W/s x t sampled every 0.5 s for 4 s: 16 J exactly (left sums would give 14 J)."""
    clock = Clock()
    rec = PowerRecorder(Ramp(clock, 2.0), clock=clock)
    rec.sample()
    for _ in range(8):
        clock.t += 0.5
        rec.sample()
    r = rec.result()
    assert r.energy_j == pytest.approx(16.0, rel=1e-9) and r.mean_w == pytest.approx(4.0)


def test_um25c_on_a_pty_integrates_the_set_power():
    with PtyMeter("UM25C", voltage_v=5.1, current_a=0.45) as meter:
        src, _ = open_power_source(f"um25c:{meter.port}")
        rec = PowerRecorder(src, interval_s=0.02).start()
        time.sleep(0.4)
        r = rec.stop()
        src.close()
    assert src.description.startswith("UM25C on /dev/")
    assert r.samples > 5
    assert r.mean_w == pytest.approx(5.1 * 0.45, rel=0.02)


@pytest.mark.parametrize("mode,match", [("silent", "did not answer 0xF0"), ("garbage", "answered garbage")])
def test_um25c_that_does_not_answer_or_answers_garbage(mode, match):
    with PtyMeter(mode=mode) as meter:
        t0 = time.monotonic()
        with pytest.raises(PowerSourceError, match=match):
            open_power_source(f"um25c:{meter.port}")
        assert time.monotonic() - t0 < 3.0


def test_um25c_disconnect_mid_run_raises_at_stop():
    with PtyMeter(answers=3) as meter:
        src, _ = open_power_source(f"um25c:{meter.port}")  # answer 1
        rec = PowerRecorder(src, interval_s=0.02).start()  # answer 2, then the thread polls
        time.sleep(1.5)
        with pytest.raises(PowerSourceError, match="um25c: (lost the meter|meter on .* did not answer)"):
            rec.stop()
        src.close()


def test_open_power_source_names_and_auto(tmp_path):
    with pytest.raises(PowerSourceError, match="unknown power source 'bogus'"):
        open_power_source("bogus", tmp_path)
    with pytest.raises(PowerSourceError, match="needs a serial port"):
        open_power_source("um25c", tmp_path)
    assert open_power_source("none", tmp_path)[0] is None
    src, note = open_power_source("auto", tmp_path, pi5_command=lambda: "")
    assert src is None and "rapl: no powercap zones" in note and "hwmon:" in note and "pi5:" in note
    rapl_tree(tmp_path, {"intel-rapl:0": 10})
    src, note = open_power_source("auto", tmp_path)
    assert src.name == "rapl" and note == "found by --power auto (tried rapl)"
