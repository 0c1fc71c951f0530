"""The start gate as the screens show it: overrides, and the station's health.

Whether a run may start is decided once, by ``station.gate`` (every front door asks it).
This module keeps what only the UI has: the engineers' overrides (who, why, until when —
one shift) and instrument health for the health panel: every instrument the sequence or
the config names, connected, identity, calibration due date and days left.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from station.bench import Bench
from station.config import StationConfig
from station.gate import roles_needed
from station.sequence import Sequence

DUE_SOON_DAYS = 30
UNIT_UNDER_TEST = {"bms": "the pack's BMS on CAN (unit under test)"}
"""Roles that are the pack itself: no identity or calibration of their own."""
OVERRIDE_HOURS = 8  # one shift


@dataclass(frozen=True)
class Override:
    """An engineer's permission to start despite ``key`` until ``expires``."""

    key: str
    user: str
    reason: str
    at: dt.datetime
    expires: dt.datetime

    def active(self, now: dt.datetime) -> bool:
        return now < self.expires


@dataclass(frozen=True)
class InstrumentStatus:
    role: str
    model: str
    idn: str
    serial: str
    connected: bool
    cal_due: dt.date | None
    days_left: int | None
    needed_by: tuple[str, ...] = ()
    override: str = ""

    @property
    def state(self) -> str:
        """OK, DUE SOON, EXPIRED, OVERRIDDEN or MISSING."""
        if not self.connected:
            return "MISSING"
        if self.days_left is not None and self.days_left < 0:
            return "OVERRIDDEN" if self.override else "EXPIRED"
        if self.days_left is not None and self.days_left <= DUE_SOON_DAYS:
            return "DUE SOON"
        return "OK"


@dataclass
class Overrides:
    """Active overrides by key."""

    items: dict[str, Override] = field(default_factory=dict)

    def grant(self, key: str, user: str, reason: str, now: dt.datetime) -> Override:
        o = Override(key, user, reason, now, now + dt.timedelta(hours=OVERRIDE_HOURS))
        self.items[key] = o
        return o

    def active(self, key: str, now: dt.datetime) -> Override | None:
        o = self.items.get(key)
        if o is not None and not o.active(now):
            del self.items[key]
            return None
        return o

    def reasons(self, now: dt.datetime) -> dict[str, str]:
        """Active overrides as the start gate takes them: key → "who: why"."""
        return {
            key: f"{o.user}: {o.reason}"
            for key, o in list(self.items.items())
            if self.active(key, now) is not None
        }

    def drop(self, key: str) -> None:
        self.items.pop(key, None)


def instrument_health(
    sequence: Sequence, config: StationConfig, bench: Bench, overrides: Overrides, now: dt.datetime
) -> list[InstrumentStatus]:
    """One row per instrument the config or the sequence names."""
    needed = roles_needed(sequence)
    today = now.date()
    roles = list(config.instruments) + [r for r in needed if r not in config.instruments]
    rows = []
    for role in roles:
        ic = config.instruments.get(role)
        info = bench.info.get(role)
        due = ic.cal_due if ic else (dt.date.fromisoformat(info.cal_due) if info else None)
        o = overrides.active(f"calibration:{role}", now)
        connected = bench.has(role)
        if info is not None:
            idn = info.idn
        elif connected:
            idn = UNIT_UNDER_TEST.get(role, "connected (no identity)")
        else:
            idn = "not connected"
        rows.append(
            InstrumentStatus(
                role=role,
                model=ic.model if ic else (info.model if info else "—"),
                idn=idn,
                serial=ic.serial if ic else (info.serial if info else ""),
                connected=connected,
                cal_due=due,
                days_left=(due - today).days if due else None,
                needed_by=tuple(needed.get(role, ())),
                override=f"{o.user}: {o.reason}" if o else "",
            )
        )
    return rows


def variant_from_serial(serial: str, products: tuple[str, ...]) -> str | None:
    """The product whose code (letters and digits only) starts the serial, if exactly one."""
    if len(products) == 1:
        return products[0]
    serial_key = re.sub(r"[^0-9A-Za-z]", "", serial).upper()
    hits = [p for p in products if serial_key.startswith(re.sub(r"[^0-9A-Za-z]", "", p).upper())]
    return hits[0] if len(hits) == 1 else None
