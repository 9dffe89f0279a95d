"""The GRU step for full-integer int8 export: the same cell, its state update written so int8 keeps it.

A Keras ``GRUCell`` (``reset_after=True``) computes, per frame (Cho et al. 2014; Keras' form)::

    z = sigmoid(x W_z + b_z + h U_z + c_z)          update gate
    r = sigmoid(x W_r + b_r + h U_r + c_r)          reset gate
    c = tanh(x W_h + b_h + r * (h U_h + c_h))       candidate
    h' = z * h + (1 - z) * c                        (1)

Converted to full-integer TFLite, (1) becomes four int8 tensors: ``1 - z`` (SUB), ``z * h`` and
``(1 - z) * c`` (MUL, each rounded to its own grid of about 1/128) and their sum. At 500 frames/s
many units are slow (z near 1), and their per-frame change is below half a state step. On
``models/default`` that graph loses 0.40 dB SI-SDRi against float; a float model that rounds only
its state to the same int8 grid loses most of that too (``tools/results/int8_gap_2026-12-02``).

:class:`GRUStepCell` computes the same gates from the same weight variables and writes (1) as::

    h' = c + z * d,   d = h - c                     (2)

which equals (1) exactly in real arithmetic. For the int8 graph, ``d`` is pinned by a FakeQuant
op to the fixed grid :data:`DIFF_RANGE` (scale 1/32, zero point 0: ``d`` lies in [-2, 2], so
the grid is four steps of the TANH output's 1/128 and uses half of the 256 levels). On the shipped
model's 100 dev mixtures this int8 graph scores 0.04 dB SI-SDRi and 0.007 PESQ *above* float,
where (1) is 0.40 dB and 0.036 below; (2) with ``d`` on its calibrated grid recovers much less (figures,
other grids and the state drift in ``tools/results/int8_gap_2026-12-02/README.md``). That is an
end-metric result, not fidelity: this int8 model's state and mask are *further* from float's than
(1)'s (state RMSE 0.19 vs 0.14, mask RMSE 0.12 vs 0.08 over 10 of those mixtures); its state codes
change more often (held in 28 % of unit-frames vs 38 %). Why that scores better is not settled
(the results README gives the lead).

Float exports keep the plain cell (bit-identical to before); only the int8 step model
(``Architecture.step(model, int8=True)``) uses this layer. QAT cells (:mod:`hearsep.nn.qat`)
are left as they are: their own fake quantization defines their int8 graph.
"""

from __future__ import annotations

import keras

#: fixed int8 grid (min, max) of ``d = h - c`` in the int8 step graph: scale 1/32, zero point 0
DIFF_RANGE = (-4.0, 4.0 * 127.0 / 128.0)


class GRUStepCell(keras.layers.Layer):
    """One frame of a ``keras.layers.GRUCell`` (``reset_after=True``, sigmoid/tanh, no dropout) with
    the state update written as ``h' = c + z * (h - c)``; the cell's own weight variables are used
    (nothing is copied). ``diff_range``: ``(min, max)`` of the FakeQuant that pins ``h - c`` for
    int8 conversion (:data:`DIFF_RANGE`); ``None``: no FakeQuant (the float maths of the cell)."""

    def __init__(self, cell, diff_range=None, **kwargs):
        super().__init__(**kwargs)
        if not cell.reset_after or cell.dropout or cell.recurrent_dropout:
            raise ValueError("GRUStepCell: the cell needs reset_after=True and no dropout")
        self.cell = cell
        self.diff_range = None if diff_range is None else (float(diff_range[0]), float(diff_range[1]))

    def call(self, inputs, state):
        ops = keras.ops
        cell, u = self.cell, self.cell.units
        xs = ops.matmul(inputs, cell.kernel)
        rs = ops.matmul(state, cell.recurrent_kernel)
        if cell.use_bias:
            xs, rs = xs + cell.bias[0], rs + cell.bias[1]
        z = cell.recurrent_activation(xs[:, :u] + rs[:, :u])
        r = cell.recurrent_activation(xs[:, u:2 * u] + rs[:, u:2 * u])
        c = cell.activation(xs[:, 2 * u:] + r * rs[:, 2 * u:])
        d = state - c
        if self.diff_range is not None:
            lo, hi = self.diff_range
            d = keras.quantizers.fake_quant_with_min_max_vars(d, lo, hi, num_bits=8, narrow_range=False)
        return c + z * d

    def compute_output_shape(self, inputs_shape, state_shape):
        return (inputs_shape[0], self.cell.units)
