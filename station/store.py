"""The results store: every run, step and measurement in one SQLite file, as it happens.

``ResultsStore`` is an engine listener. Each finished step is committed (WAL,
``synchronous=FULL``) before the engine starts the next, so a crash or power loss loses at
most the step in progress. Finished runs are append-only, enforced by triggers in the file
itself (``station.store_schema``); ``docs/results-schema.md`` documents every column.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from station import ledger
from station import store_records as records
from station import store_schema as schema
from station.errors import StoreError
from station.events import (
    Attachment,
    Component,
    Event,
    Log,
    Measurement,
    Progress,
    Prompt,
    RunFinished,
    RunStarted,
    Sample,
    StepFinished,
    StepStarted,
)
from station.inputs import sha256_of
from station.outcomes import RUN_OUTCOMES, RunState
from station.store_records import (
    AttachmentRecord,
    ChainLink,
    ComponentRecord,
    InstrumentRecord,
    LogRecord,
    MeasurementRecord,
    MeasurementWithRun,
    RunDetail,
    RunRecord,
    SampleRecord,
    StepRecord,
)
from station.store_schema import INTERRUPTED, utcnow
from station.writer_lock import WriterIdentity, WriterLock

_R = TypeVar("_R")
_Row = tuple[Any, ...]  # the values of one of ``store_schema``'s inserts, built by column name

SAMPLE_BATCH = 200
"""Samples buffered before they are written in a transaction of their own: on a station
sampling three channels a second, about a minute of them, the most a crash can take from the
step in progress (that step is lost anyway; the finished ones are committed)."""
SAMPLE_COMMIT_GAP_S = 1.0
"""The least wall time between two such commits. Each waits for the disk
(``synchronous=FULL``, an fsync of ~4 ms on the reference VM, up to 12 ms under load). A
station fills a batch in about a minute, so this never holds one back there; the lockstep
bench fills one every few milliseconds (a 96S reference run's Shipping SOC step records ~7600
samples in about two wall seconds) and would otherwise make 36 commits a run, waiting
0.15–0.27 s on the disk. A batch held back keeps growing, up to :data:`SAMPLE_BUFFER_MAX`."""
SAMPLE_BUFFER_MAX = 50 * SAMPLE_BATCH
"""Buffered samples that are committed whatever the time since the last commit."""


@dataclass
class _StepBuffer:
    started: StepStarted
    measurements: list[_Row] = field(default_factory=list)


@dataclass
class _RunBuffer:
    steps: dict[str, _StepBuffer] = field(default_factory=dict)
    samples: list[_Row] = field(default_factory=list)
    logs: list[_Row] = field(default_factory=list)
    attachments: list[_Row] = field(default_factory=list)
    components: list[_Row] = field(default_factory=list)

    def pending(self) -> tuple[tuple[str, list[_Row]], ...]:
        """The rows waiting for the next transaction, by insert; () when there are none
        (most steps: their commit runs no statement for these)."""
        if not (self.samples or self.logs or self.attachments or self.components):
            return ()
        return (
            (schema.INSERT_SAMPLE, self.samples),
            (schema.INSERT_LOG, self.logs),
            (schema.INSERT_ATTACHMENT, self.attachments),
            (schema.INSERT_COMPONENT, self.components),
        )

    def clear_pending(self) -> None:
        self.samples.clear()
        self.logs.clear()
        self.attachments.clear()
        self.components.clear()


def _insert(conn: sqlite3.Connection, sql: str, rows: list[_Row]) -> None:
    # executemany costs a few µs more than execute for a single row, and most steps
    # record one measurement; none is no statement at all.
    if len(rows) == 1:
        conn.execute(sql, rows[0])
    elif rows:
        conn.executemany(sql, rows)


def _real(x: float | None) -> float | None:
    # SQLite would store NaN as NULL anyway; say so explicitly.
    return None if x is None or math.isnan(x) else x


def _file_digest(path: str) -> tuple[str | None, int | None]:
    try:
        return sha256_of(Path(path)), os.stat(path).st_size
    except OSError:
        return None, None


def _measurement_row(m: Measurement, attempt: int) -> _Row:
    value_text = m.value_text
    if m.value is not None and math.isnan(m.value) and value_text is None:
        value_text = "NaN"
    values = None
    if m.values is not None:
        values = json.dumps([v if math.isfinite(v) else None for v in m.values])
    failed = json.dumps(list(m.failed_elements)) if m.failed_elements else None
    return schema.measurement_row(
        id=None,
        run_id=m.run_id,
        step_id=m.step_id,
        attempt=attempt,
        name=m.name,
        value=_real(m.value),
        value_text=value_text,
        values_json=values,
        unit=m.unit,
        comparator=m.comparator,
        low=_real(m.low),
        high=_real(m.high),
        nominal=_real(m.nominal),
        limit_text=m.limit_text,
        outcome=m.outcome,
        marginal=int(m.marginal),
        detail=m.detail,
        failed_elements=failed,
    )


def _normalise_since(since: str | datetime) -> str:
    try:
        when = since if isinstance(since, datetime) else datetime.fromisoformat(since)
    except ValueError as err:
        raise StoreError(
            f"{since!r} is not an ISO date or date-time; use e.g. 2025-03-01."
        ) from err
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.isoformat()


class ResultsStore:
    """Record engine events in the SQLite results database at ``path``, and query it.

    Opening for writing (the default) creates the file (mode 0600: it holds password
    hashes), its folder and the schema if missing, migrates an older schema, takes the
    database's writer lock for as long as the store stays open, and marks runs whose
    writer is gone INTERRUPTED (``interrupted_on_open`` says how many). A second writer —
    another station process — is refused with a StoreError naming the holder.

    ``read_only=True`` (``station results list/show/verify``) takes no lock, writes nothing
    and never touches a live run.

    Samples are committed :data:`SAMPLE_BATCH` at a time (and with their step), at most once
    every ``sample_commit_gap_s`` of ``monotonic`` time (see :data:`SAMPLE_COMMIT_GAP_S`).

    Threads: the engine thread calls the store as a listener while other threads query.
    Writes go through one connection and queries through another, each behind its own
    lock; WAL lets a query read a consistent snapshot while a step commits.

    Raises StoreError when the file cannot be opened or is not a results database.
    """

    critical = True
    """The engine stops a run with ERROR if the store fails: nothing is tested unrecorded."""

    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = False,
        sample_commit_gap_s: float = SAMPLE_COMMIT_GAP_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self._sample_commit_gap_s = sample_commit_gap_s
        self._monotonic = monotonic
        self._samples_committed_at = -math.inf
        self.read_only = read_only
        self.interrupted_on_open = 0
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._runs: dict[str, _RunBuffer] = {}
        self._runs_since_statistics = 0
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._lock = WriterLock(self.path)
        self._identity = WriterIdentity.current().text()
        try:
            if read_only:
                self._open_read_only()
            else:
                self._open_for_writing()
        except (OSError, sqlite3.Error) as err:
            self._close_all()
            raise StoreError(
                f"Cannot open the results database {self.path} ({err}); "
                "point the station config at a writable SQLite file on a local disk."
            ) from err
        except StoreError:
            self._close_all()
            raise

    def _open_for_writing(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        with suppress(OSError):  # files made before 0600 was the rule: close them to others
            mode = self.path.stat().st_mode & 0o777
            if mode & 0o007:
                os.chmod(self.path, mode & 0o770)
        self._writer = schema.connect(self.path)
        schema.prepare(self._writer, self.path)
        self.interrupted_on_open = schema.mark_interrupted(self._writer, self.path)
        self._reader = schema.connect(self.path)

    def _open_read_only(self) -> None:
        if not self.path.is_file():
            raise StoreError(f"There is no results database at {self.path}; check the path.")
        self._reader = schema.connect(self.path)
        version = self._reader.execute("PRAGMA user_version").fetchone()[0]
        if version > schema.SCHEMA_VERSION or (
            version == 0
            and self._reader.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        ):
            raise StoreError(
                f"{self.path} is not a results database this station can read (schema version "
                f"{version}); check the path or update the station software."
            )

    # -- listener ----------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        """Record one engine event; raise StoreError if it cannot be made durable."""
        # Most events are samples and progress (three and one a second of a current-flow
        # step): they are told apart first, progress is let go, a sample's row is built
        # before the lock.
        if type(event) is Progress:
            return  # for the displays: not stored
        if isinstance(event, Sample):  # as the match below would, subclasses too
            value = event.value
            # The row in SampleRecord's column order (schema.sample_row's, checked by a
            # test), built directly: by name it costs more than the rest.
            row = (
                event.run_id,
                event.step_id,
                event.t,
                event.channel,
                None if value is None or math.isnan(value) else value,
            )
            with self._write_lock:
                run = self._runs.get(row[0]) or self._run(row[0])
                samples = run.samples
                samples.append(row)
                if len(samples) >= SAMPLE_BATCH:
                    self._commit_samples(run)
            return
        with self._write_lock:
            match event:
                case RunStarted():
                    self._run_started(event)
                case StepStarted():
                    steps = self._run(event.run_id).steps
                    if event.step_id in steps:  # a retry: keep earlier attempts' values
                        steps[event.step_id].started = event
                    else:
                        steps[event.step_id] = _StepBuffer(event)
                case Measurement():
                    step = self._step(event.run_id, event.step_id, "measurement")
                    step.measurements.append(_measurement_row(event, step.started.attempt))
                case Log():
                    self._run(event.run_id).logs.append(
                        schema.log_row(
                            id=None,
                            run_id=event.run_id,
                            step_id=event.step_id,
                            level=event.level,
                            message=event.message,
                            at=event.at,
                        )
                    )
                case Prompt():
                    text = f"operator prompt ({event.kind}): {event.text}"
                    if event.answer is not None:
                        text += f" -> answer: {event.answer}"
                    self._run(event.run_id).logs.append(
                        schema.log_row(
                            id=None,
                            run_id=event.run_id,
                            step_id=event.step_id,
                            level="PROMPT",
                            message=text,
                            at=utcnow(),
                        )
                    )
                case Attachment():
                    sha256, size = _file_digest(event.path)
                    self._run(event.run_id).attachments.append(
                        schema.attachment_row(
                            id=None,
                            run_id=event.run_id,
                            step_id=event.step_id,
                            name=event.name,
                            media_type=event.media_type,
                            path=event.path,
                            sha256=sha256,
                            size=size,
                        )
                    )
                case Component():
                    self._run(event.run_id).components.append(
                        schema.component_row(
                            id=None,
                            run_id=event.run_id,
                            step_id=event.step_id,
                            kind=event.kind,
                            code=event.code,
                            at=event.at,
                        )
                    )
                case StepFinished():
                    self._step_finished(event)
                case RunFinished():
                    self._run_finished(event)

    handle = __call__

    def audit(self, user: str, action: str, target: str, detail: str = "") -> int:
        """Append an audit row (who changed which limit, sequence or setting) and return its id."""
        with self._write_lock, self._transaction() as conn:
            audit = schema.audit_row(
                id=None, at=utcnow(), user=user, action=action, target=target, detail=detail
            )
            cur = conn.execute(schema.INSERT_AUDIT, audit)
            return int(cur.lastrowid or 0)

    def _commit_samples(self, run: _RunBuffer) -> None:
        """Commit a full batch of ``run``'s samples, unless the last such commit was less
        than ``sample_commit_gap_s`` ago and the buffer is below :data:`SAMPLE_BUFFER_MAX`."""
        now = self._monotonic()
        if (
            now - self._samples_committed_at < self._sample_commit_gap_s
            and len(run.samples) < SAMPLE_BUFFER_MAX
        ):
            return
        with self._transaction() as conn:
            conn.executemany(schema.INSERT_SAMPLE, run.samples)
        run.samples.clear()
        self._samples_committed_at = now

    def _run(self, run_id: str) -> _RunBuffer:
        try:
            return self._runs[run_id]
        except KeyError:
            raise StoreError(
                f"Results store {self.path} got an event for run {run_id}, which it did not "
                "see start; this is an engine bug, report it with the run log."
            ) from None

    def _step(self, run_id: str, step_id: str, what: str) -> _StepBuffer:
        try:
            return self._run(run_id).steps[step_id]
        except KeyError:
            raise StoreError(
                f"Results store {self.path} got a {what} for step {step_id} of run {run_id} "
                "before that step started; this is an engine bug, report it with the run log."
            ) from None

    def _run_started(self, ev: RunStarted) -> None:
        plan = json.dumps([{"group": s.group, "index": s.index, "name": s.name, "type": s.type,
                            "params": s.params} for s in ev.steps])  # fmt: skip
        with self._transaction() as conn:
            attempt, previous = schema.attempt_of(conn, ev.serial)
            run = schema.run_row(
                id=ev.run_id,
                serial=ev.serial,
                part_number=ev.part_number,
                station_id=ev.station_id,
                operator=ev.operator,
                sequence_name=ev.sequence_name,
                sequence_version=ev.sequence_version,
                sequence_path=ev.sequence_path,
                sequence_sha256=ev.sequence_sha256,
                limits_path=ev.limits_path,
                limits_sha256=ev.limits_sha256,
                config_sha256=ev.config_sha256,
                software_version=ev.software_version,
                started_at=ev.started_at,
                ended_at=None,
                outcome=RunState.RUNNING,
                safe_state_ok=None,
                safe_state_detail=None,
                planned_steps=plan,
                writer=self._identity,
                virtual_started_at=ev.virtual_started_at,
                virtual_ended_at=None,
                nest=ev.nest,
            )
            conn.execute(schema.INSERT_RUN, run)
            conn.execute(
                schema.INSERT_ATTEMPT,
                schema.attempt_row(
                    run_id=ev.run_id,
                    attempt=attempt,
                    previous_run_id=previous,
                    rework_reason=ev.rework_reason,
                ),
            )
            conn.executemany(
                schema.INSERT_INSTRUMENT,
                [
                    schema.instrument_row(
                        run_id=ev.run_id,
                        role=i.role,
                        model=i.model,
                        resource=i.resource,
                        idn=i.idn,
                        serial=i.serial,
                        cal_due=i.cal_due,
                    )
                    for i in ev.instruments
                ],
            )
        self._runs[ev.run_id] = _RunBuffer()

    def _step_finished(self, ev: StepFinished) -> None:
        run = self._run(ev.run_id)
        step = run.steps.pop(ev.step_id, None)  # a skipped step may finish unstarted
        step_row = schema.step_row(
            id=ev.step_id,
            run_id=ev.run_id,
            seq=ev.seq,
            grp=ev.group,
            idx=ev.index,
            name=ev.name,
            type=ev.type,
            outcome=ev.outcome,
            started_at=ev.started_at,
            ended_at=ev.ended_at,
            error=ev.error,
            attempts=ev.attempts,
            duration_s=ev.duration_s,
        )
        pending = run.pending()
        with self._transaction() as conn:
            conn.execute(schema.INSERT_STEP, step_row)
            if step is not None:
                _insert(conn, schema.INSERT_MEASUREMENT, step.measurements)
            for sql, rows in pending:
                _insert(conn, sql, rows)
        if pending:
            run.clear_pending()

    def _run_finished(self, ev: RunFinished) -> None:
        if ev.outcome not in RUN_OUTCOMES:
            raise StoreError(f"Run {ev.run_id} cannot finish with outcome {ev.outcome}.")
        run = self._run(ev.run_id)
        with self._transaction() as conn:
            for step in run.steps.values():
                # The engine always finishes its steps; keep the values if it did not.
                s = step.started
                unfinished = schema.step_row(
                    id=s.step_id,
                    run_id=s.run_id,
                    seq=s.seq,
                    grp=s.group,
                    idx=s.index,
                    name=s.name,
                    type=s.type,
                    outcome=INTERRUPTED,
                    started_at=s.started_at,
                    ended_at=ev.ended_at,
                    error="the step never reported StepFinished",
                    attempts=s.attempt,
                    duration_s=0.0,
                )
                conn.execute(schema.INSERT_STEP, unfinished)
                _insert(conn, schema.INSERT_MEASUREMENT, step.measurements)
            for sql, rows in run.pending():
                _insert(conn, sql, rows)
            conn.execute(
                schema.FINISH_RUN,
                {
                    "id": ev.run_id,
                    "outcome": ev.outcome,
                    "ended_at": ev.ended_at,
                    "safe_state_ok": int(ev.safe_state_ok),
                    "safe_state_detail": ev.safe_state_detail,
                    "virtual_ended_at": ev.virtual_ended_at,
                },
            )
            now = utcnow()
            ledger.append(conn, ledger.RUNS, ev.run_id, now)
            # The outbox row commits with the final state: a finished run is never unqueued.
            conn.execute(schema.INSERT_OUTBOX, schema.outbox_row(ev.run_id, now))
        del self._runs[ev.run_id]
        self._publish_head()
        self._runs_since_statistics += 1
        if self._runs_since_statistics >= schema.ANALYZE_EVERY_RUNS and self._writer is not None:
            self._runs_since_statistics = 0
            with suppress(sqlite3.Error):  # statistics only make queries faster
                schema.refresh_statistics(self._writer)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._writer
        if conn is None:
            if self.read_only:
                raise StoreError(f"The results store {self.path} was opened read-only.")
            raise StoreError(f"The results store {self.path} is closed; open it again.")
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException as err:
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(err, sqlite3.Error):
                raise self._write_error(err) from err
            raise

    @contextmanager
    def chained_change(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on station data (releases, settings); publishes the head.

        The caller changes rows and chains them with ``ledger.append`` inside it.
        """
        with self._write_lock:
            with self._transaction() as conn:
                yield conn
            self._publish_head()

    def _publish_head(self) -> None:
        # The head file is a second copy; the DB commit is what counts, so a failure to
        # write it is reported by `station results verify`, not by failing the run.
        with suppress(OSError, sqlite3.Error):
            if self._writer is not None:
                ledger.publish_head(self.path, self._writer)

    def _write_error(self, err: sqlite3.Error) -> StoreError:
        text = str(err)
        if isinstance(err, sqlite3.IntegrityError):
            advice = "the record was refused; this is an engine bug, report it with the run log"
        elif "full" in text:
            advice = "free space on that disk, then test the pack again"
        else:
            advice = "check the disk and the file, then test the pack again"
        return StoreError(f"Cannot write to the results database {self.path} ({text}); {advice}.")

    # -- queries -----------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._read_lock:
            conn = self._reader
            if conn is None:
                raise StoreError(f"The results store {self.path} is closed; open it again.")
            try:
                conn.execute("BEGIN")  # one snapshot for every query of a call
                try:
                    yield conn
                finally:
                    conn.execute("COMMIT")
            except sqlite3.Error as err:
                raise StoreError(
                    f"Cannot read the results database {self.path} ({err}); check the file."
                ) from err

    @staticmethod
    def _rows(
        conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()
    ) -> list[dict[str, Any]]:
        cur = conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def list_runs(
        self,
        serial: str | None = None,
        outcome: str | None = None,
        since: str | datetime | None = None,
        limit: int = 100,
    ) -> list[RunRecord]:
        """Return runs newest first, filtered by serial, outcome and start time (UTC)."""
        where: list[str] = ["1"]
        params: list[Any] = []
        if serial is not None:
            where.append("serial = ?")
            params.append(serial)
        if outcome is not None:
            where.append("outcome = ?")
            params.append(outcome)
        if since is not None:
            where.append("started_at >= ?")
            params.append(_normalise_since(since))
        with self._read() as conn:
            sql = (
                f"SELECT {self._run_columns(conn)} WHERE {' AND '.join(where)}"
                " ORDER BY started_at DESC, runs.rowid DESC LIMIT ?"
            )
            return records.read(conn, RunRecord, sql, [*params, limit])

    def _run_columns(self, conn: sqlite3.Connection) -> str:
        """Columns and FROM of a run with its attempt (NULL for runs older than attempts)."""
        if self._has_table(conn, "run_attempts"):
            return (
                "runs.*, a.attempt, a.previous_run_id, a.rework_reason"
                " FROM runs LEFT JOIN run_attempts a ON a.run_id = runs.id"
            )
        return "runs.* FROM runs"

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run one read-only SQL query on a consistent snapshot (for station data readers).

        Rows come back as dictionaries of the query's own columns: for aggregates and
        joins that no table record describes. Whole rows have typed readers."""
        with self._read() as conn:
            return self._rows(conn, sql, params)

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read connection on one consistent snapshot (never write through it)."""
        with self._read() as conn:
            yield conn

    def chain_link(self, run_id: str) -> ChainLink | None:
        """The chain link of a finished run and the chain's head, or None while it runs."""
        with self._read() as conn:
            return self._chain_link(conn, self._resolve(conn, run_id))

    def _chain_link(self, conn: sqlite3.Connection, run_id: str) -> ChainLink | None:
        if not self._has_table(conn, "chain"):
            return None
        row = conn.execute(
            "SELECT seq, record_sha256, sha256 FROM chain WHERE kind = 'runs' AND subject = ?",
            [run_id],
        ).fetchone()
        head = ledger.current_head(conn)
        if row is None or head is None:
            return None
        return ChainLink(seq=row[0], record_sha256=row[1], sha256=row[2], head=head.text())

    def verify(self) -> ledger.Verification:
        """Check the hash chain against every record and the head file (see ``ledger``)."""
        with self._read() as conn:
            if not self._has_table(conn, "chain"):
                raise StoreError(
                    f"{self.path} has no hash chain yet (schema version 1); open it once with "
                    "the station to migrate it, then verify."
                )
            return ledger.verify(conn, self.path)

    @staticmethod
    def _has_table(conn: sqlite3.Connection, name: str) -> bool:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]
        ).fetchone()
        return found is not None

    def get_run(self, run_id: str, *, with_samples: bool = False) -> RunDetail:
        """Return one run with its steps (in order), measurements, instruments, attachments,
        logs, components and chain link; its samples too when ``with_samples``.

        ``run_id`` may be a unique prefix of at least 8 characters.
        """
        with self._read() as conn:
            run_id = self._resolve(conn, run_id)
            sql = f"SELECT {self._run_columns(conn)} WHERE runs.id = ?"
            [run] = records.read(conn, RunRecord, sql, [run_id])

            def rows(record: type[_R], order: str) -> tuple[_R, ...]:
                table = records.TABLES[record]
                if record is ComponentRecord and not self._has_table(conn, table):
                    return ()  # a file older than components
                sql = f"SELECT * FROM {table} WHERE run_id = ? ORDER BY {order}"
                return tuple(records.read(conn, record, sql, [run_id]))

            return RunDetail(
                **vars(run),
                steps=rows(StepRecord, "seq"),
                measurements=rows(MeasurementRecord, "id"),
                instruments=rows(InstrumentRecord, "rowid"),
                attachments=rows(AttachmentRecord, "id"),
                logs=rows(LogRecord, "id"),
                components=rows(ComponentRecord, "id"),
                chain=self._chain_link(conn, run_id),
                samples=rows(SampleRecord, "rowid") if with_samples else (),
            )

    def samples(
        self, run_id: str, step_id: str | None = None, channel: str | None = None
    ) -> list[SampleRecord]:
        """Return a run's time-series points in recording order, optionally for one step/channel."""
        with self._read() as conn:
            params: list[Any] = [self._resolve(conn, run_id)]
            sql = "SELECT run_id, step_id, t, channel, value FROM samples WHERE run_id = ?"
            if step_id is not None:
                sql += " AND step_id = ?"
                params.append(step_id)
            if channel is not None:
                sql += " AND channel = ?"
                params.append(channel)
            return records.read(conn, SampleRecord, sql + " ORDER BY rowid", params)

    def measurement_history(
        self,
        name: str,
        step_name: str | None = None,
        part_number: str | None = None,
        limit: int = 1000,
    ) -> list[MeasurementWithRun]:
        """Return the latest ``limit`` values of one measurement, oldest first, for SPC trends."""
        sql = (
            "SELECT m.*, s.name AS step_name, r.serial, r.part_number, r.station_id,"
            " r.started_at AS run_started_at, r.outcome AS run_outcome"
            # Newest runs first, each probed for the measurement, so LIMIT stops the walk
            # early; SQLite would otherwise take every row of that name and sort them.
            " FROM runs r CROSS JOIN measurements m ON m.run_id = r.id"
            " CROSS JOIN steps s ON s.id = m.step_id"
            " WHERE m.name = ?"
        )
        params: list[Any] = [name]
        if step_name is not None:
            sql += " AND s.name = ?"
            params.append(step_name)
        if part_number is not None:
            sql += " AND r.part_number = ?"
            params.append(part_number)
        sql += " ORDER BY r.started_at DESC, m.id DESC LIMIT ?"
        with self._read() as conn:
            return records.read(conn, MeasurementWithRun, sql, [*params, limit])[::-1]

    def _resolve(self, conn: sqlite3.Connection, run_id: str) -> str:
        if conn.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone():
            return run_id
        if len(run_id) < 8:
            raise StoreError(f"No run {run_id!r} in {self.path}; give at least 8 characters.")
        found = conn.execute(
            "SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
            [run_id, run_id + "\U0010ffff"],
        ).fetchall()
        if not found:
            raise StoreError(f"No run starts with {run_id!r} in {self.path}; check the run id.")
        if len(found) > 1:
            raise StoreError(
                f"Run id prefix {run_id!r} matches several runs in {self.path} "
                f"({found[0][0]}, {found[1][0]}, …); give more characters."
            )
        return str(found[0][0])

    # -- closing -----------------------------------------------------------------------

    def close(self) -> None:
        """Refresh the query planner's statistics and close the database.

        Runs still open stay RUNNING until the next open marks them INTERRUPTED.
        """
        with self._write_lock, self._read_lock:
            for conn in (self._reader, self._writer):
                if conn is not None and not self.read_only:
                    with suppress(sqlite3.Error):
                        conn.execute("PRAGMA optimize")
            self._close_all()

    def _close_all(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None
        self._lock.release()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
