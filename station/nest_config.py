"""The nests of a station config: several packs tested at once, some instruments shared.

::

    [station]
    id = "EOL-02"
    shared_roles = ["insulation_tester"]   # [instruments.*] the nests take turns on

    [instruments.insulation_tester]        # one tester, switched to one nest at a time
    model = "chroma.1905x"                 # by the relay matrix (each nest's fixture I/O)
    ...

    [can]                                  # interface, bitrate and BMS for every nest
    interface = "socketcan"
    channel = "can0"                       # a single-nest run's channel; nests name theirs
    bms = "bms/eol_reference.toml"

    [[nests]]                              # nest 1 (numbered in file order)
    name = "left"
    can_channel = "can0"
    [nests.instruments.supply]             # this nest's own instruments, as [instruments.*]
    ...

A config without ``[[nests]]`` is one implicit nest, exactly as before. With nests, every
station-wide ``[instruments.ROLE]`` must be listed in ``station.shared_roles`` (two engines
must never drive one instrument unguarded), and every other role belongs to one nest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from station.checked import NonEmpty, checked
from station.inputs import Problems, did_you_mean


@dataclass(frozen=True)
class NestTable:
    """One ``[[nests]]`` table as written."""

    name: Annotated[str, NonEmpty] | None = None  # default: the nest's number
    can_channel: Annotated[str, NonEmpty.noting("the CAN channel of this nest's pack")] | None = (
        None
    )
    instruments: dict[str, Any] = field(default_factory=dict)  # role → [instruments.*] keys


@dataclass(frozen=True)
class NestConfig:
    """One nest: its number (1-based, file order), name, instruments and CAN channel."""

    index: int
    name: str
    instruments: dict[str, object]  # role → InstrumentConfig (typed in station.config)
    can_channel: str | None = None

    @property
    def label(self) -> str:
        """How the operator and the records name the nest: ``"1 (left)"``, or ``"1"``."""
        return f"{self.index} ({self.name})" if self.name != str(self.index) else self.name


def parse_nests(
    entries: object,
    *,
    shared_roles: tuple[str, ...],
    station_roles: tuple[str, ...],
    has_can: bool,
    roles: tuple[str, ...],
    parse_instrument: Callable[[str, object, str], object | None],
    problems: Problems,
) -> tuple[tuple[NestConfig, ...], tuple[str, ...]]:
    """Read ``[[nests]]`` and check ``station.shared_roles``; note every problem.

    ``station_roles`` are the roles of the station-wide ``[instruments.*]`` tables;
    ``parse_instrument(role, table, where)`` reads one instrument table (None if bad).
    """
    shared = _shared_roles(shared_roles, roles, problems)
    if entries is None:
        if shared:
            problems.add(
                "station.shared_roles", "names shared roles but the config has no [[nests]]"
            )
        return (), ()
    if not isinstance(entries, list) or not entries:
        problems.add("nests", "must be an array of tables: one [[nests]] table per nest")
        return (), shared
    for role in shared:
        if role not in station_roles:
            problems.add(
                "station.shared_roles",
                f"shared role {role!r} has no [instruments.{role}] table: describe the one "
                "instrument the nests share there",
            )
    for role in station_roles:
        if role not in shared:
            problems.add(
                f"instruments.{role}",
                "a station with [[nests]] shares its station-wide instruments: list "
                f"{role!r} in station.shared_roles, or give each nest its own "
                f"[nests.instruments.{role}]",
            )
    nests: list[NestConfig] = []
    names: dict[str, int] = {}
    channels: dict[str, int] = {}
    for position, entry in enumerate(entries, start=1):
        where = f"nests[{position}]"
        table = checked(NestTable, entry, where, problems)
        if table is None:
            continue
        name = table.name.strip() if table.name is not None else str(position)
        if name in names:
            problems.add(f"{where}.name", f"{name!r} is already the name of nest {names[name]}")
        names.setdefault(name, position)
        channel = table.can_channel
        if channel is not None and not has_can:
            problems.add(
                f"{where}.can_channel",
                "a nest's CAN channel needs a [can] table (interface, bitrate, bms)",
            )
        if channel is None and has_can:
            problems.add(
                f"{where}.can_channel",
                "missing: with [can], each nest talks to its own pack's BMS on its own channel",
            )
        if channel is not None and channel in channels:
            problems.add(
                f"{where}.can_channel",
                f"{channel!r} is already nest {channels[channel]}'s channel: each nest's pack "
                "needs its own bus",
            )
        if channel is not None:
            channels.setdefault(channel, position)
        instruments: dict[str, object] = {}
        for role, instrument_table in table.instruments.items():
            at = f"{where}.instruments.{role}"
            if role in shared:
                problems.add(
                    at,
                    f"{role!r} is both shared (station.shared_roles) and this nest's own: "
                    "keep one of the two",
                )
                continue
            instrument = parse_instrument(role, instrument_table, at)
            if instrument is not None:
                instruments[role] = instrument
        nests.append(NestConfig(position, name, instruments, channel))
    return tuple(nests), shared


def _shared_roles(
    listed: tuple[str, ...], roles: tuple[str, ...], problems: Problems
) -> tuple[str, ...]:
    shared: list[str] = []
    for role in listed:
        if role not in roles:
            problems.add(
                "station.shared_roles",
                f"unknown role {role!r}{did_you_mean(role, roles)}; roles: {', '.join(roles)}",
            )
        elif role in shared:
            problems.add("station.shared_roles", f"{role!r} is listed twice")
        else:
            shared.append(role)
    return tuple(shared)
