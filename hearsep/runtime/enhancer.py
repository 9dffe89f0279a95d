"""StreamingEnhancer: blocks of any size in, the same number of enhanced samples out.

Per hop (``hop_samples`` of input): STFT analysis -> features -> separator (mask, state carried)
-> masked spectrum -> overlap-add synthesis. Output is the input delayed by exactly
``latency_samples`` (the contract's algorithmic latency, hop buffering included), and it is
bit-identical however the input is chunked: hops are always processed whole, in order, and the
chunking only decides when samples are copied in and out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hearsep.errors import AudioError
from hearsep.features.spectral import LogPowerFeatures
from hearsep.features.stft import StreamingSTFT
from hearsep.model.contract import ModelContract
from hearsep.runtime.separator import TFLiteSeparator, UnityMask


class StreamingEnhancer:
    """Mono streaming enhancement with a frame-step separator.

    ``separator`` needs ``process(features) -> mask`` and ``reset()``; ``None`` means a unity
    mask (output = input delayed by the latency). Audio is float32 in [-1, 1] at
    ``contract.sample_rate_hz``.
    """

    def __init__(self, contract: ModelContract, separator=None):
        contract.validate()
        self.contract = contract
        self.stft = StreamingSTFT(contract.frame_samples, contract.hop_samples, contract.window)
        self.separator = separator if separator is not None else UnityMask(contract.bins)
        # an int8/int16 features input: emit features in its quantized units (two fewer passes)
        q = getattr(self.separator, "input_quantization", None)
        self._prescaled = q is not None
        self.features = (LogPowerFeatures(contract.features, contract.bins, 1.0 / q[0], float(q[1])) if q
                         else LogPowerFeatures(contract.features, contract.bins))
        # the per-hop calls, bound once (500 hops a second)
        self._analyze, self._synthesize = self.stft.analyze, self.stft.synthesize
        self._features, self._separate = self.features.compute, self.separator.process
        h = contract.hop_samples
        self._hop_in = np.zeros(h, np.float32)
        self._filled = 0
        # The output of the last whole hop, paid out sample for sample while the next hop fills.
        # Starting from one hop of zeros makes the delay exactly latency_samples; the samples
        # still owed always equal the samples still missing from the current hop.
        self._hop_out = np.zeros(h, np.float32)
        self._masked = np.zeros((2, contract.bins), np.float32)

    @classmethod
    def from_model(cls, model: str | Path | bytes, num_threads: int = 1, xnnpack: bool = True,
                   delegate: str | None = None) -> "StreamingEnhancer":
        sep = TFLiteSeparator(model, num_threads=num_threads, xnnpack=xnnpack, delegate=delegate)
        return cls(sep.contract, sep)

    @property
    def latency_samples(self) -> int:
        return self.contract.latency_samples

    @property
    def latency_ms(self) -> float:
        return self.contract.latency_ms

    def reset(self) -> None:
        self.stft.reset()
        self.separator.reset()
        self._filled = 0
        self._hop_out[:] = 0

    def process_hop(self, hop_block: np.ndarray) -> np.ndarray:
        """The whole per-hop step on exactly ``hop_samples`` samples; returns an internal buffer."""
        spectrum = self._analyze(hop_block)
        features = self._features(spectrum)
        # any object with process(features) -> mask is a separator; only ours take prescaled input
        mask = self._separate(features, True) if self._prescaled else self._separate(features)
        np.multiply(spectrum, mask, out=self._masked)
        return self._synthesize(self._masked)

    def process(self, block: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Enhance a block of any length (1 sample to minutes); returns as many samples as given."""
        x = np.asarray(block, dtype=np.float32).reshape(-1)
        n = x.shape[0]
        if out is None:
            out = np.empty(n, np.float32)
        h = self.contract.hop_samples
        step = self.process_hop
        i = 0
        while i < n:
            f = self._filled
            whole = (n - i) // h if f == 0 else 0
            if whole:
                # a run of whole hops straight from the input: hop k's output is written where
                # hop k+1's input was, one hop later, and only the last one waits in _hop_out
                out[i:i + h] = self._hop_out
                for k in range(i, i + (whole - 1) * h, h):
                    out[k + h:k + 2 * h] = step(x[k:k + h])
                last = i + (whole - 1) * h
                self._hop_out[:] = step(x[last:last + h])
                i += whole * h
                continue
            take = min(h - f, n - i)
            self._hop_in[f:f + take] = x[i:i + take]
            out[i:i + take] = self._hop_out[f:f + take]
            self._filled = f + take
            i += take
            if self._filled == h:
                self._hop_out[:] = self.process_hop(self._hop_in)
                self._filled = 0
        return out


def check_finite_audio(x: np.ndarray, where: str = "audio") -> None:
    if x.size == 0:
        raise AudioError(f"{where} is empty (no samples)")
    if not np.all(np.isfinite(x)):
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise AudioError(f"{where} has {bad} NaN/Inf samples; refusing to process it")


def enhance_signal(enhancer: StreamingEnhancer, x: np.ndarray, progress=None, chunk_samples: int = 16000) -> np.ndarray:
    """Offline enhancement of a mono signal, time-aligned with the input (latency removed).

    Feeds ``x`` then ``latency_samples`` zeros and drops the first ``latency_samples`` outputs.
    ``progress`` (optional) is called with the number of input samples consumed after each chunk.
    """
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    check_finite_audio(x)
    lat = enhancer.latency_samples
    padded = np.concatenate([x, np.zeros(lat, np.float32)])
    y = np.empty_like(padded)
    for start in range(0, padded.shape[0], chunk_samples):
        stop = min(start + chunk_samples, padded.shape[0])
        enhancer.process(padded[start:stop], out=y[start:stop])
        if progress is not None:
            progress(min(stop, x.shape[0]) - min(start, x.shape[0]))
    return y[lat:]
