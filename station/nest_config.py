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
from dataclasses import dataclass

from station.inputs import did_you_mean

NEST_KEYS = ("name", "can_channel", "instruments")

ProblemSink = Callable[[str, str], None]


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
    shared_roles: object,
    station_roles: tuple[str, ...],
    has_can: bool,
    roles: tuple[str, ...],
    parse_instrument: Callable[[str, dict[str, object], str], object | None],
    problem: ProblemSink,
) -> tuple[tuple[NestConfig, ...], tuple[str, ...]]:
    """Read ``[[nests]]`` and ``station.shared_roles``; report every problem via ``problem``.

    ``station_roles`` are the roles of the station-wide ``[instruments.*]`` tables;
    ``parse_instrument(role, table, where)`` reads one instrument table (None if bad).
    """
    shared = _shared_roles(shared_roles, roles, problem)
    if entries is None:
        if shared:
            problem("station.shared_roles", "names shared roles but the config has no [[nests]]")
        return (), ()
    if not isinstance(entries, list) or not entries:
        problem("nests", "must be an array of tables: one [[nests]] table per nest")
        return (), shared
    for role in shared:
        if role not in station_roles:
            problem(
                "station.shared_roles",
                f"shared role {role!r} has no [instruments.{role}] table: describe the one "
                "instrument the nests share there",
            )
    for role in station_roles:
        if role not in shared:
            problem(
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
        if not isinstance(entry, dict):
            problem(where, "must be a table")
            continue
        for key in entry:
            if key not in NEST_KEYS:
                problem(f"{where}.{key}", f"unknown field{did_you_mean(key, NEST_KEYS)}")
        name = entry.get("name", str(position))
        if not isinstance(name, str) or not name.strip():
            problem(f"{where}.name", f"must be a non-empty string, got {name!r}")
            name = str(position)
        if name in names:
            problem(f"{where}.name", f"{name!r} is already the name of nest {names[name]}")
        names.setdefault(name, position)
        channel = entry.get("can_channel")
        if channel is not None and (not isinstance(channel, str) or not channel):
            problem(f"{where}.can_channel", "must be the CAN channel of this nest's pack")
            channel = None
        if channel is not None and not has_can:
            problem(
                f"{where}.can_channel",
                "a nest's CAN channel needs a [can] table (interface, bitrate, bms)",
            )
        if channel is None and has_can:
            problem(
                f"{where}.can_channel",
                "missing: with [can], each nest talks to its own pack's BMS on its own channel",
            )
        if channel is not None and channel in channels:
            problem(
                f"{where}.can_channel",
                f"{channel!r} is already nest {channels[channel]}'s channel: each nest's pack "
                "needs its own bus",
            )
        if channel is not None:
            channels.setdefault(channel, position)
        instruments: dict[str, object] = {}
        tables = entry.get("instruments", {})
        if not isinstance(tables, dict):
            problem(f"{where}.instruments", "must be a table of [nests.instruments.ROLE] tables")
            tables = {}
        for role, table in tables.items():
            at = f"{where}.instruments.{role}"
            if role not in roles:
                problem(at, f"unknown role{did_you_mean(role, roles)}; roles: {', '.join(roles)}")
                continue
            if role in shared:
                problem(
                    at,
                    f"{role!r} is both shared (station.shared_roles) and this nest's own: "
                    "keep one of the two",
                )
                continue
            if not isinstance(table, dict):
                problem(at, "must be a table")
                continue
            instrument = parse_instrument(role, table, at)
            if instrument is not None:
                instruments[role] = instrument
        nests.append(NestConfig(position, name.strip(), instruments, channel))
    return tuple(nests), shared


def _shared_roles(value: object, roles: tuple[str, ...], problem: ProblemSink) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        problem("station.shared_roles", "must be a list of role names")
        return ()
    shared: list[str] = []
    for role in value:
        if role not in roles:
            problem(
                "station.shared_roles",
                f"unknown role {role!r}{did_you_mean(role, roles)}; roles: {', '.join(roles)}",
            )
        elif role in shared:
            problem("station.shared_roles", f"{role!r} is listed twice")
        else:
            shared.append(role)
    return tuple(shared)
