"""Production statistics for the screens: Cpk, first-pass yield, shift counters.

Definitions (also in docs/ui.md):

* A *verdict run* is a run that ended PASSED, FAILED or ERROR. Aborted, terminated and
  interrupted runs say nothing about the pack and are left out of the counts.
* *Tested*: distinct serials with at least one verdict run.
* *Passed*: distinct serials whose latest verdict run PASSED.
* *First-pass yield*: serials whose first verdict run PASSED, divided by tested.
* *Cpk* = min(USL − mean, mean − LSL) / (3 s), with s the sample standard deviation; with
  one limit only, the side that exists.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

VERDICTS = ("PASSED", "FAILED", "ERROR")
SHIFT_STARTS = (dt.time(6), dt.time(14), dt.time(22))


@dataclass(frozen=True)
class Counters:
    tested: int
    passed: int
    first_pass: int

    @property
    def first_pass_yield(self) -> float | None:
        return self.first_pass / self.tested if self.tested else None


def counters(runs: Iterable[Mapping[str, Any]]) -> Counters:
    """Count ``runs`` (rows of ``store.list_runs``, any order) as defined above."""
    by_serial: dict[str, list[tuple[str, str]]] = {}
    for run in runs:
        if run.get("outcome") in VERDICTS:
            by_serial.setdefault(str(run["serial"]), []).append(
                (str(run["started_at"]), str(run["outcome"]))
            )
    passed = first = 0
    for attempts in by_serial.values():
        attempts.sort()
        first += attempts[0][1] == "PASSED"
        passed += attempts[-1][1] == "PASSED"
    return Counters(len(by_serial), passed, first)


def shift_start(now: dt.datetime, starts: tuple[dt.time, ...] = SHIFT_STARTS) -> dt.datetime:
    """The start of the shift containing ``now`` (local time, shifts at ``starts``)."""
    today = [now.replace(hour=t.hour, minute=t.minute, second=0, microsecond=0) for t in starts]
    earlier = [s for s in today if s <= now]
    if earlier:
        return max(earlier)
    return max(today) - dt.timedelta(days=1)


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


def format_yield(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"
