"""Training data: noisy/clean pairs made on the fly from speech and noise recordings.

Sources
    * :func:`sources_from_manifest` - our corpus ``manifest.csv`` (columns ``path, kind, split``).
    * :func:`sources_from_folders` - any folders of speech and noise audio (e.g. the DNS-Challenge
      ``clean/`` and ``noise/`` folders), searched recursively.
    * :func:`voicebank_pairs` - VoiceBank-DEMAND layout: ``clean/`` and ``noisy/`` folders of files
      with the same names; :class:`PairedSegments` cuts random aligned segments from them.

Mixtures (:class:`MixtureGenerator`), one per integer index, deterministic in ``(seed, index)``:
    1. a random speech segment (files are read by segment with soundfile, never whole), with
       optional speed perturbation (polyphase resampling, pitch and tempo together) and random EQ
       (a smooth random FIR "talker/microphone colouring", applied to mixture *and* target);
    2. optional synthetic room: an exponentially decaying noise RIR with random RT60. The
       **target is the direct path plus early reflections** (first ``early_ms`` of the RIR): the
       model learns to remove late reverberation as well as noise, but it is never asked to undo
       the early reflections that help intelligibility (and that a 4 ms model could not undo anyway);
    3. noise: random segments of random noise files, concatenated until long enough, with their own
       random EQ; optional babble (a sum of other talkers) added to it;
    4. scaled to a random SNR (defined as the power of the *reverberant* speech in the mixture over
       the power of all noise, over the whole segment), then both to a random mixture level
       (``level_dbfs``, RMS), lowered further only if a sample would exceed 0.99
       (:func:`hearsep.audio.mix.mix_at_snr`, the one place for this arithmetic).

Everything is float32 in [-1, 1] at ``sample_rate_hz``. :func:`make_dataset` streams
``(mixture, target)`` batches through ``tf.data`` from a start index (so training can resume).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

from hearsep.audio.mix import mix_at_snr
from hearsep.audio.mix import power as _power
from hearsep.audio.sources import audio_files, read_manifest
from hearsep.errors import ConfigError
from hearsep.eval.metrics import snr_db  # noqa: F401  (re-exported: realised SNR of a Mixture)


@dataclass(frozen=True)
class AudioFile:
    path: str
    frames: int  # length in samples at the file's rate
    sample_rate_hz: int


def _scan(paths) -> list[AudioFile]:
    out = []
    for p in paths:
        try:
            info = sf.info(str(p))
        except Exception as exc:  # unreadable audio: tell which file
            raise ConfigError(f"cannot read audio file {p}: {exc}") from None
        if info.frames > 0:
            out.append(AudioFile(str(p), int(info.frames), int(info.samplerate)))
    return out


def sources_from_manifest(manifest: str | Path, split: str) -> tuple[list[AudioFile], list[AudioFile]]:
    """``(speech, noise)`` files of one split of a manifest (:func:`hearsep.audio.sources.read_manifest`)."""
    speech, noise = read_manifest(manifest, split)
    return _scan(speech), _scan(noise)


def sources_from_folders(speech_dir: str | Path, noise_dir: str | Path) -> tuple[list[AudioFile], list[AudioFile]]:
    """``(speech, noise)`` from two folders searched recursively (:func:`hearsep.audio.sources.audio_files`)."""
    return _scan(audio_files(speech_dir, "speech")), _scan(audio_files(noise_dir, "noise"))


def voicebank_pairs(root: str | Path, clean: str = "clean", noisy: str = "noisy") -> list[tuple[AudioFile, AudioFile]]:
    """VoiceBank-DEMAND layout: ``root/clean/X.wav`` pairs with ``root/noisy/X.wav``."""
    root = Path(root)
    cdir, ndir = root / clean, root / noisy
    if not cdir.is_dir() or not ndir.is_dir():
        raise ConfigError(f"{root} needs folders {clean}/ and {noisy}/")
    pairs = []
    for c in audio_files(cdir, "clean"):
        n = ndir / c.relative_to(cdir)
        if n.is_file():
            pairs.append((c, n))
    if not pairs:
        raise ConfigError(f"no file names shared by {cdir} and {ndir}")
    scanned = [(_scan([c])[0], _scan([n])[0]) for c, n in pairs]
    return scanned


def read_segment(f: AudioFile, start: int, length: int, sample_rate_hz: int) -> np.ndarray:
    """Read ``length`` samples from ``start`` (file-rate samples), mono float32, at ``sample_rate_hz``."""
    x, sr = sf.read(f.path, start=start, stop=start + length, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if sr != sample_rate_hz:
        g = math.gcd(int(sr), int(sample_rate_hz))
        x = signal.resample_poly(x, sample_rate_hz // g, sr // g).astype(np.float32)
    return x


def _db(x: float) -> float:
    return 10.0 ** (x / 20.0)


@dataclass
class MixConfig:
    """How mixtures are made. Ranges are ``(low, high)``, drawn uniformly; probabilities in [0, 1]."""

    sample_rate_hz: int = 16000
    segment_s: float = 1.0
    snr_db: tuple[float, float] = (-5.0, 15.0)
    level_dbfs: tuple[float, float] = (-40.0, -15.0)  # RMS of the mixture
    babble_prob: float = 0.0
    babble_talkers: tuple[int, int] = (3, 6)
    babble_to_noise_db: tuple[float, float] = (-5.0, 10.0)  # babble power over other noise power
    reverb_prob: float = 0.0
    rt60_s: tuple[float, float] = (0.2, 0.8)
    early_ms: float = 50.0
    eq_prob: float = 0.0
    eq_gain_db: float = 6.0
    speed_prob: float = 0.0
    speed_range: tuple[float, float] = (0.9, 1.1)

    @property
    def segment_samples(self) -> int:
        return int(round(self.segment_s * self.sample_rate_hz))

    def validate(self) -> "MixConfig":
        if self.segment_samples <= 0:
            raise ConfigError("data.segment_s must be positive")
        for name in ("snr_db", "level_dbfs", "rt60_s", "speed_range", "babble_talkers", "babble_to_noise_db"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ConfigError(f"data.{name}: low {lo} > high {hi}")
        for name in ("babble_prob", "reverb_prob", "eq_prob", "speed_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"data.{name} must be within [0, 1]")
        if self.rt60_s[0] <= 0 or self.speed_range[0] <= 0:
            raise ConfigError("data.rt60_s and data.speed_range must be positive")
        return self


def random_eq(rng: np.random.Generator, gain_db: float, taps: int = 33) -> np.ndarray:
    """A smooth random magnitude response (linear phase FIR): ``gain_db`` max at 5 log-spaced points."""
    freqs = np.array([0.0, 0.02, 0.06, 0.15, 0.35, 0.7, 1.0])
    gains = rng.uniform(-gain_db, gain_db, size=5)
    g = np.concatenate([[gains[0]], gains, [gains[-1]]])
    return signal.firwin2(taps, freqs, 10.0 ** (g / 20.0)).astype(np.float32)


def synthetic_rir(rng: np.random.Generator, rt60_s: float, sample_rate_hz: int) -> np.ndarray:
    """Exponentially decaying Gaussian noise with a unit direct path at sample 0 (-60 dB at ``rt60_s``)."""
    n = max(2, int(rt60_s * sample_rate_hz))
    t = np.arange(n) / sample_rate_hz
    decay = np.exp(-6.9078 * t / rt60_s)  # ln(1000): -60 dB in amplitude at rt60
    h = rng.standard_normal(n) * decay
    # direct-to-reverberant ratio: scale the tail relative to the direct path
    drr_db = rng.uniform(0.0, 12.0)
    tail_energy = np.sum(h[1:] ** 2)
    h[1:] *= math.sqrt(10.0 ** (-drr_db / 10.0) / max(tail_energy, 1e-12))
    h[0] = 1.0
    return h.astype(np.float32)


@dataclass
class Mixture:
    mixture: np.ndarray
    target: np.ndarray
    snr_db: float  # requested and realised (reverberant speech over noise)


class MixtureGenerator:
    """Makes ``(mixture, target)`` pairs; ``example(i)`` is a pure function of ``(seed, i)``."""

    def __init__(self, speech: list[AudioFile], noise: list[AudioFile], config: MixConfig | None = None, seed: int = 0):
        if not speech or not noise:
            raise ConfigError("mixture generator needs at least one speech and one noise file")
        self.speech = list(speech)
        self.noise = list(noise)
        self.config = (config or MixConfig()).validate()
        self.seed = int(seed)

    # ---- pieces ------------------------------------------------------------------------------
    def _speech_segment(self, rng: np.random.Generator, length: int, speed: float = 1.0) -> np.ndarray:
        sr = self.config.sample_rate_hz
        for _ in range(8):  # avoid a segment that is (almost) silent
            f = self.speech[rng.integers(len(self.speech))]
            file_len = int(math.ceil(length * speed * f.sample_rate_hz / sr))
            out = np.zeros(length, np.float32)
            if f.frames >= file_len:
                start = int(rng.integers(0, f.frames - file_len + 1))
                x = read_segment(f, start, file_len, sr)
            else:
                x = read_segment(f, 0, f.frames, sr)
            if speed != 1.0:
                up = 100
                x = signal.resample_poly(x, up, int(round(up * speed))).astype(np.float32)
            x = x[:length]
            offset = int(rng.integers(0, length - len(x) + 1))
            out[offset:offset + len(x)] = x
            if _power(out) > 1e-8:
                return out
        return out

    def _noise_segment(self, rng: np.random.Generator, length: int) -> np.ndarray:
        sr = self.config.sample_rate_hz
        out = np.zeros(length, np.float32)
        filled = 0
        while filled < length:
            f = self.noise[rng.integers(len(self.noise))]
            need = length - filled
            file_need = int(math.ceil(need * f.sample_rate_hz / sr))
            start = int(rng.integers(0, max(1, f.frames - file_need + 1)))
            x = read_segment(f, start, min(file_need, f.frames - start), sr)[:need]
            if _power(x) > 1e-10:
                x = x / math.sqrt(_power(x))  # equal power per piece
            out[filled:filled + len(x)] = x
            filled += max(len(x), 1)
        return out

    def _babble(self, rng: np.random.Generator, length: int) -> np.ndarray:
        lo, hi = self.config.babble_talkers
        out = np.zeros(length, np.float32)
        for _ in range(int(rng.integers(lo, hi + 1))):
            x = self._speech_segment(rng, length)
            out += x / math.sqrt(max(_power(x), 1e-10))
        return out

    # ---- one example -------------------------------------------------------------------------
    def example(self, index: int) -> Mixture:
        c = self.config
        rng = np.random.default_rng([self.seed, int(index)])
        n = c.segment_samples
        speed = rng.uniform(*c.speed_range) if rng.random() < c.speed_prob else 1.0
        speech = self._speech_segment(rng, n, speed)
        if rng.random() < c.eq_prob:
            speech = signal.lfilter(random_eq(rng, c.eq_gain_db), [1.0], speech).astype(np.float32)
        target = speech
        if rng.random() < c.reverb_prob:
            h = synthetic_rir(rng, rng.uniform(*c.rt60_s), c.sample_rate_hz)
            early = h[: max(1, int(c.early_ms * c.sample_rate_hz / 1000))]
            target = signal.fftconvolve(speech, early)[:n].astype(np.float32)
            speech = signal.fftconvolve(speech, h)[:n].astype(np.float32)
        noise = self._noise_segment(rng, n)
        if rng.random() < c.eq_prob:
            noise = signal.lfilter(random_eq(rng, c.eq_gain_db), [1.0], noise).astype(np.float32)
        if rng.random() < c.babble_prob:
            babble = self._babble(rng, n)
            ratio = _db(rng.uniform(*c.babble_to_noise_db))
            noise = noise / math.sqrt(max(_power(noise), 1e-10)) + ratio * babble / math.sqrt(max(_power(babble), 1e-10))
        snr = float(rng.uniform(*c.snr_db))
        mixed = mix_at_snr(speech, noise, snr, level_dbfs=float(rng.uniform(*c.level_dbfs)), level_of="mixture",
                           max_peak=0.99, allow_silence=True)
        return Mixture(mixed.mixture, (target * mixed.gain).astype(np.float32), snr)

    def pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        m = self.example(index)
        return m.mixture, m.target


class PairedSegments:
    """Random aligned segments of (clean, noisy) file pairs (VoiceBank-DEMAND); ``pair(i)`` like above."""

    def __init__(self, pairs: list[tuple[AudioFile, AudioFile]], segment_s: float = 1.0, sample_rate_hz: int = 16000, seed: int = 0):
        if not pairs:
            raise ConfigError("no clean/noisy pairs")
        self.pairs, self.seed = list(pairs), int(seed)
        self.sample_rate_hz = int(sample_rate_hz)
        self.segment_samples = int(round(segment_s * sample_rate_hz))

    def pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, int(index)])
        c, nz = self.pairs[rng.integers(len(self.pairs))]
        n, sr = self.segment_samples, self.sample_rate_hz
        frames = min(c.frames, nz.frames)
        file_len = int(math.ceil(n * c.sample_rate_hz / sr))
        start = int(rng.integers(0, max(1, frames - file_len + 1)))
        length = min(file_len, frames - start)
        out_c, out_n = np.zeros(n, np.float32), np.zeros(n, np.float32)
        xc = read_segment(c, start, length, sr)[:n]
        xn = read_segment(nz, start, length, sr)[:n]
        out_c[:len(xc)], out_n[:len(xn)] = xc, xn
        return out_n, out_c


def make_dataset(source, batch_size: int, start_index: int = 0, count: int | None = None, parallel: int = 2):
    """A ``tf.data.Dataset`` of ``(mixture [B, N], target [B, N])`` float32 batches.

    ``source`` has ``pair(index) -> (mixture, target)``; examples ``start_index, start_index+1, ...``
    (``count`` of them, or endless), in order, so a resumed run sees the same data it would have seen.
    """
    import tensorflow as tf

    n = source.config.segment_samples if hasattr(source, "config") else source.segment_samples

    def load(i):
        mix, tgt = source.pair(int(i))
        return mix, tgt

    stop = None if count is None else start_index + count
    ds = tf.data.Dataset.range(start_index, stop if stop is not None else np.iinfo(np.int64).max)
    ds = ds.map(lambda i: tf.numpy_function(load, [i], (tf.float32, tf.float32)),
                num_parallel_calls=parallel, deterministic=True)
    ds = ds.map(lambda a, b: (tf.ensure_shape(a, [n]), tf.ensure_shape(b, [n])))
    return ds.batch(batch_size, drop_remainder=count is None).prefetch(2)
