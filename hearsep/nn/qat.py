"""Quantization-aware training (QAT) of the GRU core, with the int8 ranges that are known in advance.

Full-integer TFLite gives some tensors a range that does not depend on calibration:

* LOGISTIC (sigmoid) outputs: scale 1/256, zero point -128, i.e. the grid ``[0, 255/256]``;
* TANH outputs: scale 1/128, zero point 0, i.e. the grid ``[-1, 127/128]``
  (the TFLite int8 kernel specification, ``tensorflow/lite/kernels/activations.cc``).

A GRU state ``h = z * h_prev + (1 - z) * tanh(...)`` is a convex combination of the previous state
and a tanh output, so it stays in ``[-1, 1]`` too. :class:`QuantGRUCell` fake-quantizes, on exactly
those grids, the state it reads, its two gates, its candidate and the state it writes
(:func:`keras.quantizers.fake_quant_with_min_max_vars`, which is ``tf.quantization.fake_quant_with_min_max_vars``
on the TensorFlow backend: straight-through gradients inside the range). Training then sees the
int8 rounding of the recurrent loop, the part of the model where int8 error accumulates from
frame to frame, and learns weights that tolerate it (Jacob et al. 2018, "Quantization and Training
of Neural Networks for Efficient Integer-Arithmetic-Only Inference", CVPR).

The same cell is what the step model calls, so its FakeQuant ops reach the TFLite converter, which
takes their ranges for those tensors (the other tensors are calibrated as before): the state input
and the state output get the *same* fixed scale 1/128 and zero point 0, and the runtime copies the
int8 state from output to input without requantizing. The ``gru`` and ``gru-df`` architectures use
this cell when their parameter ``qat`` is true; the weights are those of a plain ``GRUCell``
(``model.init_from`` a float model works, and back).

For float exports of a QAT model, :func:`float_twin` rebuilds it with plain cells and the same
weights (the reference the int8 model is compared with).
"""

from __future__ import annotations

import keras
import numpy as np

#: int8 grids fixed by the TFLite kernels (min, max); 256 levels each
SIGMOID_RANGE = (0.0, 255.0 / 256.0)
TANH_RANGE = (-1.0, 127.0 / 128.0)
#: the GRU state: bounded by [-1, 1] (convex combination of the old state and a tanh output)
STATE_RANGE = TANH_RANGE
#: |pre-activation| beyond which the int8 output cannot change: sigmoid(x) is within half a step
#: (1/512) of 0 or 255/256 for |x| > 6.24, tanh(x) within half a step (1/256) of +-1 for |x| > 3.1
SIGMOID_INPUT_LIMIT = 6.5
TANH_INPUT_LIMIT = 3.5
#: the cell tensors given a measured range (:func:`measure_ranges`): per-gate input and recurrent
#: projections, the reset-gated recurrent candidate term, and the three pre-activations
RANGE_NAMES = ("x_z", "x_r", "x_h", "rec_z", "rec_r", "rec_h", "r_rec_h", "pre_z", "pre_r", "pre_h")
_LIMITS = {"pre_z": SIGMOID_INPUT_LIMIT, "pre_r": SIGMOID_INPUT_LIMIT, "pre_h": TANH_INPUT_LIMIT}


def fake_quant(x, value_range):
    """``x`` rounded to the 256-level grid over ``value_range`` (and clipped to it), as int8 would."""
    lo, hi = value_range
    return keras.quantizers.fake_quant_with_min_max_vars(x, float(lo), float(hi), num_bits=8, narrow_range=False)


@keras.saving.register_keras_serializable(package="hearsep")
class QuantGRUCell(keras.layers.GRUCell):
    """A ``GRUCell`` (``reset_after=True``, sigmoid/tanh) with int8 fake quantization: the state in
    and out, the gates and the candidate on their fixed grids always; with ``ranges`` (``{name:
    [min, max]}`` for :data:`RANGE_NAMES`, see :func:`measure_ranges`) the projections and
    pre-activations on those fixed ranges too. One matmul per gate (as GRUCell's
    ``implementation=1``), so each gate's pre-activation is its own tensor with its own int8
    scale. Same weights as ``GRUCell``; ``ranges`` is saved in the config."""

    def __init__(self, units, ranges=None, **kwargs):
        super().__init__(units, **kwargs)
        if not self.reset_after or self.dropout or self.recurrent_dropout:
            raise ValueError("QuantGRUCell: reset_after=True and no dropout")
        self.ranges = {k: [float(v[0]), float(v[1])] for k, v in (ranges or {}).items()}

    def get_config(self):
        return {**super().get_config(), "ranges": self.ranges}

    def _fq(self, name, x):
        r = self.ranges.get(name)
        return fake_quant(x, r) if r else x

    def call(self, inputs, states, training=False):
        ops = keras.ops
        nested = isinstance(states, (list, tuple))
        h_prev = fake_quant(states[0] if nested else states, STATE_RANGE)
        u = self.units
        x_z, x_r, x_h = (ops.matmul(inputs, self.kernel[:, i * u:(i + 1) * u]) for i in range(3))
        rec_z, rec_r, rec_h = (ops.matmul(h_prev, self.recurrent_kernel[:, i * u:(i + 1) * u]) for i in range(3))
        if self.use_bias:
            b_in, b_rec = self.bias[0], self.bias[1]
            x_z, x_r, x_h = x_z + b_in[:u], x_r + b_in[u:2 * u], x_h + b_in[2 * u:]
            rec_z, rec_r, rec_h = rec_z + b_rec[:u], rec_r + b_rec[u:2 * u], rec_h + b_rec[2 * u:]
        x_z, x_r, x_h = self._fq("x_z", x_z), self._fq("x_r", x_r), self._fq("x_h", x_h)
        rec_z, rec_r, rec_h = self._fq("rec_z", rec_z), self._fq("rec_r", rec_r), self._fq("rec_h", rec_h)
        z = fake_quant(ops.sigmoid(self._fq("pre_z", x_z + rec_z)), SIGMOID_RANGE)
        r = fake_quant(ops.sigmoid(self._fq("pre_r", x_r + rec_r)), SIGMOID_RANGE)
        hh = fake_quant(ops.tanh(self._fq("pre_h", x_h + self._fq("r_rec_h", r * rec_h))), TANH_RANGE)
        h = fake_quant(z * h_prev + (1.0 - z) * hh, STATE_RANGE)
        return h, ([h] if nested else h)


def gru_cell(units: int, name: str, qat: bool):
    """The GRU cell of the ``gru``/``gru-df`` core: :class:`QuantGRUCell` for QAT, else ``GRUCell``."""
    return QuantGRUCell(units, name=name) if qat else keras.layers.GRUCell(units, name=name)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def measure_ranges(sequence_model, features, layers: int, percentile: float = 99.99) -> dict[str, dict]:
    """Fixed int8 ranges of the GRU cells' tensors, measured on the float model.

    ``features``: normalised feature sequences ``[B, T, bins]`` (training mixtures). The encoder and
    every cell ``gru{i}_cell`` are run in numpy (float64) frame by frame; for each tensor of
    :data:`RANGE_NAMES` the range is ``[min(0, P_lo), max(0, P_hi)]`` with ``P`` the
    ``100 - percentile`` and ``percentile`` percentiles (a few outliers do not widen the grid for
    all other values; QAT then trains with those clips), and the pre-activations are clipped to
    the saturation limits (:data:`SIGMOID_INPUT_LIMIT`, :data:`TANH_INPUT_LIMIT`). Returns
    ``{cell name: {tensor name: [min, max]}}``.
    """
    out = {}
    for cell, seen in gru_tensors(sequence_model, features, layers):
        ranges = {}
        for name in RANGE_NAMES:
            v = seen[name].ravel()
            lo, hi = min(0.0, float(np.percentile(v, 100.0 - percentile))), max(0.0, float(np.percentile(v, percentile)))
            if name in _LIMITS:
                lo, hi = max(lo, -_LIMITS[name]), min(hi, _LIMITS[name])
            ranges[name] = [round(lo, 4), round(hi, 4)]
        out[cell.name] = ranges
    return out


def gru_tensors(sequence_model, features, layers: int):
    """The float GRU core in numpy (float64): for each cell ``gru{i}_cell``, ``(cell, {name:
    values [B, T, units]})`` for :data:`RANGE_NAMES` and ``"h"`` (its output sequence)."""
    x = np.asarray(features, np.float64)
    enc_w, enc_b = (np.asarray(w, np.float64) for w in sequence_model.get_layer("encoder").get_weights())
    x = np.maximum(x @ enc_w + enc_b, 0.0)
    out = []
    for i in range(layers):
        cell = sequence_model.get_layer(f"gru{i}").cell
        w, rw, b = (np.asarray(v, np.float64) for v in cell.get_weights())
        u = cell.units
        seen = {name: np.empty(x.shape[:2] + (u,)) for name in (*RANGE_NAMES, "h")}
        h = np.zeros((x.shape[0], u))
        xs = x @ w + b[0]
        for t in range(x.shape[1]):
            rec = h @ rw + b[1]
            xz, xr, xh = xs[:, t, :u], xs[:, t, u:2 * u], xs[:, t, 2 * u:]
            rz, rr, rh = rec[:, :u], rec[:, u:2 * u], rec[:, 2 * u:]
            pz, pr = xz + rz, xr + rr
            z, r = _sigmoid(pz), _sigmoid(pr)
            rrh = r * rh
            ph = xh + rrh
            h = z * h + (1.0 - z) * np.tanh(ph)
            for name, v in zip((*RANGE_NAMES, "h"), (xz, xr, xh, rz, rr, rh, rrh, pz, pr, ph, h)):
                seen[name][:, t] = v
        out.append((cell, seen))
        x = seen["h"]
    return out


def set_ranges(sequence_model, ranges: dict[str, dict]) -> None:
    """Give each :class:`QuantGRUCell` of ``sequence_model`` its measured ranges (by cell name)."""
    for layer in sequence_model.layers:
        cell = getattr(layer, "cell", None)
        if isinstance(cell, QuantGRUCell) and cell.name in ranges:
            cell.ranges = {k: [float(a), float(b)] for k, (a, b) in ranges[cell.name].items()}
