"""Presets: a versioned TOML file that says how the hearing-aid chain is set for one ear.

A preset holds the audiogram and rule it was fitted from, the band table, per-band compression,
noise reduction, the volume range, the output limits (MPO), the dBFS <-> dB SPL calibration and
named programs that override what they need. :meth:`Preset.resolve` turns it (and a program)
into :class:`hearsep.chain.ChainParams`; :func:`validate_preset` applies the safety rules.

Layout (``schema_version = 1``; every level says its reference, every time its unit)::

    schema_version = 1
    name = "N3 right, nal-r"
    device = "otc"                      # or "prescription" (21 CFR 800.30 limits apply to otc)
    rule = "nal-r"                      # a hearsep.fitting.rules name, or "manual"
    ear = "right"
    max_gain_over_target_db = 6.0       # a band may exceed the rule's target by this much

    [audiogram]                         # as in hearsep.fitting.audiogram
    [calibration]
    full_scale_db_spl = 110.0           # a 0 dBFS full-scale sine is 110 dB SPL at the eardrum
    [bands]
    centres_hz = [250, 500, 1000, 2000, 4000, 6000]
    crossovers_hz = [354, 707, 1414, 2828, 4899]
    [compression]                       # per band: a list, or one number for every band
    gain_50_db = [...]                  # gains at 50/65/80 dB SPL band input ...
    gain_65_db = [...]
    gain_80_db = [...]
    # ... or instead: gain_65_db + threshold_db_spl + ratio (gain held below the threshold)
    attack_ms = 5.0                     # ANSI S3.22 attack / release
    release_ms = 100.0
    expansion_threshold_db_spl = 30.0
    expansion_ratio = 1.5
    [noise_reduction]
    attenuation_limit_db = 6.0
    [volume]
    default_db = 0.0
    min_db = -12.0
    max_db = 6.0
    step_db = 2.0
    [mpo]
    broadband_db_spl = 110.0
    band_db_spl = 110.0
    [programs.quiet]
    [programs."noisy restaurant".noise_reduction]
    attenuation_limit_db = 18.0

Input levels. Prescriptions state gains for speech at 50/65/80 dB SPL (broadband); the chain reads
its curve at the *band* input level. hearsep uses the prescribed gains directly at those band
levels, a simplification (openMHA's ``gainrule_camfit_compr.m`` instead converts 65 dB SPL
speech into each band's level with the long-term average speech spectrum of Byrne et al. 1994).

A program may override fields of ``compression``, ``noise_reduction``, ``volume`` and ``mpo`` that
the preset has; anything else is refused. Safety (:func:`validate_preset`, run by
:func:`load_preset`, :func:`save_preset` and :func:`fit_preset`, for the base and every program):

* MPO above :data:`ABSOLUTE_MPO_DB_SPL` (120 dB SPL) is refused.
* ``device = "otc"``: MPO above 111 dB SPL is refused, or above 117 dB SPL when input-controlled
  compression is active in every band (21 CFR 800.30(d), US over-the-counter hearing aids).
  A preset that declares ``device = "prescription"`` is held to the 120 dB SPL ceiling only.
* A band gain (at the default volume) above the rule's target by more than
  ``max_gain_over_target_db`` is refused (not checked for ``rule = "manual"``).
* The volume range is refused when turning the volume up from ``volume.default_db`` to
  ``volume.max_db`` would drive a 65 dB SPL band input above that band's MPO (a volume step
  that pushes ordinary speech into the output limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from hearsep.chain.params import BandParams, ChainParams
from hearsep.errors import ConfigError
from hearsep.fitting.audiogram import (Audiogram, audiogram_from_table, is_number, parse_toml, read_toml,
                                       standard_audiogram)
from hearsep.fitting.rules import RULES, SPEECH_LEVELS_DB_SPL, get_rule, prescribe

SCHEMA_VERSION = 1
ABSOLUTE_MPO_DB_SPL = 120.0
OTC_MPO_DB_SPL = 111.0            # 21 CFR 800.30(d): output limit (OSPL90, coupler)
OTC_MPO_COMPRESSION_DB_SPL = 117.0  # 21 CFR 800.30(d), with input-controlled compression activated
DEVICES = ("otc", "prescription")
PROGRAM_NAMES = ("quiet", "noisy restaurant", "music")
OVERRIDABLE_SECTIONS = ("compression", "noise_reduction", "volume", "mpo")
DEFAULT_CENTRES_HZ = (250.0, 500.0, 1000.0, 2000.0, 4000.0, 6000.0)
VOLUME_CHECK_INPUT_DB_SPL = 65.0


def _f(lo: float, hi: float, unit: str, default=None, per_band: bool = False):
    """A numeric schema field: range lo..hi in ``unit``; per-band fields take a list or one number."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "unit": unit, "per_band": per_band})


@dataclass(frozen=True)
class Calibration:
    """dBFS <-> dB SPL: a 0 dBFS full-scale sine gives ``full_scale_db_spl`` dB SPL at the eardrum."""

    full_scale_db_spl: float = _f(80.0, 140.0, "dB SPL", 110.0)


@dataclass(frozen=True)
class Compression:
    """Per-band compression; either gain_50/65/80_db, or gain_65_db + threshold_db_spl + ratio."""

    gain_50_db: tuple | None = _f(-10.0, 80.0, "dB", per_band=True)
    gain_65_db: tuple | None = _f(-10.0, 80.0, "dB", per_band=True)
    gain_80_db: tuple | None = _f(-10.0, 80.0, "dB", per_band=True)
    threshold_db_spl: tuple | None = _f(0.0, 100.0, "dB SPL", per_band=True)
    ratio: tuple | None = _f(1.0, 10.0, "", per_band=True)
    attack_ms: tuple = _f(0.5, 500.0, "ms", 5.0, per_band=True)
    release_ms: tuple = _f(5.0, 5000.0, "ms", 100.0, per_band=True)
    expansion_threshold_db_spl: tuple = _f(0.0, 70.0, "dB SPL", 30.0, per_band=True)
    expansion_ratio: tuple = _f(1.0, 4.0, "", 1.0, per_band=True)

    def gains_db(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(gain_50, gain_65, gain_80, compression_threshold_db_spl) per band, dB / dB SPL.

        Threshold form: above the threshold T the output grows 1/ratio dB per dB, anchored at
        gain_65 at 65 dB SPL: g(L) = g65 - (1 - 1/ratio)(max(L, T) - 65); below T the gain is held.
        Gain form: the threshold is 0 (the chain holds the 50->65 slope below 50 dB SPL)."""
        if self.ratio is None:
            zero = np.zeros(len(self.gain_65_db))
            return np.array(self.gain_50_db), np.array(self.gain_65_db), np.array(self.gain_80_db), zero
        g65, t, cr = np.array(self.gain_65_db), np.array(self.threshold_db_spl), np.array(self.ratio)
        slope = 1.0 - 1.0 / cr
        g = {level: g65 - slope * (np.maximum(level, t) - 65.0) for level in SPEECH_LEVELS_DB_SPL}
        return g[50], g[65], g[80], t


@dataclass(frozen=True)
class NoiseReduction:
    """The separator's strength: its output never falls more than this below its input (dB),
    as DeepFilterNet's ``atten_lim``; 0 dB turns noise reduction off."""

    attenuation_limit_db: float = _f(0.0, 40.0, "dB", 12.0)


@dataclass(frozen=True)
class Volume:
    """The user's volume control, dB relative to the fitting: start value, range and step."""

    default_db: float = _f(-40.0, 20.0, "dB", 0.0)
    min_db: float = _f(-40.0, 0.0, "dB", -12.0)
    max_db: float = _f(0.0, 20.0, "dB", 6.0)
    step_db: float = _f(0.5, 10.0, "dB", 2.0)


@dataclass(frozen=True)
class Mpo:
    """Maximum power output, dB SPL at the eardrum: broadband and per band (default: broadband)."""

    broadband_db_spl: float = _f(60.0, 150.0, "dB SPL", 110.0)
    band_db_spl: tuple | None = _f(60.0, 150.0, "dB SPL", None, per_band=True)


SECTIONS: dict[str, type] = {"calibration": Calibration, "compression": Compression,
                             "noise_reduction": NoiseReduction, "volume": Volume, "mpo": Mpo}
TOP_FIELDS = ("schema_version", "name", "device", "rule", "ear", "max_gain_over_target_db")
TABLES = ("audiogram", "calibration", "bands", "compression", "noise_reduction", "volume", "mpo", "programs")


@dataclass(frozen=True)
class Bands:
    """Band centre frequencies and the crossovers between them (Hz, ascending, interleaved)."""

    centres_hz: tuple[float, ...]
    crossovers_hz: tuple[float, ...]


@dataclass(frozen=True)
class Preset:
    """A validated preset (build with :func:`load_preset`, :func:`parse_preset` or :func:`fit_preset`).

    ``programs`` maps a program name to its overrides ``{section: {field: value}}`` (validated).
    """

    name: str
    device: str
    rule: str
    ear: str
    max_gain_over_target_db: float
    audiogram: Audiogram | None
    calibration: Calibration
    bands: Bands
    compression: Compression
    noise_reduction: NoiseReduction
    volume: Volume
    mpo: Mpo
    programs: dict[str, dict] = field(default_factory=dict)
    source: str = "preset"
    schema_version: int = SCHEMA_VERSION

    @property
    def num_bands(self) -> int:
        return len(self.bands.centres_hz)

    def program(self, program: str | None = None) -> "Preset":
        """This preset with ``program``'s overrides applied (None: the base settings)."""
        if program is None:
            return self
        if program not in self.programs:
            known = ", ".join(repr(p) for p in self.programs) or "none"
            raise ConfigError(f"{self.source}: no program {program!r} (programs: {known})")
        changes = {}
        for section, overrides in self.programs[program].items():
            table = {**_section_table(getattr(self, section)), **overrides}
            where = f"{self.source}: [programs.{_key(program)}.{section}]"
            changes[section] = _build_section(SECTIONS[section], table, where, self.num_bands)
        return replace(self, **changes)

    def resolve(self, program: str | None = None) -> ChainParams:
        """The chain's fully resolved parameters for ``program`` (None: the base settings)."""
        p = self.program(program)
        g50, g65, g80, threshold = p.compression.gains_db()
        c = p.compression
        band_mpo = p.mpo.band_db_spl or (p.mpo.broadband_db_spl,) * self.num_bands
        bands = tuple(BandParams(centre_hz=float(f), gain_50_db=float(g50[i]), gain_65_db=float(g65[i]),
                                 gain_80_db=float(g80[i]), attack_ms=float(c.attack_ms[i]),
                                 release_ms=float(c.release_ms[i]), mpo_db_spl=float(band_mpo[i]),
                                 expansion_threshold_db_spl=float(c.expansion_threshold_db_spl[i]),
                                 expansion_ratio=float(c.expansion_ratio[i]),
                                 compression_threshold_db_spl=float(threshold[i]))
                      for i, f in enumerate(self.bands.centres_hz))
        return ChainParams(crossovers_hz=tuple(float(x) for x in self.bands.crossovers_hz), bands=bands,
                           full_scale_db_spl=float(p.calibration.full_scale_db_spl),
                           broadband_mpo_db_spl=float(p.mpo.broadband_db_spl),
                           noise_reduction_db=float(p.noise_reduction.attenuation_limit_db),
                           volume_db=float(p.volume.default_db), volume_min_db=float(p.volume.min_db),
                           volume_max_db=float(p.volume.max_db))

    def to_toml_dict(self) -> dict:
        """The preset as the nested dict its TOML file holds."""
        doc: dict = {"schema_version": self.schema_version, "name": self.name, "device": self.device,
                     "rule": self.rule, "ear": self.ear, "max_gain_over_target_db": self.max_gain_over_target_db}
        if self.audiogram is not None:
            doc["audiogram"] = self.audiogram.to_toml_table()
        doc["calibration"] = _section_table(self.calibration)
        doc["bands"] = {"centres_hz": list(self.bands.centres_hz), "crossovers_hz": list(self.bands.crossovers_hz)}
        for name in OVERRIDABLE_SECTIONS:
            doc[name] = _section_table(getattr(self, name))
        doc["programs"] = {name: {s: dict(o) for s, o in ov.items()} for name, ov in self.programs.items()}
        return doc


# -- building and checking ---------------------------------------------------------------------

def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else f'"{name}"'


def _section_table(section) -> dict:
    """A section dataclass as its TOML table (unset optional fields left out, uniform lists as one number)."""
    out = {}
    for f in fields(section):
        value = getattr(section, f.name)
        if value is None:
            continue
        if isinstance(value, tuple) and len(set(value)) == 1:
            value = value[0]
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def _number(value, where: str, lo: float, hi: float, unit: str) -> float:
    if not is_number(value):
        raise ConfigError(f"{where}: {value!r} is not a number{' (' + unit + ')' if unit else ''}")
    if not lo <= value <= hi:
        raise ConfigError(f"{where}: {value:g}{' ' + unit if unit else ''} is outside {lo:g}..{hi:g}")
    return float(value)


def _build_section(cls, table, where: str, num_bands: int):
    """Validate one section table (types, units, ranges, per-band lengths) into its dataclass."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown field (expected one of {', '.join(known)})")
    values = {}
    for name, f in known.items():
        m = f.metadata
        if name not in table:
            default = f.default
            values[name] = (tuple([float(default)] * num_bands) if m["per_band"] and default is not None
                            else default)
            continue
        raw = table[name]
        if m["per_band"]:
            items = raw if isinstance(raw, list) else [raw] * num_bands
            if len(items) != num_bands:
                raise ConfigError(f"{where}.{name}: has {len(items)} values for {num_bands} bands")
            values[name] = tuple(_number(v, f"{where}.{name}[{i}]", m["lo"], m["hi"], m["unit"])
                                 for i, v in enumerate(items))
        else:
            values[name] = _number(raw, f"{where}.{name}", m["lo"], m["hi"], m["unit"])
    section = cls(**values)
    if cls is Compression:
        _check_compression_form(section, table, where)
    if cls is Volume and not section.min_db <= section.default_db <= section.max_db:
        raise ConfigError(f"{where}.default_db: {section.default_db:g} dB is outside "
                          f"min_db..max_db ({section.min_db:g}..{section.max_db:g} dB)")
    return section


def _check_compression_form(c: Compression, table: dict, where: str) -> None:
    gain_form = [n for n in ("gain_50_db", "gain_80_db") if n in table]
    thr_form = [n for n in ("threshold_db_spl", "ratio") if n in table]
    if "gain_65_db" not in table:
        raise ConfigError(f"{where}.gain_65_db: missing (gain at 65 dB SPL input, dB)")
    if gain_form and thr_form:
        raise ConfigError(f"{where}.{thr_form[0]}: give either gain_50_db/gain_80_db or threshold_db_spl/ratio, "
                          f"not both")
    if len(gain_form) == 1 or len(thr_form) == 1 or not (gain_form or thr_form):
        missing = ({"gain_50_db", "gain_80_db"} - set(gain_form)) if gain_form or not thr_form \
            else ({"threshold_db_spl", "ratio"} - set(thr_form))
        raise ConfigError(f"{where}.{sorted(missing)[0]}: missing (per band: gain_50_db, gain_65_db, gain_80_db; "
                          f"or gain_65_db, threshold_db_spl, ratio)")


def _bands(table, where: str) -> Bands:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table with centres_hz and crossovers_hz")
    unknown = sorted(set(table) - {"centres_hz", "crossovers_hz"})
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown field (expected centres_hz, crossovers_hz)")
    out = {}
    for name in ("centres_hz", "crossovers_hz"):
        raw = table.get(name)
        if not isinstance(raw, list) or (name == "centres_hz" and not raw):
            raise ConfigError(f"{where}.{name}: must be a list of frequencies in Hz")
        out[name] = tuple(_number(v, f"{where}.{name}[{i}]", 20.0, 24000.0, "Hz") for i, v in enumerate(raw))
    centres, cross = out["centres_hz"], out["crossovers_hz"]
    if len(cross) != len(centres) - 1:
        raise ConfigError(f"{where}.crossovers_hz: needs {len(centres) - 1} band edges for {len(centres)} bands, "
                          f"has {len(cross)}")
    edges = [centres[0]] + [x for pair in zip(cross, centres[1:]) for x in pair]
    for i in range(1, len(edges)):
        if edges[i] <= edges[i - 1]:
            raise ConfigError(f"{where}: centres_hz and crossovers_hz must interleave, ascending "
                              f"(centre < crossover < next centre); {edges[i]:g} Hz follows {edges[i - 1]:g} Hz")
    return Bands(centres, cross)


def _choice(value, where: str, choices, what: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{where}: {value!r} is not {what} (expected one of {', '.join(choices)})")
    return value


def _programs(table, source: str, base: Preset) -> dict[str, dict]:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [programs] must be a table of named programs")
    out = {}
    for name, overrides in table.items():
        where = f"{source}: [programs.{_key(name)}]"
        if not isinstance(overrides, dict):
            raise ConfigError(f"{where}: must be a table of section overrides")
        checked = {}
        for section, values in overrides.items():
            if section not in OVERRIDABLE_SECTIONS:
                raise ConfigError(f"{where}.{section}: a program can override only "
                                  f"{', '.join(OVERRIDABLE_SECTIONS)}")
            if not isinstance(values, dict):
                raise ConfigError(f"{where}.{section}: must be a table of fields to override")
            have = _section_table(getattr(base, section))
            for key in values:
                if key not in have:
                    raise ConfigError(f"{where}.{section}.{key}: overrides a field this preset does not have "
                                      f"(it has: {', '.join(have)})")
            checked[section] = dict(values)
        out[name] = checked
    return out


def parse_preset(doc: dict, source: str = "preset", *, check_safety: bool = True) -> Preset:
    """A :class:`Preset` from the parsed TOML ``doc``; every error names ``source``, the field and why."""
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: not a preset table")
    unknown = sorted(set(doc) - set(TOP_FIELDS) - set(TABLES))
    if unknown:
        raise ConfigError(f"{source}: {unknown[0]}: unknown field (expected {', '.join(TOP_FIELDS + TABLES)})")
    if "schema_version" not in doc:
        raise ConfigError(f"{source}: schema_version: missing (this hearsep reads version {SCHEMA_VERSION})")
    if doc["schema_version"] != SCHEMA_VERSION or isinstance(doc["schema_version"], bool):
        raise ConfigError(f"{source}: schema_version: {doc['schema_version']!r} is not supported "
                          f"(this hearsep reads version {SCHEMA_VERSION})")
    for name in ("bands", "compression"):
        if name not in doc:
            raise ConfigError(f"{source}: [{name}]: missing table")
    name = doc.get("name", "")
    if not isinstance(name, str):
        raise ConfigError(f"{source}: name: must be a string")
    device = _choice(doc.get("device", "otc"), f"{source}: device", DEVICES, "a device class")
    rule = doc.get("rule", "manual")
    if rule != "manual":
        try:
            rule = get_rule(rule).name
        except ConfigError:
            raise ConfigError(f"{source}: rule: {rule!r} is not a rule "
                              f"(expected manual or one of {', '.join(RULES)})") from None
    ear = _choice(doc.get("ear", "right"), f"{source}: ear", ("right", "left"), "an ear")
    margin = _number(doc.get("max_gain_over_target_db", 6.0), f"{source}: max_gain_over_target_db", 0.0, 30.0, "dB")
    audiogram = audiogram_from_table(doc["audiogram"], f"{source}: [audiogram]") if "audiogram" in doc else None
    if rule != "manual" and audiogram is None:
        raise ConfigError(f"{source}: [audiogram]: missing (rule {rule!r} needs the audiogram it was fitted from)")
    if audiogram is not None and ear not in audiogram.ears:
        raise ConfigError(f"{source}: ear: {ear!r} is not in the [audiogram] (it has {', '.join(audiogram.ears)})")
    bands = _bands(doc["bands"], f"{source}: [bands]")
    n = len(bands.centres_hz)
    sections = {s: _build_section(cls, doc.get(s, {}), f"{source}: [{s}]", n) for s, cls in SECTIONS.items()}
    preset = Preset(name=name, device=device, rule=rule, ear=ear, max_gain_over_target_db=margin,
                    audiogram=audiogram, bands=bands, source=source, **sections)
    preset = replace(preset, programs=_programs(doc.get("programs", {}), source, preset))
    for program in preset.programs:
        preset.program(program)  # every program must build
    if check_safety:
        validate_preset(preset)
    return preset


# -- safety --------------------------------------------------------------------------------------

def _compression_active(p: Preset) -> bool:
    """Input-controlled compression is active: in every band the gain falls as the input rises."""
    g50, _, g80, _ = p.compression.gains_db()
    return bool(np.all(g50 - g80 > 0.5))


def _check_one(p: Preset, where: str, targets) -> None:
    band_mpo = p.mpo.band_db_spl or (p.mpo.broadband_db_spl,) * p.num_bands
    mpos = [("mpo.broadband_db_spl", p.mpo.broadband_db_spl)]
    if p.mpo.band_db_spl is not None:
        mpos += [(f"mpo.band_db_spl[{i}]", v) for i, v in enumerate(p.mpo.band_db_spl)]
    for name, value in mpos:
        if value > ABSOLUTE_MPO_DB_SPL:
            raise ConfigError(f"{where}{name}: {value:g} dB SPL is above the {ABSOLUTE_MPO_DB_SPL:g} dB SPL "
                              f"ceiling no preset may exceed")
    if p.device == "otc":
        active = _compression_active(p)
        limit = OTC_MPO_COMPRESSION_DB_SPL if active else OTC_MPO_DB_SPL
        for name, value in mpos:
            if value > limit:
                why = ("with input-controlled compression active" if active
                       else "without input-controlled compression in every band")
                raise ConfigError(f"{where}{name}: {value:g} dB SPL is above the {limit:g} dB SPL limit for "
                                  f"over-the-counter hearing aids {why} (21 CFR 800.30(d)); declare "
                                  f'device = "prescription" only for a prescription device')
    gains = p.compression.gains_db()[:3]
    if targets is not None:
        for level, g in zip(SPEECH_LEVELS_DB_SPL, gains):
            over = g + p.volume.default_db - targets[level]
            i = int(np.argmax(over))
            if over[i] > p.max_gain_over_target_db + 1e-9:
                raise ConfigError(
                    f"{where}compression.gain_{level}_db[{i}]: {g[i] + p.volume.default_db:.1f} dB at "
                    f"{p.bands.centres_hz[i]:g} Hz (volume {p.volume.default_db:+g} dB) is {over[i]:.1f} dB above "
                    f"the {p.rule} target {targets[level][i]:.1f} dB (allowed: max_gain_over_target_db = "
                    f"{p.max_gain_over_target_db:g} dB)")
    _, g65, _, _ = p.compression.gains_db()
    at_default = VOLUME_CHECK_INPUT_DB_SPL + g65 + p.volume.default_db
    out = VOLUME_CHECK_INPUT_DB_SPL + g65 + p.volume.max_db
    breach = (out > np.asarray(band_mpo) + 1e-9) & (out > at_default)  # caused by turning the volume up
    if np.any(breach):
        i = int(np.argmax(np.where(breach, out - np.asarray(band_mpo), -np.inf)))
        raise ConfigError(f"{where}volume.max_db: {p.volume.max_db:+g} dB takes a {VOLUME_CHECK_INPUT_DB_SPL:g} dB SPL "
                          f"input at {p.bands.centres_hz[i]:g} Hz to {out[i]:.1f} dB SPL, above that band's MPO "
                          f"{band_mpo[i]:g} dB SPL (lower volume.max_db or the gain)")


def rule_targets(preset: Preset) -> dict[int, np.ndarray] | None:
    """The rule's target gains (dB) at the band centres per input level, or None for ``manual``."""
    if preset.rule == "manual" or preset.audiogram is None:
        return None
    rx = prescribe(preset.audiogram, preset.rule, preset.ear)
    return {level: rx.gains_at(preset.bands.centres_hz, level) for level in SPEECH_LEVELS_DB_SPL}


def validate_preset(preset: Preset) -> Preset:
    """Apply the safety rules (module docstring) to the base settings and every program.

    Raises :class:`ConfigError` naming the file, program and field; returns ``preset``."""
    targets = rule_targets(preset)
    _check_one(preset, f"{preset.source}: ", targets)
    for name in preset.programs:
        _check_one(preset.program(name), f"{preset.source}: programs.{_key(name)}.", targets)
    return preset


# -- files ---------------------------------------------------------------------------------------

def load_preset(path: str | Path) -> Preset:
    """Read, validate and safety-check a preset TOML file."""
    return parse_preset(read_toml(path), str(path))


def loads_preset(text: str, source: str = "preset") -> Preset:
    """A preset from TOML text (validated and safety-checked), errors naming ``source``."""
    return parse_preset(parse_toml(text, source), source)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, float):
        v = round(v, 3)
        return str(int(v)) + ".0" if v.is_integer() else repr(v)
    return str(v)


def dumps_preset(preset: Preset) -> str:
    """The preset as TOML text (``schema_version`` first, one table per section)."""
    doc = preset.to_toml_dict()
    lines = []
    for k, v in doc.items():
        if not isinstance(v, dict):
            lines.append(f"{k} = {_toml_value(v)}")

    def table(prefix: str, t: dict) -> None:
        scalars = {k: v for k, v in t.items() if not isinstance(v, dict)}
        subs = {k: v for k, v in t.items() if isinstance(v, dict)}
        if scalars or not subs:
            lines.append("")
            lines.append(f"[{prefix}]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in scalars.items())
        for k, v in subs.items():
            table(f"{prefix}.{_key(k)}", v)

    for k, v in doc.items():
        if isinstance(v, dict):
            if k == "programs":
                for name, ov in v.items():
                    table(f"programs.{_key(name)}", ov)
            else:
                table(k, v)
    return "\n".join(lines) + "\n"


def save_preset(preset: Preset, path: str | Path) -> Path:
    """Validate ``preset`` and write it atomically (nothing is written if it is refused)."""
    from hearsep.files import write_text

    text = dumps_preset(preset)
    loads_preset(text, str(path))  # what we write must read back and pass the same checks
    return write_text(path, text)


# -- fitting -------------------------------------------------------------------------------------

def crossovers_for(centres_hz) -> tuple[float, ...]:
    """Band edges halfway between centres on a log-frequency axis: sqrt(f_k f_k+1), Hz."""
    c = np.asarray(centres_hz, dtype=float)
    return tuple(float(round(x)) for x in np.sqrt(c[:-1] * c[1:]))


def fit_preset(audiogram: Audiogram, rule: str = "nal-r", ear: str = "right", *,
               centres_hz=DEFAULT_CENTRES_HZ, full_scale_db_spl: float = 110.0, device: str = "otc",
               mpo_db_spl: float | None = None, name: str | None = None, source: str = "fitted preset") -> Preset:
    """Fit ``rule`` to ``ear`` of ``audiogram``: band gains at 50/65/80 dB SPL from the targets at
    the band centres (log-frequency interpolation), default dynamics, and the three programs.

    MPO defaults to 110 dB SPL (under the 111 dB SPL OTC limit) for ``device="otc"`` and 115 dB SPL
    for ``"prescription"``. ``volume.max_db`` is capped so a 65 dB SPL input stays under the band
    MPO. Programs: ``quiet`` (the fitting), ``noisy restaurant`` (noise reduction to 18 dB, 3 dB
    less gain for soft input), ``music`` (no noise reduction, half the compression around the
    65 dB SPL gain, slower release). The result is validated (:func:`validate_preset`).
    """
    rx = prescribe(audiogram, rule, ear)
    centres = tuple(float(f) for f in centres_hz)
    g = {level: np.round(rx.gains_at(centres, level), 1) for level in SPEECH_LEVELS_DB_SPL}
    mpo = float(mpo_db_spl if mpo_db_spl is not None else (110.0 if device == "otc" else 115.0))
    headroom = float(np.min(mpo - VOLUME_CHECK_INPUT_DB_SPL - g[65]))
    volume_max = float(max(0.0, min(6.0, math.floor(headroom))))
    music = {"gain_50_db": [float(x) for x in np.round((g[50] + g[65]) / 2, 1)],
             "gain_80_db": [float(x) for x in np.round((g[80] + g[65]) / 2, 1)], "release_ms": 500.0}
    restaurant = {"gain_50_db": [float(x) for x in np.maximum(g[50] - 3.0, 0.0)]}
    doc = {
        "schema_version": SCHEMA_VERSION,
        "name": name or f"{audiogram.name or 'audiogram'} {ear}, {get_rule(rule).name}",
        "device": device, "rule": get_rule(rule).name, "ear": ear, "max_gain_over_target_db": 6.0,
        "audiogram": audiogram.to_toml_table(),
        "calibration": {"full_scale_db_spl": float(full_scale_db_spl)},
        "bands": {"centres_hz": list(centres), "crossovers_hz": list(crossovers_for(centres))},
        "compression": {"gain_50_db": [float(x) for x in g[50]], "gain_65_db": [float(x) for x in g[65]],
                        "gain_80_db": [float(x) for x in g[80]], "attack_ms": 5.0, "release_ms": 100.0,
                        "expansion_threshold_db_spl": 30.0, "expansion_ratio": 1.5},
        "noise_reduction": {"attenuation_limit_db": 6.0},
        "volume": {"default_db": 0.0, "min_db": -12.0, "max_db": volume_max, "step_db": 2.0},
        "mpo": {"broadband_db_spl": mpo, "band_db_spl": mpo},
        "programs": {"quiet": {},
                     "noisy restaurant": {"noise_reduction": {"attenuation_limit_db": 18.0},
                                          "compression": restaurant},
                     "music": {"noise_reduction": {"attenuation_limit_db": 0.0}, "compression": music}},
    }
    return parse_preset(doc, source)


def example_preset(audiogram: str | Audiogram = "N3", rule: str = "nal-r", ear: str = "right", **kwargs) -> Preset:
    """A ready preset for tests and benchmarks: ``rule`` fitted to a Bisgaard standard audiogram
    (or the given one), 6 octave bands 250..6000 Hz, 110 dB SPL full-scale calibration."""
    aud = standard_audiogram(audiogram) if isinstance(audiogram, str) else audiogram
    return fit_preset(aud, rule, ear, source=f"example preset {aud.name or 'audiogram'}", **kwargs)


__all__ = ["ABSOLUTE_MPO_DB_SPL", "Bands", "Calibration", "Compression", "Mpo", "NoiseReduction",
           "OTC_MPO_COMPRESSION_DB_SPL", "OTC_MPO_DB_SPL", "PROGRAM_NAMES", "Preset", "SCHEMA_VERSION", "Volume",
           "crossovers_for", "dumps_preset", "example_preset", "fit_preset", "load_preset",
           "load_chain_params", "loads_preset", "parse_preset", "rule_targets", "save_preset", "validate_preset"]


def load_chain_params(preset: str | Path | None, program: str | None = None):
    """The resolved :class:`hearsep.chain.ChainParams` of ``preset`` and ``program``.

    ``preset`` is a TOML path, or ``example:NAME`` for :func:`example_preset` of a Bisgaard
    (2010) standard audiogram (e.g. ``example:N3``); ``None`` without a preset (then
    ``program`` must be ``None`` too). Invalid presets raise ``ConfigError`` naming the field.
    This is the one place that turns ``--preset/--program`` into chain parameters.
    """
    if preset is None:
        if program is not None:
            raise ConfigError("--program needs --preset (a program is a set of overrides inside a preset)")
        return None
    text = str(preset)
    loaded = example_preset(text.split(":", 1)[1]) if text.startswith("example:") else load_preset(text)
    return loaded.resolve(program)
