"""Where a machine tells its power draw, and how a run's energy is integrated from it.

Sources (``--power``), each a small object with ``read()``:

* ``rapl``: Linux powercap, Intel RAPL (also AMD since Linux 5.8), the cumulative counters
  ``<sysfs>/class/powercap/intel-rapl:N/energy_uj`` (µJ), which wrap to 0 after
  ``max_energy_range_uj`` (kernel ``Documentation/power/powercap/powercap.rst``). Package
  domains are CPU package power, not the whole board. Since Linux 5.10 (and stable back-ports)
  ``energy_uj`` is readable by root only (CVE-2020-8694, "Platypus").
* ``hwmon``: ``<sysfs>/class/hwmon/hwmonN/`` of a power monitor (INA219/INA226/INA3221 ...):
  ``energy*_input`` (µJ), else ``power*_input`` (µW), else ``curr*_input`` (mA) times the
  ``in*_input`` (mV) of the same index (kernel ``Documentation/hwmon/sysfs-interface.rst``;
  the ina2xx driver's ``in1`` is the bus voltage and ``curr1`` its current).
* ``pi5``: the Raspberry Pi 5 PMIC (DA9091) via ``vcgencmd pmic_read_adc``, which prints rails
  as ``NAME_A current(i)=...A`` and ``NAME_V volt(j)=...V``; rails are paired by name and
  ``sum(V x I)`` is reported. These are the board's regulated rails, not its 5 V input power
  (conversion losses and USB/peripheral draw are not included).
* ``um25c:PORT``: a RuiDeng UM24C/UM25C/UM34C USB meter on a serial port (:mod:`.um_meter`),
  which measures what the board draws from its USB supply.

``kind`` is ``"energy"`` (``read()`` returns joules since the source was opened, wrap-arounds
unfolded) or ``"power"`` (``read()`` returns watts now). :class:`PowerRecorder` samples a
source on a background thread and integrates (difference of the counter, or the trapezoidal
rule over power samples). Any failure raises :class:`PowerSourceError`; no number is made up.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hearsep.errors import HearsepError, PowerSourceError

SOURCES = ("auto", "rapl", "hwmon", "pi5", "um25c:PORT", "none")
RAPL_ROOT_ONLY = ("energy_uj is readable by root only since Linux 5.10 (CVE-2020-8694); run as root "
                  "or grant read access, e.g. `sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj`")


def _read_int(path: Path, what: str) -> int:
    """One integer from a sysfs file; :class:`PowerSourceError` says why it can't be read."""
    try:
        text = path.read_text().strip()
    except PermissionError:
        hint = f" ({RAPL_ROOT_ONLY})" if path.name == "energy_uj" else ""
        raise PowerSourceError(f"{what}: cannot read {path}: permission denied{hint}") from None
    except OSError as exc:
        raise PowerSourceError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    try:
        return int(text)
    except ValueError:
        raise PowerSourceError(f"{what}: {path} holds {text[:40]!r}, not an integer") from None


class _Counter:
    """An unsigned energy counter in µJ that wraps to 0 at ``range_uj``; unfolds the wraps.

    Read it more often than once per wrap period (``range_uj`` / power: hours for RAPL
    packages at tens of watts), which :class:`PowerRecorder` does.
    """

    def __init__(self, path: Path, range_uj: int | None, what: str):
        self.path, self.range_uj, self.what = path, range_uj, what
        self.last = _read_int(path, what)
        self.total_uj = 0

    def read_uj(self) -> int:
        now = _read_int(self.path, self.what)
        delta = now - self.last
        if delta < 0:
            if not self.range_uj:
                raise PowerSourceError(f"{self.what}: {self.path} went backwards ({self.last} -> {now} µJ)")
            delta += self.range_uj
        self.last = now
        self.total_uj += delta
        return self.total_uj


class PowerSource:
    """Base: ``name``, ``kind`` ("energy" or "power"), ``description``, ``note``; ``read()``.

    ``interval_s`` is the sampling interval that suits the source: a sysfs read costs
    microseconds, a ``vcgencmd`` run spawns a process (which itself draws power), a meter
    poll takes ~0.14 s at 9600 baud (130 bytes x 10 bits)."""

    name = "?"
    kind = "power"
    description = ""
    note = ""
    interval_s = 0.1

    def read(self) -> float:
        raise NotImplementedError

    def close(self) -> None:
        pass


class RaplSource(PowerSource):
    """Sum of the top-level powercap zones (``intel-rapl:N``; package zones if any are named so)."""

    name, kind = "rapl", "energy"

    def __init__(self, sysfs_root: str | Path = "/sys"):
        base = Path(sysfs_root) / "class" / "powercap"
        zones = sorted(p for p in base.glob("intel-rapl:*") if re.fullmatch(r"intel-rapl:\d+", p.name))
        if not zones:
            raise PowerSourceError(f"rapl: no powercap zones (intel-rapl:N) under {base}")
        names = {}
        for z in zones:
            try:
                names[z] = (z / "name").read_text().strip()
            except OSError:
                names[z] = z.name
        packages = [z for z in zones if names[z].startswith("package")]
        chosen = packages or zones  # psys overlaps the packages: never add both
        self.counters = [_Counter(z / "energy_uj", _read_int(z / "max_energy_range_uj", "rapl"), "rapl")
                         for z in chosen]
        self.description = "powercap " + " + ".join(f"{z.name} ({names[z]})" for z in chosen)
        self.note = "CPU package energy, not the whole board" if packages else "platform (psys) energy"

    def read(self) -> float:
        return sum(c.read_uj() for c in self.counters) * 1e-6


class HwmonSource(PowerSource):
    """The first hwmon device (or the one named ``device_name``) that reports energy or power."""

    name = "hwmon"

    def __init__(self, sysfs_root: str | Path = "/sys", device_name: str | None = None):
        base = Path(sysfs_root) / "class" / "hwmon"
        devices = sorted(base.glob("hwmon*"), key=lambda p: int(re.sub(r"\D", "", p.name) or 0))
        seen = []
        for dev in devices:
            try:
                dname = (dev / "name").read_text().strip()
            except OSError:
                dname = dev.name
            seen.append(dname)
            if device_name is not None and dname != device_name:
                continue
            energy = sorted(dev.glob("energy*_input"))
            power = sorted(dev.glob("power*_input"))
            currents = sorted(dev.glob("curr*_input"))
            pairs = [(c, dev / c.name.replace("curr", "in")) for c in currents]
            pairs = [(c, v) for c, v in pairs if v.exists()]
            if energy:
                self.kind, self.description = "energy", f"{dev.name} ({dname}) " + " + ".join(p.name for p in energy) + " (µJ)"
                self._counters = [_Counter(p, None, "hwmon") for p in energy]
                self._read = lambda: sum(c.read_uj() for c in self._counters) * 1e-6
            elif power:
                self.kind, self.description = "power", f"{dev.name} ({dname}) " + " + ".join(p.name for p in power) + " (µW)"
                self._read = lambda ps=power: sum(_read_int(p, "hwmon") for p in ps) * 1e-6
            elif pairs:
                self.kind = "power"
                self.description = f"{dev.name} ({dname}) " + " + ".join(f"{c.name} x {v.name}" for c, v in pairs) + " (mA x mV)"
                self._read = lambda ps=pairs: sum(_read_int(c, "hwmon") * _read_int(v, "hwmon") for c, v in ps) * 1e-6
            else:
                continue
            self._read()  # readable now, or say why
            self.note = "what the monitor's shunt sees (its wiring decides which rail)"
            return
        which = f" named {device_name!r}" if device_name else ""
        raise PowerSourceError(f"hwmon: no device{which} with energy*/power*/curr*+in* inputs under {base}"
                               + (f" (devices: {', '.join(seen)})" if seen else ""))

    def read(self) -> float:
        return self._read()


_PMIC_LINE = re.compile(r"^\s*(\S+)_([AV])\s+(?:current|volt)\(\d+\)=([-+0-9.eE]+)\2\s*$")  # unit = suffix


def parse_pmic_adc(text: str) -> dict[str, tuple[float, float]]:
    """``vcgencmd pmic_read_adc`` output -> {rail: (volts, amps)} for rails with both readings."""
    amps, volts = {}, {}
    for line in text.splitlines():
        m = _PMIC_LINE.match(line)
        if m:
            (amps if m.group(2) == "A" else volts)[m.group(1)] = float(m.group(3))
    return {rail: (volts[rail], amps[rail]) for rail in sorted(amps) if rail in volts}


def _run_vcgencmd() -> str:
    exe = shutil.which("vcgencmd")
    if exe is None:
        raise PowerSourceError("pi5: vcgencmd not found (it ships with Raspberry Pi OS); not a Raspberry Pi 5?")
    try:
        res = subprocess.run([exe, "pmic_read_adc"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PowerSourceError(f"pi5: vcgencmd pmic_read_adc failed: {exc}") from None
    if res.returncode != 0:
        raise PowerSourceError(f"pi5: vcgencmd pmic_read_adc exited {res.returncode}: "
                               f"{(res.stderr or res.stdout).strip()[:80]}")
    return res.stdout


class Pi5PmicSource(PowerSource):
    """Sum of V x I over the PMIC rails that have both readings. ``command`` returns the text of
    ``vcgencmd pmic_read_adc`` (injectable for tests; default runs it)."""

    name, kind, interval_s = "pi5", "power", 0.5
    note = "board rails from the PMIC, not the 5 V input power (regulator losses and USB loads excluded)"

    def __init__(self, command: Callable[[], str] | None = None):
        self.command = command or _run_vcgencmd
        rails = self._rails()
        self.description = f"vcgencmd pmic_read_adc, {len(rails)} rails ({', '.join(rails)})"

    def _rails(self) -> dict[str, tuple[float, float]]:
        text = self.command()
        rails = parse_pmic_adc(text)
        if not rails:
            first = text.strip().splitlines()[0][:60] if text.strip() else "nothing"
            raise PowerSourceError(f"pi5: vcgencmd pmic_read_adc gave no NAME_A/NAME_V rail pairs (first line: {first!r})")
        return rails

    def read(self) -> float:
        return sum(v * a for v, a in self._rails().values())


class UMMeterSource(PowerSource):
    """A RuiDeng UM24C/UM25C/UM34C meter on a serial port: bus V x I of the supply it sits in."""

    name, kind, interval_s = "um25c", "power", 0.25
    note = "the board's draw from its USB supply, as the meter sees it"

    def __init__(self, device: str, meter=None, timeout_s: float = 1.0):
        from hearsep.profiling.um_meter import UMMeter

        self.meter = meter or UMMeter.open(device, timeout_s=timeout_s)
        try:
            first = self.meter.poll()
        except PowerSourceError:
            self.meter.close()
            raise
        self.description = f"{first.model} on {device} (serial, 0xF0 poll)"

    def read(self) -> float:
        return self.meter.poll().power_w

    def close(self) -> None:
        self.meter.close()


def open_power_source(spec: str, sysfs_root: str | Path = "/sys",
                      pi5_command: Callable[[], str] | None = None) -> tuple[PowerSource | None, str]:
    """The source named by ``spec`` (see :data:`SOURCES`) and a note on how it was found.

    ``none`` returns ``(None, ...)``. ``auto`` tries rapl, hwmon, pi5 in turn and returns the
    first that reads, or ``(None, "no power source: rapl: ...; hwmon: ...")`` naming why each
    failed. A named source that fails raises :class:`PowerSourceError`.
    """
    spec = spec.strip()
    if spec == "none":
        return None, "no power measurement (--power none)"
    if spec == "auto":
        reasons = []
        for name in ("rapl", "hwmon", "pi5"):
            try:
                src = open_power_source(name, sysfs_root, pi5_command)[0]
                return src, f"found by --power auto (tried {', '.join(['rapl', 'hwmon', 'pi5'][:len(reasons) + 1])})"
            except PowerSourceError as exc:
                reasons.append(str(exc))
        return None, "no power source found: " + "; ".join(reasons)
    kind, _, arg = spec.partition(":")
    if kind == "rapl" and not arg:
        src = RaplSource(sysfs_root)
    elif kind == "hwmon":
        src = HwmonSource(sysfs_root, arg or None)
    elif kind == "pi5" and not arg:
        src = Pi5PmicSource(pi5_command)
    elif kind in ("um25c", "um24c", "um34c"):
        if not arg:
            raise PowerSourceError(f"{kind} needs a serial port: --power {kind}:/dev/rfcomm0")
        src = UMMeterSource(arg)
    else:
        raise PowerSourceError(f"unknown power source {spec!r} (known: {', '.join(SOURCES)})")
    return src, ""


@dataclass
class EnergyReading:
    """What a :class:`PowerRecorder` measured: joules over ``duration_s`` from ``samples`` reads."""

    source: str
    energy_j: float
    duration_s: float
    samples: int
    times_s: list = field(default_factory=list)
    values: list = field(default_factory=list)  # W (power sources) or cumulative J (energy sources)

    @property
    def mean_w(self) -> float:
        return self.energy_j / self.duration_s


class PowerRecorder:
    """Sample ``source`` every ``interval_s`` (default: the source's own) on a background thread
    between :meth:`start` and :meth:`stop`, and integrate the energy.

    The first read happens in :meth:`start` and the last in :meth:`stop`, so the interval is
    exactly the one between them. Energy sources: last counter minus first. Power sources: the
    trapezoidal rule over the samples. ``clock`` is injectable for tests (seconds, monotonic).
    An error on the thread (a meter unplugged mid-run) is raised again by :meth:`stop`.
    """

    def __init__(self, source: PowerSource, interval_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.source, self.clock = source, clock
        self.interval_s = float(interval_s if interval_s is not None else getattr(source, "interval_s", 0.1))
        self.times: list[float] = []
        self.values: list[float] = []
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> None:
        """Read the source once now (the thread calls this; tests may call it directly)."""
        v = float(self.source.read())
        self.times.append(self.clock())
        self.values.append(v)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sample()
            except BaseException as exc:  # kept for stop(); the run goes on until then
                self._error = exc
                return

    def start(self) -> "PowerRecorder":
        self.sample()
        self._thread = threading.Thread(target=self._loop, name="hearsep-power", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> EnergyReading:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        if self._error is not None:
            err = self._error
            raise err if isinstance(err, HearsepError) else PowerSourceError(
                f"{self.source.name}: reading failed mid-run: {err}")
        self.sample()
        return self.result()

    def result(self) -> EnergyReading:
        t, v = self.times, self.values
        if len(t) < 2 or t[-1] <= t[0]:
            raise PowerSourceError(f"{self.source.name}: fewer than two readings; nothing to integrate")
        if self.source.kind == "energy":
            energy = v[-1] - v[0]
        else:
            energy = sum(0.5 * (v[i] + v[i + 1]) * (t[i + 1] - t[i]) for i in range(len(t) - 1))
        return EnergyReading(self.source.name, energy, t[-1] - t[0], len(t), list(t), list(v))

    def __enter__(self) -> "PowerRecorder":
        return self.start()

    def __exit__(self, *exc) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._stop.set()
            self._thread.join()


def measure_idle(source: PowerSource, seconds: float, interval_s: float | None = None) -> EnergyReading:
    """Mean power while this process sleeps for ``seconds`` (the idle baseline before a run)."""
    rec = PowerRecorder(source, interval_s).start()
    time.sleep(seconds)
    return rec.stop()
