"""The machine a profile ran on: CPU model, cores, frequency governor, OS, Python, LiteRT.

Read from ``/proc/cpuinfo`` (``model name`` on x86, ``Model``/``Hardware`` on ARM boards),
``/proc/device-tree/model`` (the board name on a Raspberry Pi) and
``<sysfs>/devices/system/cpu/cpu0/cpufreq/scaling_governor``; what cannot be read is ``None``.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace").strip().strip("\x00") or None
    except OSError:
        return None


def _cpu_model(cpuinfo: str | None) -> str | None:
    if not cpuinfo:
        return None
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    for key in ("model name", "Model", "Hardware", "cpu model", "Processor"):
        if fields.get(key):
            return fields[key]
    return None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info(sysfs_root: str | Path = "/sys", proc_root: str | Path = "/proc") -> dict:
    """A flat dict of what identifies the machine's speed (JSON-ready; unknowns are ``None``)."""
    sysfs, proc = Path(sysfs_root), Path(proc_root)
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = None
    governor = _read(sysfs / "devices/system/cpu/cpu0/cpufreq/scaling_governor")
    max_khz = _read(sysfs / "devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    return {
        "cpu_model": _cpu_model(_read(proc / "cpuinfo")) or platform.processor() or None,
        "board": _read(proc / "device-tree/model"),
        "arch": platform.machine(),
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "governor": governor,
        "cpu_max_mhz": int(max_khz) / 1000 if max_khz and max_khz.isdigit() else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "litert": _version("ai-edge-litert"),
        "numpy": _version("numpy"),
    }
