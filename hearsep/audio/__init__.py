"""Audio in and out: files (whole or in constant-memory blocks, atomic writes), resampling,
finding audio on disk (:mod:`~hearsep.audio.sources`), mixing speech with noise (:mod:`~hearsep.audio.mix`) and
synthetic speech-like audio for tests, profiling and calibration (:mod:`~hearsep.audio.synthetic`).

Audio is float32 in [-1, 1], shape ``(samples,)`` or ``(channels, samples)``, with its sample
rate in Hz alongside. Importing this package loads neither soundfile nor scipy.
"""

from hearsep.audio.io import (AudioInfo, AudioWriter, audio_info, check_audio_output, read_audio, read_blocks,
                              write_audio)
from hearsep.audio.mix import Mixed, mix_at_snr, rms_dbfs
from hearsep.audio.resample import StreamingResampler
from hearsep.audio.sources import AUDIO_SUFFIXES, audio_files, read_manifest
from hearsep.audio.synthetic import noise_like, speech_like, speech_like_mixture

__all__ = ["AUDIO_SUFFIXES", "AudioInfo", "AudioWriter", "Mixed", "StreamingResampler", "audio_files", "audio_info",
           "check_audio_output", "mix_at_snr", "noise_like", "read_audio", "read_blocks", "read_manifest", "rms_dbfs",
           "speech_like", "speech_like_mixture", "write_audio"]
