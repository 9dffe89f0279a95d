"""Runtime-shaped offline check of a converted model, in numpy (no TensorFlow).

:func:`enhance` runs a ``.tflite`` separator hop by hop exactly as the runtime does (streaming STFT,
log-power features, quantize to the input type, signature runner, state carry, dequantize the mask,
synthesis), so training can verify its artefacts and measure quality without the runtime package.
Output is aligned to the input (the ``synthesis - hop`` framing delay removed).
"""

from __future__ import annotations

import numpy as np

from hearsep.features.spectral import log_power_features
from hearsep.features.stft import analysis_frames, overlap_add
from hearsep.model.contract import read_contract


def _quantizer(detail):
    scale, zero = detail["quantization"]
    dtype = detail["dtype"]
    if dtype == np.float32 or scale == 0:
        return (lambda x: x.astype(np.float32)), (lambda q: q.astype(np.float32))
    info = np.iinfo(dtype)
    q = lambda x: np.clip(np.round(x / scale) + zero, info.min, info.max).astype(dtype)
    dq = lambda v: (v.astype(np.float32) - zero) * np.float32(scale)
    return q, dq


def enhance(tflite_bytes: bytes, audio: np.ndarray) -> np.ndarray:
    """Enhance mono float audio at the model's rate; returns the same length, delay-compensated.

    Framing uses the batch helpers, which match the streaming STFT sample for sample; the model
    runs one frame per invoke with its state carried, as in the runtime.
    """
    from ai_edge_litert.interpreter import Interpreter

    c = read_contract(tflite_bytes)
    it = Interpreter(model_content=tflite_bytes, num_threads=1)
    runner = it.get_signature_runner(c.signature)
    ins, outs = runner.get_input_details(), runner.get_output_details()
    q_feat, _ = _quantizer(ins[c.features_input])
    _, dq_mask = _quantizer(outs[c.mask_output])
    states = {s.input: np.zeros(s.shape, ins[s.input]["dtype"]) for s in c.states}
    copy_raw = {s.input: ins[s.input]["quantization"] == outs[s.output]["quantization"] for s in c.states}
    h = c.hop_samples
    delay = c.synthesis_samples - h
    x = np.concatenate([np.asarray(audio, np.float32), np.zeros(delay + h, np.float32)])
    spectra = analysis_frames(x, c.frame_samples, h, c.window)
    feats = log_power_features(spectra, c.features)
    masks = np.zeros(spectra.shape, np.float32)
    for k in range(spectra.shape[0]):
        out = runner(**{c.features_input: q_feat(feats[k]).reshape(1, 1, -1)}, **states)
        masks[k] = dq_mask(out[c.mask_output]).reshape(-1)
        for s in c.states:
            v = out[s.output]
            if not copy_raw[s.input]:  # requantize (scales differ)
                v = _quantizer(ins[s.input])[0](_quantizer(outs[s.output])[1](v))
            states[s.input] = v
    y = overlap_add(spectra * masks, c.frame_samples, h, c.window).astype(np.float32)
    return y[delay:delay + len(audio)]


def si_sdr(reference: np.ndarray, estimate: np.ndarray, eps: float = 1e-10) -> float:
    """Scale-invariant SDR in dB (both zero-meaned)."""
    r = np.asarray(reference, np.float64) - np.mean(reference)
    e = np.asarray(estimate, np.float64) - np.mean(estimate)
    alpha = np.dot(r, e) / (np.dot(r, r) + eps)
    t = alpha * r
    return float(10 * np.log10((np.dot(t, t) + eps) / (np.dot(e - t, e - t) + eps)))
