"""Low-latency STFT framing: window pairs, a streaming analysis/synthesis object, batch helpers.

Geometry (all in samples): a frame of ``frame_samples`` (= FFT size) ends at the newest input
sample and advances by ``hop_samples``. The synthesis window is non-zero only on the last
``synthesis_samples`` of the frame, so the output of a hop is final after
``synthesis_samples - hop_samples`` samples plus the hop being buffered: the algorithmic latency
is ``synthesis_samples``.

* ``asymmetric`` (Mauler & Martin 2007; Wang et al. 2022, "STFT-domain neural speech enhancement
  with very low algorithmic latency"): a long analysis window (frequency resolution of
  ``frame_samples``) and a short synthesis window of ``2 * hop_samples`` at the frame end (latency
  ``2 * hop_samples``). The analysis window is a sqrt-Hann rising over ``frame - hop`` samples and
  a sqrt-Hann falling over the last ``hop``; the synthesis window is chosen so that the product
  of the two on the last ``2 * hop`` samples is a periodic Hann of length ``2 * hop``, which
  overlap-adds to exactly one at that hop (perfect reconstruction).
* ``sqrt-hann``: symmetric sqrt-periodic-Hann analysis and synthesis, latency ``frame_samples``.
"""

from __future__ import annotations

import functools

import numpy as np

from hearsep.errors import ConfigError


def _periodic_hann(n: int) -> np.ndarray:
    return np.sin(np.pi * np.arange(n) / n) ** 2


def window_pair(frame_samples: int, hop_samples: int, kind: str = "asymmetric") -> tuple[np.ndarray, np.ndarray, int]:
    """Return ``(analysis, synthesis, synthesis_samples)`` windows (float64, length ``frame_samples``).

    The pair satisfies ``sum_k analysis[n - k*hop] * synthesis[n - k*hop] == 1`` (weighted
    overlap-add reconstructs the input exactly).
    """
    n, h = int(frame_samples), int(hop_samples)
    if h <= 0 or n <= 0 or n % h:
        raise ConfigError(f"frame_samples ({n}) must be a positive multiple of hop_samples ({h})")
    if kind == "asymmetric":
        if n < 2 * h:
            raise ConfigError("asymmetric windows need frame_samples >= 2 * hop_samples")
        m = 2 * h
        analysis = np.zeros(n)
        rise = n - h
        analysis[:rise] = np.sqrt(_periodic_hann(2 * rise)[:rise])
        analysis[rise:] = np.sqrt(_periodic_hann(2 * h)[h:])
        product = _periodic_hann(m)  # overlap-adds to 1 at hop h
        synthesis = np.zeros(n)
        tail = analysis[n - m:]
        with np.errstate(divide="ignore", invalid="ignore"):
            synthesis[n - m:] = np.where(tail > 0, product / tail, 0.0)
        return analysis, synthesis, m
    if kind == "sqrt-hann":
        w = np.sqrt(_periodic_hann(n))
        # overlap-add of w*w = hann at hop h sums to n / (2h)
        scale = 2.0 * h / n
        return w, w * scale, n
    raise ConfigError(f"unknown window kind {kind!r} (known: asymmetric, sqrt-hann)")


#: Each direction is transformed by a matrix product (one BLAS call, window folded in) when its
#: DFT matrix needs at most this many multiply-adds per hop, otherwise by FFT. Measured in the
#: whole per-hop step (``tools/bench_runtime.py``, one x86 core): for frame 256 / synthesis 64 the
#: synthesis matrix (2 x 129 x 64, 66 kB) beats an inverse FFT of the whole frame, while the
#: analysis matrix (2 x 129 x 256, 264 kB) loses to window + FFT by about 1 us per hop, partly
#: because streaming it through the cache each hop also slows the model's invoke.
DFT_MATRIX_MAX_MACS = 1 << 15

def _pocketfft_r2c():
    """scipy's pocketfft binding ``r2c`` (plans cached), or None where it is missing or differs."""
    try:
        from scipy.fft._pocketfft import pypocketfft

        x, out = np.arange(8, dtype=np.float32), np.zeros(5, np.complex64)
        if pypocketfft.r2c(x, None, True, 0, out, 1) is not out or not np.allclose(out, np.fft.rfft(x), atol=1e-5):
            return None
        return pypocketfft.r2c
    except Exception:  # a private module: any change in it means the fallback
        return None


_R2C = _pocketfft_r2c()
try:  # numpy >= 2.0: the FFT ufunc that np.fft.rfft calls, without its Python wrapper
    from numpy.fft._pocketfft_umath import rfft_n_even as _rfft_even_ufunc
except ImportError:  # pragma: no cover - numpy's private layout changed
    _rfft_even_ufunc = None

#: the numpy FFT ufunc's scale factor (1: "backward" norm) as a 0-d float32 array, which selects
#: its float32 loop; with a Python number (what np.fft.rfft passes) it runs the float64 loop and
#: converts through a 4.8 kB work buffer allocated on every call
_ONE = np.ones((), np.float32)


def rfft_bound(x: np.ndarray, out: np.ndarray):
    """A zero-argument function: the real FFT of float32 ``x`` (1-D, its values when called) into
    complex64 ``out`` (``len(x) // 2 + 1``), in float32 and without allocating a buffer.

    In order of preference: scipy's pocketfft binding (its plans are cached: ~1.3 us for 256
    points here), numpy's float32 FFT ufunc (builds its plan on every call: ~1.7 us), and
    ``np.fft.rfft`` (odd lengths; float64 inside, allocates). All agree to float32 rounding
    (``np.fft.rfft`` computes in float64 and rounds once).
    """
    n = x.shape[0]
    if _R2C is not None:
        return functools.partial(_R2C, x, None, True, 0, out, 1)
    if _rfft_even_ufunc is not None and n % 2 == 0:
        return functools.partial(_rfft_even_ufunc, x, _ONE, out)
    return functools.partial(np.fft.rfft, x, out=out)


class StreamingSTFT:
    """Frame-by-frame STFT analysis and weighted overlap-add synthesis with preallocated buffers.

    ``analyze(hop_block)`` takes ``hop_samples`` new input samples and returns the spectrum of the
    frame that ends with them as a real ``(2, bins)`` array, ``[real; imag]`` (an internal buffer,
    valid until the next call). ``synthesize(spectrum)`` inverse-transforms a (masked) spectrum in
    the same layout, overlap-adds it and returns the ``hop_samples`` output samples now final.
    Output is the input delayed by ``synthesis_samples - hop_samples`` samples (hop buffering by the
    caller makes the total ``latency_samples``).

    Only the last ``synthesis_samples`` of each inverse frame are ever used, so a small transform
    is a DFT matrix product (analysis window or synthesis tail folded in) instead of a full FFT;
    ``method="auto"`` chooses per direction (:data:`DFT_MATRIX_MAX_MACS`; the default framing gets
    an FFT analysis and a matrix synthesis), ``"fft"`` or ``"dft"`` forces one path both ways (all
    agree to float32 rounding). ``analysis_method`` and ``synthesis_method`` say which ran;
    ``method`` is their common value, or ``"fft/dft"`` when they differ.
    """

    def __init__(self, frame_samples: int, hop_samples: int, window: str = "asymmetric", method: str = "auto"):
        a, s, m = window_pair(frame_samples, hop_samples, window)
        n, h = int(frame_samples), int(hop_samples)
        self.frame_samples, self.hop_samples, self.synthesis_samples, self.window = n, h, m, window
        self.bins = bins = n // 2 + 1
        if method == "auto":
            analysis = "dft" if 2 * bins * n <= DFT_MATRIX_MAX_MACS else "fft"
            synthesis = "dft" if 2 * bins * m <= DFT_MATRIX_MAX_MACS else "fft"
        elif method in ("dft", "fft"):
            analysis = synthesis = method
        else:
            raise ConfigError(f"unknown STFT method {method!r} (auto, dft, fft)")
        self.analysis_method, self.synthesis_method = analysis, synthesis
        self.method = analysis if analysis == synthesis else f"{analysis}/{synthesis}"
        self.analysis_window = a.astype(np.float32)
        self.synthesis_window = s.astype(np.float32)
        self._synthesis_tail = self.synthesis_window[n - m:]
        self._complex = np.zeros(bins, np.complex64)
        # [re; im] of the FFT output as a (2, bins) strided view: the spectrum is one copy from it
        self._complex_rows = self._complex.view(np.float32).reshape(bins, 2).T
        if analysis == "dft":
            k = np.arange(bins)[:, None]
            ang = 2 * np.pi * k * np.arange(n)[None, :] / n
            self._analysis_matrix = (np.concatenate([np.cos(ang), -np.sin(ang)]) * a).astype(np.float32)
        else:
            self._windowed = np.zeros(n, np.float32)
            self._fft = rfft_bound(self._windowed, self._complex)
        if synthesis == "dft":
            # inverse real DFT restricted to the synthesis tail: y[t] = sum_k c_k/n (Re X_k cos - Im X_k sin)
            c = np.full(bins, 2.0)
            c[0] = 1.0
            if n % 2 == 0:
                c[-1] = 1.0
            ang = 2 * np.pi * np.arange(bins)[None, :] * np.arange(n - m, n)[:, None] / n
            inv = np.concatenate([c * np.cos(ang), -c * np.sin(ang)], axis=1) / n
            self._synthesis_matrix = (inv * s[n - m:, None]).astype(np.float32)
        else:
            self._synthesis_complex = np.zeros(bins, np.complex64)
            self._frame_out = np.zeros(n, np.float32)
        # input history: a double-length store with a sliding frame, so a shift is a pointer move
        # and only every ``frame/hop`` hops a non-overlapping copy (no temporaries in steady state)
        self._store = np.zeros(2 * n, np.float32)
        # the frame and newest-hop views for every position the frame can take (p = k * hop)
        self._frame_views = [self._store[k * h:k * h + n] for k in range(n // h + 1)]
        self._hop_views = [self._store[k * h + n - h:k * h + n] for k in range(n // h + 1)]
        self._k = n // h
        self._spectrum_flat = np.zeros(2 * bins, np.float32)
        self._spectrum = self._spectrum_flat.reshape(2, bins)
        self._tail = np.zeros(m, np.float32)
        # overlap-add accumulator: a ring of the ``synthesis/hop - 1`` output hops still pending
        self._rows = m // h
        self._ola = np.zeros((max(self._rows - 1, 1), h), np.float32)
        self._ola_rows = list(self._ola)
        self._tail_segments = [self._tail[j * h:(j + 1) * h] for j in range(self._rows)]
        self._slot = 0
        self._hop_out = np.zeros(h, np.float32)

    @property
    def latency_samples(self) -> int:
        return self.synthesis_samples

    def reset(self) -> None:
        self._store.fill(0)
        self._ola.fill(0)
        self._k = self.frame_samples // self.hop_samples
        self._slot = 0

    def analyze(self, hop_block: np.ndarray) -> np.ndarray:
        k = self._k + 1
        if k == len(self._frame_views):
            # keep the newest frame - hop samples; source lies after destination, so no overlap
            n, h = self.frame_samples, self.hop_samples
            self._store[:n - h] = self._store[k * h:k * h + n - h]
            k = 0
        self._hop_views[k][:] = hop_block
        self._k = k
        frame = self._frame_views[k]
        if self.analysis_method == "dft":
            np.dot(self._analysis_matrix, frame, out=self._spectrum_flat)
        else:
            np.multiply(frame, self.analysis_window, out=self._windowed)
            self._fft()
            self._spectrum[...] = self._complex_rows
        return self._spectrum

    def synthesize(self, spectrum: np.ndarray) -> np.ndarray:
        tail = self._tail
        if self.synthesis_method == "dft":
            np.dot(self._synthesis_matrix, spectrum.reshape(-1), out=tail)
        else:
            c = self._synthesis_complex
            c.real = spectrum[0]
            c.imag = spectrum[1]
            np.fft.irfft(c, n=self.frame_samples, out=self._frame_out)
            np.multiply(self._frame_out[-self.synthesis_samples:], self._synthesis_tail, out=tail)
        # frame segment j belongs to the output hop j hops from now: segment 0 completes this hop,
        # segments 1 .. rows-2 add to pending hops, the last one starts the freed pending row
        pending = self._rows - 1
        if pending == 0:
            self._hop_out[:] = tail
            return self._hop_out
        slot, rows, segments = self._slot, self._ola_rows, self._tail_segments
        np.add(rows[slot], segments[0], out=self._hop_out)
        for j in range(1, pending):
            rows[(slot + j) % pending] += segments[j]
        rows[slot][:] = segments[pending]
        self._slot = (slot + 1) % pending
        return self._hop_out


def analysis_frames(x: np.ndarray, frame_samples: int, hop_samples: int, window: str = "asymmetric") -> np.ndarray:
    """Batch STFT matching :class:`StreamingSTFT` exactly: frame ``k`` ends at sample ``(k+1)*hop - 1``.

    ``x`` is 1-D; its length is padded with zeros to a multiple of ``hop_samples``. Returns a
    complex array ``(frames, bins)``. The stream starts from silence, as the streaming object does.
    """
    a, _, _ = window_pair(frame_samples, hop_samples, window)
    x = np.asarray(x, dtype=np.float64)
    frames = -(-len(x) // hop_samples)
    padded = np.zeros(frame_samples - hop_samples + frames * hop_samples)
    padded[frame_samples - hop_samples:frame_samples - hop_samples + len(x)] = x
    idx = np.arange(frames)[:, None] * hop_samples + np.arange(frame_samples)[None, :]
    return np.fft.rfft(padded[idx] * a, axis=-1)


def overlap_add(spectra: np.ndarray, frame_samples: int, hop_samples: int, window: str = "asymmetric") -> np.ndarray:
    """Batch synthesis matching :class:`StreamingSTFT`: returns ``frames * hop`` samples.

    Output sample ``n`` corresponds to input sample ``n - (synthesis_samples - hop_samples)``.
    """
    _, s, m = window_pair(frame_samples, hop_samples, window)
    frames_time = np.fft.irfft(spectra, n=frame_samples, axis=-1)[:, -m:] * s[-m:]
    n_frames = frames_time.shape[0]
    out = np.zeros((n_frames - 1) * hop_samples + m)
    for j in range(m // hop_samples):  # m is a multiple of hop: add each hop-slice column at once
        seg = frames_time[:, j * hop_samples:(j + 1) * hop_samples]
        out[j * hop_samples:j * hop_samples + n_frames * hop_samples] += seg.reshape(-1)
    # frame k's tail starts at k*hop; its first hop is final after frame k: keep frames*hop samples
    return out[:n_frames * hop_samples]
