"""A preset drawn the way an audiologist reads one (needs matplotlib, the ``dev`` extra).

Three panels: the audiogram as clinicians draw it (frequency on a log axis across the top, dB HL
growing downward, O = right ear in red, X = left ear in blue, the ASHA 1990 "Guidelines for
audiometric symbols" convention), target vs achieved insertion gain per input level (50/65/80
dB SPL), and the input/output curve of every band. "Achieved" is the static curve of the
resolved :class:`~hearsep.chain.ChainParams` (:func:`hearsep.chain.band_output_db_spl`, the
chain's own static curve), not a measurement; ``hearsep testbox`` measures the running chain.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hearsep.chain import band_output_db_spl
from hearsep.fitting.preset import Preset, rule_targets
from hearsep.fitting.rules import SPEECH_LEVELS_DB_SPL


def preset_figure(preset: Preset, program: str | None = None):
    """A matplotlib Figure of ``preset`` (and ``program``'s settings)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    params = preset.resolve(program)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    title = preset.name + (f" - program {program!r}" if program else "")
    fig.suptitle(title)

    ax = axes[0]
    aud = preset.audiogram
    if aud is not None:
        for ear, marker, colour in (("right", "o", "tab:red"), ("left", "x", "tab:blue")):
            if ear in aud.thresholds_db_hl:
                ax.plot(aud.frequencies_hz, aud.hl_db(ear), marker=marker, color=colour, markersize=8,
                        markerfacecolor="none", linewidth=1.2, label=f"{ear} ({'O' if ear == 'right' else 'X'})")
        for f in aud.interpolated_hz:
            ax.axvline(f, color="0.85", linewidth=0.8, zorder=0)
        ax.legend(loc="lower left")
    else:
        ax.text(0.5, 0.5, "no audiogram in this preset", transform=ax.transAxes, ha="center", color="0.4")
    ax.set_xscale("log")
    ax.set_xlim(100, 10000)
    ax.set_ylim(120, -10)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xticks([125, 250, 500, 1000, 2000, 4000, 8000])
    ax.set_xticklabels(["125", "250", "500", "1k", "2k", "4k", "8k"])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("hearing level (dB HL)")
    ax.grid(True, which="major", color="0.8")
    ax.set_title("audiogram" + (" (grey: interpolated)" if aud is not None and aud.interpolated_hz else ""),
                 y=-0.14)

    ax = axes[1]
    centres = np.array([b.centre_hz for b in params.bands])
    targets = rule_targets(preset)
    colours = {50: "tab:green", 65: "tab:orange", 80: "tab:purple"}
    for level in SPEECH_LEVELS_DB_SPL:
        achieved = [float(band_output_db_spl(b, level, params.volume_db, params.broadband_mpo_db_spl) - level)
                    for b in params.bands]
        ax.plot(centres, achieved, "-s", color=colours[level], label=f"achieved, {level} dB SPL")
        if targets is not None:
            ax.plot(centres, targets[level], "--", color=colours[level], label=f"{preset.rule} target, {level} dB SPL")
    ax.set_xscale("log")
    ax.set_xticks(centres)
    ax.set_xticklabels([f"{c:g}" for c in centres])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("band centre (Hz)")
    ax.set_ylabel("insertion gain (dB)")
    ax.grid(True, color="0.85")
    ax.legend(fontsize=7)
    ax.set_title("target and achieved (static curve) insertion gain")

    ax = axes[2]
    inputs = np.arange(20.0, 101.0, 1.0)
    for b in params.bands:
        ax.plot(inputs, band_output_db_spl(b, inputs, params.volume_db, params.broadband_mpo_db_spl),
                label=f"{b.centre_hz:g} Hz")
    ax.plot(inputs, inputs, ":", color="0.5", label="0 dB gain")
    ax.axhline(params.broadband_mpo_db_spl, color="k", linewidth=0.8, linestyle="--", label="broadband MPO")
    ax.set_xlabel("band input (dB SPL)")
    ax.set_ylabel("band output (dB SPL)")
    ax.grid(True, color="0.85")
    ax.legend(fontsize=7)
    ax.set_title("input/output per band")
    fig.tight_layout()
    return fig


def save_preset_png(preset: Preset, path: str | Path, program: str | None = None) -> Path:
    """Draw ``preset`` and write the PNG atomically."""
    import matplotlib.pyplot as plt

    from hearsep.files import atomic_write

    fig = preset_figure(preset, program)
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    finally:
        plt.close(fig)
