"""From command-line choices to a ready :class:`LiveProcessor`: model, preset chain, device rate.

The one place that turns ``--model/--preset/--program/--rate`` into the object the live runner,
the loopback latency measurement and the soak benchmark all use; the enhancer itself comes from
:func:`hearsep.runtime.build.make_enhancer`.
"""

from __future__ import annotations

from pathlib import Path

from hearsep.live.callback import LiveProcessor
from hearsep.runtime.build import make_enhancer


def make_processor(model: str | Path | None = None, preset: str | Path | None = None, program: str | None = None,
                   *, device_rate_hz: int | None = None, resample: bool = True, budget_fraction: float | None = 0.75,
                   num_threads: int = 1, hop_log_hops: int = 0, passthrough: bool = False) -> LiveProcessor:
    """The live callback for these choices. ``device_rate_hz`` None means the model's rate;
    ``passthrough`` builds the instrumented copy-through callback (no model) instead."""
    if passthrough:
        return LiveProcessor(None, device_rate_hz=device_rate_hz or 16000)
    enhancer = make_enhancer(model, preset, program, num_threads=num_threads)
    return LiveProcessor(enhancer, device_rate_hz=device_rate_hz, resample=resample,
                         budget_fraction=budget_fraction, hop_log_hops=hop_log_hops)
