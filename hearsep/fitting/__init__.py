"""Fitting: audiogram in, prescription and a validated preset out; the preset configures the chain.

No audio here: pure functions and small dataclasses. ``Preset.resolve(program)`` gives the
:class:`hearsep.chain.ChainParams` that :mod:`hearsep.chain` is built from.
"""

from hearsep.fitting.audiogram import (BISGAARD_2010_DB_HL, STANDARD_FREQUENCIES_HZ, Audiogram, audiogram_from_table,
                                       interpolate_log_frequency, load_audiogram, standard_audiogram)
from hearsep.fitting.preset import (ABSOLUTE_MPO_DB_SPL, OTC_MPO_COMPRESSION_DB_SPL, OTC_MPO_DB_SPL, PROGRAM_NAMES,
                                    SCHEMA_VERSION, Preset, dumps_preset, example_preset, fit_preset, load_chain_params,
                                    load_preset,
                                    loads_preset, parse_preset, rule_targets, save_preset, validate_preset)
from hearsep.fitting.rules import RULES, SPEECH_LEVELS_DB_SPL, Prescription, get_rule, prescribe

__all__ = ["ABSOLUTE_MPO_DB_SPL", "Audiogram", "BISGAARD_2010_DB_HL", "OTC_MPO_COMPRESSION_DB_SPL", "OTC_MPO_DB_SPL",
           "PROGRAM_NAMES", "Prescription", "Preset", "RULES", "SCHEMA_VERSION", "SPEECH_LEVELS_DB_SPL",
           "STANDARD_FREQUENCIES_HZ", "audiogram_from_table", "dumps_preset", "example_preset", "fit_preset",
           "get_rule", "interpolate_log_frequency", "load_audiogram", "load_chain_params", "load_preset", "loads_preset", "parse_preset",
           "prescribe", "rule_targets", "save_preset", "standard_audiogram", "validate_preset"]
