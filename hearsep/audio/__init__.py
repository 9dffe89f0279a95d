"""Audio in and out: files (whole or in constant-memory blocks, atomic writes), resampling,
finding audio on disk (:mod:`~hearsep.audio.sources`) and mixing speech with noise (:mod:`~hearsep.audio.mix`).

Audio is float32 in [-1, 1], shape ``(samples,)`` or ``(channels, samples)``, with its sample
rate in Hz alongside. Importing this package loads neither soundfile nor scipy.
"""

from hearsep.audio.io import (AudioInfo, AudioWriter, audio_info, check_audio_output, read_audio, read_blocks,
                              write_audio)
from hearsep.audio.mix import Mixed, mix_at_snr, rms_dbfs
from hearsep.audio.resample import StreamingResampler
from hearsep.audio.sources import AUDIO_SUFFIXES, audio_files, read_manifest

__all__ = ["AUDIO_SUFFIXES", "AudioInfo", "AudioWriter", "Mixed", "StreamingResampler", "audio_files", "audio_info",
           "check_audio_output", "mix_at_snr", "read_audio", "read_blocks", "read_manifest", "rms_dbfs",
           "write_audio"]
