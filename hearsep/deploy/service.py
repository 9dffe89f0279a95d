"""The systemd unit that runs ``hearsep live`` with a preset at boot and restarts it on failure.

The template ``hearsep-live.service`` ships in this package. Real-time priority comes from
systemd itself (``systemd.exec(5)``): ``CPUSchedulingPolicy=fifo`` with
``CPUSchedulingPriority=`` puts the process in SCHED_FIFO before it drops to ``User=``,
``LimitRTPRIO=`` lets the audio thread keep or raise it, and ``LimitMEMLOCK=infinity`` allows
locking memory against page faults. SCHED_FIFO needs CAP_SYS_NICE, which a system service has
but many containers do not (the unit then fails at step SETSCHEDULER: install with
``realtime=False``). ``root`` is where ``etc/systemd/system`` lives (``/`` on the board; a
temporary folder in tests); ``systemctl`` is only run when ``root`` is ``/``, through an
injectable ``runner(args) -> (returncode, output)``.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from string import Template
from typing import Callable

from hearsep import __version__
from hearsep.errors import ConfigError, OutputError
from hearsep.files import write_text

DEFAULT_NAME = "hearsep-live"
UNIT_DIR = Path("etc/systemd/system")
REALTIME = ("# Real-time scheduling (systemd.exec(5)); needs CAP_SYS_NICE (omit with --no-realtime).\n"
            "CPUSchedulingPolicy=fifo\nCPUSchedulingPriority={priority}\nLimitRTPRIO=95\n"
            "LimitMEMLOCK=infinity\nNice=-10\n")
Runner = Callable[[list[str]], tuple[int, str]]


def _systemctl(args: list[str]) -> tuple[int, str]:
    exe = shutil.which("systemctl")
    if exe is None:
        return 127, "systemctl not found"
    res = subprocess.run([exe, *args], capture_output=True, text=True)
    return res.returncode, (res.stdout + res.stderr).strip()


def _check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.@-]+", name):
        raise ConfigError(f"service name {name!r} may use only letters, digits and _ . @ -")
    return name


def unit_path(root: str | Path = "/", name: str = DEFAULT_NAME) -> Path:
    return Path(root) / UNIT_DIR / f"{_check_name(name)}.service"


def hearsep_command() -> list[str]:
    """How to start hearsep from systemd: the installed ``hearsep`` script, else ``python -m``."""
    exe = shutil.which("hearsep")
    return [exe] if exe else [sys.executable, "-m", "hearsep.cli.main"]


def render_unit(preset: str | Path, model: str | Path | None = None, program: str | None = None,
                user: str = "root", name: str = DEFAULT_NAME, realtime: bool = True, priority: int = 70,
                extra_args: tuple[str, ...] = ()) -> str:
    """The unit text for ``hearsep live --preset PRESET [--model M] [--program P]`` (absolute
    paths; ``example:NAME`` presets as they are). The preset is loaded and validated first."""
    from hearsep.fitting import load_chain_params

    load_chain_params(preset, program)  # a unit that would fail at boot is refused now
    text = str(preset)
    preset_arg = text if text.startswith("example:") else str(Path(preset).resolve())
    if model is not None and not Path(model).exists():
        raise ConfigError(f"model not found: {model}")
    if not re.fullmatch(r"[a-z_][a-z0-9_-]*", user):
        raise ConfigError(f"user {user!r} is not a valid Linux user name")
    if not 1 <= priority <= 99:
        raise ConfigError(f"real-time priority must be 1..99 (SCHED_FIFO), got {priority}")
    cmd = hearsep_command() + ["live", "--preset", preset_arg]
    if model is not None:
        cmd += ["--model", str(Path(model).resolve())]
    if program is not None:
        cmd += ["--program", program]
    cmd += list(extra_args)
    template = Template(resources.files("hearsep.deploy").joinpath("hearsep-live.service").read_text())
    return template.substitute(version=__version__, name=_check_name(name), preset_name=Path(text).name, user=user,
                               exec_start=" ".join(shlex.quote(c) for c in cmd),
                               realtime=REALTIME.format(priority=priority) if realtime else "")


def install_unit(unit_text: str, root: str | Path = "/", name: str = DEFAULT_NAME, enable: bool = False,
                 runner: Runner = _systemctl) -> tuple[Path, list[str]]:
    """Write the unit under ``root``; with ``enable`` (and ``root`` = ``/``) also run
    ``systemctl daemon-reload`` and ``systemctl enable --now NAME``. Returns the path and what was done."""
    path = unit_path(root, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    write_text(path, unit_text)
    done = [f"wrote {path}"]
    if enable:
        if Path(root).resolve() != Path("/"):
            raise ConfigError("--enable runs systemctl, which only makes sense with --root /")
        for args in (["daemon-reload"], ["enable", "--now", f"{name}.service"]):
            rc, out = runner(args)
            if rc != 0:
                raise ConfigError(f"systemctl {' '.join(args)} failed ({rc}): {out.splitlines()[-1] if out else ''}")
            done.append("systemctl " + " ".join(args))
    return path, done


def uninstall_unit(root: str | Path = "/", name: str = DEFAULT_NAME, runner: Runner = _systemctl) -> list[str]:
    """Stop and disable the unit (``root`` = ``/`` only) and remove its file."""
    path = unit_path(root, name)
    if not path.is_file():
        raise ConfigError(f"no unit installed at {path}")
    done = []
    if Path(root).resolve() == Path("/"):
        rc, out = runner(["disable", "--now", f"{name}.service"])
        done.append(f"systemctl disable --now {name}.service" + ("" if rc == 0 else f" (failed: {out})"))
    try:
        path.unlink()
    except OSError as exc:
        raise OutputError(f"cannot remove {path}: {exc.strerror or exc}") from None
    done.append(f"removed {path}")
    if Path(root).resolve() == Path("/"):
        runner(["daemon-reload"])
    return done


def unit_status(root: str | Path = "/", name: str = DEFAULT_NAME, runner: Runner = _systemctl) -> dict:
    """Whether the unit file exists, its ExecStart, and (``root`` = ``/``) systemd's view of it."""
    path = unit_path(root, name)
    out = {"unit": str(path), "installed": path.is_file(), "exec_start": None, "realtime": None,
           "enabled": None, "active": None}
    if out["installed"]:
        text = path.read_text(encoding="utf-8")
        m = re.search(r"^ExecStart=(.*)$", text, re.M)
        out["exec_start"] = m.group(1) if m else None
        out["realtime"] = bool(re.search(r"^CPUSchedulingPolicy=fifo$", text, re.M))
    if out["installed"] and Path(root).resolve() == Path("/"):
        rc, enabled = runner(["is-enabled", f"{name}.service"])
        if rc == 127:  # no systemd here (a container, a non-systemd distribution)
            out["enabled"] = out["active"] = "systemctl not found"
        else:  # "enabled"/"disabled", "active"/"failed"...; or the first line of why not
            out["enabled"] = enabled.splitlines()[0] if enabled else None
            active = runner(["is-active", f"{name}.service"])[1]
            out["active"] = active.splitlines()[0] if active else None
    return out
