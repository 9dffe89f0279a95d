"""Reports of evaluations: a table (plain text or Markdown), JSON, and a PNG of metrics per SNR band.

Plots use matplotlib's object API with the Agg canvas (no pyplot, no display, no global backend
switch). Files are written to a temporary name and renamed, so a failure leaves no half file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from hearsep.errors import OutputError
from hearsep.eval.evaluate import Evaluation
from hearsep.files import atomic_write, check_output_path, json_text, write_text

#: (key, header, decimals) of the per-band table
TABLE_COLUMNS = (
    ("files", "files", 0),
    ("input_snr_db", "SNR in dB", 1),
    ("si_sdr_in_db", "SI-SDR in dB", 2),
    ("si_sdr_db", "SI-SDR out dB", 2),
    ("si_sdri_db", "SI-SDRi dB", 2),
    ("pesq_in", "PESQ in", 2),
    ("pesq", "PESQ out", 2),
    ("stoi_in", "STOI in", 3),
    ("stoi", "STOI out", 3),
)


def fmt(value, decimals: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if decimals == 0:
        return str(int(value))
    return f"{value:.{decimals}f}"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool = False) -> str:
    """Rows of strings as a Markdown table or as aligned plain text (first column left, others right)."""
    if markdown:
        lines = ["| " + " | ".join(headers) + " |",
                 "|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def band_table(evaluation: Evaluation, markdown: bool = False) -> str:
    """Per-band rows, then the overall row, with the metrics of :data:`TABLE_COLUMNS`."""
    headers = ["input SNR band dB"] + [h for _, h, _ in TABLE_COLUMNS]
    rows = []
    for label, agg in [*evaluation.bands().items(), ("all", evaluation.overall)]:
        rows.append([label] + [fmt(agg[k], d) for k, _, d in TABLE_COLUMNS])
    return render_table(headers, rows, markdown)


def summary_line(evaluation: Evaluation) -> str:
    o = evaluation.overall
    rtf = o["compute_per_audio_s"]
    return (f"{evaluation.system}: {o['files']} files, {o['audio_s']:.1f} s of audio; SI-SDRi {fmt(o['si_sdri_db'], 2)} dB, "
            f"PESQ {fmt(o['pesq_in'], 2)} -> {fmt(o['pesq'], 2)}, STOI {fmt(o['stoi_in'], 3)} -> {fmt(o['stoi'], 3)}; "
            f"compute {fmt(None if rtf is None else 1000 * rtf, 1)} ms per s of audio")


def markdown_report(evaluation: Evaluation) -> str:
    info = "".join(f"- {k}: {v}\n" for k, v in evaluation.info.items())
    return (f"# Evaluation of {evaluation.system}\n\n{info}\n{summary_line(evaluation)}\n\n"
            f"{band_table(evaluation, markdown=True)}\n")


def to_json(evaluations: Evaluation | Sequence[Evaluation], meta: dict | None = None) -> str:
    evs = [evaluations] if isinstance(evaluations, Evaluation) else list(evaluations)
    doc = {"meta": meta or {}, "evaluations": [e.to_dict() for e in evs]}
    return json_text(doc)


def plot_bands(evaluations: Evaluation | Sequence[Evaluation], path: str | Path, title: str = "",
               show_input: bool = True) -> Path:
    """PNG of SI-SDRi, PESQ and STOI per input-SNR band, one line per system; ``show_input`` adds
    the noisy input's PESQ and STOI as a dashed line."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise OutputError("plots need matplotlib: pip install 'hearsep[dev]' (or pip install matplotlib)") from None

    evs = [evaluations] if isinstance(evaluations, Evaluation) else list(evaluations)
    labels: list[str] = []
    for e in evs:
        labels += [b for b in e.bands() if b not in labels]
    from hearsep.eval.evaluate import band_labels

    order = {b: i for i, b in enumerate(band_labels(evs[0].band_edges_db))}
    labels.sort(key=lambda b: order.get(b, len(order)))
    x = list(range(len(labels)))
    fig = Figure(figsize=(12, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    panels = (("si_sdri_db", None, "SI-SDR improvement (dB)"), ("pesq", "pesq_in", "PESQ (wideband)"),
              ("stoi", "stoi_in", "STOI"))
    for k, (key, in_key, ylabel) in enumerate(panels):
        ax = fig.add_subplot(1, 3, k + 1)
        if in_key is not None and show_input:
            bands = evs[0].bands()
            ax.plot(x, [_nan(bands.get(b, {}).get(in_key)) for b in labels], "k--", marker="o", label="noisy input")
        for e in evs:
            bands = e.bands()
            ax.plot(x, [_nan(bands.get(b, {}).get(key)) for b in labels], marker="o", label=e.system)
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_xlabel("input SNR band (dB)")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        if k == 0:
            ax.axhline(0.0, color="k", lw=0.8)
    fig.axes[-1].legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))


def _nan(v):
    return float("nan") if v is None else v


def report_paths(out_dir: str | Path, stem: str = "evaluation") -> dict[str, Path]:
    """Create ``out_dir`` if needed and check that ``<stem>.{json,md,png}`` can be written there
    (call it before the work); returns the three paths. Raises :class:`OutputError`."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"cannot write the report into {out}: it is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {out}: {exc.strerror}") from None
    paths = {"json": out / f"{stem}.json", "markdown": out / f"{stem}.md", "plot": out / f"{stem}.png"}
    for path in paths.values():
        check_output_path(path)
    return paths


def write_report(evaluation: Evaluation, out_dir: str | Path, stem: str = "evaluation",
                 meta: dict | None = None) -> dict[str, Path]:
    """Write ``<stem>.json``, ``<stem>.md`` and ``<stem>.png`` into ``out_dir`` (created if needed)."""
    paths = report_paths(out_dir, stem)
    return {
        "json": write_text(paths["json"], to_json(evaluation, meta) + "\n"),
        "markdown": write_text(paths["markdown"], markdown_report(evaluation)),
        "plot": plot_bands(evaluation, paths["plot"], title=evaluation.system),
    }
