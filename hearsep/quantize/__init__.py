"""Offline conversion of a trained Keras separator to TFLite (float32, float16, dynamic, int8,
int16x8) with calibration from audio and a report of what each mode costs.

TensorFlow is imported only when a conversion runs (:func:`hearsep.quantize.convert.convert`; the
function is not re-exported here, its name is the module's).
"""

from hearsep.quantize.convert import MODES
from hearsep.quantize.pipeline import QuantizeOptions, QuantizeResult, quantize

__all__ = ["MODES", "QuantizeOptions", "QuantizeResult", "quantize"]
