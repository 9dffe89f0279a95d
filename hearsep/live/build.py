"""From command-line choices to a ready :class:`LiveProcessor`: model, preset chain, device rate.

The one place that turns ``--model/--preset/--program/--rate`` into the object the live runner,
the loopback latency measurement and the soak benchmark all use. The preset configures the
chain (``hearsep.fitting.load_preset(path).resolve(program) -> ChainParams``, then
``hearsep.chain.build_chain(params, contract)``).
"""

from __future__ import annotations

from pathlib import Path

from hearsep.live.callback import LiveProcessor


def load_chain_params(preset: str | Path | None, program: str | None = None):
    """The :class:`hearsep.chain.ChainParams` of ``preset`` (a TOML path, or ``example:NAME`` for
    :func:`hearsep.fitting.example_preset` of a Bisgaard audiogram, e.g. ``example:N3``) and
    ``program``; ``None`` without a preset. Invalid presets raise ``ConfigError``."""
    if preset is None:
        if program is not None:
            from hearsep.errors import ConfigError

            raise ConfigError("--program needs --preset (a program is a set of overrides inside a preset)")
        return None
    from hearsep.fitting import example_preset, load_preset

    text = str(preset)
    loaded = example_preset(text.split(":", 1)[1]) if text.startswith("example:") else load_preset(text)
    return loaded.resolve(program)


def preset_chain(preset: str | Path | None, program: str | None, contract):
    """The hearing-aid chain (a ``HopChain``) that ``preset``/``program`` configure for
    ``contract``'s STFT frame; ``None`` without a preset."""
    params = load_chain_params(preset, program)
    if params is None:
        return None
    from hearsep.chain import build_chain

    return build_chain(params, contract)


def make_enhancer(model: str | Path | None = None, preset: str | Path | None = None, program: str | None = None,
                  *, num_threads: int = 1):
    """A :class:`hearsep.runtime.enhancer.StreamingEnhancer` for ``model`` (default: the shipped
    one) with the preset's hearing-aid chain after the separator (none without a preset)."""
    from hearsep.model.paths import resolve_model
    from hearsep.runtime.enhancer import StreamingEnhancer
    from hearsep.runtime.separator import TFLiteSeparator

    separator = TFLiteSeparator(resolve_model(model), num_threads=num_threads)
    return StreamingEnhancer(separator.contract, separator, preset_chain(preset, program, separator.contract))


def make_processor(model: str | Path | None = None, preset: str | Path | None = None, program: str | None = None,
                   *, device_rate_hz: int | None = None, resample: bool = True, budget_fraction: float | None = 0.75,
                   num_threads: int = 1, hop_log_hops: int = 0, passthrough: bool = False) -> LiveProcessor:
    """The live callback for these choices. ``device_rate_hz`` None means the model's rate;
    ``passthrough`` builds the instrumented copy-through callback (no model) instead."""
    if passthrough:
        return LiveProcessor(None, device_rate_hz=device_rate_hz or 16000)
    enhancer = make_enhancer(model, preset, program, num_threads=num_threads)
    return LiveProcessor(enhancer, device_rate_hz=device_rate_hz, resample=resample,
                         budget_fraction=budget_fraction, hop_log_hops=hop_log_hops)
