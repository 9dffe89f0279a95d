"""Evaluation audio: clean/noisy pairs from folders, or deterministic mixtures of speech and noise.

Every pair is a :class:`Pair` (mono float32 clean reference and noisy input at one rate, plus the
input SNR). Two sources:

* :func:`paired_files` + :func:`load_pairs`: two folders (VoiceBank-DEMAND style) whose files are
  matched by relative path without the suffix, e.g. ``clean/p232_001.wav`` <-> ``noisy/p232_001.wav``.
* :func:`generate_mixtures`: ``count`` mixtures made from speech and noise files
  (:func:`audio_files` for folders, :func:`corpus_files` for a corpus ``manifest.csv``) with
  numpy only. Speech clips are joined (short gaps between) until ``min_seconds``, cut at
  ``max_seconds``; a random noise clip, from a random offset and looped when short, is scaled to the
  drawn SNR; then the speech level is set and the peak kept below ``max_peak``
  (:func:`hearsep.audio.mix.mix_at_snr`, the one place for this arithmetic).
  SNRs are stratified: mixture ``i`` draws its SNR uniformly inside the ``k``-th of ``count``
  equal slices of the range (``k`` a random permutation), so every SNR band gets its share even
  for small ``count``. One ``numpy`` generator seeded by ``seed`` makes every draw, in a fixed
  order, so a seed always gives the same mixtures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from hearsep.audio.mix import loop_to_length, mix_at_snr, rms_dbfs
from hearsep.audio.sources import audio_files, read_manifest
from hearsep.errors import AudioError, ConfigError


@dataclass(frozen=True)
class Pair:
    """One evaluation item: clean reference and noisy input, same length and rate (Hz)."""

    name: str
    clean: np.ndarray
    noisy: np.ndarray
    rate_hz: int
    snr_db: float
    sources: dict = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.clean.shape[0] / self.rate_hz


def corpus_files(corpus: str | Path, split: str = "dev") -> tuple[list[Path], list[Path]]:
    """Speech and noise files of one split of a corpus folder with a ``manifest.csv``.

    The manifest needs the columns ``path`` (relative to the corpus folder), ``kind``
    (``speech``/``noise``) and ``split``.
    """
    corpus = Path(corpus)
    manifest = corpus / "manifest.csv"
    if not corpus.is_dir():
        raise AudioError(f"corpus folder not found: {corpus}")
    if not manifest.is_file():
        raise AudioError(f"corpus {corpus} has no manifest.csv")
    speech, noise = read_manifest(manifest, split)
    return sorted(speech), sorted(noise)


def load_mono(path: str | Path, rate_hz: int) -> np.ndarray:
    """A file as mono float32 at ``rate_hz`` (channels averaged, polyphase resampling)."""
    from hearsep.audio.io import read_audio
    from hearsep.audio.resample import resample

    audio, info = read_audio(path)
    return resample(audio.mean(axis=0), info.sample_rate_hz, rate_hz)


def paired_files(clean_dir: str | Path, noisy_dir: str | Path) -> list[tuple[str, Path, Path]]:
    """``(name, clean_path, noisy_path)`` for files matched by relative path without suffix.

    Raises :class:`AudioError` naming unmatched files: every file must have its partner.
    """
    def index(folder: str | Path, what: str) -> dict[str, Path]:
        folder = Path(folder)
        out: dict[str, Path] = {}
        for p in audio_files(folder, what):
            key = p.relative_to(folder).with_suffix("").as_posix()
            if key in out:
                raise AudioError(f"{what} folder has two files named {key} ({out[key].name}, {p.name})")
            out[key] = p
        return out

    clean = index(clean_dir, "clean")
    noisy = index(noisy_dir, "noisy")
    only_clean = sorted(set(clean) - set(noisy))
    only_noisy = sorted(set(noisy) - set(clean))
    if only_clean or only_noisy:
        parts = []
        if only_clean:
            parts.append(f"{len(only_clean)} clean file(s) without a noisy partner (e.g. {', '.join(only_clean[:3])})")
        if only_noisy:
            parts.append(f"{len(only_noisy)} noisy file(s) without a clean partner (e.g. {', '.join(only_noisy[:3])})")
        raise AudioError("clean and noisy folders do not pair up by file name: " + "; ".join(parts))
    return [(k, clean[k], noisy[k]) for k in sorted(clean)]


#: clean and noisy files may differ by this much in length (then both are cut to the shorter)
MAX_LENGTH_MISMATCH_S = 0.05


def load_pairs(files: Sequence[tuple[str, Path, Path]], rate_hz: int | None = None) -> Iterator[Pair]:
    """Read matched files as :class:`Pair` (lazily, one at a time).

    Both files are made mono at ``rate_hz`` (default: the clean file's rate). The input SNR is
    measured as ``|clean|^2 / |noisy - clean|^2``.
    """
    from hearsep.audio.io import read_audio
    from hearsep.audio.resample import resample
    from hearsep.eval.metrics import snr_db

    for name, clean_path, noisy_path in files:
        clean, cinfo = read_audio(clean_path)
        noisy, ninfo = read_audio(noisy_path)
        rate = int(rate_hz or cinfo.sample_rate_hz)
        c = resample(clean.mean(axis=0), cinfo.sample_rate_hz, rate)
        n = resample(noisy.mean(axis=0), ninfo.sample_rate_hz, rate)
        if abs(c.shape[0] - n.shape[0]) > MAX_LENGTH_MISMATCH_S * rate:
            raise AudioError(f"{name}: clean and noisy lengths differ by more than {MAX_LENGTH_MISMATCH_S} s "
                             f"({c.shape[0] / rate:.3f} s vs {n.shape[0] / rate:.3f} s); are they really a pair?")
        length = min(c.shape[0], n.shape[0])
        c, n = c[:length], n[:length]
        yield Pair(name, c, n, rate, snr_db(c, n - c), {"clean": str(clean_path), "noisy": str(noisy_path)})


# ---- generated mixtures --------------------------------------------------------------------------

@dataclass(frozen=True)
class MixtureConfig:
    """How :func:`generate_mixtures` builds ``count`` mixtures. Levels in dBFS, durations in s."""

    count: int = 40
    snr_range_db: tuple[float, float] = (-5.0, 15.0)
    seed: int = 0
    rate_hz: int = 16000
    min_seconds: float = 4.0
    max_seconds: float = 8.0
    gap_seconds: float = 0.2
    speech_level_dbfs: tuple[float, float] = (-25.0, -25.0)
    max_peak: float = 0.99

    def validate(self) -> "MixtureConfig":
        lo, hi = self.snr_range_db
        if self.count <= 0:
            raise ConfigError(f"number of mixtures must be positive, got {self.count}")
        if not lo < hi:
            raise ConfigError(f"SNR range must be LO < HI, got {lo} {hi}")
        if self.rate_hz <= 0:
            raise ConfigError(f"sample rate must be positive, got {self.rate_hz}")
        if not 0 < self.min_seconds <= self.max_seconds:
            raise ConfigError(f"need 0 < min_seconds <= max_seconds, got {self.min_seconds}, {self.max_seconds}")
        if self.gap_seconds < 0:
            raise ConfigError("gap_seconds must not be negative")
        if self.speech_level_dbfs[0] > self.speech_level_dbfs[1]:
            raise ConfigError("speech level range must be LO <= HI")
        if not 0 < self.max_peak <= 1:
            raise ConfigError("max_peak must be in (0, 1]")
        return self


def stratified_snrs_db(count: int, snr_range_db: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """``count`` SNRs, each uniform in its own one of ``count`` equal slices of the range, in random order."""
    lo, hi = snr_range_db
    slot = rng.permutation(count)
    return lo + (hi - lo) * (slot + rng.random(count)) / count


def generate_mixtures(speech_files: Sequence[str | Path], noise_files: Sequence[str | Path],
                      config: MixtureConfig = MixtureConfig()) -> Iterator[Pair]:
    """Yield ``config.count`` deterministic :class:`Pair` mixtures (see the module docstring)."""
    config.validate()
    if not speech_files:
        raise AudioError("no speech files to mix")
    if not noise_files:
        raise AudioError("no noise files to mix")
    speech_files = [Path(p) for p in speech_files]
    noise_files = [Path(p) for p in noise_files]
    rate = config.rate_hz
    rng = np.random.default_rng(config.seed)
    snrs = stratified_snrs_db(config.count, config.snr_range_db, rng)
    cache: dict[Path, np.ndarray] = {}

    def get(path: Path) -> np.ndarray:
        if path not in cache:
            cache[path] = load_mono(path, rate)
        return cache[path]

    order = list(rng.permutation(len(speech_files)))  # speech clips are used in turn, reshuffled each cycle
    gap = np.zeros(int(round(config.gap_seconds * rate)), np.float32)
    min_len, max_len = int(config.min_seconds * rate), int(config.max_seconds * rate)
    for i in range(config.count):
        pieces, used, length = [], [], 0
        while length < min_len:
            if not order:
                order = list(rng.permutation(len(speech_files)))
            path = speech_files[order.pop(0)]
            if pieces:
                pieces.append(gap)
                length += gap.shape[0]
            clip = get(path)
            pieces.append(clip)
            used.append(path.name)
            length += clip.shape[0]
        speech = np.concatenate(pieces)[:max_len]
        noise_path = noise_files[int(rng.integers(len(noise_files)))]
        noise = get(noise_path)
        offset = int(rng.integers(noise.shape[0]))
        level_dbfs = float(rng.uniform(*config.speech_level_dbfs))
        snr = float(snrs[i])

        mixed = mix_at_snr(speech, loop_to_length(noise, speech.shape[0], offset), snr,
                           level_dbfs=level_dbfs, level_of="speech", max_peak=config.max_peak)
        clean, noisy = mixed.speech, mixed.mixture
        yield Pair(f"mix{i:03d}_snr{snr:+05.1f}", clean, noisy, rate, snr,
                   {"speech": used, "noise": noise_path.name, "noise_offset_s": round(offset / rate, 3),
                    "speech_level_dbfs": round(rms_dbfs(clean), 2)})
