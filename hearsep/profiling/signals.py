"""The speech-like test signal for profiling, so a profile needs no recording.

Cost per hop barely depends on the audio for a recurrent separator, but a hearing-aid chain's
compressors and limiter do work that depends on level, so the input should move like speech.
The generator lives in :mod:`hearsep.audio.synthetic` (the one place); this name is kept for the
profiler, the self-test and the live tools: :func:`speech_like_mixture` (speech RMS -26 dBFS,
white noise at 5 dB SNR by default; float32, deterministic for a seed).
"""

from hearsep.audio.synthetic import speech_like_mixture

__all__ = ["speech_like_mixture"]
