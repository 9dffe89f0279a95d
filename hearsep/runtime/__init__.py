"""The on-device runner (numpy + ai-edge-litert only, never TensorFlow).

``Enhancer`` is the Python API (any sample rate, channels, whole signal or block by block);
``StreamingEnhancer`` is its per-channel core at the model rate, with the ``HopChain`` hook;
``TFLiteSeparator`` runs one frame of a contract-carrying model.
"""

from hearsep.runtime.api import Enhancer
from hearsep.runtime.build import make_enhancer, preset_chain
from hearsep.runtime.enhancer import HopChain, StreamingEnhancer, check_audio_block, enhance_signal, time_aligned
from hearsep.runtime.separator import TFLiteSeparator, UnityMask

__all__ = ["Enhancer", "make_enhancer", "preset_chain", "HopChain", "StreamingEnhancer", "TFLiteSeparator", "UnityMask", "check_audio_block",
           "enhance_signal", "time_aligned"]
