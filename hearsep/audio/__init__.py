"""Audio in and out: files (whole or in constant-memory blocks, atomic writes) and resampling.

Audio is float32 in [-1, 1], shape ``(samples,)`` or ``(channels, samples)``, with its sample
rate in Hz alongside. Importing this package loads neither soundfile nor scipy.
"""

from hearsep.audio.io import (AudioInfo, AudioWriter, audio_info, check_audio_output, read_audio, read_blocks,
                              write_audio)
from hearsep.audio.resample import StreamingResampler, resample

__all__ = ["AudioInfo", "AudioWriter", "StreamingResampler", "audio_info", "check_audio_output", "read_audio",
           "read_blocks", "resample", "write_audio"]
