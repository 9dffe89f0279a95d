"""Measurements of a converted model against the float one: per-invoke latency and quality.

* :func:`invoke_latency`: the bare ``interpreter.invoke()`` timed per call (one thread, XNNPACK on
  or off), after setting realistic inputs once; mean / p50 / p99 / max in microseconds.
* :func:`run_items` + :func:`compare`: every evaluation item streamed through the runtime exactly as
  ``hearsep enhance`` runs it (:class:`StreamingEnhancer`), recording each frame's mask; then
  SI-SDRi / PESQ / STOI (from :mod:`hearsep.eval.metrics`) per model, their deltas against float,
  the mask error (mean / max absolute) and the SNR of the output against the float model's output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hearsep.model.contract import ModelContract
from hearsep.profiling.timing import time_loop, timing_stats  # noqa: F401  (re-exported)
from hearsep.quantize.calibration import EvalItem


def invoke_latency(model: bytes, contract: ModelContract, xnnpack: bool, invokes: int = 2000,
                   warmup: int = 200, num_threads: int = 1) -> dict:
    """Per-invoke latency of ``model`` on this CPU (inputs set once from a realistic frame)."""
    from hearsep.runtime.separator import TFLiteSeparator

    sep = TFLiteSeparator(model, contract=contract, num_threads=num_threads, xnnpack=xnnpack)
    rng = np.random.default_rng(0)
    for _ in range(10):  # a few steps so the state inputs hold realistic values
        sep.process(rng.standard_normal(contract.bins).astype(np.float32))
    return timing_stats(time_loop(sep.interpreter.invoke, invokes, warmup))


class _RecordingSeparator:
    """Wraps a separator and keeps every mask it returns."""

    def __init__(self, sep):
        self.sep = sep
        self.masks: list[np.ndarray] = []

    def process(self, features):
        mask = self.sep.process(features)
        self.masks.append(mask.copy())
        return mask

    def reset(self):
        self.sep.reset()


@dataclass
class ModelRun:
    """Outputs of one model over the evaluation items: enhanced audio and masks per item."""

    outputs: list[np.ndarray]
    masks: list[np.ndarray]


def run_items(model: bytes, contract: ModelContract, items: list[EvalItem]) -> ModelRun:
    """Stream every item through the runtime (latency removed), recording masks."""
    from hearsep.runtime.enhancer import StreamingEnhancer, enhance_signal
    from hearsep.runtime.separator import TFLiteSeparator

    rec = _RecordingSeparator(TFLiteSeparator(model, contract=contract, xnnpack=False))
    enh = StreamingEnhancer(contract, rec)
    outs, masks = [], []
    for item in items:
        enh.reset()
        rec.masks = []
        outs.append(enhance_signal(enh, item.noisy))
        masks.append(np.stack(rec.masks))
    return ModelRun(outs, masks)


def _nanmean(values) -> float | None:
    v = [x for x in values if x is not None and not math.isnan(x)]
    return float(np.mean(v)) if v else None


def scores(run: ModelRun, items: list[EvalItem]) -> dict:
    """Mean SI-SDRi (dB), PESQ and STOI over the items that have a clean reference."""
    from hearsep.eval.metrics import pesq_wb, si_sdr_db, stoi

    sdri, pq, st = [], [], []
    for y, item in zip(run.outputs, items):
        if item.clean is None or not np.any(item.clean):
            continue
        sdri.append(si_sdr_db(y, item.clean) - si_sdr_db(item.noisy, item.clean))
        pq.append(pesq_wb(item.clean, y, item.rate_hz))
        st.append(stoi(item.clean, y, item.rate_hz))
    return {"si_sdri_db": _nanmean(sdri), "pesq": _nanmean(pq), "stoi": _nanmean(st), "scored_items": len(sdri)}


def compare(reference: ModelRun, run: ModelRun, ref_scores: dict, run_scores: dict) -> dict:
    """Deltas of ``run`` against the float ``reference``: metrics, mask error, output SNR."""
    from hearsep.eval.metrics import snr_db

    err = np.concatenate([np.abs(a - b).reshape(-1) for a, b in zip(run.masks, reference.masks)])
    y_ref = np.concatenate(reference.outputs)
    y = np.concatenate(run.outputs)
    out = {
        "mask_abs_error_mean": float(err.mean()), "mask_abs_error_p99": float(np.percentile(err, 99)),
        "mask_abs_error_max": float(err.max()),
        "output_snr_vs_float_db": float(snr_db(y_ref, y - y_ref)) if np.any(y - y_ref) else float("inf"),
    }
    for key in ("si_sdri_db", "pesq", "stoi"):
        a, b = run_scores.get(key), ref_scores.get(key)
        out[f"delta_{key}"] = None if a is None or b is None else float(a - b)
    return out
