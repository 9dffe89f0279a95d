"""Measuring the runner: per-call timing loops and their statistics (no TensorFlow)."""
