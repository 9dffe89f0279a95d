"""Profile the streaming enhancer (and its hearing-aid chain) on this machine.

:func:`profile_enhancer` runs a :class:`~hearsep.runtime.enhancer.StreamingEnhancer` hop by hop
over a signal, back to back or paced at the audio rate (what a live runner sees), with
:func:`~hearsep.profiling.timing.time_hops`, and reports:

* per-hop processing time percentiles (µs and as a fraction of the hop duration);
* the real-time factor, RTF = total processing time / audio duration (< 1 keeps up);
* deadline misses: hops whose output was ready more than one hop after their last input
  sample arrived (``end - due > hop``; a backlog from a slow hop counts against the next);
* CPU use (user + system time of this process / wall time, % of one core) and peak RSS
  (``ru_maxrss``: the whole process, interpreter and libraries included);
* the model's ``invoke`` alone (timed after the run, same process, same interpreter) against
  the rest of the hop (framing, features, quantization, chain, synthesis);
* with a power source: the idle baseline (mean power while sleeping just before the run), mean
  power during the run, power above idle, energy and joules per hour of audio.
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hearsep.errors import ConfigError
from hearsep.profiling.machine import machine_info
from hearsep.profiling.power import PowerRecorder, PowerSource, measure_idle
from hearsep.profiling.timing import HopTimes, percentiles_us, time_hops, time_loop

SCHEMA = "hearsep.profile/1"
RTF_DEFINITION = "processing time / audio time"
MIN_POWER_READINGS = 5  # fewer readings during a run than this, and the profile says so


def check_hop_ms(hop_ms: float | None, contract) -> None:
    """``--hop-ms`` must equal the model's hop; :class:`ConfigError` otherwise."""
    if hop_ms is None:
        return
    model_ms = 1000.0 * contract.hop_samples / contract.sample_rate_hz
    if abs(hop_ms - model_ms) > 1e-6 * max(1.0, model_ms):
        raise ConfigError(f"--hop-ms {hop_ms:g} does not match the model's hop of {model_ms:g} ms "
                          f"({contract.hop_samples} samples at {contract.sample_rate_hz} Hz)")


def profile_audio(sample_rate_hz: int, path: str | Path | None = None, seconds: float | None = None,
                  ) -> tuple[np.ndarray, str]:
    """The input of a profile at ``sample_rate_hz`` and a description of it: the first channel of
    the audio file ``path`` (resampled; cut to ``seconds`` if given), else ``seconds`` (default
    10) of :func:`~hearsep.profiling.signals.speech_like_mixture`."""
    if seconds is not None and not seconds > 0:
        raise ConfigError(f"--seconds must be positive, got {seconds:g}")
    if path is None:
        from hearsep.profiling.signals import speech_like_mixture

        return speech_like_mixture(seconds or 10.0, sample_rate_hz), "synthetic speech-like sound in noise (5 dB SNR)"
    from hearsep.audio.io import read_audio
    from hearsep.audio.resample import resample

    audio, info = read_audio(path)
    x = resample(audio, info.sample_rate_hz, sample_rate_hz)[0]
    if seconds is not None:
        x = x[:round(seconds * sample_rate_hz)]
    return x, f"{path} (channel 1)"


def load_enhancer(model=None, preset: str | Path | None = None, program: str | None = None,
                  num_threads: int = 1, delegate: str | None = None):
    """A StreamingEnhancer for ``model`` (default: the shipped one, on ``delegate`` if given)
    and, with ``preset`` (TOML or ``example:NAME``), the hearing-aid chain it configures.
    Returns ``(enhancer, model_path)``."""
    from hearsep.model.paths import resolve_model
    from hearsep.runtime.build import make_enhancer

    path = resolve_model(model)
    return make_enhancer(path, preset, program, num_threads=num_threads, delegate=delegate), path


def missed_hops(times: HopTimes, hop_ns: int) -> np.ndarray:
    """Indices of the hops that missed their deadline: output ready more than one hop after the
    hop's input was complete (``end - due > hop``). In a paced run a slow hop also delays the
    hops released while it ran; their wait counts against them, as it would in a live runner."""
    return np.flatnonzero(times.response_ns > hop_ns)


@dataclass
class ProfileResult:
    """The JSON-ready :attr:`summary` plus the per-hop arrays the plots need."""

    summary: dict
    processing_us: np.ndarray
    response_us: np.ndarray
    power_times_s: list = field(default_factory=list)
    power_w: list = field(default_factory=list)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (10^6 bytes); ``ru_maxrss`` is KiB on
    Linux and bytes on macOS (getrusage(2))."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss * (1 if sys.platform == "darwin" else 1024) / 1e6


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def profile_enhancer(enhancer, audio: np.ndarray, *, paced: bool = False, power: PowerSource | None = None,
                     power_note: str = "", idle_s: float = 1.0, power_interval_s: float | None = None,
                     warmup_hops: int = 50, invoke_calls: int = 2000, progress=None,
                     sysfs_root: str | Path = "/sys", labels: dict | None = None) -> ProfileResult:
    """Run ``enhancer.process_hop`` over ``audio`` (mono float32 at the model rate), timed.

    ``power``: an open :class:`PowerSource` (or ``None``: the power keys are ``None`` and
    ``power_note`` says why). ``progress(hops_done)`` is called every 500 hops. ``labels`` are
    copied into the summary (model, preset, input ...).
    """
    c = enhancer.contract
    hop = c.hop_samples
    x = np.asarray(audio, np.float32).reshape(-1)
    n_hops = x.shape[0] // hop
    if n_hops < 10:
        raise ConfigError(f"input too short to profile: {x.shape[0]} samples is {n_hops} hops of {hop}; need >= 10")
    hops = x[:n_hops * hop].reshape(n_hops, hop)
    hop_ns = round(1e9 * hop / c.sample_rate_hz)
    hop_us = hop_ns / 1000.0
    audio_s = n_hops * hop / c.sample_rate_hz

    idle = measure_idle(power, idle_s, power_interval_s) if power is not None and idle_s > 0 else None
    recorder = PowerRecorder(power, power_interval_s) if power is not None else None
    cpu0, wall0 = _cpu_s(), time.perf_counter()
    if recorder is not None:
        recorder.start()
    try:
        times: HopTimes = time_hops(enhancer.process_hop, hops, period_ns=hop_ns if paced else None,
                                    warmup=warmup_hops, progress=progress)
    finally:
        reading = recorder.stop() if recorder is not None else None
    wall_s, cpu_s = time.perf_counter() - wall0, _cpu_s() - cpu0

    proc_ns, resp_ns = times.processing_ns, times.response_ns
    stats = percentiles_us(proc_ns)
    s: dict = {"schema": SCHEMA, **(labels or {}), "paced": paced, "sample_rate_hz": c.sample_rate_hz,
               "hop_samples": hop, "hop_us": hop_us, "hops": n_hops, "audio_s": audio_s, "wall_s": wall_s,
               "latency_ms": enhancer.latency_ms, **stats}
    for key in ("p50", "p90", "p99", "p999", "max"):
        s[f"{key}_of_hop"] = stats[f"{key}_us"] / hop_us
    s["rtf"] = float(proc_ns.sum()) / 1e9 / audio_s
    s["rtf_definition"] = RTF_DEFINITION
    s["misses"] = int(missed_hops(times, hop_ns).size)
    if paced:  # how late each hop started after its input was complete: the scheduler's share
        late = percentiles_us(times.start_ns - times.due_ns)
        s["late_start_p99_us"], s["late_start_max_us"] = late["p99_us"], late["max_us"]
    s["miss_rule"] = "output ready more than one hop after the hop's last input sample arrived"
    s["cpu_percent"] = 100.0 * cpu_s / wall_s
    s["peak_rss_mb"] = peak_rss_mb()

    interp = getattr(enhancer.separator, "interpreter", None)
    if interp is not None and invoke_calls > 0:
        inv = time_loop(interp.invoke, min(invoke_calls, n_hops), warmup=20)
        s["invoke_mean_us"] = float(inv.mean()) / 1000.0
        s["rest_mean_us"] = stats["mean_us"] - s["invoke_mean_us"]
        s["invoke_share"] = s["invoke_mean_us"] / stats["mean_us"]
    else:
        s["invoke_mean_us"] = s["rest_mean_us"] = s["invoke_share"] = None
    s["chain"] = enhancer.chain is not None

    s.update(power_summary(reading, idle, audio_s, power, power_note))
    s["machine"] = machine_info(sysfs_root)
    pt, pw = [], []
    if reading is not None:  # the power trace for the plot: samples, or counter differences
        t = np.asarray(reading.times_s) - reading.times_s[0]
        v = np.asarray(reading.values)
        if power.kind == "power":
            pt, pw = t.tolist(), v.tolist()
        elif t.size > 1:
            dt = np.diff(t)
            ok = dt > 0
            pt, pw = ((t[:-1] + t[1:]) / 2)[ok].tolist(), (np.diff(v)[ok] / dt[ok]).tolist()
    return ProfileResult(s, proc_ns / 1000.0, resp_ns / 1000.0, pt, pw)


def power_summary(reading, idle, audio_s: float, source: PowerSource | None, note: str) -> dict:
    """The power keys of a profile; all ``None`` (and ``power_source`` "none") without a source."""
    keys = ("power_w", "idle_w", "power_above_idle_w", "energy_j", "joules_per_audio_hour",
            "joules_above_idle_per_audio_hour", "power_samples")
    if reading is None or source is None:
        return {"power_source": "none", "power_description": None, "power_note": note, **{k: None for k in keys}}
    above_w = reading.mean_w - idle.mean_w if idle is not None else None
    notes = [source.note, note]
    if idle is None:
        notes.append("no idle baseline (--idle-s 0)")
    if reading.samples < MIN_POWER_READINGS:
        notes.append(f"only {reading.samples} readings during the run: run longer or --paced for a steadier mean")
    return {
        "power_source": source.name, "power_description": source.description,
        "power_note": "; ".join(p for p in notes if p),
        "power_w": reading.mean_w, "idle_w": idle.mean_w if idle is not None else None,
        "power_above_idle_w": above_w, "energy_j": reading.energy_j,
        "joules_per_audio_hour": reading.energy_j * 3600.0 / audio_s,
        "joules_above_idle_per_audio_hour": (above_w * reading.duration_s * 3600.0 / audio_s
                                             if above_w is not None else None),
        "power_samples": reading.samples,
    }
