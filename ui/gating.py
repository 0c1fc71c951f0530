"""What may stop the next start, and the station's health behind it.

``blockers`` lists every reason Start is disabled, in the order an operator should deal
with them; an engineer may override the ones marked ``overridable`` (an expired
calibration, an unconfirmed safe state) with a reason. Instrument health lists every
instrument the sequence or the config names: connected, identity, calibration due date
and days left.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from station.bench import Bench
from station.config import StationConfig
from station.sequence import Sequence

DUE_SOON_DAYS = 30
UNIT_UNDER_TEST = {"bms": "the pack's BMS on CAN (unit under test)"}
"""Roles that are the pack itself: no identity or calibration of their own."""
OVERRIDE_HOURS = 8  # one shift


@dataclass(frozen=True)
class Blocker:
    """A reason the run may not start; ``key`` names it for an override."""

    kind: str  # login | running | instrument | calibration | release | safe_state | serial
    message: str
    overridable: bool = False
    key: str = ""


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

    def drop(self, key: str) -> None:
        self.items.pop(key, None)


def roles_needed(sequence: Sequence) -> dict[str, list[str]]:
    needed: dict[str, list[str]] = {}
    for step in sequence.all_steps():
        for role in step.step_type.roles:
            needed.setdefault(role, []).append(step.name)
    return needed


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


def station_blockers(
    health: list[InstrumentStatus], overrides: Overrides, now: dt.datetime, unsafe: str | None
) -> list[Blocker]:
    """Blockers that do not depend on the pack: instruments, calibration, safe state."""
    out = []
    for h in health:
        if h.needed_by and not h.connected:
            out.append(
                Blocker(
                    "instrument",
                    f"instrument {h.role!r} is missing (needed by {', '.join(h.needed_by)}); "
                    "check the station config and the connection",
                )
            )
    for h in health:
        if h.state == "EXPIRED":
            out.append(
                Blocker(
                    "calibration",
                    f"calibration of {h.role} ({h.model}, s/n {h.serial}) expired on "
                    f"{h.cal_due}; recalibrate it or ask an engineer for an override",
                    overridable=True,
                    key=f"calibration:{h.role}",
                )
            )
    if unsafe and overrides.active("safe_state", now) is None:
        out.append(
            Blocker(
                "safe_state",
                f"the last run could not confirm the sources are off ({unsafe}); do not touch "
                "the pack — an engineer must check the bench and confirm",
                overridable=True,
                key="safe_state",
            )
        )
    return out


def variant_from_serial(serial: str, products: tuple[str, ...]) -> str | None:
    """The product whose code (letters and digits only) starts the serial, if exactly one."""
    if len(products) == 1:
        return products[0]
    serial_key = re.sub(r"[^0-9A-Za-z]", "", serial).upper()
    hits = [p for p in products if serial_key.startswith(re.sub(r"[^0-9A-Za-z]", "", p).upper())]
    return hits[0] if len(hits) == 1 else None


def serial_problem(serial: str, sequence: Sequence) -> str:
    """Why ``serial`` cannot be tested with ``sequence`` ("" when it can)."""
    if not serial:
        return "scan the pack's serial number"
    if not sequence.serial_pattern.fullmatch(serial):
        return (
            f"serial {serial!r} does not match {sequence.name!r} (expected "
            f"{sequence.serial_pattern.pattern}); scan the pack's label again"
        )
    return ""
