"""Small on-disk speech/noise folders for the training-stack tests (no recordings needed)."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

from speechlike import noise_like, speech_like


def write_corpus(root: Path, speech_files: int = 4, noise_files: int = 3, seconds: float = 1.5) -> tuple[Path, Path]:
    """Write ``root/speech/*.flac`` and ``root/noise/*.wav`` (16 kHz) and a manifest; returns the two folders."""
    speech_dir, noise_dir = root / "speech", root / "noise"
    speech_dir.mkdir(parents=True, exist_ok=True)
    noise_dir.mkdir(parents=True, exist_ok=True)
    rows = ["path,kind,split"]
    for i in range(speech_files):
        sf.write(speech_dir / f"s{i}.flac", speech_like(seconds + 0.25 * i, seed=i), 16000)
        rows.append(f"speech/s{i}.flac,speech,{'dev' if i == 0 else 'train'}")
    for i in range(noise_files):
        sf.write(noise_dir / f"n{i}.wav", noise_like(seconds + 0.5 * i, seed=10 + i), 16000)
        rows.append(f"noise/n{i}.wav,noise,{'dev' if i == 0 else 'train'}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return speech_dir, noise_dir
