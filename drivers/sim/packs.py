"""What a pack is (:class:`PackSpec`), and virtual packs defined as data (pack files).

A pack file is a TOML file whose keys are the fields of :class:`PackSpec` — the dataclass
is the schema. Keys may be grouped under any of the tables in :data:`PACK_FILE_TABLES`
(``[pack]``, ``[cells]``, ``[spread]`` …) for reading; the table does not change a key's
meaning. An unknown key is an error with a did-you-mean, a missing key without a default an
error naming it. docs/virtual-bench.md explains every key and how to add a pack.

The shipped packs are the files in ``drivers/sim/virtual_packs/`` (package data), found by
name: ``nmc96s`` (96S2P NMC, ~355 V), ``lfp16s`` (16S1P LFP, 51.2 V) and ``nmc14s`` (14S3P
NMC, 48 V class). Their values are realistic for the class of pack, not a datasheet [E]:
the OCV curves are the sourced ones of domain spec §6.1, R0 and the RC time constants are in
the ranges of §6.2, spreads §6.3, thermal §6.4, insulation and Y-capacitance §6.5,
precharge §1 step 7.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import tomllib
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from drivers.sim.ocv import Chemistry, OcvCurve, ocv_curve

# Checked in PackSpec.__post_init__: a zero here would divide by zero or mean nothing.
_POSITIVE_FIELDS: tuple[str, ...] = (
    "cell_capacity_ah",
    "r0_ohm",
    "block_mass_kg",
    "cp_j_per_kg_k",
    "block_ha_w_per_k",
    "precharge_ohm",
    "bus_capacitance_f",
    "bus_bleed_ohm",
    "balance_bleed_ohm",
)
_NON_NEGATIVE_FIELDS: tuple[str, ...] = (
    "r1_ohm",
    "tau1_s",
    "r2_ohm",
    "tau2_s",
    "interconnect_ohm",
    "capacity_sigma",
    "r0_sigma",
    "soc_sigma",
    "sense_wire_ohm",
)


@dataclass(frozen=True)
class PackSpec:
    """What a pack is: topology, per-cell parameters at 25 °C, spreads and fixture values.

    Resistances are per cell in Ω (``r2_ohm = 0`` disables the 2nd RC; a τ of 0 makes that RC
    a plain resistance); ``capacity_sigma`` and ``r0_sigma`` are relative, ``soc_sigma``
    absolute (SOC fraction). Thermal values are per series block. ``interconnect_ohm`` is per
    busbar. ``balance_bleed_ohm`` is a passive-balancing resistor (about 100 mA at 3.6 V);
    ``sense_wire_ohm`` the harness and board resistance of one voltage-sense wire, which the
    bleed current of the two cells it joins flows through. ``seed`` is the default spread seed.

    ``ocv_table`` ((SOC fraction, V) rows from SOC 0 to 1) replaces the chemistry's sourced
    curve when given. ``temperature_sensors`` is the BMS's NTC count (0: one per 8 cells, at
    least 4). The BMS identity: ``part_number`` (the product part number the pack is built
    as; empty: derived from chemistry and series, e.g. ``NM96-A``), the BMS serial
    ``bms_serial_prefix`` + 7 digits drawn from the seed, ``bms_sw_version``,
    ``bms_hw_number``, ``bms_supplier_sw_version``.
    """

    name: str
    chemistry: Chemistry
    series: int
    parallel: int
    cell_capacity_ah: float
    r0_ohm: float
    r1_ohm: float
    tau1_s: float
    r2_ohm: float = 0.0
    tau2_s: float = 0.0
    capacity_sigma: float = 0.005
    r0_sigma: float = 0.03
    soc_sigma: float = 0.003
    initial_soc: float = 0.5
    ambient_c: float = 25.0
    block_mass_kg: float = 1.0
    cp_j_per_kg_k: float = 1000.0
    block_ha_w_per_k: float = 0.5
    interconnect_ohm: float = 0.1e-3
    r_iso_plus_ohm: float = 5e9
    r_iso_minus_ohm: float = 5e9
    r_iso_stack_plus_ohm: float = 5e9
    r_iso_stack_minus_ohm: float = 5e9
    c_y_plus_f: float = 100e-9
    c_y_minus_f: float = 100e-9
    absorption_c_factor: float = 1.0
    absorption_tau_s: float = 20.0
    precharge_ohm: float = 50.0
    bus_capacitance_f: float = 1e-3
    bus_bleed_ohm: float = 10e3
    balance_bleed_ohm: float = 36.0
    sense_wire_ohm: float = 0.1
    hvil_closed: bool = True
    seed: int = 0
    ocv_table: tuple[tuple[float, float], ...] = ()
    temperature_sensors: int = 0
    part_number: str = ""
    bms_serial_prefix: str = "BMS24A"
    bms_sw_version: str = "2.4.1"
    bms_hw_number: str = "HW-C3"
    bms_supplier_sw_version: str = "SUP-2.4.1-b17"

    def __post_init__(self) -> None:
        self.ocv()  # raises on an unknown chemistry or a bad OCV table
        if self.series < 1 or self.parallel < 1:
            raise ValueError(f"pack spec {self.name!r}: series and parallel must be ≥ 1")
        if not 0 <= self.temperature_sensors <= self.series:
            raise ValueError(
                f"pack spec {self.name!r}: temperature_sensors must be 0 (the default rule) "
                f"up to the {self.series} series blocks"
            )
        for name in _POSITIVE_FIELDS:
            if not getattr(self, name) > 0.0:
                raise ValueError(f"pack spec {self.name!r}: {name} must be > 0")
        for name in _NON_NEGATIVE_FIELDS:
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"pack spec {self.name!r}: {name} must be ≥ 0")

    @property
    def nominal_capacity_ah(self) -> float:
        """Get the nominal pack capacity in Ah (cell capacity × parallel)."""
        return self.cell_capacity_ah * self.parallel

    @property
    def product(self) -> str:
        """Get the part number the pack is built as (``part_number`` or the derived one)."""
        if self.part_number:
            return self.part_number
        return f"{'NM' if self.chemistry == 'NMC' else 'LF'}{self.series}-A"

    def ocv(self) -> OcvCurve:
        """Get the cell OCV curve: ``ocv_table`` if given, else the chemistry's sourced one."""
        sourced = ocv_curve(self.chemistry)
        if not self.ocv_table:
            return sourced
        try:
            return OcvCurve(self.chemistry, self.ocv_table, sourced.hysteresis_v)
        except ValueError as err:
            raise ValueError(f"pack spec {self.name!r}: ocv_table: {err}") from None


PACKS_DIR = files(__name__.rpartition(".")[0]).joinpath("virtual_packs")
"""The shipped pack files (package data of :mod:`drivers.sim`)."""

PACK_FILE_TABLES: tuple[str, ...] = (
    "pack",
    "identity",
    "cells",
    "spread",
    "thermal",
    "insulation",
    "contactors",
    "bms",
)
"""The tables a pack file may group its keys under (the grouping is for the reader)."""

_FIELDS = {f.name: f for f in dataclasses.fields(PackSpec)}
_TYPES = typing.get_type_hints(PackSpec)


class PackFileError(ValueError):
    """A pack file that cannot be used; the message names the file and what is wrong."""


def shipped_pack_files() -> dict[str, Path]:
    """Get the shipped pack files by name (file stem), in a stable order."""
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in sorted(PACKS_DIR.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    }


def pack_names() -> tuple[str, ...]:
    """Get the names of the shipped packs, ``nmc96s`` first (the default bench)."""
    names = sorted(shipped_pack_files(), key=lambda n: (n != "nmc96s", n))
    return tuple(names)


PACK_NAMES: tuple[str, ...] = pack_names()
"""Names of the shipped packs (accepted by :func:`get_pack_spec`)."""


def get_pack_spec(name: str) -> PackSpec:
    """Get a pack by shipped name (see :func:`pack_names`) or by the path of a pack file."""
    shipped = shipped_pack_files()
    if name in shipped:
        return _shipped_spec(name)
    path = Path(name)
    if path.suffix == ".toml" or path.exists():
        return load_pack_file(path)
    close = difflib.get_close_matches(name, list(shipped), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise PackFileError(
        f"unknown pack {name!r}; {hint}give a shipped pack ({', '.join(pack_names())}) "
        "or the path of a pack file (.toml)"
    )


@functools.cache
def _shipped_spec(name: str) -> PackSpec:
    """Read a shipped pack once (a PackSpec is frozen, so sharing it is safe)."""
    return load_pack_file(shipped_pack_files()[name])


def load_pack_file(path: Path) -> PackSpec:
    """Read a pack file into a :class:`PackSpec`; raise :class:`PackFileError` naming the key."""
    data = _read_toml(path)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in PACK_FILE_TABLES:
                raise PackFileError(
                    f"pack file {path}: unknown table [{key}]{_did_you_mean(key, PACK_FILE_TABLES)}"
                    f"; tables: {', '.join(PACK_FILE_TABLES)}"
                )
            for inner, item in value.items():
                _take(path, values, inner, item, where=f"[{key}]")
        else:
            _take(path, values, key, value, where="the top level")
    missing = [
        name
        for name, f in _FIELDS.items()
        if name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise PackFileError(
            f"pack file {path}: missing key {missing[0]!r}"
            + (f" (and {', '.join(map(repr, missing[1:]))})" if missing[1:] else "")
        )
    try:
        return PackSpec(**values)
    except ValueError as err:
        raise PackFileError(f"pack file {path}: {err}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    """Read a pack file's TOML; every way of failing is a PackFileError of one sentence,
    worded as station.inputs.read_toml words it (the simulator imports nothing from station).
    """
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        problem = "file not found"
    except IsADirectoryError:
        problem = "is a directory, not a TOML file"
    except PermissionError:
        problem = "cannot be read (permission denied)"
    except OSError as err:
        problem = f"cannot be read ({err.strerror})"
    except tomllib.TOMLDecodeError as err:  # says "(at line 4, column 7)"
        problem = f"is not valid TOML: {err}"
    except UnicodeDecodeError as err:
        problem = f"is not UTF-8 text ({err.reason})"
    except RecursionError:  # the parser recurses once per level of nesting
        problem = "nests too deep to read"
    raise PackFileError(f"pack file {path}: {problem}")


def pack_serving(products: Iterable[str]) -> str | None:
    """Get the shipped pack built as one of ``products``; None if none is.

    Raises :class:`PackFileError` if several shipped packs serve them (then ``--pack`` must
    choose).
    """
    wanted = set(products)
    serving = [name for name in pack_names() if get_pack_spec(name).product in wanted]
    if len(serving) > 1:
        raise PackFileError(
            f"several virtual packs serve part numbers {sorted(wanted)}: "
            f"{', '.join(serving)}; choose one with --pack"
        )
    return serving[0] if serving else None


def describe_packs() -> list[str]:
    """One line per shipped pack: name, part number, topology."""
    lines = []
    for name in pack_names():
        spec = get_pack_spec(name)
        lines.append(
            f"{name:<10} {spec.product:<10} {spec.series}S{spec.parallel}P {spec.chemistry} "
            f"{spec.nominal_capacity_ah:g} Ah"
        )
    return lines


def _take(path: Path, values: dict[str, Any], key: str, value: Any, *, where: str) -> None:
    if key not in _FIELDS:
        raise PackFileError(
            f"pack file {path}: unknown key {key!r} in {where}{_did_you_mean(key, _FIELDS)}"
        )
    if key in values:
        raise PackFileError(f"pack file {path}: key {key!r} is given twice")
    values[key] = _convert(path, key, value)


def _convert(path: Path, key: str, value: Any) -> Any:
    """Check ``value`` against the field's type; ints are accepted for floats."""
    kind = _TYPES[key]
    problem = f"pack file {path}: {key} must be"
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PackFileError(f"{problem} a number, not {value!r}")
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PackFileError(f"{problem} a whole number, not {value!r}")
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise PackFileError(f"{problem} true or false, not {value!r}")
        return value
    if key == "ocv_table":
        rows = value if isinstance(value, list) else None
        if rows is None or not all(
            isinstance(row, list)
            and len(row) == 2
            and all(isinstance(x, int | float) and not isinstance(x, bool) for x in row)
            for row in rows
        ):
            raise PackFileError(f"{problem} a list of [SOC, volts] pairs, e.g. [[0.0, 3.0], ...]")
        return tuple((float(soc), float(volts)) for soc, volts in rows)
    if kind is str or typing.get_origin(kind) is typing.Literal:
        if not isinstance(value, str):
            raise PackFileError(f"{problem} a string, not {value!r}")
        return value
    return value  # any other type: PackSpec.__post_init__ checks it


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
