"""The model contract: everything the runtime must know to run a separator, stored in the model.

A hearsep separator is a *frame-step* model: each call takes one STFT frame's features and the
recurrent state, and returns a spectral mask and the next state. The contract says how the frame
is made (sample rate, FFT size, hop, windows), how features are computed, which tensor is which
(by signature name, never by order) and how the state tensors pair up.

Storage: the contract is JSON (UTF-8) in the TFLite file's own ``metadata`` table under the name
``hearsep.contract``, so one ``.tflite`` file carries exactly one contract. Our converter writes it
(:func:`embed_contract`); the runtime reads it (:func:`read_contract`) with the flatbuffer schema
that ships with ai-edge-litert, so no TensorFlow is needed. Format documented in ``CONTRACT.md``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from hearsep.errors import ModelError

CONTRACT_METADATA_NAME = "hearsep.contract"
CONTRACT_FORMAT_VERSION = 3  # 2 added mask kinds "complex" and "deep-filter" (version-1 files are all "real");
# 3 added ``taps_output`` (a mask's gains and taps as two tensors, each with its own int8 scale)

WINDOW_KINDS = ("asymmetric", "sqrt-hann")
FEATURE_KINDS = ("log-power",)
MASK_KINDS = ("real", "complex", "deep-filter")


@dataclass(frozen=True)
class StatePair:
    """One recurrent state: fed in as ``input``, read back as ``output`` (signature names)."""

    input: str
    output: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class FeatureSpec:
    """How the model's input features are made from an STFT frame.

    ``log-power``: ``(log10(|X|^2 + eps) - mean) / std`` per bin, where ``X`` is the STFT of a frame
    of float audio in [-1, 1] (dBFS-referenced: a full-scale sine has ``|X|`` near ``sum(window)/2``).
    ``mean`` and ``std`` are scalars measured on training data, so int8 sees a range near [-3, 3].
    """

    kind: str = "log-power"
    eps: float = 1e-10
    mean: float = 0.0
    std: float = 1.0

    def validate(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise ModelError(f"contract: unknown feature kind {self.kind!r} (known: {', '.join(FEATURE_KINDS)})")
        if not (self.eps > 0 and self.std > 0):
            raise ModelError("contract: feature eps and std must be positive")


@dataclass(frozen=True)
class ModelContract:
    """What a separator model expects and returns. Sizes are in samples unless named ``_ms``.

    * ``frame_samples``: analysis window length (= FFT size); ``hop_samples``: frame advance;
      ``synthesis_samples``: length of the non-zero tail of the synthesis window. The algorithmic
      latency is ``synthesis_samples`` (for a symmetric window it equals ``frame_samples``).
    * ``window``: ``asymmetric`` (long analysis window, short synthesis window at the frame end)
      or ``sqrt-hann`` (symmetric, ``synthesis_samples == frame_samples``).
    * ``features_input`` / ``mask_output``: signature names of the feature input ``[1, 1, bins]``
      and the mask output ``[1, 1, mask_size]``; ``mask_kind`` says how the runtime applies it
      (:mod:`hearsep.runtime.outputs`): ``real`` = a gain per bin (``bins`` values); ``complex`` =
      a complex gain per bin (``[re(bins), im(bins)]``); ``deep-filter`` = a gain per bin plus, on
      the lowest ``df_bins`` bins, complex filter taps over the current and ``df_order - 1`` past
      frames (``bins + 2 * df_order * df_bins`` values), as in DeepFilterNet (Schroeter et al. 2022).
    * ``taps_output`` (format 3, ``complex`` and ``deep-filter`` only; empty: none): the signature
      name of a second output that holds the mask's values after the first ``bins``, so that
      ``mask_output`` holds only the gains (``[1, 1, bins]``). Each tensor then has its own int8
      scale: a gain in [0, 1] and taps of a few hundredths share no good grid.
    * ``states``: recurrent state tensors, each an input/output pair of equal shape.
    """

    sample_rate_hz: int
    frame_samples: int
    hop_samples: int
    synthesis_samples: int
    window: str = "asymmetric"
    features: FeatureSpec = field(default_factory=FeatureSpec)
    features_input: str = "features"
    mask_output: str = "mask"
    mask_kind: str = "real"
    taps_output: str = ""
    df_order: int = 0
    df_bins: int = 0
    states: tuple[StatePair, ...] = ()
    signature: str = "serving_default"
    architecture: str = ""
    info: dict = field(default_factory=dict)
    format_version: int = CONTRACT_FORMAT_VERSION

    @property
    def bins(self) -> int:
        """Number of STFT bins (``frame_samples // 2 + 1``)."""
        return self.frame_samples // 2 + 1

    @property
    def mask_size(self) -> int:
        """Values in the mask output per frame (see the class docstring for the layout per kind)."""
        if self.mask_kind == "complex":
            return 2 * self.bins
        if self.mask_kind == "deep-filter":
            return self.bins + 2 * self.df_order * self.df_bins
        return self.bins

    @property
    def latency_samples(self) -> int:
        """Algorithmic latency in samples: input-to-output delay of the framing, hop buffering included."""
        return self.synthesis_samples

    @property
    def latency_ms(self) -> float:
        return 1000.0 * self.latency_samples / self.sample_rate_hz

    @property
    def hop_ms(self) -> float:
        return 1000.0 * self.hop_samples / self.sample_rate_hz

    def validate(self) -> "ModelContract":
        if self.format_version > CONTRACT_FORMAT_VERSION:
            raise ModelError(
                f"contract format {self.format_version} is newer than this hearsep understands "
                f"({CONTRACT_FORMAT_VERSION}); upgrade hearsep"
            )
        if self.sample_rate_hz <= 0:
            raise ModelError("contract: sample_rate_hz must be positive")
        if not (0 < self.hop_samples <= self.synthesis_samples <= self.frame_samples):
            raise ModelError(
                "contract: need 0 < hop_samples <= synthesis_samples <= frame_samples, got "
                f"hop={self.hop_samples} synthesis={self.synthesis_samples} frame={self.frame_samples}"
            )
        if self.window not in WINDOW_KINDS:
            raise ModelError(f"contract: unknown window {self.window!r} (known: {', '.join(WINDOW_KINDS)})")
        if self.window == "asymmetric" and self.synthesis_samples != 2 * self.hop_samples:
            raise ModelError("contract: an asymmetric window needs synthesis_samples == 2 * hop_samples")
        if self.window == "sqrt-hann" and self.synthesis_samples != self.frame_samples:
            raise ModelError("contract: a sqrt-hann window needs synthesis_samples == frame_samples")
        if self.mask_kind not in MASK_KINDS:
            raise ModelError(f"contract: unknown mask kind {self.mask_kind!r} (known: {', '.join(MASK_KINDS)})")
        if self.mask_kind != "real" and self.format_version < 2:
            raise ModelError(f"contract: mask kind {self.mask_kind!r} needs format_version 2, not {self.format_version}")
        if self.mask_kind == "deep-filter":
            if not (self.df_order >= 1 and 1 <= self.df_bins <= self.bins):
                raise ModelError(f"contract: a deep filter needs df_order >= 1 and 1 <= df_bins <= {self.bins}, "
                                 f"got df_order={self.df_order} df_bins={self.df_bins}")
        elif self.df_order or self.df_bins:
            raise ModelError(f"contract: df_order/df_bins apply only to mask kind 'deep-filter', not {self.mask_kind!r}")
        if self.taps_output:
            if self.mask_kind == "real":
                raise ModelError("contract: taps_output applies only to mask kinds 'complex' and 'deep-filter'")
            if self.format_version < 3:
                raise ModelError(f"contract: taps_output needs format_version 3, not {self.format_version}")
            if self.taps_output == self.mask_output:
                raise ModelError(f"contract: taps_output and mask_output are both {self.mask_output!r}")
        self.features.validate()
        return self

    # ---- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        if not self.taps_output:
            del d["taps_output"]  # one mask tensor: no such key, as in format 2
        d["states"] = [dict(input=s.input, output=s.output, shape=list(s.shape)) for s in self.states]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelContract":
        try:
            d = dict(d)
            d["features"] = FeatureSpec(**d.get("features", {}))
            d["states"] = tuple(
                StatePair(input=s["input"], output=s["output"], shape=tuple(int(v) for v in s["shape"]))
                for s in d.get("states", [])
            )
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = set(d) - known
            if unknown:
                raise ModelError(f"contract: unknown fields {sorted(unknown)}")
            return cls(**d).validate()
        except ModelError:
            raise
        except (TypeError, KeyError, ValueError) as exc:
            raise ModelError(f"contract is malformed: {exc}") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> "ModelContract":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ModelError(f"contract is not valid JSON: {exc}") from None


# ---- TFLite metadata -----------------------------------------------------------------------------

def _schema():
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:  # pragma: no cover - ai-edge-litert is a base dependency
        raise ModelError("reading a model's contract needs ai-edge-litert: pip install ai-edge-litert") from None
    return schema


def _check_tflite(buf: bytes, where: str) -> None:
    # A TFLite flatbuffer has the file identifier "TFL3" at bytes 4..8.
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ModelError(f"{where} is not a TFLite model (no TFL3 identifier)")


def read_metadata(tflite_bytes: bytes, where: str = "model") -> dict[str, bytes]:
    """All ``metadata`` entries of a TFLite flatbuffer as ``{name: bytes}``."""
    _check_tflite(tflite_bytes, where)
    schema = _schema()
    try:
        model = schema.Model.GetRootAs(tflite_bytes, 0)
        out = {}
        for i in range(model.MetadataLength()):
            md = model.Metadata(i)
            name = md.Name().decode("utf-8") if md.Name() else ""
            buf = model.Buffers(md.Buffer())
            out[name] = buf.DataAsNumpy().tobytes() if buf.DataLength() else b""
        return out
    except ModelError:
        raise
    except Exception as exc:  # corrupt flatbuffer: any decoding error
        raise ModelError(f"{where} is not a readable TFLite model: {exc}") from None


def embed_contract(tflite_bytes: bytes, contract: ModelContract) -> bytes:
    """Return a copy of the TFLite model with ``contract`` stored in its metadata (replacing any)."""
    contract.validate()
    _check_tflite(tflite_bytes, "model")
    schema = _schema()
    import flatbuffers

    model = schema.ModelT.InitFromPackedBuf(bytearray(tflite_bytes), 0)
    payload = contract.to_json().encode("utf-8")
    model.metadata = [m for m in (model.metadata or []) if (m.name or b"") not in (CONTRACT_METADATA_NAME, CONTRACT_METADATA_NAME.encode())]
    buf = schema.BufferT()
    buf.data = list(payload)
    model.buffers.append(buf)
    md = schema.MetadataT()
    md.name = CONTRACT_METADATA_NAME
    md.buffer = len(model.buffers) - 1
    model.metadata.append(md)
    builder = flatbuffers.Builder(len(tflite_bytes) + len(payload) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def read_contract(source: str | Path | bytes) -> ModelContract:
    """Read the contract stored in a TFLite model (path or bytes). Raises :class:`ModelError`."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ModelError(f"model file not found: {path}")
        if path.is_dir():
            raise ModelError(f"{path} is a folder; give the .tflite file inside it")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelError(f"cannot read model {path}: {exc.strerror}") from None
        where = str(path)
    else:
        data, where = bytes(source), "model"
    meta = read_metadata(data, where)
    if CONTRACT_METADATA_NAME not in meta:
        raise ModelError(
            f"{where} has no hearsep contract (metadata '{CONTRACT_METADATA_NAME}'); "
            "convert it with `hearsep quantize` or hearsep.quantize so the runner knows its framing"
        )
    return ModelContract.from_json(meta[CONTRACT_METADATA_NAME])
