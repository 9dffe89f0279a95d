"""Offline training stack (needs the ``[train]`` extra: TensorFlow/Keras). The runtime never imports it.

* :mod:`hearsep.nn.data`: mixtures of speech and noise made on the fly (manifest, DNS-style and
  VoiceBank-style readers), streamed with ``tf.data``;
* :mod:`hearsep.nn.dsp`: the spine's STFT, overlap-add and features in TF (for the loss);
* :mod:`hearsep.nn.architectures`: separators by name, each as a sequence model and a step model;
* :mod:`hearsep.nn.train`: the recipe-driven trainer (``hearsep train``); it scores its converted
  models with the runtime itself (``hearsep.runtime``), so what it reports is what ships.
"""
