"""Separator architectures, chosen by name, each in two forms that share one set of weights.

* ``sequence(bins)``: the training model, features ``[B, T, bins]`` -> mask ``[B, T, bins]`` (causal).
* ``step(sequence_model)``: the streaming model the runtime runs, built from the *same layer
  objects*: inputs ``features [1, 1, bins]`` and one input per state; outputs ``mask [1, 1, bins]``
  and ``<state>_out`` per state. Static shapes, batch 1, no while loop, no ``LayerNormalization``
  and no ``log`` inside (features are normalised outside), so int8 conversion keeps only
  FULLY_CONNECTED / CONV / LOGISTIC / TANH / MUL / ADD style ops.

Registered: ``gru`` (Dense -> GRU x L -> Dense(sigmoid), the low-latency default) and ``tcn``
(causal dilated 1-D convolutions with an explicit frame-buffer state per layer). Add one with
:func:`register`.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from hearsep.errors import ConfigError

FEATURES = "features"
MASK = "mask"


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

    def step(self, sequence_model: keras.Model) -> tuple[keras.Model, list[StateSpec]]:
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


def _step_inputs(bins: int, states: list[StateSpec]):
    feats = keras.Input((1, bins), batch_size=1, name=FEATURES)
    state_inputs = [keras.Input(s.shape[1:], batch_size=1, name=s.input) for s in states]
    return feats, state_inputs


@register
class GRUMask(Architecture):
    """Dense(relu) -> ``layers`` x GRU(``units``) -> Dense(bins, sigmoid): a real mask per bin.

    The GRUs are ``keras.layers.RNN(GRUCell)`` so the step model can call the very same cells
    once per frame (state = the cell's hidden vector ``[1, units]``).
    """

    name = "gru"
    defaults = {"units": 128, "input_units": 128, "layers": 2}

    def sequence(self, bins: int) -> keras.Model:
        p = self.params
        x_in = keras.Input((None, bins), name=FEATURES)
        x = keras.layers.Dense(p["input_units"], activation="relu", name="encoder")(x_in)
        for i in range(p["layers"]):
            cell = keras.layers.GRUCell(p["units"], name=f"gru{i}_cell")
            x = keras.layers.RNN(cell, return_sequences=True, name=f"gru{i}")(x)
        mask = keras.layers.Dense(bins, activation="sigmoid", name=MASK)(x)
        return keras.Model(x_in, mask, name="gru_sequence")

    def step(self, sequence_model: keras.Model):
        p = self.params
        bins = sequence_model.input_shape[-1]
        states = [StateSpec(f"state_{i}", f"state_{i}_out", (1, p["units"])) for i in range(p["layers"])]
        feats, state_inputs = _step_inputs(bins, states)
        x = keras.layers.Reshape((bins,), name="squeeze")(feats)
        x = sequence_model.get_layer("encoder")(x)
        outs = {}
        for i, h in enumerate(state_inputs):
            cell = sequence_model.get_layer(f"gru{i}").cell
            x, _ = cell(x, h)
            outs[states[i].output] = x
        mask = keras.layers.Reshape((1, bins), name="unsqueeze")(sequence_model.get_layer(MASK)(x))
        model = keras.Model([feats, *state_inputs], {MASK: mask, **outs}, name="gru_step")
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

    def step(self, sequence_model: keras.Model):
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
