"""Audio files in and out (wav/flac/ogg via soundfile), whole or in blocks of constant memory.

Audio is ``float32`` in [-1, 1], shape ``(channels, samples)``; the sample rate (Hz) travels with
it. Reading checks the file before any work (:func:`audio_info`: readable, not empty, a WAV's
data as long as its header says) and refuses NaN/Inf. Writing goes through
:func:`hearsep.files.atomic_path` (a temporary file renamed into place, removed on any failure,
umask or the replaced file's mode kept, errno reasons in words). Levels are never rescaled: an
integer format (PCM, FLAC) is clipped sample by sample to full scale and the clipped samples are
counted; float formats keep samples above full scale.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from hearsep.audio.sources import AUDIO_SUFFIXES
from hearsep.errors import AudioError, OutputError

#: soundfile container format per output suffix (the suffixes of :data:`AUDIO_SUFFIXES`)
FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}
#: soundfile subtypes that store floating point, so samples above full scale survive unclipped
FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE", "VORBIS", "OPUS"})
#: frames per block for streaming reads and writes (constant memory whatever the file length)
BLOCK_FRAMES = 16384


@dataclass(frozen=True)
class AudioInfo:
    """What an audio file holds: rate (Hz), channels, length (frames = samples per channel),
    soundfile container format and subtype (e.g. ``WAV`` / ``PCM_16``)."""

    sample_rate_hz: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate_hz


def wav_header_frames(path: str | Path) -> int | None:
    """Frames a RIFF/WAVE file's header declares (``data`` chunk size / block align), or None.

    None when the file is not plain RIFF WAVE, or the size is a streaming placeholder (0 or
    0xFFFFFFFF). Chunk layout: Microsoft/IBM "Multimedia Programming Interface and Data
    Specifications 1.0" (1991), RIFF chunks ``fmt `` (block align at byte 12) and ``data``.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            block_align = None
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    fmt = f.read(size + (size & 1))
                    if len(fmt) < 14:
                        return None
                    block_align = struct.unpack("<H", fmt[12:14])[0]
                elif cid == b"data":
                    if not block_align or size in (0, 0xFFFFFFFF):
                        return None
                    return size // block_align
                else:
                    f.seek(size + (size & 1), 1)
    except OSError:
        return None


def audio_info(path: str | Path) -> AudioInfo:
    """Open ``path`` and describe it, or raise :class:`AudioError` saying why it is unusable.

    Refuses a missing file, a folder, an unreadable or empty file, and a WAV whose data is
    shorter than its header says (libsndfile would silently read only what is there).
    """
    import soundfile as sf

    path = Path(path)
    if not path.exists():
        raise AudioError(f"input file not found: {path}")
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file")
    try:
        with sf.SoundFile(str(path)) as f:
            info = AudioInfo(int(f.samplerate), int(f.channels), int(f.frames), f.format, f.subtype)
    except sf.LibsndfileError as exc:
        raise AudioError(f"cannot read {path} as audio: {getattr(exc, 'error_string', exc)}") from None
    except (RuntimeError, OSError) as exc:
        raise AudioError(f"cannot read {path} as audio: {exc}") from None
    if info.frames == 0:
        raise AudioError(f"{path} holds no samples (empty audio)")
    if info.format == "WAV":
        declared = wav_header_frames(path)
        if declared is not None and declared > info.frames:
            raise AudioError(f"{path} is truncated: its header says {declared} samples per channel but the "
                             f"file holds {info.frames}; refusing to process part of it")
    return info


def _check_finite(block: np.ndarray, path: Path, offset: int) -> None:
    if not np.all(np.isfinite(block)):
        bad = int(np.count_nonzero(~np.isfinite(block)))
        raise AudioError(f"{path} has {bad} NaN/Inf samples (from sample {offset}); refusing to process it")


def read_blocks(path: str | Path, block_frames: int | None = None) -> Iterator[np.ndarray]:
    """Yield ``(channels, n)`` float32 blocks of ``block_frames`` (default :data:`BLOCK_FRAMES`;
    the last one shorter).

    Memory stays constant whatever the file length. Raises :class:`AudioError` (see
    :func:`audio_info`; NaN/Inf when the block holding them is reached).
    """
    import soundfile as sf

    path = Path(path)
    audio_info(path)
    done = 0
    with sf.SoundFile(str(path)) as f:
        for block in f.blocks(blocksize=int(block_frames or BLOCK_FRAMES), dtype="float32", always_2d=True):
            x = block.T
            _check_finite(x, path, done)
            done += x.shape[1]
            yield x


def read_audio(path: str | Path) -> tuple[np.ndarray, AudioInfo]:
    """Read a whole file as ``(channels, samples)`` float32 and its :class:`AudioInfo`."""
    import soundfile as sf

    path = Path(path)
    info = audio_info(path)
    with sf.SoundFile(str(path)) as f:
        audio = np.ascontiguousarray(f.read(dtype="float32", always_2d=True).T)
    _check_finite(audio, path, 0)
    return audio, info


def output_format(path: str | Path, subtype: str | None = None) -> tuple[str, str | None]:
    """``(format, subtype)`` soundfile will write ``path`` with: format from the suffix, ``subtype``
    kept if that format supports it (else the format's default). :class:`OutputError` for an
    unknown suffix."""
    import soundfile as sf

    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise OutputError(f"cannot write {path}: unknown audio suffix {path.suffix!r} "
                          f"(use {', '.join(AUDIO_SUFFIXES)})")
    if subtype is not None and not sf.check_format(fmt, subtype):
        subtype = None
    return fmt, subtype if subtype is not None else sf.default_subtype(fmt)


def check_audio_output(path: str | Path) -> Path:
    """Before any work: ``path`` has an audio suffix and can be written (folder exists, is
    writable, ``path`` is no folder). Raises :class:`OutputError` naming the problem."""
    from hearsep.files import check_output_path

    output_format(path)
    return check_output_path(path)


class AudioWriter:
    """Write ``(channels, n)`` float blocks to an audio file atomically, clipping only integer formats.

    Use as a context manager: the file appears (renamed into place) only when the ``with`` block
    ends without an exception; otherwise nothing is written and the temporary file is removed.
    :attr:`clipped_samples` counts the samples clipped to [-1, 1] (integer subtypes only:
    libsndfile would wrap them around otherwise).
    """

    def __init__(self, path: str | Path, sample_rate_hz: int, channels: int, subtype: str | None = None):
        self.path = Path(path)
        self.format, self.subtype = output_format(self.path, subtype)
        self.sample_rate_hz, self.channels = int(sample_rate_hz), int(channels)
        self.clips = self.subtype not in FLOAT_SUBTYPES
        self.clipped_samples = 0
        self.frames_written = 0
        self._atomic = None
        self._file = None

    @staticmethod
    def _os_error(exc: Exception) -> OSError:
        """libsndfile reports I/O failures as "System error."; the C errno says which one."""
        import os

        import soundfile as sf

        code = sf._ffi.errno
        return OSError(code, os.strerror(code)) if code else OSError(str(exc))

    def __enter__(self) -> "AudioWriter":
        import soundfile as sf

        from hearsep.files import atomic_path

        self._atomic = atomic_path(self.path)
        try:
            tmp = self._atomic.__enter__()
            self._file = sf.SoundFile(str(tmp), "w", self.sample_rate_hz, self.channels, self.subtype,
                                      format=self.format)
        except BaseException as exc:
            # whenever the temporary file exists (the generator is suspended at its yield) it
            # goes, even if a signal's exception landed between two of these statements
            gen = self._atomic.gen
            if getattr(gen, "gi_suspended", gen.gi_frame is not None and gen.gi_frame.f_lasti >= 0):
                err = self._os_error(exc) if isinstance(exc, RuntimeError) else exc
                self._atomic.__exit__(type(err), err, None)
            raise
        return self

    def write(self, block: np.ndarray) -> None:
        """Append ``block``: ``(channels, n)`` (or ``(n,)`` for one channel) float samples."""
        x = np.asarray(block, np.float32)
        x = x.reshape(1, -1) if x.ndim == 1 else x
        if x.shape[0] != self.channels:
            raise AudioError(f"block has {x.shape[0]} channels; the file has {self.channels}")
        if self.clips:
            over = np.count_nonzero(np.abs(x) > 1.0)
            if over:
                self.clipped_samples += int(over)
                x = np.clip(x, -1.0, 1.0)
        try:
            self._file.write(x.T)
        except RuntimeError as exc:  # soundfile.LibsndfileError: disk full, I/O error ...
            raise self._os_error(exc) from None
        self.frames_written += x.shape[1]

    def __exit__(self, exc_type, exc, tb) -> bool:
        """Close the file, then rename it into place (success) or remove it (any exception);
        an ``OSError`` becomes :class:`OutputError` with the reason in words."""
        try:
            self._file.close()
        except RuntimeError as err:
            if exc is None:
                exc = self._os_error(err)
                exc_type = type(exc)
        if exc is None:
            self._atomic.__exit__(None, None, None)
            return False
        self._atomic.__exit__(exc_type, exc, tb)  # raises OutputError for an OSError, else re-raises
        return False


def write_audio(path: str | Path, audio: np.ndarray, sample_rate_hz: int, subtype: str | None = None) -> int:
    """Write ``(channels, samples)`` or ``(samples,)`` float audio atomically; format from the suffix.

    Returns the number of samples clipped to full scale (integer formats only, see
    :class:`AudioWriter`).
    """
    data = np.asarray(audio, dtype=np.float32)
    data = data.reshape(1, -1) if data.ndim == 1 else data
    with AudioWriter(path, sample_rate_hz, data.shape[0], subtype) as w:
        w.write(data)
    return w.clipped_samples
