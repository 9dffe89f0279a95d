"""DNSMOS P.835 (SIG, BAK, OVRL) through the ``speechmos`` package, for ``tools/bench_peers.py``.

DNSMOS (Reddy, Gopal, Cutler, "DNSMOS P.835: A non-intrusive perceptual objective speech quality
metric to evaluate noise suppressors", ICASSP 2022, arXiv:2110.01763) predicts the three ITU-T
P.835 ratings of a 16 kHz clip without a reference, each on the 1..5 MOS scale:

* SIG: speech signal quality (distortion of the speech);
* BAK: background-noise quality (intrusiveness of what noise is left);
* OVRL: overall quality.

``speechmos`` (``pip install ".[bench]"``; it needs ``onnxruntime`` and ``librosa``) bundles
Microsoft's ONNX models (``dnsmos_models/sig_bak_ovr.onnx`` and the P.808 model
``model_v8.onnx``) and follows the DNS Challenge's ``dnsmos_local.py``: a clip shorter than
9.01 s is repeated until it is that long, scored in 9.01 s windows hopped by 1 s, the raw
outputs mapped through the published polynomials (non-personalised) and averaged over windows.
This module only adapts it: float32 in [-1, 1] is clipped there (the package refuses samples
outside), other rates are resampled to 16 kHz, and the ONNX sessions use one thread so that a
bench pinned to one core is not slowed by a thread pool sized for the whole machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RATE_HZ = 16000
PACKAGES = ("speechmos", "onnxruntime", "librosa")
#: the keys of a score, in report order
KEYS = ("dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl")


def available() -> str | None:
    """``None`` when DNSMOS can run here, else one line saying why not."""
    missing = []
    for name in PACKAGES:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        return f"package(s) {', '.join(missing)} not installed (pip install '.[bench]')"
    return None


class DNSMOS:
    """``score(audio, rate_hz) -> {"dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl", "dnsmos_p808"}``."""

    def __init__(self, num_threads: int = 1):
        why = available()
        if why is not None:
            from hearsep.errors import ModelError

            raise ModelError(f"DNSMOS: {why}")
        import onnxruntime as ort
        from speechmos import dnsmos

        models = Path(dnsmos.__file__).resolve().parent / "dnsmos_models"
        self.primary_model = models / "sig_bak_ovr.onnx"
        self.p808_model = models / "model_v8.onnx"
        self._impl = dnsmos.DNSMOS(str(self.primary_model), str(self.p808_model))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(num_threads)
        opts.inter_op_num_threads = 1
        self._impl.onnx_sess = ort.InferenceSession(str(self.primary_model), opts)
        self._impl.p808_onnx_sess = ort.InferenceSession(str(self.p808_model), opts)

    def score(self, audio: np.ndarray, rate_hz: int = RATE_HZ) -> dict[str, float]:
        from hearsep.audio.resample import resample

        x = resample(np.asarray(audio, np.float32).reshape(-1), rate_hz, RATE_HZ)
        x = np.clip(x, -1.0, 1.0)
        r = self._impl(x, RATE_HZ, False)
        return {"dnsmos_sig": float(r["sig_mos"]), "dnsmos_bak": float(r["bak_mos"]),
                "dnsmos_ovrl": float(r["ovrl_mos"]), "dnsmos_p808": float(r["p808_mos"])}

    __call__ = score
