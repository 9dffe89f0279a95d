"""hearsep: low-latency neural speech enhancement for hearing aids.

Data flow (one package per stage)::

    audio -> features (STFT framing) -> model (contract) -> runtime (TFLite) -> chain -> device

Offline stages (``hearsep.nn`` training, ``hearsep.quantize``) import TensorFlow; the runtime
path (``audio``, ``features``, ``model``, ``runtime``) needs only numpy, scipy and ai-edge-litert.
"""

__version__ = "0.1.0"
