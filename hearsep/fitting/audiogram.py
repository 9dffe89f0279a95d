"""Audiograms: pure-tone thresholds in dB HL per ear, validated once at the edge.

An :class:`Audiogram` holds air-conduction thresholds (dB HL, re ISO 389-1 reference equivalent
threshold levels) for the right and/or left ear at frequencies of the standard audiometric set
:data:`STANDARD_FREQUENCIES_HZ`, optionally bone-conduction thresholds and uncomfortable
loudness levels (UCL), both in dB HL and each with its own frequency list.

Validation (:meth:`Audiogram.build`): every level within -10..120 dB HL (the range of a clinical
audiometer), frequencies from the standard set without duplicates, at least 500, 1000, 2000 and
4000 Hz measured. The result always holds the six core frequencies :data:`CORE_FREQUENCIES_HZ`
(250..8000 Hz) and the half-octave ones (750, 1500, 3000, 6000 Hz) inside the measured range: a
missing one is interpolated linearly in dB against log-frequency between its measured
neighbours, or held at the nearest measured value beyond the measured range (no extrapolated
slope), and listed in :attr:`Audiogram.interpolated_hz`.

The ten standard audiograms of Bisgaard, Vlaming & Dahlquist (2010), "Standard audiograms for
the IEC 60118-15 measurement procedure", Trends in Amplification 14(2):113-120, Table 2 (N1-N7,
flat and moderately sloping) and Table 4 (S1-S3, steep sloping), are built in by name
(:func:`standard_audiogram`). The paper tabulates 250, 375, 500, 750, 1000, 1500, 2000, 3000,
4000 and 6000 Hz; 375 Hz is not an audiometric frequency of this toolkit and is left out, and
8000 Hz (not tabulated) is filled from 6000 Hz as above and reported as interpolated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hearsep.errors import ConfigError

STANDARD_FREQUENCIES_HZ: tuple[int, ...] = (125, 250, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000, 8000)
CORE_FREQUENCIES_HZ: tuple[int, ...] = (250, 500, 1000, 2000, 4000, 8000)
REQUIRED_FREQUENCIES_HZ: tuple[int, ...] = (500, 1000, 2000, 4000)
HALF_OCTAVE_FREQUENCIES_HZ: tuple[int, ...] = (750, 1500, 3000, 6000)
MIN_DB_HL = -10.0
MAX_DB_HL = 120.0
EARS: tuple[str, ...] = ("right", "left")

# Bisgaard et al. (2010), Table 2 (N1-N7) and Table 4 (S1-S3), dB HL, both ears alike.
_BISGAARD_FREQUENCIES_HZ = (250, 375, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000)
BISGAARD_2010_DB_HL: dict[str, tuple[float, ...]] = {
    "N1": (10, 10, 10, 10, 10, 10, 15, 20, 30, 40),
    "N2": (20, 20, 20, 22.5, 25, 30, 35, 40, 45, 50),
    "N3": (35, 35, 35, 35, 40, 45, 50, 55, 60, 65),
    "N4": (55, 55, 55, 55, 55, 60, 65, 70, 75, 80),
    "N5": (65, 67.5, 70, 72.5, 75, 80, 80, 80, 80, 80),
    "N6": (75, 77.5, 80, 82.5, 85, 90, 90, 95, 100, 100),
    "N7": (90, 92.5, 95, 100, 105, 105, 105, 105, 105, 105),
    "S1": (10, 10, 10, 10, 10, 10, 15, 30, 55, 70),
    "S2": (20, 20, 20, 22.5, 25, 35, 55, 75, 95, 95),
    "S3": (30, 30, 35, 47.5, 60, 70, 75, 80, 80, 85),
}


def interpolate_log_frequency(frequencies_hz, values, target_hz) -> np.ndarray:
    """Values at ``target_hz``: linear in the value against log10(frequency) between the given
    points, held at the end values outside them. Used for thresholds (dB HL) and for gains (dB):
    the audiogram and prescription gains are conventionally drawn and interpolated on a
    log-frequency axis (e.g. openMHA ``NalRP.m``: ``interp1(log(f), ...)``)."""
    f = np.log10(np.asarray(frequencies_hz, dtype=float))
    return np.interp(np.log10(np.asarray(target_hz, dtype=float)), f, np.asarray(values, dtype=float))


@dataclass(frozen=True)
class EarLevels:
    """Levels in dB HL at their own frequencies (bone conduction or UCL, one ear)."""

    frequencies_hz: tuple[float, ...]
    db_hl: tuple[float, ...]

    def at(self, target_hz) -> np.ndarray:
        """Levels interpolated to ``target_hz`` (see :func:`interpolate_log_frequency`)."""
        return interpolate_log_frequency(self.frequencies_hz, self.db_hl, target_hz)


@dataclass(frozen=True)
class Audiogram:
    """A validated audiogram. Build one with :meth:`build`, :func:`standard_audiogram` or
    :func:`load_audiogram`; the constructor does not check or fill anything in.

    ``thresholds_db_hl`` maps ``"right"``/``"left"`` to air-conduction thresholds (dB HL) at
    ``frequencies_hz``; ``interpolated_hz`` lists the frequencies that were filled in, not
    measured. ``bone_db_hl`` and ``ucl_db_hl`` map an ear to :class:`EarLevels` (optional).
    """

    frequencies_hz: tuple[float, ...]
    thresholds_db_hl: dict[str, tuple[float, ...]]
    interpolated_hz: tuple[float, ...] = ()
    bone_db_hl: dict[str, EarLevels] = field(default_factory=dict)
    ucl_db_hl: dict[str, EarLevels] = field(default_factory=dict)
    name: str = ""

    @property
    def ears(self) -> tuple[str, ...]:
        """The ears measured, right first."""
        return tuple(e for e in EARS if e in self.thresholds_db_hl)

    def hl_db(self, ear: str) -> np.ndarray:
        """Air-conduction thresholds of ``ear`` in dB HL at :attr:`frequencies_hz`."""
        if ear not in self.thresholds_db_hl:
            raise ConfigError(f"audiogram{' ' + self.name if self.name else ''} has no {ear} ear "
                              f"(it has: {', '.join(self.ears)})")
        return np.asarray(self.thresholds_db_hl[ear], dtype=float)

    def hl_db_at(self, ear: str, target_hz) -> np.ndarray:
        """Thresholds of ``ear`` interpolated to ``target_hz`` in log-frequency (dB HL)."""
        return interpolate_log_frequency(self.frequencies_hz, self.hl_db(ear), target_hz)

    @classmethod
    def build(cls, frequencies_hz, right_db_hl=None, left_db_hl=None, *, bone=None, ucl=None,
              name: str = "", where: str = "audiogram") -> "Audiogram":
        """Validate measured thresholds and fill in the missing core frequencies.

        ``bone`` and ``ucl`` are optional ``{"frequencies_hz": [...], "right_db_hl": [...],
        "left_db_hl": [...]}`` mappings. ``where`` prefixes every error message (a file name
        and table, e.g. ``"a.toml: [audiogram]"``). Raises :class:`ConfigError` naming the field.
        """
        freqs = _check_frequencies(frequencies_hz, f"{where}.frequencies_hz", required=True)
        measured = {}
        for ear, values in (("right", right_db_hl), ("left", left_db_hl)):
            if values is not None:
                measured[ear] = _check_levels(values, len(freqs), f"{where}.{ear}_db_hl")
        if not measured:
            raise ConfigError(f"{where}: needs right_db_hl or left_db_hl (thresholds in dB HL)")
        inner = {f for f in HALF_OCTAVE_FREQUENCIES_HZ if min(freqs) < f < max(freqs)}
        out_freqs = sorted(set(freqs) | set(CORE_FREQUENCIES_HZ) | inner)
        filled = tuple(float(f) for f in out_freqs if f not in freqs)
        order = np.argsort(freqs)
        sorted_freqs = [freqs[i] for i in order]
        thresholds = {}
        for ear, values in measured.items():
            sorted_values = [values[i] for i in order]
            thresholds[ear] = tuple(float(v) for v in interpolate_log_frequency(sorted_freqs, sorted_values, out_freqs))
        extras = {}
        for label, table in (("bone", bone), ("ucl", ucl)):
            extras[label] = _ear_levels(table, f"{where}.{label}") if table is not None else {}
        return cls(frequencies_hz=tuple(float(f) for f in out_freqs), thresholds_db_hl=thresholds,
                   interpolated_hz=filled, bone_db_hl=extras["bone"], ucl_db_hl=extras["ucl"], name=name)

    def to_toml_table(self) -> dict:
        """The ``[audiogram]`` table (measured and interpolated values; see :func:`audiogram_from_table`)."""
        table: dict = {"frequencies_hz": [_num(f) for f in self.frequencies_hz]}
        for ear in self.ears:
            table[f"{ear}_db_hl"] = [_num(v) for v in self.thresholds_db_hl[ear]]
        if self.name:
            table["name"] = self.name
        if self.interpolated_hz:
            table["interpolated_hz"] = [_num(f) for f in self.interpolated_hz]
        for label, levels in (("bone", self.bone_db_hl), ("ucl", self.ucl_db_hl)):
            if levels:
                first = next(iter(levels.values()))
                sub: dict = {"frequencies_hz": [_num(f) for f in first.frequencies_hz]}
                for ear, lv in levels.items():
                    sub[f"{ear}_db_hl"] = [_num(v) for v in lv.db_hl]
                table[label] = sub
        return table


def _num(x: float):
    """An int when the float is integral, for readable TOML."""
    return int(x) if float(x).is_integer() else float(x)


def is_number(x) -> bool:
    """A finite int or float (not a bool): what a TOML number field may hold."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_frequencies(values, where: str, required: bool) -> list[float]:
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, (list, tuple)) or not values:
        raise ConfigError(f"{where}: must be a non-empty list of frequencies in Hz")
    freqs = []
    for v in values:
        if not is_number(v) or float(v) not in STANDARD_FREQUENCIES_HZ:
            raise ConfigError(f"{where}: {v!r} is not a standard audiometric frequency "
                              f"({', '.join(str(f) for f in STANDARD_FREQUENCIES_HZ)} Hz)")
        if float(v) in freqs:
            raise ConfigError(f"{where}: {_num(v)} Hz appears twice")
        freqs.append(float(v))
    if required:
        missing = [f for f in REQUIRED_FREQUENCIES_HZ if f not in freqs]
        if missing:
            raise ConfigError(f"{where}: {', '.join(str(f) for f in missing)} Hz missing "
                              f"(500, 1000, 2000 and 4000 Hz must be measured)")
    return freqs


def _check_levels(values, n: int, where: str) -> list[float]:
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, (list, tuple)):
        raise ConfigError(f"{where}: must be a list of levels in dB HL")
    if len(values) != n:
        raise ConfigError(f"{where}: has {len(values)} values for {n} frequencies")
    out = []
    for v in values:
        if not is_number(v):
            raise ConfigError(f"{where}: {v!r} is not a number (dB HL)")
        if not MIN_DB_HL <= v <= MAX_DB_HL:
            raise ConfigError(f"{where}: {_num(v)} dB HL is outside {MIN_DB_HL:g}..{MAX_DB_HL:g} dB HL")
        out.append(float(v))
    return out


def _ear_levels(table, where: str) -> dict[str, EarLevels]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table with frequencies_hz and right_db_hl/left_db_hl")
    unknown = sorted(set(table) - {"frequencies_hz", "right_db_hl", "left_db_hl"})
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown field (expected frequencies_hz, right_db_hl, left_db_hl)")
    freqs = _check_frequencies(table.get("frequencies_hz"), f"{where}.frequencies_hz", required=False)
    out = {}
    for ear in EARS:
        if f"{ear}_db_hl" in table:
            values = _check_levels(table[f"{ear}_db_hl"], len(freqs), f"{where}.{ear}_db_hl")
            order = np.argsort(freqs)
            out[ear] = EarLevels(tuple(freqs[i] for i in order), tuple(values[i] for i in order))
    if not out:
        raise ConfigError(f"{where}: needs right_db_hl or left_db_hl")
    return out


_TABLE_FIELDS = {"frequencies_hz", "right_db_hl", "left_db_hl", "bone", "ucl", "name", "interpolated_hz"}


def audiogram_from_table(table, where: str = "[audiogram]") -> Audiogram:
    """An :class:`Audiogram` from a parsed ``[audiogram]`` TOML table (validated).

    ``interpolated_hz`` (written by :meth:`Audiogram.to_toml_table`) marks values that were
    filled in earlier; they are kept as given and still reported as interpolated.
    """
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = sorted(set(table) - _TABLE_FIELDS)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown field (expected {', '.join(sorted(_TABLE_FIELDS))})")
    name = table.get("name", "")
    if not isinstance(name, str):
        raise ConfigError(f"{where}.name: must be a string")
    earlier = table.get("interpolated_hz", [])
    if earlier:
        _check_frequencies(earlier, f"{where}.interpolated_hz", required=False)
    audiogram = Audiogram.build(table.get("frequencies_hz"), table.get("right_db_hl"), table.get("left_db_hl"),
                                bone=table.get("bone"), ucl=table.get("ucl"), name=name, where=where)
    if earlier:
        marked = tuple(sorted(set(audiogram.interpolated_hz) | {float(f) for f in earlier}))
        audiogram = Audiogram(audiogram.frequencies_hz, audiogram.thresholds_db_hl, marked,
                              audiogram.bone_db_hl, audiogram.ucl_db_hl, audiogram.name)
    return audiogram


def read_toml(path: str | Path) -> dict:
    """Parse a TOML file (``tomllib``, or ``tomli`` before Python 3.11); errors name the file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_toml(text, str(path))


def parse_toml(text: str, source: str) -> dict:
    """Parse TOML ``text``; a syntax error becomes one :class:`ConfigError` line naming ``source``."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover  (Python 3.10)
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: malformed TOML: {exc}") from None


def standard_audiogram(name: str) -> Audiogram:
    """One of Bisgaard et al. (2010)'s standard audiograms, both ears alike (``"N1"``..``"S3"``)."""
    key = name.upper()
    if key not in BISGAARD_2010_DB_HL:
        raise ConfigError(f"unknown standard audiogram {name!r} (expected one of {', '.join(BISGAARD_2010_DB_HL)})")
    pairs = [(f, v) for f, v in zip(_BISGAARD_FREQUENCIES_HZ, BISGAARD_2010_DB_HL[key]) if f != 375]
    freqs = [f for f, _ in pairs]
    values = [v for _, v in pairs]
    return Audiogram.build(freqs, values, values, name=f"{key} (Bisgaard et al. 2010)", where=key)


def load_audiogram(spec: str | Path) -> Audiogram:
    """A standard audiogram by name (``"N3"``) or the ``[audiogram]`` table of a TOML file."""
    if isinstance(spec, str) and spec.upper() in BISGAARD_2010_DB_HL and not Path(spec).exists():
        return standard_audiogram(spec)
    path = Path(spec)
    if not path.exists() and path.suffix.lower() != ".toml":
        raise ConfigError(f"{spec}: neither a TOML file nor a standard audiogram "
                          f"({', '.join(BISGAARD_2010_DB_HL)})")
    data = read_toml(path)
    if "audiogram" not in data:
        raise ConfigError(f"{path}: no [audiogram] table")
    unknown = sorted(set(data) - {"audiogram"})
    if unknown and "schema_version" not in data:
        raise ConfigError(f"{path}: {unknown[0]}: unknown field (an audiogram file holds one [audiogram] table)")
    return audiogram_from_table(data["audiogram"], f"{path}: [audiogram]")
