"""Evaluation: objective metrics, deterministic test mixtures, and scoring runs with reports.

Nothing here imports TensorFlow: a model is scored through the TFLite runtime, exactly as it
will run on a device.
"""
