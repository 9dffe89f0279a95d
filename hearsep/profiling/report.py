"""Reports of a profile: terminal text, Markdown, a PNG, and the ratio table of several profiles.

Plots use matplotlib's object API with the Agg canvas (no pyplot, no display). Every file goes
through :mod:`hearsep.files` (written whole or not at all).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from hearsep.errors import ConfigError, OutputError
from hearsep.files import atomic_write
from hearsep.profiling.profile import SCHEMA, ProfileResult

#: (key, label, unit) of the rows that the text/Markdown reports and --compare show
ROWS = (
    ("p50_us", "hop time p50", "µs"), ("p90_us", "hop time p90", "µs"), ("p99_us", "hop time p99", "µs"),
    ("p999_us", "hop time p99.9", "µs"), ("max_us", "hop time max", "µs"), ("mean_us", "hop time mean", "µs"),
    ("rtf", "real-time factor (processing / audio time)", ""), ("misses", "deadline misses", "hops"),
    ("late_start_p99_us", "paced: start after input complete, p99", "µs"),
    ("late_start_max_us", "paced: start after input complete, max", "µs"),
    ("cpu_percent", "CPU use of one core", "%"), ("peak_rss_mb", "peak RSS", "MB"),
    ("invoke_mean_us", "model invoke mean", "µs"), ("rest_mean_us", "rest of the hop mean", "µs"),
    ("idle_w", "idle power", "W"), ("power_w", "mean power", "W"), ("power_above_idle_w", "power above idle", "W"),
    ("energy_j", "energy during the run", "J"), ("joules_per_audio_hour", "energy per hour of audio", "J/h"),
)


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        a = abs(v)
        return f"{v:.4f}" if a < 1 else f"{v:.2f}" if a < 100 else f"{v:.0f}"
    return str(v)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> str:
    if markdown:
        out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))]
    lines += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join(lines)


def headline(s: dict) -> str:
    """One paragraph: what ran, on what, for how long."""
    m = s.get("machine", {})
    what = f"{s.get('model', 'model')}" + (f" + chain ({s['preset']})" if s.get("preset") else "")
    mode = "paced in real time" if s["paced"] else "as fast as possible"
    return (f"{what}: {s['hops']} hops of {s['hop_samples']} samples ({s['hop_us'] / 1000:g} ms) at "
            f"{s['sample_rate_hz']} Hz = {s['audio_s']:.2f} s of {s.get('input', 'audio')}, {mode}; "
            f"machine: {m.get('cpu_model')} ({m.get('cores')} cores, governor {m.get('governor') or 'n/a'}), "
            f"{m.get('os')}, Python {m.get('python')}, LiteRT {m.get('litert')}")


def _rows(s: dict) -> list[list[str]]:
    rows = []
    for key, label, unit in ROWS:
        if key not in s:  # e.g. the paced-only rows of an unpaced run
            continue
        v = s[key]
        frac = s.get(key[:-3] + "_of_hop") if key.endswith("_us") else None
        extra = f" ({100 * frac:.1f}% of hop)" if frac is not None else ""
        rows.append([label, _fmt(v) + (f" {unit}" if unit and v is not None else "") + extra])
    return rows


def power_line(s: dict) -> str:
    if s.get("power_source") in (None, "none"):
        return f"power: not measured ({s.get('power_note') or 'no source'})"
    return (f"power: {s['power_source']} ({s['power_description']}); {s['power_note']}; "
            f"{s['power_samples']} readings")


def format_text(s: dict) -> str:
    """The terminal report of one profile summary."""
    return "\n".join([headline(s), _table(["measure", "value"], _rows(s), False), power_line(s)])


def format_markdown(s: dict) -> str:
    """A Markdown report of one profile summary (a heading, the table, the power source)."""
    return "\n\n".join(["# hearsep profile", headline(s), _table(["measure", "value"], _rows(s), True),
                        power_line(s), f"Deadline miss: {s['miss_rule']}. RTF = {s['rtf_definition']}."]) + "\n"


def check_png_possible() -> None:
    """Raise :class:`OutputError` now (before a long run) if PNGs cannot be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise OutputError("--png needs matplotlib: pip install matplotlib") from None


def write_reports(result: ProfileResult, json_path=None, md_path=None, png_path=None) -> list[Path]:
    """Write whichever of the JSON summary, the Markdown report and the PNG are asked for."""
    from hearsep.files import write_json, write_text

    written = []
    if json_path:
        written.append(write_json(json_path, result.summary))
    if md_path:
        written.append(write_text(md_path, format_markdown(result.summary)))
    if png_path:
        written.append(write_png(result, png_path))
    return written


def write_png(result: ProfileResult, path: str | Path) -> Path:
    """Histogram of per-hop processing time with the hop deadline marked, and the per-hop
    timeline (response time from input arrival, with the deadline); a power trace if sampled."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise OutputError("--png needs matplotlib: pip install matplotlib") from None
    s = result.summary
    panels = 3 if result.power_w else 2
    fig = Figure(figsize=(9, 3.0 * panels), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(panels, 1, 1)
    import numpy as np

    lo = max(float(np.min(result.processing_us)), 0.1)
    edges = np.geomspace(lo * 0.9, max(float(np.max(result.processing_us)), s["hop_us"]) * 1.1, 120)
    ax.hist(result.processing_us, bins=edges, color="tab:blue")
    ax.set_xscale("log")
    ax.axvline(s["hop_us"], color="tab:red", linestyle="--", label=f"hop deadline {s['hop_us']:.0f} µs")
    ax.axvline(s["p99_us"], color="tab:orange", linestyle=":", label=f"p99 {s['p99_us']:.0f} µs")
    ax.set_yscale("log")
    ax.set_xlabel("processing time per hop (µs)")
    ax.set_ylabel("hops")
    ax.set_title(f"{s.get('model', '')}: {s['hops']} hops, {'paced' if s['paced'] else 'unpaced'}, "
                 f"RTF {s['rtf']:.3f}, {s['misses']} misses")
    ax.legend()
    ax = fig.add_subplot(panels, 1, 2)
    t_s = [k * s["hop_us"] * 1e-6 for k in range(len(result.response_us))]
    ax.plot(t_s, result.response_us, linewidth=0.6, color="tab:blue", label="arrival -> output ready")
    ax.axhline(s["hop_us"], color="tab:red", linestyle="--", label="hop deadline")
    ax.set_xlabel("audio time (s)")
    ax.set_ylabel("µs")
    ax.set_yscale("log")
    ax.legend()
    if result.power_w:
        ax = fig.add_subplot(panels, 1, 3)
        ax.plot(result.power_times_s, result.power_w, marker=".", color="tab:green", label=s["power_source"])
        if s.get("idle_w") is not None:
            ax.axhline(s["idle_w"], color="grey", linestyle="--", label=f"idle {s['idle_w']:.2f} W")
        ax.set_xlabel("run time (s)")
        ax.set_ylabel("W")
        ax.legend()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))


def load_profile(path: str | Path) -> dict:
    """A profile summary written by ``hearsep profile --json``; :class:`ConfigError` if it is not one."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{p}: not a readable JSON profile ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ConfigError(f"{p}: not a hearsep profile (no \"schema\": \"{SCHEMA}\")")
    return data


def compare_table(profiles: Sequence[dict], names: Sequence[str], markdown: bool = False) -> str:
    """One row per measure, one column per run: its value and its ratio to the first run's."""
    rows = []
    for key, label, unit in ROWS:
        vals = [p.get(key) for p in profiles]
        if all(v is None for v in vals):
            continue
        base = vals[0]
        cells = [label + (f" ({unit})" if unit else "")]
        for i, v in enumerate(vals):
            ratio = "" if i == 0 or v is None or not base else f" (x{v / base:.2f})"
            cells.append(_fmt(v) + ratio)
        rows.append(cells)
    return _table(["measure"] + [str(n) for n in names], rows, markdown)
