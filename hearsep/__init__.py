"""hearsep: low-latency neural speech enhancement for hearing aids.

Data flow (one package per stage)::

    audio -> features (STFT framing) -> model (contract) -> runtime (TFLite) -> chain -> device

Offline stages (``hearsep.nn`` training, ``hearsep.quantize``) import TensorFlow; the runtime
path (``audio``, ``features``, ``model``, ``runtime``) needs only numpy, scipy and ai-edge-litert.

``from hearsep import Enhancer`` is the Python API (:class:`hearsep.runtime.api.Enhancer`); it
is imported on first use, so ``import hearsep`` (and ``hearsep --help``) stays instant.
"""

__version__ = "0.1.0"

__all__ = ["Enhancer", "__version__"]


def __getattr__(name: str):
    # lazy public names (PEP 562): numpy and the interpreter load only when they are used
    if name == "Enhancer":
        from hearsep.runtime.api import Enhancer

        return Enhancer
    raise AttributeError(f"module 'hearsep' has no attribute {name!r}")
