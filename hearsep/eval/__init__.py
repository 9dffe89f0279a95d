"""Evaluation: objective metrics, deterministic test mixtures, and scoring runs with reports.

Nothing here imports TensorFlow: a model is scored through the TFLite runtime, exactly as it
will run on a device.
"""

# (the function hearsep.eval.evaluate.evaluate is not re-exported: its name is the module's)
from hearsep.eval.evaluate import Evaluation, ModelSystem, unprocessed
from hearsep.eval.metrics import pesq_wb, si_sdr_db, si_sdr_improvement_db, snr_db, stoi
from hearsep.eval.mixtures import MixtureConfig, Pair, corpus_files, generate_mixtures, load_pairs, paired_files
from hearsep.eval.report import plot_bands, write_report

__all__ = ["Evaluation", "MixtureConfig", "ModelSystem", "Pair", "corpus_files", "generate_mixtures",
           "load_pairs", "paired_files", "pesq_wb", "plot_bands", "si_sdr_db", "si_sdr_improvement_db", "snr_db",
           "stoi", "unprocessed", "write_report"]
