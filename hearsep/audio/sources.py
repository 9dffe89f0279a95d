"""Finding audio on disk: the audio suffixes hearsep reads, folder scans and corpus manifests.

One place for these, used by training data (:mod:`hearsep.nn.data`), evaluation mixtures
(:mod:`hearsep.eval.mixtures`) and calibration audio (:mod:`hearsep.quantize.calibration`).

A corpus manifest is a CSV file with the columns ``path`` (relative to the manifest's folder),
``kind`` (``speech`` or ``noise``; other kinds are ignored) and ``split`` (e.g. ``train``,
``dev``, ``test``).
"""

from __future__ import annotations

import csv
from pathlib import Path

from hearsep.errors import AudioError

#: suffixes of the audio files hearsep reads and writes (soundfile formats WAV, FLAC, OGG)
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def audio_files(folder: str | Path, what: str = "audio") -> list[Path]:
    """Audio files (:data:`AUDIO_SUFFIXES`) under ``folder``, recursively, sorted.

    Raises :class:`AudioError` naming the ``what`` folder when it is missing, a file, or empty.
    """
    folder = Path(folder)
    if not folder.exists():
        raise AudioError(f"{what} folder not found: {folder}")
    if not folder.is_dir():
        raise AudioError(f"{what} folder {folder} is a file, not a folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not files:
        raise AudioError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) in {what} folder {folder}")
    return files


def read_manifest(manifest: str | Path, split: str) -> tuple[list[Path], list[Path]]:
    """``(speech, noise)`` paths of one ``split`` of a manifest, in manifest order.

    Raises :class:`AudioError` when the manifest is missing, lacks a column, or the split has no
    speech or no noise.
    """
    manifest = Path(manifest)
    if not manifest.is_file():
        raise AudioError(f"manifest not found: {manifest}")
    speech, noise = [], []
    with manifest.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"path", "kind", "split"} - set(reader.fieldnames or [])
        if missing:
            raise AudioError(f"{manifest} lacks the column(s) {', '.join(sorted(missing))}")
        for row in reader:
            if row["split"] != split:
                continue
            if row["kind"] == "speech":
                speech.append(manifest.parent / row["path"])
            elif row["kind"] == "noise":
                noise.append(manifest.parent / row["path"])
    if not speech or not noise:
        raise AudioError(f"{manifest} lists no speech or no noise in split {split!r} "
                         f"({len(speech)} speech, {len(noise)} noise files)")
    return speech, noise
