"""Audio files in and out (wav/flac/ogg via soundfile) and sample-rate conversion.

Audio is ``float32`` in [-1, 1], shape ``(channels, samples)``; the sample rate (Hz) travels with
it. Writing is atomic: a temporary file in the target folder, then a rename, so a failure never
leaves a half-written output.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

from hearsep.errors import AudioError, OutputError


@dataclass(frozen=True)
class AudioInfo:
    sample_rate_hz: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate_hz


def read_audio(path: str | Path) -> tuple[np.ndarray, AudioInfo]:
    """Read a whole file as ``(channels, samples)`` float32. Raises :class:`AudioError`."""
    import soundfile as sf

    path = Path(path)
    if not path.exists():
        raise AudioError(f"input file not found: {path}")
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file")
    try:
        with sf.SoundFile(str(path)) as f:
            info = AudioInfo(int(f.samplerate), int(f.channels), int(f.frames), f.format, f.subtype)
            data = f.read(dtype="float32", always_2d=True)
    except sf.LibsndfileError as exc:
        raise AudioError(f"cannot read {path} as audio: {exc.error_string if hasattr(exc, 'error_string') else exc}") from None
    except (RuntimeError, OSError) as exc:
        raise AudioError(f"cannot read {path} as audio: {exc}") from None
    audio = np.ascontiguousarray(data.T)
    if audio.shape[1] == 0:
        raise AudioError(f"{path} holds no samples (empty audio)")
    if not np.all(np.isfinite(audio)):
        bad = int(np.count_nonzero(~np.isfinite(audio)))
        raise AudioError(f"{path} has {bad} NaN/Inf samples; refusing to process it")
    return audio, info


def write_audio(path: str | Path, audio: np.ndarray, sample_rate_hz: int, subtype: str | None = None) -> Path:
    """Write ``(channels, samples)`` or ``(samples,)`` float audio atomically; format from the suffix."""
    import soundfile as sf

    path = Path(path)
    fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}.get(path.suffix.lower())
    if fmt is None:
        raise OutputError(f"cannot write {path}: unknown audio suffix (use .wav, .flac or .ogg)")
    if subtype is not None and not sf.check_format(fmt, subtype):
        subtype = None
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: folder {folder} does not exist")
    data = np.asarray(audio, dtype=np.float32)
    data = data.T if data.ndim == 2 else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write in {folder}: {exc.strerror}") from None
    os.close(fd)
    try:
        sf.write(tmp, data, int(sample_rate_hz), format=fmt, subtype=subtype)
        os.replace(tmp, path)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def resample(audio: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Polyphase resampling along the last axis (scipy ``resample_poly``), float32 out."""
    if from_hz == to_hz:
        return np.asarray(audio, dtype=np.float32)
    from scipy.signal import resample_poly

    g = gcd(int(from_hz), int(to_hz))
    return resample_poly(audio, int(to_hz) // g, int(from_hz) // g, axis=-1).astype(np.float32)
