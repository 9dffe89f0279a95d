"""Score an enhancement system over evaluation pairs: per-file metrics, then aggregates per SNR band.

A *system* is any callable ``enhance(noisy, rate_hz) -> enhanced`` taking mono float32 audio and
returning the same number of samples, time-aligned with the input (latency removed).
:class:`ModelSystem` makes one from a hearsep ``.tflite`` model; :func:`unprocessed` is the
identity (scores the noisy input itself).

Only the call to ``enhance`` is timed (``compute_s``): metric computation is not included, so
``compute_per_audio_s`` (seconds of compute per second of audio) is the system's own cost.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from hearsep.errors import AudioError
from hearsep.eval.metrics import pesq_wb, si_sdr_db, stoi
from hearsep.eval.mixtures import Pair

EnhanceFn = Callable[[np.ndarray, int], np.ndarray]

#: input-SNR band edges (dB): bands [-5, 0), [0, 5), [5, 10), [10, 15]; the last band includes its
#: upper edge, and files outside the edges fall into open bands "< -5" / "> 15".
DEFAULT_BAND_EDGES_DB = (-5.0, 0.0, 5.0, 10.0, 15.0)

#: aggregated metrics, in report order: (key, label, unit)
METRICS = (
    ("si_sdr_in_db", "SI-SDR in", "dB"),
    ("si_sdr_db", "SI-SDR", "dB"),
    ("si_sdri_db", "SI-SDRi", "dB"),
    ("pesq_in", "PESQ in", ""),
    ("pesq", "PESQ", ""),
    ("stoi_in", "STOI in", ""),
    ("stoi", "STOI", ""),
)


class ModelSystem:
    """A hearsep TFLite model as an ``enhance(noisy, rate_hz)`` callable.

    State is reset before each file; audio at another rate is resampled to the model's and back.
    """

    def __init__(self, model: str | Path, num_threads: int = 1, xnnpack: bool = True):
        from hearsep.runtime.enhancer import StreamingEnhancer

        self.model_path = Path(model)
        self.enhancer = StreamingEnhancer.from_model(model, num_threads=num_threads, xnnpack=xnnpack)
        self.rate_hz = self.enhancer.contract.sample_rate_hz
        self.latency_ms = self.enhancer.latency_ms

    def __call__(self, noisy: np.ndarray, rate_hz: int) -> np.ndarray:
        from hearsep.audio.resample import resample
        from hearsep.runtime.enhancer import enhance_signal

        self.enhancer.reset()
        x = resample(np.asarray(noisy, np.float32), rate_hz, self.rate_hz)
        y = resample(enhance_signal(self.enhancer, x), self.rate_hz, rate_hz)
        n = np.asarray(noisy).shape[-1]
        return y[:n] if y.shape[0] >= n else np.pad(y, (0, n - y.shape[0]))


def unprocessed(noisy: np.ndarray, rate_hz: int) -> np.ndarray:
    """The identity system: the noisy input, unchanged."""
    return np.asarray(noisy, np.float32)


@dataclass(frozen=True)
class FileScore:
    """Metrics of one file. ``*_in`` score the noisy input, the others the enhanced output."""

    name: str
    duration_s: float
    input_snr_db: float
    si_sdr_in_db: float
    si_sdr_db: float
    si_sdri_db: float
    pesq_in: float
    pesq: float
    stoi_in: float
    stoi: float
    compute_s: float


def input_scores(pair: Pair) -> dict[str, float]:
    """Scores of the unprocessed input (the same for every system: compute once, reuse)."""
    return {
        "si_sdr_in_db": si_sdr_db(pair.noisy, pair.clean),
        "pesq_in": pesq_wb(pair.clean, pair.noisy, pair.rate_hz),
        "stoi_in": stoi(pair.clean, pair.noisy, pair.rate_hz),
    }


def score_pair(pair: Pair, enhanced: np.ndarray, compute_s: float = 0.0,
               inputs: dict[str, float] | None = None) -> FileScore:
    """All metrics of ``enhanced`` (aligned with ``pair.noisy``) against ``pair.clean``."""
    enhanced = np.asarray(enhanced, np.float32).reshape(-1)
    if enhanced.shape[0] != pair.clean.shape[0]:
        raise AudioError(f"{pair.name}: the system returned {enhanced.shape[0]} samples for "
                         f"{pair.clean.shape[0]}; it must return as many as it was given")
    if not np.all(np.isfinite(enhanced)):
        raise AudioError(f"{pair.name}: the system returned NaN/Inf samples")
    ins = inputs if inputs is not None else input_scores(pair)
    out_sdr = si_sdr_db(enhanced, pair.clean)
    return FileScore(
        name=pair.name, duration_s=pair.duration_s, input_snr_db=float(pair.snr_db),
        si_sdr_in_db=ins["si_sdr_in_db"], si_sdr_db=out_sdr, si_sdri_db=out_sdr - ins["si_sdr_in_db"],
        pesq_in=ins["pesq_in"], pesq=pesq_wb(pair.clean, enhanced, pair.rate_hz),
        stoi_in=ins["stoi_in"], stoi=stoi(pair.clean, enhanced, pair.rate_hz),
        compute_s=float(compute_s),
    )


def run_system(enhance: EnhanceFn, pair: Pair) -> tuple[np.ndarray, float]:
    """``(enhanced, seconds)``: one call of ``enhance`` timed with the wall clock."""
    t0 = time.perf_counter()
    y = enhance(pair.noisy, pair.rate_hz)
    return y, time.perf_counter() - t0


# ---- aggregation ---------------------------------------------------------------------------------

def band_label(lo: float, hi: float, last: bool) -> str:
    return f"[{lo:g}, {hi:g}{']' if last else ')'}"


def band_of(snr_db: float, edges: Sequence[float]) -> str:
    """Label of the band holding ``snr_db``: ``[lo, hi)``, the last one ``[lo, hi]``, or open ends."""
    if snr_db < edges[0]:
        return f"< {edges[0]:g}"
    if snr_db > edges[-1]:
        return f"> {edges[-1]:g}"
    for k in range(len(edges) - 1):
        last = k == len(edges) - 2
        if snr_db < edges[k + 1] or last:
            return band_label(edges[k], edges[k + 1], last)
    raise AssertionError("unreachable")


def band_labels(edges: Sequence[float]) -> list[str]:
    """All labels in SNR order, the open ends included."""
    inner = [band_label(edges[k], edges[k + 1], k == len(edges) - 2) for k in range(len(edges) - 1)]
    return [f"< {edges[0]:g}", *inner, f"> {edges[-1]:g}"]


def _mean(values: Iterable[float]) -> float | None:
    v = [x for x in values if x is not None and not math.isnan(x)]
    return float(np.mean(v)) if v else None


def aggregate(scores: Sequence[FileScore]) -> dict:
    """Means of each metric (NaN scores skipped; ``None`` when none is valid) and totals."""
    audio_s = float(sum(s.duration_s for s in scores))
    compute_s = float(sum(s.compute_s for s in scores))
    out = {"files": len(scores), "audio_s": audio_s, "input_snr_db": _mean(s.input_snr_db for s in scores)}
    for key, _, _ in METRICS:
        out[key] = _mean(getattr(s, key) for s in scores)
    out["pesq_valid"] = sum(1 for s in scores if not math.isnan(s.pesq))
    out["stoi_valid"] = sum(1 for s in scores if not math.isnan(s.stoi))
    out["compute_s"] = compute_s
    out["compute_per_audio_s"] = compute_s / audio_s if audio_s > 0 else None
    return out


@dataclass
class Evaluation:
    """Scores of one system over a set of pairs, with aggregates overall and per input-SNR band."""

    system: str
    files: list[FileScore]
    band_edges_db: tuple[float, ...] = DEFAULT_BAND_EDGES_DB
    info: dict = field(default_factory=dict)

    @property
    def overall(self) -> dict:
        return aggregate(self.files)

    def bands(self) -> dict[str, dict]:
        """Aggregates per band, in SNR order; only bands holding files."""
        groups: dict[str, list[FileScore]] = {label: [] for label in band_labels(self.band_edges_db)}
        for s in self.files:
            groups[band_of(s.input_snr_db, self.band_edges_db)].append(s)
        return {label: aggregate(g) for label, g in groups.items() if g}

    def to_dict(self) -> dict:
        return {
            "system": self.system,
            "info": self.info,
            "band_edges_db": list(self.band_edges_db),
            "overall": self.overall,
            "bands": self.bands(),
            "files": [asdict(s) for s in self.files],
        }


def evaluate(pairs: Iterable[Pair], enhance: EnhanceFn, system: str = "system",
             band_edges_db: Sequence[float] = DEFAULT_BAND_EDGES_DB,
             progress: Callable[[FileScore], None] | None = None, info: dict | None = None) -> Evaluation:
    """Run ``enhance`` over ``pairs`` and score every output; ``progress`` is called per file."""
    edges = tuple(float(e) for e in band_edges_db)
    if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise AudioError(f"SNR band edges must be increasing, at least two: {edges}")
    scores = []
    for pair in pairs:
        y, seconds = run_system(enhance, pair)
        score = score_pair(pair, y, seconds)
        scores.append(score)
        if progress is not None:
            progress(score)
    if not scores:
        raise AudioError("nothing to evaluate: no pairs")
    return Evaluation(system, scores, edges, dict(info or {}))
