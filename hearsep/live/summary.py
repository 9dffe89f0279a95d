"""What a live run reports when it stops: block counts, xruns and the callback's timing."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class LiveSummary:
    """A live run's counters and callback timing.

    ``blocks``: callbacks; ``safe_blocks``: callbacks in which at least one hop took the safe path
    (``safe_hops`` of ``hops`` hops in all); ``xruns``: callbacks PortAudio flagged with an input
    overflow or output underflow (``status`` of the callback); callback durations in microseconds
    (percentiles over the recorded blocks, ``max_us`` over all) and ``period_us``, the block
    period; ``rtf``: real-time factor = total callback time / audio time; ``cpu_p50_us`` and
    ``cpu_p999_us``: the same percentiles of the callback thread's CPU time (what the callback
    itself costs, without the time other processes took the core away); ``seconds``: audio time
    (frames / rate); ``ended``: why the run stopped (``"duration"``, ``"signal"``,
    ``"server stopped"``: the JACK server went away, ``"stream stopped"``: PortAudio ended the
    stream, e.g. a device vanished); ``callback_thread``: the callback thread's scheduling as read
    while it ran (``{"policy": "SCHED_FIFO", "priority": 69, "cpus": [0]}``; ``{}`` if unknown).
    """

    blocks: int
    safe_blocks: int
    xruns: int
    p50_us: float
    p99_us: float
    p999_us: float
    max_us: float
    period_us: float
    safe_hops: int
    hops: int
    rtf: float
    cpu_p50_us: float
    cpu_p999_us: float
    seconds: float
    rate_hz: int
    period_frames: int
    latency_ms: float
    ended: str
    callback_thread: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """False when the run ended because the audio server or the stream went away."""
        return self.ended in ("duration", "signal")

    def as_dict(self) -> dict:
        """Every field, plus ``ok``: the JSON summary of ``hearsep live --json``."""
        return {**asdict(self), "ok": self.ok}

    def fraction_of_period(self, us: float) -> float:
        return us / self.period_us if self.period_us > 0 else float("nan")

    def lines(self) -> list[str]:
        """The summary as short human-readable lines (for the CLI)."""
        f = self.fraction_of_period
        return [
            f"ended: {self.ended} after {self.seconds:.2f} s of audio at {self.rate_hz} Hz, "
            f"{self.period_frames}-frame blocks ({self.period_us:.0f} us), latency {self.latency_ms:.2f} ms "
            "(without the server's)",
            f"blocks {self.blocks}, safe-path blocks {self.safe_blocks} ({self.safe_hops} of {self.hops} hops), "
            f"xruns {self.xruns}",
            f"callback p50 {self.p50_us:.0f} us ({f(self.p50_us):.1%}), p99 {self.p99_us:.0f} us "
            f"({f(self.p99_us):.1%}), p99.9 {self.p999_us:.0f} us ({f(self.p999_us):.1%}), "
            f"max {self.max_us:.0f} us ({f(self.max_us):.1%}) of the period; real-time factor {self.rtf:.3f}",
            f"callback CPU time p50 {self.cpu_p50_us:.0f} us, p99.9 {self.cpu_p999_us:.0f} us "
            f"({f(self.cpu_p999_us):.1%}); callback thread {self.scheduling}",
        ]

    @property
    def scheduling(self) -> str:
        """The callback thread's scheduling in words, e.g. ``SCHED_FIFO priority 69 on CPU 0``."""
        t = self.callback_thread
        if not t:
            return "scheduling unknown"
        cpus = t.get("cpus", [])
        where = f" on CPU{'s' if len(cpus) != 1 else ''} {','.join(map(str, cpus))}" if cpus else ""
        rt = t["policy"] in ("SCHED_FIFO", "SCHED_RR")
        level = f" priority {t.get('priority')}" if rt else " (not real-time)"
        return f"{t['policy']}{level}{where}"


def summarize(processor, ended: str) -> LiveSummary:
    """The :class:`LiveSummary` of a :class:`hearsep.live.callback.LiveProcessor` after its stream,
    or of several (a list: runs in segments, counters added and durations pooled)."""
    runs = list(processor) if isinstance(processor, (list, tuple)) else [processor]
    first = runs[0]
    us = np.concatenate([r.durations_ns() for r in runs]).astype(np.float64) / 1000.0
    cpu_us = np.concatenate([r.durations_ns(cpu=True) for r in runs]).astype(np.float64) / 1000.0
    blocks, frames = sum(r.blocks for r in runs), sum(r.frames for r in runs)
    rate = first.device_rate_hz
    seconds = frames / rate if rate else 0.0
    period_us = 1e6 * first.period_frames / rate if rate else 0.0
    if us.size:
        p50, p99, p999 = (float(v) for v in np.percentile(us, [50.0, 99.0, 99.9]))
        cpu50, cpu999 = (float(v) for v in np.percentile(cpu_us, [50.0, 99.9]))
        busy_s = float(us.mean()) * blocks / 1e6
    else:
        p50 = p99 = p999 = busy_s = cpu50 = cpu999 = 0.0
    return LiveSummary(blocks=blocks, safe_blocks=sum(r.safe_blocks for r in runs),
                       xruns=sum(r.xruns for r in runs), p50_us=p50, p99_us=p99, p999_us=p999,
                       max_us=max(r.max_ns for r in runs) / 1000.0, period_us=period_us,
                       safe_hops=sum(r.safe_hops for r in runs), hops=sum(r.hops for r in runs),
                       rtf=busy_s / seconds if seconds > 0 else 0.0, cpu_p50_us=cpu50, cpu_p999_us=cpu999,
                       seconds=seconds, rate_hz=rate, period_frames=first.period_frames,
                       latency_ms=1000.0 * first.latency_samples / rate if rate else 0.0, ended=ended,
                       callback_thread=dict(next((r.callback_thread for r in runs if r.callback_thread), {})))
