"""Production statistics: first-pass yield, shifts, Pareto of failures, Cpk.

Shared by the screens (``ui/spc.py`` re-exports them) and ``station results stats``.

* A *verdict run* is a run that ended PASSED, FAILED or ERROR. Aborted, terminated and
  interrupted runs say nothing about the pack and are left out of the counts.
* *Tested*: distinct serials with at least one verdict run.
* *Passed*: distinct serials whose latest verdict run PASSED.
* *First-pass yield* counts first attempts only: the attempt-1 runs (``run_attempts``)
  that PASSED, divided by the attempt-1 verdict runs. A retest of a pack first tested
  before the period counts in neither. For runs recorded before attempts were (schema
  version 2), the serial's first verdict run among those given stands in for attempt 1.
* *Cpk* = min(USL − mean, mean − LSL) / (3 s), with s the sample standard deviation; with
  one limit only, the side that exists.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from station.outcomes import Outcome, Verdict
from station.store import ResultsStore
from station.store_records import RunRecord
from station.store_schema import VERDICTS

SHIFT_STARTS = (dt.time(6), dt.time(14), dt.time(22))
"""Local start times of the shifts (early, late, night)."""


@dataclass(frozen=True)
class Counters:
    tested: int
    passed: int
    first_pass: int
    first_attempts: int | None = None
    """Attempt-1 verdict runs; None counts ``tested`` instead (kept for old callers)."""

    @property
    def first_pass_yield(self) -> float | None:
        base = self.tested if self.first_attempts is None else self.first_attempts
        return self.first_pass / base if base else None


def _is_first_attempts(runs: list[RunRecord]) -> list[bool]:
    """Whether each verdict run is its serial's first attempt (see the module's definitions)."""
    earliest: dict[str, str] = {}
    for run in runs:
        if run.attempt is None:
            serial, started = str(run.serial), str(run.started_at)
            earliest[serial] = min(earliest.get(serial, started), started)
    return [
        run.attempt == 1
        if run.attempt is not None
        else earliest[str(run.serial)] == str(run.started_at)
        for run in runs
    ]


def counters(runs: Iterable[RunRecord]) -> Counters:
    """Count ``runs`` (rows of ``store.list_runs``, any order) as defined above."""
    verdict_runs = [r for r in runs if r.outcome in VERDICTS]
    latest: dict[str, tuple[str, str]] = {}
    for run in verdict_runs:
        serial, started = str(run.serial), str(run.started_at)
        if serial not in latest or latest[serial][0] < started:
            latest[serial] = (started, str(run.outcome))
    first = [r for r, is_first in zip(verdict_runs, _is_first_attempts(verdict_runs),
                                      strict=True) if is_first]  # fmt: skip
    return Counters(
        tested=len(latest),
        passed=sum(outcome == Outcome.PASSED for _, outcome in latest.values()),
        first_pass=sum(r.outcome == Outcome.PASSED for r in first),
        first_attempts=len(first),
    )


def shift_start(now: dt.datetime, starts: tuple[dt.time, ...] = SHIFT_STARTS) -> dt.datetime:
    """The start of the shift containing ``now`` (local time, shifts at ``starts``)."""
    today = [now.replace(hour=t.hour, minute=t.minute, second=0, microsecond=0) for t in starts]
    earlier = [s for s in today if s <= now]
    if earlier:
        return max(earlier)
    return max(today) - dt.timedelta(days=1)


def shift_of(when: dt.datetime, starts: tuple[dt.time, ...] = SHIFT_STARTS) -> tuple[dt.date, int]:
    """The production day and shift number (1, 2, … in ``starts`` order) of local ``when``.

    A night shift belongs to the day it started on.
    """
    start = shift_start(when, starts)
    index = [(t.hour, t.minute) for t in starts].index((start.hour, start.minute))
    return start.date(), index + 1


@dataclass(frozen=True)
class Capability:
    n: int
    mean: float | None
    stdev: float | None
    cpk: float | None


def capability(values: Iterable[float], low: float | None, high: float | None) -> Capability:
    """Mean, sample standard deviation and Cpk of ``values`` against ``low``/``high``."""
    xs = [v for v in values if v is not None and math.isfinite(v)]
    if not xs:
        return Capability(0, None, None, None)
    mean = statistics.fmean(xs)
    if len(xs) < 2:
        return Capability(1, mean, None, None)
    sd = statistics.stdev(xs)
    sides = []
    if high is not None:
        sides.append(high - mean)
    if low is not None:
        sides.append(mean - low)
    cpk = min(sides) / (3 * sd) if sides and sd > 0 else None
    return Capability(len(xs), mean, sd, cpk)


# -- the report of `station results stats` -----------------------------------------------


@dataclass(frozen=True)
class YieldRow:
    day: dt.date
    shift: int | None  # None: the whole day
    counters: Counters


@dataclass(frozen=True)
class ParetoRow:
    step: str
    measurement: str
    failures: int
    share: float
    cumulative: float


@dataclass(frozen=True)
class CpkRow:
    part_number: str
    step: str
    measurement: str
    unit: str
    low: float | None
    high: float | None
    capability: Capability


@dataclass(frozen=True)
class Report:
    runs: int
    total: Counters
    yields: list[YieldRow]
    pareto: list[ParetoRow]
    cpk: list[CpkRow]


def _local(stamp: str, tz: dt.tzinfo | None) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp).astimezone(tz)


def report(
    store: ResultsStore,
    *,
    since: str | None = None,
    station: str | None = None,
    tz: dt.tzinfo | None = None,
    exclude: frozenset[str] = frozenset(),
) -> Report:
    """FPY per day and shift, Pareto of failing measurements, Cpk of judged measurements.

    Days and shifts are local to ``tz`` (the machine's time zone when None). Only verdict
    runs count; Cpk takes the numeric values of the last attempt of each step, grouped by
    part number, step, measurement and limits (a limit change starts a new group).
    Serials in ``exclude`` (the golden and failure masters) are left out.
    """
    runs = [
        r
        for r in store.list_runs(since=since, limit=-1)
        if r.outcome in VERDICTS
        and (station is None or r.station_id == station)
        and r.serial not in exclude
    ]
    by_shift: dict[tuple[dt.date, int], list[RunRecord]] = {}
    by_day: dict[dt.date, list[RunRecord]] = {}
    for run in runs:
        day, shift = shift_of(_local(run.started_at, tz))
        by_shift.setdefault((day, shift), []).append(run)
        by_day.setdefault(day, []).append(run)
    yields: list[YieldRow] = []
    for day in sorted(by_day):
        for (d, shift), rows in sorted(by_shift.items()):
            if d == day:
                yields.append(YieldRow(day, shift, counters(rows)))
        yields.append(YieldRow(day, None, counters(by_day[day])))
    ids = {r.id for r in runs}
    measured = store.query(
        "SELECT m.run_id, m.step_id, m.attempt, m.name, m.value, m.unit, m.low, m.high,"
        " m.outcome, s.name AS step_name, s.attempts, r.part_number"
        " FROM measurements m JOIN steps s ON s.id = m.step_id JOIN runs r ON r.id = m.run_id"
        + (" WHERE r.started_at >= ?" if since else "")
        + " ORDER BY r.started_at, m.id",
        [_since_utc(since)] if since else [],
    )
    last = [m for m in measured if m["run_id"] in ids and m["attempt"] == m["attempts"]]
    failures: dict[tuple[str, str], int] = {}
    for m in last:
        if m["outcome"] == Verdict.FAILED:
            pair = (m["step_name"], m["name"])
            failures[pair] = failures.get(pair, 0) + 1
    total_failures = sum(failures.values())
    pareto, running = [], 0
    for (step, name), n in sorted(failures.items(), key=lambda kv: (-kv[1], kv[0])):
        running += n
        pareto.append(ParetoRow(step, name, n, n / total_failures, running / total_failures))
    groups: dict[tuple[Any, ...], list[float]] = {}
    for m in last:
        if m["value"] is not None and (m["low"] is not None or m["high"] is not None):
            key = (m["part_number"], m["step_name"], m["name"], m["unit"], m["low"], m["high"])
            groups.setdefault(key, []).append(float(m["value"]))
    cpk = [
        CpkRow(part, step, name, unit, low, high, capability(values, low, high))
        for (part, step, name, unit, low, high), values in groups.items()
    ]
    return Report(len(runs), counters(runs), yields, pareto, cpk)


def _since_utc(since: str) -> str:
    when = dt.datetime.fromisoformat(since)
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.isoformat()
