"""Golden and failure masters: the station proves each day that it passes a good pack and
fails the bad ones, before it tests production packs.

Configured in the station config's ``[masters]`` section (:class:`MasterPolicy`): golden
serials, each of which must have PASSED today on this station, and failure masters, each
with the step that must FAIL (a known low insulation resistor, an open HVIL, an open
chassis probe …), each of which must have FAILED today on this station *on that step*. The
start gate (``station.gate``) refuses every other serial until the latest verdict run of
each master today says so; master serials themselves may always run, and the retest
policy does not count them. "Today" is the UTC date of the station's clock.

On the virtual bench a failure master is a virtual pack with a fault: its ``fault``
(``NAME[=VALUE]`` of ``station sim --list-faults``) is injected when
``station run --sim`` tests its serial.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any

from station.checked import NonEmpty
from station.outcomes import Outcome, sql_in
from station.store import ResultsStore
from station.store_schema import VERDICTS


@dataclass(frozen=True)
class FailureMaster:
    """One ``{ serial, expect, fault }`` of ``[masters] failure``."""

    serial: Annotated[str, NonEmpty]
    expect: Annotated[str, NonEmpty]
    """The step that must FAIL."""
    fault: str = ""
    """On the virtual bench: the fault that makes this virtual pack bad."""


@dataclass(frozen=True)
class MasterPolicy:
    """The ``[masters]`` table: every serial named once."""

    golden: tuple[Annotated[str, NonEmpty], ...] = ()
    failure: tuple[FailureMaster, ...] = field(default=())

    def __post_init__(self) -> None:
        serials = [*self.golden, *(m.serial for m in self.failure)]
        doubled = sorted({s for s in serials if serials.count(s) > 1})
        if doubled:
            raise ValueError(f"serial(s) {', '.join(doubled)} named more than once")

    def serials(self) -> frozenset[str]:
        return frozenset(self.golden) | {m.serial for m in self.failure}


@dataclass(frozen=True)
class MasterState:
    """One master's verification today: ``ok`` and the sentence saying why (not)."""

    serial: str
    role: str  # "golden" or "failure"
    ok: bool
    text: str


def verification(
    store: ResultsStore, policy: MasterPolicy, station_id: str, now: dt.datetime
) -> list[MasterState]:
    """Each master's state today on ``station_id`` (golden first, in config order)."""
    day_start = dt.datetime.combine(now.astimezone(dt.UTC).date(), dt.time(), dt.UTC)
    since = day_start.isoformat()
    out = []
    for serial in policy.golden:
        last = _latest(store, serial, station_id, since)
        if last is None:
            out.append(MasterState(serial, "golden", False, f"golden pack {serial}: not run today"))
        elif last["outcome"] == Outcome.PASSED:
            out.append(
                MasterState(serial, "golden", True, f"golden pack {serial}: PASSED {_at(last)}")
            )
        else:
            out.append(
                MasterState(
                    serial,
                    "golden",
                    False,
                    f"golden pack {serial}: {last['outcome']} {_at(last)} (run "
                    f"{str(last['id'])[:8]}) — the station does not pass a good pack; find "
                    "out why, then run the golden pack again",
                )
            )
    for master in policy.failure:
        last = _latest(store, master.serial, station_id, since)
        if last is None:
            out.append(
                MasterState(
                    master.serial, "failure", False,
                    f"failure master {master.serial}: not run today (must FAIL {master.expect!r})",
                )
            )  # fmt: skip
            continue
        failed_steps = [
            r["name"]
            for r in store.query(
                "SELECT name FROM steps WHERE run_id = ? AND outcome = ? ORDER BY seq",
                [last["id"], Outcome.FAILED],
            )
        ]
        if last["outcome"] == Outcome.FAILED and master.expect in failed_steps:
            out.append(
                MasterState(
                    master.serial, "failure", True,
                    f"failure master {master.serial}: FAILED {master.expect!r} as expected "
                    f"{_at(last)}",
                )
            )  # fmt: skip
            continue
        if last["outcome"] == Outcome.PASSED:
            why = (
                "PASSED — the station passes a bad pack: stop production and check the "
                f"{master.expect!r} test (contacts, leads, limits)"
            )
        elif last["outcome"] == Outcome.FAILED:
            why = (
                f"FAILED on {', '.join(failed_steps) or 'another step'}, not on "
                f"{master.expect!r}; check the master and the station, then run it again"
            )
        else:
            why = f"{last['outcome']} (not judged); run it again"
        out.append(
            MasterState(
                master.serial, "failure", False,
                f"failure master {master.serial}: {why} (run {str(last['id'])[:8]} {_at(last)})",
            )
        )  # fmt: skip
    return out


def _latest(store: ResultsStore, serial: str, station_id: str, since: str) -> dict[str, Any] | None:
    verdicts = sql_in(VERDICTS)
    rows = store.query(
        f"SELECT id, outcome, started_at FROM runs WHERE serial = ? AND station_id = ?"
        f" AND started_at >= ? AND outcome IN {verdicts}"
        " ORDER BY started_at DESC, rowid DESC LIMIT 1",
        [serial, station_id, since],
    )
    return rows[0] if rows else None


def _at(run: dict[str, Any]) -> str:
    return f"at {str(run['started_at'])[11:16]} UTC"
