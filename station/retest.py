"""The retest policy: how often a serial may be tested, and when a supervisor signs off.

Configured in the station config's ``[retest]`` section (``RetestPolicy``); judged by the
start gate (``station.gate``) from the serial's history in the results database:

- a serial whose latest verdict is PASSED is tested again only as *rework*, with a reason
  (``station run --rework REASON``): a passed pack is not retested "to see";
- a serial gets ``max_attempts`` verdict runs (PASSED, FAILED, ERROR); then it goes to
  repair and comes back as rework, which starts a new count;
- from attempt ``signoff_from_attempt`` on (0: never), and for every rework when
  ``rework_signoff`` is set, a supervisor signs off: an engineer's override in the UI,
  with a reason, written to the audit trail and to the run's log.

Each run records its attempt number (1 + the serial's earlier verdict runs, whatever the
rework), the previous run of the serial and the rework reason (``run_attempts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from station.checked import AtLeast, NonNegative
from station.store import ResultsStore
from station.store_schema import VERDICTS


@dataclass(frozen=True)
class RetestPolicy:
    """The ``[retest]`` table."""

    max_attempts: Annotated[int, AtLeast(1)] = 3
    signoff_from_attempt: Annotated[int, NonNegative.noting("0: never")] = 2
    rework_signoff: bool = False


@dataclass(frozen=True)
class History:
    """What the results database says about one serial."""

    verdict_runs: int
    """Runs that ended with a verdict: the next run is attempt ``verdict_runs + 1``."""
    since_rework: int
    """Verdict runs since the latest rework run (all of them if never reworked)."""
    last_run: dict[str, Any] | None
    """The latest run (any outcome)."""
    last_verdict: dict[str, Any] | None
    """The latest run that ended with a verdict."""

    @property
    def next_attempt(self) -> int:
        return self.verdict_runs + 1


def history(store: ResultsStore, serial: str) -> History:
    """The serial's runs as the retest policy counts them."""
    rows = store.query(
        "SELECT r.id, r.outcome, r.started_at, a.rework_reason FROM runs r"
        " LEFT JOIN run_attempts a ON a.run_id = r.id WHERE r.serial = ?"
        " ORDER BY r.started_at, r.rowid",
        [serial],
    )
    verdicts = since_rework = 0
    last_verdict = None
    for row in rows:
        if row["rework_reason"]:
            since_rework = 0
        if row["outcome"] in VERDICTS:
            verdicts += 1
            since_rework += 1
            last_verdict = row
    return History(verdicts, since_rework, rows[-1] if rows else None, last_verdict)


def describe(h: History) -> str:
    """One line for the operator: which attempt this is and how the last one ended."""
    if h.last_run is None:
        return "first test of this serial"
    last = h.last_run
    return (
        f"attempt {h.next_attempt} on this serial (last run {str(last['id'])[:8]} "
        f"{last['outcome']} at {str(last['started_at'])[:16]})"
    )
