"""Measurements of a converted model against the float one: per-invoke latency and quality.

* :func:`invoke_latency`: the bare ``interpreter.invoke()`` timed per call (one thread, XNNPACK on
  or off), after setting realistic inputs once; mean / p50 / p99 / max in microseconds.
* :func:`run_items` + :func:`compare`: every evaluation item streamed through the runtime exactly as
  ``hearsep enhance`` runs it (:class:`StreamingEnhancer`), recording each frame's mask; then
  SI-SDRi / PESQ / STOI (from :mod:`hearsep.eval.metrics`) per model, their deltas against float,
  the mask error (mean / max absolute) and the SNR of the output against the float model's output.
* :func:`state_drift`: a model's recurrent state and mask against a reference's (e.g. int8 against
  float) over the same feature sequences: RMSE overall and per second, bias, and how often the
  stored state codes do not change.
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


def _state_trace(model: bytes, contract: ModelContract, features: np.ndarray):
    """One feature sequence ``[T, bins]`` through ``model`` (signature runner, state carried as the
    runtime carries it: raw codes when in/out quantization agree, else dequantize/requantize).
    Returns ``(states [T, sum units], masks [T, mask_size], held [T, sum units] bool)`` in float;
    ``held``: the state's stored codes did not change in that frame."""
    from hearsep.runtime.interpreter import load_interpreter

    runner = load_interpreter(model, num_threads=1, xnnpack=False).get_signature_runner(contract.signature)
    ins, outs = runner.get_input_details(), runner.get_output_details()

    def to_tensor(x, d):
        if d["dtype"] == np.float32:
            return x.astype(np.float32)
        scale, zp = d["quantization"]
        lim = np.iinfo(d["dtype"])
        return np.clip(np.round(x / scale) + zp, lim.min, lim.max).astype(d["dtype"])

    def to_float(x, d):
        if d["dtype"] == np.float32:
            return x.astype(np.float32)
        scale, zp = d["quantization"]
        return (x.astype(np.float32) - zp) * scale

    state = {s.input: to_tensor(np.zeros(s.shape, np.float32), ins[s.input]) for s in contract.states}
    hs, ms, held = [], [], []
    for t in range(features.shape[0]):
        out = runner(**{contract.features_input: to_tensor(features[t].reshape(1, 1, -1), ins[contract.features_input])},
                     **state)
        new = {}
        for s in contract.states:
            same = ins[s.input]["dtype"] == outs[s.output]["dtype"] and \
                ins[s.input]["quantization"] == outs[s.output]["quantization"]
            new[s.input] = out[s.output] if same else to_tensor(to_float(out[s.output], outs[s.output]), ins[s.input])
        held.append(np.concatenate([(new[s.input] == state[s.input]).ravel() for s in contract.states]))
        state = new
        hs.append(np.concatenate([to_float(out[s.output], outs[s.output]).ravel() for s in contract.states]))
        heads = [contract.mask_output] + ([contract.taps_output] if contract.taps_output else [])
        ms.append(np.concatenate([to_float(out[h], outs[h]).ravel() for h in heads]))
    return np.array(hs), np.array(ms), np.array(held)


def state_drift(reference: bytes, model: bytes, contract: ModelContract, sequences: list[np.ndarray],
                frames_per_bucket: int = 500) -> dict:
    """How far ``model``'s recurrent state and mask drift from ``reference``'s (e.g. int8 from float)
    when both run the same feature sequences ``[T, bins]`` from zero state, frame by frame.

    Returns ``state_rmse`` and ``mask_rmse`` (all frames, units and sequences), ``state_rmse_by_bucket``
    (RMSE over frames ``[k * frames_per_bucket, (k + 1) * frames_per_bucket)``: 1 s at a 2 ms hop),
    ``state_mean_error`` (bias), and the fractions of (frame, unit) where the model's stored state
    codes did not change (``held_fraction``) and where they did not change although the reference
    state moved by at least half of the model's state step (``held_while_reference_moved``).
    """
    from hearsep.runtime.interpreter import load_interpreter

    outs = load_interpreter(model, num_threads=1, xnnpack=False).get_signature_runner(
        contract.signature).get_output_details()
    steps = np.concatenate([np.full(int(np.prod(s.shape)), outs[s.output]["quantization"][0] or 0.0)
                            for s in contract.states])
    err, merr, held, missed = [], [], [], []
    for seq in sequences:
        seq = np.asarray(seq, np.float32)
        h_ref, m_ref, _ = _state_trace(reference, contract, seq)
        h, m, hold = _state_trace(model, contract, seq)
        err.append(h - h_ref)
        merr.append(m - m_ref)
        held.append(hold)
        moved = np.abs(np.diff(np.vstack([np.zeros_like(h_ref[:1]), h_ref]), axis=0)) >= steps / 2
        missed.append(hold & moved)
    T = min(e.shape[0] for e in err)
    e = np.stack([x[:T] for x in err])
    by_bucket = [float(np.sqrt(np.mean(e[:, k:k + frames_per_bucket] ** 2))) for k in range(0, T, frames_per_bucket)]
    return {"sequences": len(sequences), "frames": int(sum(x.shape[0] for x in err)),
            "state_rmse": float(np.sqrt(np.mean(np.concatenate(err) ** 2))),
            "state_mean_error": float(np.mean(np.concatenate(err))),
            "state_rmse_by_bucket": by_bucket, "frames_per_bucket": frames_per_bucket,
            "mask_rmse": float(np.sqrt(np.mean(np.concatenate(merr) ** 2))),
            "held_fraction": float(np.mean(np.concatenate(held))),
            "held_while_reference_moved": float(np.mean(np.concatenate(missed)))}
