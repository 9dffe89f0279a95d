"""One family of exceptions for every invalid input hearsep can meet.

The CLI turns any :class:`HearsepError` into a one-line message and a non-zero exit code;
library code raises them and never prints.
"""


class HearsepError(Exception):
    """Base class: something the user gave us is not usable. The message says what and why."""

    exit_code = 2


class AudioError(HearsepError):
    """An audio file is missing, unreadable, empty, or holds non-finite samples."""


class ModelError(HearsepError):
    """A model file is missing, is not TFLite, or lacks/contradicts its hearsep contract."""


class ConfigError(HearsepError):
    """A configuration (TOML, CLI value) is invalid."""


class QuantizationError(HearsepError):
    """A model cannot be quantized as asked (the message names the layer and the fix)."""


class OutputError(HearsepError):
    """An output path cannot be written."""


class LiveAudioError(HearsepError):
    """Live audio cannot run as asked: no PortAudio library, no such device, a rate it cannot open."""


class PowerSourceError(HearsepError):
    """A power/energy source is unknown, unreadable, or stopped answering (profiling)."""
