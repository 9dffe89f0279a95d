"""Audio for calibration and for the quality comparison, as the model will hear it.

A source is one of:

* a **corpus** folder (has ``manifest.csv`` with ``path,kind,split``): deterministic speech+noise
  mixtures (:func:`hearsep.eval.mixtures.generate_mixtures`) from split ``train`` for
  calibration and ``dev`` for evaluation, SNR -5..15 dB, speech level -40..-15 dBFS (the level
  range matters: log-power features, hence int8 ranges, depend on it);
* a folder of **audio files** (wav/flac/ogg, e.g. noisy recordings from the target device):
  used as they are, mono, resampled, cut into segments of at most ``segment_s``;
* ``None``: **synthetic** speech-like mixtures (harmonic voiced source with formants and a
  syllable envelope, plus coloured noise: :mod:`hearsep.audio.synthetic`). A fallback that always works but
  calibrates worse than real audio; reports flag it. Evaluation on them is not a quality claim.

:func:`feature_sequences` turns audio into the normalised feature sequences ``[T, bins]`` the
converter streams through the float model frame by frame (state carried, reset per segment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hearsep.audio.mix import mix_at_snr
from hearsep.audio.sources import audio_files
from hearsep.audio.synthetic import noise_like, speech_like
from hearsep.errors import AudioError
from hearsep.model.contract import ModelContract

SNR_RANGE_DB = (-5.0, 15.0)
LEVEL_RANGE_DBFS = (-40.0, -15.0)
#: what every description of synthetic audio says
SYNTHETIC_NOTE = "NOT speech: harmonic tones with formants plus coloured noise"
#: noise kinds of :func:`hearsep.audio.synthetic.noise_like` drawn for synthetic calibration mixtures
CALIBRATION_NOISES = ("pink", "babble", "modulated")


@dataclass(frozen=True)
class EvalItem:
    """One comparison item: noisy input and (when known) its clean reference, at ``rate_hz``."""

    name: str
    noisy: np.ndarray
    clean: np.ndarray | None
    rate_hz: int


def source_kind(source: str | Path | None) -> str:
    """``"corpus"``, ``"files"`` or ``"synthetic"``; raises :class:`AudioError` for a bad path."""
    if source is None:
        return "synthetic"
    p = Path(source)
    if not p.exists():
        raise AudioError(f"calibration/evaluation folder not found: {p}")
    if not p.is_dir():
        raise AudioError(f"{p} is a file; give a folder of audio files or a corpus folder with manifest.csv")
    return "corpus" if (p / "manifest.csv").is_file() else "files"


# ---- synthetic speech-like mixtures --------------------------------------------------------------

def synthetic_items(count: int, seconds: float, rate_hz: int, seed: int) -> list[EvalItem]:
    """``count`` deterministic synthetic mixtures (clean known), SNR and level drawn per item.

    Speech: :func:`hearsep.audio.synthetic.speech_like` with fricatives, mean pitch 100..220 Hz
    (male and female voices); noise: one of :data:`CALIBRATION_NOISES` per item.
    """
    rng = np.random.default_rng(seed)
    items = []
    for i in range(count):
        s = speech_like(seconds, rate_hz, seed=rng, f0_hz=rng.uniform(100.0, 220.0), fricatives=True)
        n = noise_like(seconds, rate_hz, kind=str(rng.choice(CALIBRATION_NOISES)), seed=rng)
        snr = SNR_RANGE_DB[0] + (SNR_RANGE_DB[1] - SNR_RANGE_DB[0]) * (i + rng.random()) / count
        level = rng.uniform(*LEVEL_RANGE_DBFS)
        mixed = mix_at_snr(s, n, snr, level_dbfs=level, level_of="speech", max_peak=0.99)
        items.append(EvalItem(f"synthetic{i:03d}_snr{snr:+05.1f}", mixed.mixture, mixed.speech, rate_hz))
    return items


# ---- sources --------------------------------------------------------------------------------------

def _corpus_items(corpus: Path, split: str, count: int, seconds: float, rate_hz: int, seed: int) -> list[EvalItem]:
    from hearsep.eval.mixtures import MixtureConfig, corpus_files, generate_mixtures

    speech, noise = corpus_files(corpus, split)
    cfg = MixtureConfig(count=count, snr_range_db=SNR_RANGE_DB, seed=seed, rate_hz=rate_hz,
                        min_seconds=seconds, max_seconds=seconds, speech_level_dbfs=LEVEL_RANGE_DBFS)
    return [EvalItem(p.name, p.noisy, p.clean, p.rate_hz) for p in generate_mixtures(speech, noise, cfg)]


def _file_items(folder: Path, total_s: float, segment_s: float, rate_hz: int) -> list[EvalItem]:
    from hearsep.eval.mixtures import load_mono

    items, have = [], 0.0
    seg = int(segment_s * rate_hz)
    for path in audio_files(folder, "calibration"):
        x = load_mono(path, rate_hz)
        for k, start in enumerate(range(0, x.shape[0], seg)):
            piece = x[start:start + seg]
            if piece.shape[0] < rate_hz // 4 or not np.any(piece):
                continue
            items.append(EvalItem(f"{path.name}#{k}", piece.astype(np.float32), None, rate_hz))
            have += piece.shape[0] / rate_hz
            if have >= total_s:
                return items
    if not items:
        raise AudioError(f"no usable audio (at least 0.25 s, not silent) in {folder}")
    return items


def calibration_audio(source: str | Path | None, contract: ModelContract, seconds: float = 60.0,
                      segment_s: float = 4.0, seed: int = 0) -> tuple[list[EvalItem], str]:
    """About ``seconds`` of calibration audio at the model's rate; returns ``(items, description)``."""
    if seconds <= 0:
        raise AudioError(f"calibration seconds must be positive, got {seconds}")
    kind = source_kind(source)
    rate = contract.sample_rate_hz
    count = max(1, math.ceil(seconds / segment_s))
    if kind == "corpus":
        items = _corpus_items(Path(source), "train", count, segment_s, rate, seed)
        return items, f"{count} mixtures x {segment_s:g} s from corpus {source} (split train)"
    if kind == "files":
        items = _file_items(Path(source), seconds, segment_s, rate)
        got = sum(i.noisy.shape[0] for i in items) / rate
        return items, f"{got:.1f} s of audio files from {source}"
    return synthetic_items(count, segment_s, rate, seed), (
        f"{count} synthetic speech-like mixtures x {segment_s:g} s ({SYNTHETIC_NOTE}; no --calib given: "
        f"real speech in noise calibrates better)")


def evaluation_items(source: str | Path | None, contract: ModelContract, count: int = 8, seconds: float = 4.0,
                     seed: int = 1) -> tuple[list[EvalItem], str]:
    """The fixed comparison set: corpus ``dev`` mixtures, audio files (no reference), or synthetic."""
    kind = source_kind(source)
    rate = contract.sample_rate_hz
    if kind == "corpus":
        return (_corpus_items(Path(source), "dev", count, seconds, rate, seed),
                f"{count} mixtures x {seconds:g} s from corpus {source} (split dev, seed {seed})")
    if kind == "files":
        items = _file_items(Path(source), count * seconds, seconds, rate)
        return items, f"{len(items)} segments of audio files from {source} (no clean reference: error vs float only)"
    return (synthetic_items(count, seconds, rate, seed + 1000),
            f"{count} synthetic speech-like mixtures x {seconds:g} s, seed {seed} ({SYNTHETIC_NOTE}: "
            f"its SI-SDRi/PESQ/STOI say nothing about quality on speech; give --eval or --calib with a corpus)")


def feature_sequences(items: list[EvalItem], contract: ModelContract) -> list[np.ndarray]:
    """Normalised features ``[T, bins]`` of each item's noisy audio, as the runtime computes them."""
    from hearsep.features.spectral import log_power_features
    from hearsep.features.stft import analysis_frames

    return [log_power_features(analysis_frames(i.noisy, contract.frame_samples, contract.hop_samples, contract.window),
                               contract.features).astype(np.float32) for i in items]
