"""machine_info from fake /proc and /sys trees: x86 and Raspberry Pi spellings, unreadable parts None."""

from __future__ import annotations

from hearsep.profiling.machine import machine_info


def test_x86_cpuinfo_and_governor(tmp_path):
    proc, sys_ = tmp_path / "proc", tmp_path / "sys"
    proc.mkdir()
    (proc / "cpuinfo").write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) i7-8650U\n"
                                  "processor\t: 1\nmodel name\t: Intel(R) Core(TM) i7-8650U\n")
    cpufreq = sys_ / "devices/system/cpu/cpu0/cpufreq"
    cpufreq.mkdir(parents=True)
    (cpufreq / "scaling_governor").write_text("performance\n")
    (cpufreq / "cpuinfo_max_freq").write_text("4200000\n")
    m = machine_info(sys_, proc)
    assert (m["cpu_model"], m["governor"], m["cpu_max_mhz"], m["board"]) == (
        "Intel(R) Core(TM) i7-8650U", "performance", 4200.0, None)
    assert m["python"] and m["litert"]


def test_raspberry_pi_model_line_and_device_tree(tmp_path):
    proc = tmp_path / "proc"
    (proc / "device-tree").mkdir(parents=True)
    (proc / "cpuinfo").write_text("processor\t: 0\nBogoMIPS\t: 108.00\nCPU part\t: 0xd0b\n\n"
                                  "Revision\t: d04170\nModel\t\t: Raspberry Pi 5 Model B Rev 1.0\n")
    (proc / "device-tree/model").write_text("Raspberry Pi 5 Model B Rev 1.0\x00")
    m = machine_info(tmp_path / "no-sys", proc)
    assert m["cpu_model"] == m["board"] == "Raspberry Pi 5 Model B Rev 1.0"
    assert m["governor"] is None and m["cpu_max_mhz"] is None
