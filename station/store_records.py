"""The rows of the results database as typed records, and the statements that write them.

One frozen dataclass per table (``RunRecord``, ``StepRecord``, ``MeasurementRecord`` …):
its fields are the table's columns, by name and in order, so a reader follows a value with
go-to-definition instead of a string key, and mypy sees a renamed column. Outcome columns
come back as the enums of :mod:`station.outcomes` (a member *is* its word, so exports and
comparisons read the same). Everything else keeps SQLite's value: 0/1 integers, ISO
timestamps as text, JSON as text. ``tests/station/test_store_records.py`` fails when a
record and its table (``station.store_schema``) drift apart.

Writes name their columns: ``insert_sql(StepRecord)`` is
``INSERT INTO steps (id, run_id, …) VALUES (?, ?, …)`` with the columns taken from the
record's fields, and ``row_of(StepRecord)`` builds its values from keyword arguments named
after those columns, so every value goes to the column of its name; nothing is numbered
by hand.
"""

from __future__ import annotations

import dataclasses
import operator
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from station.outcomes import Outcome, RunState, Verdict


def stored_outcome(word: str) -> Outcome | RunState:
    """A run's or a step's stored outcome word as its enum member."""
    try:
        return Outcome(word)
    except ValueError:
        return RunState(word)


@dataclass(frozen=True)
class RunRecord:
    """A row of ``runs``, with its attempt (``run_attempts``; None for runs recorded before
    attempts were)."""

    id: str
    serial: str
    part_number: str
    station_id: str
    operator: str
    sequence_name: str
    sequence_version: str
    sequence_path: str
    sequence_sha256: str
    limits_path: str | None
    limits_sha256: str | None
    config_sha256: str | None
    software_version: str
    started_at: str
    ended_at: str | None
    outcome: Outcome | RunState
    safe_state_ok: int | None
    safe_state_detail: str | None
    planned_steps: str  # JSON: [{group, index, name, type, params}, …]
    writer: str
    virtual_started_at: str | None
    virtual_ended_at: str | None
    nest: str | None  # the nest of a multi-nest station it was tested in (schema 7)
    attempt: int | None
    previous_run_id: str | None
    rework_reason: str | None


RUN_ATTEMPT_FIELDS = ("attempt", "previous_run_id", "rework_reason")
"""The fields of a ``RunRecord`` that come from ``run_attempts``, not from ``runs``."""


@dataclass(frozen=True)
class StepRecord:
    """A row of ``steps``: one step of a run, its last attempt's outcome."""

    id: str
    run_id: str
    seq: int
    grp: str  # the sequence group: setup, main or cleanup
    idx: int  # its position in the group
    name: str
    type: str
    outcome: Outcome | RunState
    started_at: str
    ended_at: str
    error: str | None
    attempts: int
    duration_s: float


@dataclass(frozen=True)
class MeasurementRecord:
    """A row of ``measurements``: one recorded value judged against its limit."""

    id: int | None  # None until SQLite gives it one
    run_id: str
    step_id: str
    attempt: int
    name: str
    value: float | None
    value_text: str | None
    values_json: str | None
    unit: str
    comparator: str
    low: float | None
    high: float | None
    nominal: float | None
    limit_text: str
    outcome: Verdict
    marginal: int
    detail: str
    failed_elements: str | None


@dataclass(frozen=True)
class MeasurementWithRun(MeasurementRecord):
    """A measurement with the step and the run it belongs to (``measurement_history``, the
    results browser)."""

    step_name: str
    serial: str
    part_number: str
    station_id: str
    run_started_at: str
    run_outcome: Outcome | RunState


@dataclass(frozen=True)
class AttemptRecord:
    """A row of ``run_attempts``."""

    run_id: str
    attempt: int
    previous_run_id: str | None
    rework_reason: str


@dataclass(frozen=True)
class ComponentRecord:
    """A row of ``components``: a part scanned into the pack."""

    id: int | None
    run_id: str
    step_id: str
    kind: str
    code: str
    at: str


@dataclass(frozen=True)
class SampleRecord:
    """A row of ``samples``: one point of a time series."""

    run_id: str
    step_id: str
    t: float
    channel: str
    value: float | None


@dataclass(frozen=True)
class InstrumentRecord:
    """A row of ``instruments``: an instrument a run used."""

    run_id: str
    role: str
    model: str
    resource: str
    idn: str
    serial: str
    cal_due: str


@dataclass(frozen=True)
class AttachmentRecord:
    """A row of ``attachments``: a file kept with a run (its sha256 when it was recorded)."""

    id: int | None
    run_id: str
    step_id: str | None
    name: str
    media_type: str
    path: str
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class LogRecord:
    """A row of ``logs``."""

    id: int | None
    run_id: str
    step_id: str | None
    level: str
    message: str
    at: str


@dataclass(frozen=True)
class AuditRecord:
    """A row of ``audit``: who changed which limit, sequence or setting."""

    id: int | None
    at: str
    user: str
    action: str
    target: str
    detail: str


@dataclass(frozen=True)
class ChainRecord:
    """A row of ``chain``: one link of the hash chain over finished runs and station data."""

    seq: int
    kind: str  # "runs" or the station-data table
    subject: str  # the run id or the row's key
    record_sha256: str
    prev_sha256: str
    sha256: str
    at: str


@dataclass(frozen=True)
class ChainLink:
    """A finished run's link in the hash chain, and the chain's head when it was read."""

    seq: int
    record_sha256: str
    sha256: str
    head: str


@dataclass(frozen=True)
class RunDetail(RunRecord):
    """A whole run as ``get_run`` returns it: the run and its rows, each in recording order,
    with its chain link (None while it runs) and, when asked for, its samples."""

    steps: tuple[StepRecord, ...]
    measurements: tuple[MeasurementRecord, ...]
    instruments: tuple[InstrumentRecord, ...]
    attachments: tuple[AttachmentRecord, ...]
    logs: tuple[LogRecord, ...]
    components: tuple[ComponentRecord, ...]
    chain: ChainLink | None
    samples: tuple[SampleRecord, ...]


TABLES: dict[type, str] = {
    RunRecord: "runs",
    StepRecord: "steps",
    MeasurementRecord: "measurements",
    AttemptRecord: "run_attempts",
    ComponentRecord: "components",
    SampleRecord: "samples",
    InstrumentRecord: "instruments",
    AttachmentRecord: "attachments",
    LogRecord: "logs",
    AuditRecord: "audit",
    ChainRecord: "chain",
}
"""Each row record and its table."""


def columns(record: type) -> tuple[str, ...]:
    """The table columns of a row record, in order (a run's attempt fields are not in runs)."""
    names = tuple(f.name for f in dataclasses.fields(record))
    return tuple(n for n in names if n not in RUN_ATTEMPT_FIELDS) if record is RunRecord else names


def insert_sql(record: type) -> str:
    """``INSERT INTO table (columns) VALUES (?, …)`` for a row record: bind ``row(record)``."""
    names = columns(record)
    placeholders = ", ".join("?" for _ in names)
    return f"INSERT INTO {TABLES[record]} ({', '.join(names)}) VALUES ({placeholders})"


def row_of(record: type) -> Callable[..., tuple[Any, ...]]:
    """A builder of the values of ``insert_sql(record)``, each given by its column's name.

    ``step_row = row_of(StepRecord)``, then ``step_row(id=…, run_id=…, …)``: a column left
    out raises KeyError naming it, and the values come back in the statement's order. The
    store writes every step through these: a tuple binds about 40 % faster than a
    dictionary of names, and it costs a fraction of building the frozen record."""
    pick = operator.itemgetter(*columns(record))

    def build(**values: Any) -> tuple[Any, ...]:
        found: tuple[Any, ...] = pick(values)  # a tuple: every table has several columns
        return found

    return build


_Record = TypeVar("_Record")


def _converters(record: type) -> dict[str, Callable[[Any], Any]]:
    """Per field, how a stored value becomes the record's: the outcome words."""
    measured = issubclass(record, MeasurementRecord)
    return {
        "outcome": Verdict if measured else stored_outcome,
        "run_outcome": stored_outcome,
    }


def read(
    conn: sqlite3.Connection, record: type[_Record], sql: str, params: Sequence[Any] = ()
) -> list[_Record]:
    """The rows of ``sql`` as ``record``s, matched by column name.

    A column the record has but the file lacks (a database from an older schema, read
    as it is) is None."""
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    fields = [f.name for f in dataclasses.fields(record)]  # type: ignore[arg-type]
    where = [names.index(n) if n in names else None for n in fields]
    convert = _converters(record)
    plan = [(i, convert.get(n)) for n, i in zip(fields, where, strict=True)]
    out = []
    for row in cur:
        values = []
        for i, conv in plan:
            value = None if i is None else row[i]
            values.append(value if conv is None or value is None else conv(value))
        out.append(record(*values))
    return out
