"""From ``--model/--preset/--program`` to a ready mono :class:`StreamingEnhancer`.

The one place where the runtime composes the separator with the hearing-aid chain that a preset
configures (``hearsep.fitting.load_chain_params`` -> ``hearsep.chain.build_chain``). The file
path (``hearsep enhance``), the live runner, the profiler and the self test all build through it.
"""

from __future__ import annotations

from pathlib import Path

from hearsep.runtime.enhancer import HopChain, StreamingEnhancer


def preset_chain(preset: str | Path | None, program: str | None, contract) -> HopChain | None:
    """The hearing-aid chain that ``preset`` (TOML path or ``example:NAME``) and ``program``
    configure in ``contract``'s STFT frame; ``None`` without a preset."""
    from hearsep.fitting import load_chain_params

    params = load_chain_params(preset, program)
    if params is None:
        return None
    from hearsep.chain import build_chain

    return build_chain(params, contract)


def make_enhancer(model: str | Path | None = None, preset: str | Path | None = None, program: str | None = None,
                  *, num_threads: int = 1, delegate: str | None = None) -> StreamingEnhancer:
    """A mono :class:`StreamingEnhancer` (model rate) for ``model`` (default: the shipped one,
    on ``delegate`` such as ``"edgetpu"`` if given) with the preset's chain after the separator
    (none without a preset)."""
    from hearsep.model.paths import resolve_model
    from hearsep.runtime.separator import TFLiteSeparator

    separator = TFLiteSeparator(resolve_model(model), num_threads=num_threads, delegate=delegate)
    return StreamingEnhancer(separator.contract, separator, preset_chain(preset, program, separator.contract))
