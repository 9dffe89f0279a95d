"""``hearsep selftest`` on the target board: can this machine run hearsep live, with margin?

Checks, in order (later ones need the model):

1. ``model``: the model loads in the interpreter (with ``delegate``: on the accelerator, which
   only succeeds for an Edge-TPU-compiled model) and its tensors match its contract;
2. ``preset`` (if given): it loads, validates, resolves ``program`` and builds the chain;
3. ``audio``: PortAudio (sounddevice) lists at least one input and one output device;
4. ``realtime``: a short unpaced run of the enhancer (and chain) at the model's hop; it passes
   when the p99.9 per-hop time leaves at least ``margin`` of the hop free
   (``1 - p999 / hop >= margin``: the rest is for the audio callback, the OS and other work).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from hearsep.errors import HearsepError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def _portaudio_devices() -> list:
    from hearsep.live import list_devices

    return list_devices()[1]


def audio_check(list_devices: Callable[[], list] = _portaudio_devices) -> Check:
    """PortAudio sees at least one input and one output device (``hearsep.live.list_devices``:
    objects with ``name``, ``max_input_channels``, ``max_output_channels``)."""
    try:
        devices = list_devices()
    except HearsepError as exc:
        return Check("audio", False, str(exc))
    ins = [d.name for d in devices if d.max_input_channels > 0]
    outs = [d.name for d in devices if d.max_output_channels > 0]
    detail = (f"{len(ins)} input device(s) ({', '.join(ins[:3]) or 'none'}), "
              f"{len(outs)} output device(s) ({', '.join(outs[:3]) or 'none'}); `hearsep devices` lists them")
    return Check("audio", bool(ins and outs), detail)


def run_selftest(model=None, preset=None, program: str | None = None, delegate: str | None = None,
                 seconds: float = 2.0, margin: float = 0.5, check_audio: bool = True,
                 list_devices: Callable[[], list] = _portaudio_devices) -> list[Check]:
    """All checks as :class:`Check` objects (a failed check never raises)."""
    from hearsep.model.paths import resolve_model
    from hearsep.runtime.build import preset_chain
    from hearsep.profiling.profile import profile_enhancer
    from hearsep.profiling.signals import speech_like_mixture
    from hearsep.runtime.enhancer import StreamingEnhancer
    from hearsep.runtime.separator import TFLiteSeparator

    checks: list[Check] = []
    sep = None
    try:
        path = resolve_model(model)
        sep = TFLiteSeparator(path, delegate=delegate)
        c = sep.contract
        checks.append(Check("model", True, f"{path} loads{' on ' + delegate if delegate else ''} and matches its contract: "
                                           f"{c.sample_rate_hz} Hz, hop {c.hop_samples} samples "
                                           f"({1000 * c.hop_samples / c.sample_rate_hz:g} ms), latency "
                                           f"{1000 * c.latency_samples / c.sample_rate_hz:g} ms"))
    except HearsepError as exc:
        checks.append(Check("model", False, str(exc)))
    chain = None
    if preset is not None:
        if sep is None:
            checks.append(Check("preset", False, "not checked: the chain is built for the model's frame, and the model failed"))
        else:
            try:
                chain = preset_chain(preset, program, sep.contract)
                checks.append(Check("preset", True, f"{preset} validates; program {program or '(first)'} resolves "
                                                    f"and builds the chain (look-ahead {chain.latency_samples} samples)"))
            except HearsepError as exc:
                checks.append(Check("preset", False, str(exc)))
    if check_audio:
        checks.append(audio_check(list_devices))
    if sep is None or (preset is not None and chain is None):
        checks.append(Check("realtime", False, "not run: the model or preset failed"))
        return checks
    enhancer = StreamingEnhancer(sep.contract, sep, chain)
    s = profile_enhancer(enhancer, speech_like_mixture(seconds, sep.contract.sample_rate_hz), invoke_calls=0).summary
    free = 1.0 - s["p999_us"] / s["hop_us"]
    checks.append(Check("realtime", free >= margin,
                        f"p99.9 {s['p999_us']:.0f} µs of a {s['hop_us']:.0f} µs hop ({100 * free:.0f}% free, "
                        f"need >= {100 * margin:.0f}%); p50 {s['p50_us']:.0f} µs, max {s['max_us']:.0f} µs, "
                        f"RTF {s['rtf']:.3f} over {s['audio_s']:.1f} s"))
    return checks
