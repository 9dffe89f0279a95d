"""Separator architectures, chosen by name, each in two forms that share one set of weights.

* ``sequence(bins)``: the training model, features ``[B, T, bins]`` -> mask ``[B, T, bins]`` (causal).
* ``step(sequence_model, int8=False)``: the streaming model the runtime runs, built from the *same layer
  objects*: inputs ``features [1, 1, bins]`` and one input per state; outputs ``mask [1, 1, bins]``
  and ``<state>_out`` per state. ``int8=True`` gives the form exported as full-integer int8 (the
  GRU state update of :mod:`hearsep.nn.gru_step`; float exports use the default form). Static
  shapes, batch 1, no while loop, no ``LayerNormalization`` and no ``log`` inside (features are
  normalised outside), so int8 conversion keeps only FULLY_CONNECTED / CONV / LOGISTIC / TANH /
  MUL / ADD style ops.

Registered: ``gru`` (Dense -> GRU x L -> Dense(sigmoid), a real mask), ``gru-df`` (the same core
with a phase-aware head: a complex mask or a deep filter, see :class:`GRUDeepFilter`) and ``tcn``
(causal dilated 1-D convolutions with an explicit frame-buffer state per layer). Add one with
:func:`register`. Each architecture says how its output is applied (:meth:`Architecture.output_spec`,
the contract's ``mask_kind``; maths in :mod:`hearsep.runtime.outputs` and :func:`hearsep.nn.dsp.apply_mask`).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from hearsep.errors import ConfigError
from hearsep.nn.gru_step import DIFF_RANGE, GRUStepCell
from hearsep.nn.qat import QuantGRUCell, gru_cell  # also registers QuantGRUCell for keras.models.load_model

FEATURES = "features"
MASK = "mask"
TAPS = "df_taps"  # the taps output of a split deep-filter or complex head (contract taps_output)


@dataclass(frozen=True)
class StateSpec:
    """A state tensor of the step model: input signature name, output name, shape (batch 1)."""

    input: str
    output: str
    shape: tuple[int, ...]


class Architecture:
    """Base class: subclasses set ``name`` and implement :meth:`sequence` and :meth:`step`."""

    name = ""

    def __init__(self, **params):
        self.params = params

    def sequence(self, bins: int) -> keras.Model:
        raise NotImplementedError

    def step(self, sequence_model: keras.Model, int8: bool = False) -> tuple[keras.Model, list[StateSpec]]:
        """The step model; ``int8``: the form for full-integer int8 conversion (same weights, same
        float maths up to the fixed grids it pins; see :mod:`hearsep.nn.gru_step`)."""
        raise NotImplementedError

    def output_spec(self) -> dict:
        """``{"mask_kind", "df_order", "df_bins"}`` of the output (contract fields); a real mask here."""
        return {"mask_kind": "real", "df_order": 0, "df_bins": 0}

    def describe(self, bins: int) -> str:
        """One line for a model card: the layers per frame and what the output is."""
        raise NotImplementedError


_REGISTRY: dict[str, type[Architecture]] = {}


def register(cls: type[Architecture]) -> type[Architecture]:
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    return sorted(_REGISTRY)


def get(name: str, **params) -> Architecture:
    """The architecture ``name`` with its hyper-parameters; unknown names/params raise ConfigError."""
    if name not in _REGISTRY:
        raise ConfigError(f"unknown architecture {name!r} (known: {', '.join(names())})")
    cls = _REGISTRY[name]
    unknown = set(params) - set(cls.defaults)
    if unknown:
        raise ConfigError(f"architecture {name!r}: unknown parameters {sorted(unknown)} (known: {sorted(cls.defaults)})")
    return cls(**{**cls.defaults, **params})


def float_twin(arch: Architecture, sequence_model: keras.Model) -> tuple[Architecture, keras.Model]:
    """A QAT model's float twin: the same architecture with ``qat`` off and the same weights (the
    float reference of its int8 export); a model without QAT is returned as it is."""
    if not arch.params.get("qat"):
        return arch, sequence_model
    twin = get(arch.name, **{**arch.params, "qat": False})
    model = twin.sequence(sequence_model.input_shape[-1])
    model.set_weights(sequence_model.get_weights())
    return twin, model


def _step_inputs(bins: int, states: list[StateSpec]):
    feats = keras.Input((1, bins), batch_size=1, name=FEATURES)
    state_inputs = [keras.Input(s.shape[1:], batch_size=1, name=s.input) for s in states]
    return feats, state_inputs


def _gru_stack(x, p: dict):
    """The stacked GRU core of the training (sequence) model, shared by ``gru`` and ``gru-df``."""
    for i in range(p["layers"]):
        cell = gru_cell(p["units"], f"gru{i}_cell", bool(p.get("qat", False)))
        x = keras.layers.RNN(cell, return_sequences=True, name=f"gru{i}")(x)
    return x


def _gru_step_core(sequence_model, p: dict, int8: bool = False):
    """One frame through the sequence model's encoder and GRU cells (weights shared), state in
    and out: returns ``(states, feats, state_inputs, x, state_outputs)``. ``int8``: plain cells run
    as :class:`~hearsep.nn.gru_step.GRUStepCell` with ``h - c`` pinned to
    :data:`~hearsep.nn.gru_step.DIFF_RANGE` (the int8 export form); QAT cells always run as they are."""
    bins = sequence_model.input_shape[-1]
    states = [StateSpec(f"state_{i}", f"state_{i}_out", (1, p["units"])) for i in range(p["layers"])]
    feats, state_inputs = _step_inputs(bins, states)
    x = keras.layers.Reshape((bins,), name="squeeze")(feats)
    x = sequence_model.get_layer("encoder")(x)
    outs = {}
    for i, h in enumerate(state_inputs):
        cell = sequence_model.get_layer(f"gru{i}").cell
        if int8 and not isinstance(cell, QuantGRUCell):
            x = GRUStepCell(cell, DIFF_RANGE, name=f"gru{i}_step")(x, h)
        else:
            x, _ = cell(x, h)
        outs[states[i].output] = x
    return states, feats, state_inputs, x, outs


@register
class GRUMask(Architecture):
    """Dense(relu) -> ``layers`` x GRU(``units``) -> Dense(bins, sigmoid): a real mask per bin.

    The GRUs are ``keras.layers.RNN(GRUCell)`` so the step model can call the very same cells
    once per frame (state = the cell's hidden vector ``[1, units]``). ``qat = true``: the cells
    are :class:`hearsep.nn.qat.QuantGRUCell` (quantization-aware training; same weights).
    """

    name = "gru"
    defaults = {"units": 128, "input_units": 128, "layers": 2, "qat": False}

    def describe(self, bins: int) -> str:
        p = self.params
        return (f"Dense({p['input_units']}, relu) -> {p['layers']} x GRU({p['units']}) -> Dense({bins}, sigmoid) "
                "= a real gain per bin")

    def sequence(self, bins: int) -> keras.Model:
        p = self.params
        x_in = keras.Input((None, bins), name=FEATURES)
        x = keras.layers.Dense(p["input_units"], activation="relu", name="encoder")(x_in)
        x = _gru_stack(x, p)
        mask = keras.layers.Dense(bins, activation="sigmoid", name=MASK)(x)
        return keras.Model(x_in, mask, name="gru_sequence")

    def step(self, sequence_model: keras.Model, int8: bool = False):
        p = self.params
        bins = sequence_model.input_shape[-1]
        states, feats, state_inputs, x, outs = _gru_step_core(sequence_model, p, int8)
        mask = keras.layers.Reshape((1, bins), name="unsqueeze")(sequence_model.get_layer(MASK)(x))
        model = keras.Model([feats, *state_inputs], {MASK: mask, **outs}, name="gru_step")
        return model, states


@register
class GRUDeepFilter(GRUMask):
    """The ``gru`` core with a phase-aware head; ``output`` picks the contract mask kind.

    * ``deep-filter``: gains ``Dense(bins, sigmoid)`` on every bin plus complex taps
      ``tap_scale * tanh(Dense(2 * df_order * df_bins))`` over the current and ``df_order - 1``
      past frames on the lowest ``df_bins`` bins (DeepFilterNet-style deep filtering, Schroeter et
      al. 2022; ``df_bins = 80`` is 5 kHz at 62.5 Hz per bin). No look-ahead: no added latency.
    * ``complex``: a complex ratio mask ``[g + tap_scale * tanh(a), tap_scale * tanh(b)]``.

    The gain layer is called ``mask`` as in ``gru``, and the tap layer starts at zero, so a ``gru``
    model's weights (``model.init_from``) give exactly the real-mask model at step 0. The sequence
    model concatenates gains and taps (the contract's layout). With ``split_taps`` (the default)
    the step model's ``mask`` output holds the first ``bins`` values (the gains; for ``complex``
    the real parts) and ``df_taps`` the rest (contract ``taps_output``), so int8 gives each its own
    scale; ``split_taps = false`` concatenates them as the sequence model does. One int8 tensor for
    both is wrong either way: with a shared scale set by the taps' range it cost a deep-filter
    model 1.8 dB SI-SDRi (tools/results/gru-df-head_2026-12-02/README.md), and with the gains'
    fixed sigmoid grid ``[0, 255/256]`` (what TF 2.21 gave gru-df-long) every negative tap is
    clipped to 0 (:func:`hearsep.quantize.convert.check_output_ranges` now refuses that). Only the
    exported step graph changes: a model trained without it can be exported with it. In int8 the
    ``tanh`` before the taps has TFLite's fixed 1/128 output grid, so the taps get no finer than
    ``tap_scale / 128`` either way.
    """

    name = "gru-df"
    defaults = {"units": 128, "input_units": 128, "layers": 2, "output": "deep-filter", "df_order": 3,
                "df_bins": 80, "tap_scale": 0.5, "qat": False, "split_taps": True}

    def _check(self, bins: int) -> None:
        p = self.params
        if p["output"] not in ("deep-filter", "complex"):
            raise ConfigError(f"gru-df: output must be 'deep-filter' or 'complex', not {p['output']!r}")
        if p["output"] == "deep-filter" and not (p["df_order"] >= 1 and 1 <= p["df_bins"] <= bins):
            raise ConfigError(f"gru-df: need df_order >= 1 and 1 <= df_bins <= {bins}")

    def describe(self, bins: int) -> str:
        p = self.params
        core = f"Dense({p['input_units']}, relu) -> {p['layers']} x GRU({p['units']}) -> "
        if p["output"] == "complex":
            return core + (f"Dense({bins}, sigmoid) + {p['tap_scale']} x tanh(Dense({2 * bins})) = a complex mask "
                           "per bin (real part: gain + residual, imaginary part)")
        return core + (f"Dense({bins}, sigmoid) = a real gain per bin, and {p['tap_scale']} x tanh(Dense("
                       f"{self._taps(bins)})) = complex deep-filter taps over the current and {p['df_order'] - 1} past "
                       f"frames on the lowest {p['df_bins']} bins, added to the gained spectrum")

    def output_spec(self) -> dict:
        p = self.params
        taps = {"taps_output": TAPS} if p["split_taps"] else {}
        if p["output"] == "complex":
            return {"mask_kind": "complex", "df_order": 0, "df_bins": 0, **taps}
        return {"mask_kind": "deep-filter", "df_order": int(p["df_order"]), "df_bins": int(p["df_bins"]), **taps}

    def _taps(self, bins: int) -> int:
        p = self.params
        return 2 * bins if p["output"] == "complex" else 2 * p["df_order"] * p["df_bins"]

    def _head(self, x, bins: int, layers: dict | None = None, split: bool = False):
        """Gains and taps from the core output ``x``, concatenated in the contract's layout, or
        (``split``) as the two parts ``(values[:bins], values[bins:])`` of that layout."""
        p = self.params
        get = (lambda name, make: layers[name]) if layers else (lambda name, make: make())
        gains = get(MASK, lambda: keras.layers.Dense(bins, activation="sigmoid", name=MASK))(x)
        taps = get("df_taps", lambda: keras.layers.Dense(self._taps(bins), activation="tanh", name="df_taps",
                                                        kernel_initializer="zeros"))(x)
        taps = keras.layers.Rescaling(p["tap_scale"])(taps)
        if p["output"] == "complex":
            taps_re, taps_im = keras.ops.split(taps, 2, axis=-1)
            gains, taps = keras.layers.Add()([gains, taps_re]), taps_im
        if split:
            return gains, taps
        return keras.layers.Concatenate(axis=-1)([gains, taps])

    def sequence(self, bins: int) -> keras.Model:
        self._check(bins)
        p = self.params
        x_in = keras.Input((None, bins), name=FEATURES)
        x = keras.layers.Dense(p["input_units"], activation="relu", name="encoder")(x_in)
        x = _gru_stack(x, p)
        return keras.Model(x_in, self._head(x, bins), name="gru_df_sequence")

    def step(self, sequence_model: keras.Model, int8: bool = False):
        p = self.params
        bins = sequence_model.input_shape[-1]
        states, feats, state_inputs, x, outs = _gru_step_core(sequence_model, p, int8)
        head = {name: sequence_model.get_layer(name) for name in (MASK, "df_taps")}
        if p["split_taps"]:
            gains, taps = self._head(x, bins, head, split=True)
            heads = {MASK: keras.layers.Reshape((1, bins), name="unsqueeze")(gains),
                     TAPS: keras.layers.Reshape((1, taps.shape[-1]), name="unsqueeze_taps")(taps)}
        else:
            y = self._head(x, bins, head)
            heads = {MASK: keras.layers.Reshape((1, y.shape[-1]), name="unsqueeze")(y)}
        model = keras.Model([feats, *state_inputs], {**heads, **outs}, name="gru_df_step")
        return model, states


@register
class TCNMask(Architecture):
    """Dense -> ``blocks`` residual causal dilated Conv1D(kernel, dilation 2^i) -> Dense(sigmoid).

    Causality in the sequence model is a left ZeroPadding1D before a ``valid`` convolution, so
    the step model can apply the same Conv1D layer to ``concat(buffer, x)`` (length
    ``(kernel-1)*dilation + 1``) and get exactly one output frame. Each block's state is its
    input history ``[1, (kernel-1)*dilation, channels]``.
    """

    name = "tcn"
    defaults = {"channels": 96, "kernel": 3, "blocks": 6}

    def describe(self, bins: int) -> str:
        p = self.params
        return (f"Dense({p['channels']}, relu) -> {p['blocks']} x residual causal Conv1D({p['channels']}, "
                f"kernel {p['kernel']}, dilation 2^i) -> Dense({bins}, sigmoid) = a real gain per bin")

    def _history(self, i: int) -> int:
        return (self.params["kernel"] - 1) * (2 ** i)

    def sequence(self, bins: int) -> keras.Model:
        p = self.params
        x_in = keras.Input((None, bins), name=FEATURES)
        x = keras.layers.Dense(p["channels"], activation="relu", name="encoder")(x_in)
        for i in range(p["blocks"]):
            y = keras.layers.ZeroPadding1D((self._history(i), 0), name=f"pad{i}")(x)
            y = keras.layers.Conv1D(p["channels"], p["kernel"], dilation_rate=2 ** i, activation="relu",
                                    name=f"conv{i}")(y)
            x = keras.layers.Add(name=f"res{i}")([x, y])
        mask = keras.layers.Dense(bins, activation="sigmoid", name=MASK)(x)
        return keras.Model(x_in, mask, name="tcn_sequence")

    def step(self, sequence_model: keras.Model, int8: bool = False):
        p = self.params
        bins = sequence_model.input_shape[-1]
        states = [StateSpec(f"state_{i}", f"state_{i}_out", (1, self._history(i), p["channels"]))
                  for i in range(p["blocks"])]
        feats, state_inputs = _step_inputs(bins, states)
        x = sequence_model.get_layer("encoder")(feats)  # [1, 1, C]
        outs = {}
        for i, buf in enumerate(state_inputs):
            full = keras.layers.Concatenate(axis=1, name=f"history{i}")([buf, x])
            outs[states[i].output] = keras.layers.Cropping1D((1, 0), name=f"shift{i}")(full)
            y = sequence_model.get_layer(f"conv{i}")(full)  # valid conv -> [1, 1, C]
            x = keras.layers.Add(name=f"step_res{i}")([x, y])
        mask = sequence_model.get_layer(MASK)(x)
        model = keras.Model([feats, *state_inputs], {MASK: mask, **outs}, name="tcn_step")
        return model, states
