"""The results database file: schema, triggers, connection settings and crash recovery.

Tables, indexes and the triggers that keep results immutable live here, with the code
that opens a file, gives it the schema and marks runs a crash left open. ``station.store``
writes and queries through these connections. ``docs/results-schema.md`` documents every
column; a test fails when the two drift apart. Bump ``SCHEMA_VERSION`` (kept in
``PRAGMA user_version``) with every change and add a migration in ``prepare``.

The outcome columns CHECK their words (:mod:`station.outcomes`). A file's runs table gains
its CHECK when it is rebuilt for version 6; steps and measurements tables made before the
CHECKs lack them (SQLite cannot add one without rebuilding the table) and hold the same
words: the station writes nothing else, so they need no migration.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from station import ledger
from station.errors import StoreError
from station.outcomes import (
    PACK_VERDICTS,
    STORED_RUN_WORDS,
    STORED_STEP_WORDS,
    RunState,
    Verdict,
    sql_in,
)
from station.store_records import (
    AttachmentRecord,
    AttemptRecord,
    AuditRecord,
    ComponentRecord,
    InstrumentRecord,
    LogRecord,
    MeasurementRecord,
    RunRecord,
    SampleRecord,
    StepRecord,
    insert_sql,
    row_of,
)
from station.writer_lock import WriterIdentity

SCHEMA_VERSION = 8

RUNNING = RunState.RUNNING
INTERRUPTED = RunState.INTERRUPTED

# Columns fixed when a run starts; the finishing UPDATE may not touch them.
RUN_IDENTITY_COLUMNS = (
    "id",
    "serial",
    "part_number",
    "station_id",
    "operator",
    "sequence_name",
    "sequence_version",
    "sequence_path",
    "sequence_sha256",
    "limits_path",
    "limits_sha256",
    "config_sha256",
    "software_version",
    "started_at",
    "planned_steps",
    "writer",
    "virtual_started_at",
    "nest",
)

_RUNS_COLUMNS = f"""(
    id TEXT PRIMARY KEY NOT NULL,
    serial TEXT NOT NULL,
    part_number TEXT NOT NULL,
    station_id TEXT NOT NULL,
    operator TEXT NOT NULL,
    sequence_name TEXT NOT NULL,
    sequence_version TEXT NOT NULL,
    sequence_path TEXT NOT NULL,
    sequence_sha256 TEXT NOT NULL,
    limits_path TEXT,
    limits_sha256 TEXT,
    config_sha256 TEXT,
    software_version TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT NOT NULL DEFAULT '{RunState.RUNNING}'
        CHECK (outcome IN {sql_in(STORED_RUN_WORDS)}),
    safe_state_ok INTEGER CHECK (safe_state_ok IN (0, 1)),
    safe_state_detail TEXT,
    planned_steps TEXT NOT NULL DEFAULT '[]',
    writer TEXT NOT NULL DEFAULT '',
    virtual_started_at TEXT,
    virtual_ended_at TEXT,
    nest TEXT
)"""
_TABLES = (
    "CREATE TABLE IF NOT EXISTS runs "
    + _RUNS_COLUMNS
    + f""";
CREATE TABLE IF NOT EXISTS steps (
    id TEXT PRIMARY KEY NOT NULL,
    run_id TEXT NOT NULL REFERENCES runs(id),
    seq INTEGER NOT NULL,
    grp TEXT NOT NULL,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN {sql_in(STORED_STEP_WORDS)}),
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    duration_s REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS measurements (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    step_id TEXT NOT NULL REFERENCES steps(id),
    attempt INTEGER NOT NULL DEFAULT 1,
    name TEXT NOT NULL,
    value REAL,
    value_text TEXT,
    values_json TEXT,
    unit TEXT NOT NULL,
    comparator TEXT NOT NULL,
    low REAL,
    high REAL,
    nominal REAL,
    limit_text TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL CHECK (outcome IN {sql_in(Verdict)}),
    marginal INTEGER NOT NULL DEFAULT 0 CHECK (marginal IN (0, 1)),
    detail TEXT NOT NULL DEFAULT '',
    failed_elements TEXT
);
CREATE TABLE IF NOT EXISTS run_attempts (
    run_id TEXT PRIMARY KEY NOT NULL REFERENCES runs(id),
    attempt INTEGER NOT NULL CHECK (attempt >= 1),
    previous_run_id TEXT REFERENCES runs(id),
    rework_reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS components (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    step_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS samples (
    run_id TEXT NOT NULL REFERENCES runs(id),
    step_id TEXT NOT NULL,
    t REAL NOT NULL,
    channel TEXT NOT NULL,
    value REAL
);
CREATE TABLE IF NOT EXISTS instruments (
    run_id TEXT NOT NULL REFERENCES runs(id),
    role TEXT NOT NULL,
    model TEXT NOT NULL,
    resource TEXT NOT NULL,
    idn TEXT NOT NULL,
    serial TEXT NOT NULL,
    cal_due TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attachments (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    step_id TEXT,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT,
    size INTEGER
);
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    step_id TEXT,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS chain (
    seq INTEGER PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    record_sha256 TEXT NOT NULL,
    prev_sha256 TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS releases (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('sequence', 'limits')),
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    released_by TEXT NOT NULL,
    released_at TEXT NOT NULL,
    note TEXT NOT NULL,
    revoked_by TEXT,
    revoked_at TEXT,
    revoke_reason TEXT
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    target TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    sent_at TEXT,
    quarantined_at TEXT,
    UNIQUE (run_id, target)
);
CREATE INDEX IF NOT EXISTS chain_subject ON chain(kind, subject);
CREATE INDEX IF NOT EXISTS releases_sha256 ON releases(sha256);
CREATE INDEX IF NOT EXISTS runs_started_at ON runs(started_at);
CREATE INDEX IF NOT EXISTS runs_outcome ON runs(outcome);
CREATE INDEX IF NOT EXISTS steps_run_id ON steps(run_id, seq);
CREATE INDEX IF NOT EXISTS samples_run_step_channel ON samples(run_id, step_id, channel);
CREATE INDEX IF NOT EXISTS instruments_serial ON instruments(serial);
CREATE INDEX IF NOT EXISTS instruments_run_id ON instruments(run_id);
CREATE INDEX IF NOT EXISTS attachments_run_id ON attachments(run_id);
CREATE INDEX IF NOT EXISTS logs_run_id ON logs(run_id);
CREATE INDEX IF NOT EXISTS components_run_id ON components(run_id);
CREATE INDEX IF NOT EXISTS components_code ON components(code);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(target, sent_at, quarantined_at, seq);
"""
)

# Version 4 → 5: indexes shaped for the documented queries (docs/results-schema.md). They
# replace runs_serial, measurements_run_id and measurements_name, whose columns they
# lead with, so a step still updates as many indexes as before. runs_serial_started
# covers "latest verdict per serial"; measurements_failed holds only failed arrays.
_QUERY_INDEXES = """
CREATE INDEX IF NOT EXISTS runs_serial_started ON runs(serial, started_at, outcome, id);
CREATE INDEX IF NOT EXISTS measurements_run_name ON measurements(run_id, name);
CREATE INDEX IF NOT EXISTS measurements_name_text ON measurements(name, value_text)
    WHERE value_text IS NOT NULL;
CREATE INDEX IF NOT EXISTS measurements_failed ON measurements(run_id)
    WHERE failed_elements IS NOT NULL;
"""
_SUPERSEDED_INDEXES = ("runs_serial", "measurements_run_id", "measurements_name")
# Version 8 holds only text values in the (name, value_text) index: a lookup by text value
# (the BMS genealogy check) implies ``value_text IS NOT NULL``, so SQLite still uses it,
# and a numeric measurement — nearly every row — no longer writes an index page per step.
_TEXT_INDEX = "measurements_name_text"
_SUPERSEDED_TEXT_INDEX = "measurements_name_value"

ANALYZE_EVERY_RUNS = 200
"""Finished runs between two refreshes of the query planner's statistics (``ANALYZE``,
bounded by ``analysis_limit``): without them SQLite picks the wrong index as a file grows."""

# Rows of these tables are only ever inserted.
_APPEND_ONLY = (
    "run_attempts",
    "components",
    "steps",
    "measurements",
    "samples",
    "instruments",
    "attachments",
    "logs",
    "audit",
    "chain",
)
# These tables belong to a run and take no new rows once the run is final.
_RUN_CHILDREN = (
    "run_attempts",
    "components",
    "steps",
    "measurements",
    "samples",
    "instruments",
    "attachments",
    "logs",
)


def _triggers() -> str:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in RUN_IDENTITY_COLUMNS)
    parts = [
        f"""
CREATE TRIGGER IF NOT EXISTS runs_final_no_update BEFORE UPDATE ON runs
WHEN OLD.outcome <> '{RUNNING}'
BEGIN SELECT RAISE(ABORT, 'finished runs are append-only'); END;
CREATE TRIGGER IF NOT EXISTS runs_running_finish_only BEFORE UPDATE ON runs
WHEN OLD.outcome = '{RUNNING}' AND (NEW.outcome = '{RUNNING}' OR {changed})
BEGIN SELECT RAISE(ABORT, 'a running run may only be finished, its identity never changes'); END;
CREATE TRIGGER IF NOT EXISTS runs_final_no_delete BEFORE DELETE ON runs
WHEN OLD.outcome <> '{RUNNING}'
BEGIN SELECT RAISE(ABORT, 'finished runs are append-only'); END;
CREATE TRIGGER IF NOT EXISTS runs_running_no_delete BEFORE DELETE ON runs
WHEN OLD.outcome = '{RUNNING}'
BEGIN SELECT RAISE(ABORT, 'runs are never deleted'); END;
"""
    ]
    for table in _APPEND_ONLY:
        for op in ("UPDATE", "DELETE"):
            parts.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table}\n"
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END;\n"
            )
    parts.append(
        "CREATE TRIGGER IF NOT EXISTS releases_no_delete BEFORE DELETE ON releases\n"
        "BEGIN SELECT RAISE(ABORT, 'releases are revoked, never deleted'); END;\n"
    )
    for table in _RUN_CHILDREN:
        # A missing run gives NULL here, so the foreign key reports it instead.
        parts.append(
            f"CREATE TRIGGER IF NOT EXISTS {table}_run_open BEFORE INSERT ON {table}\n"
            f"WHEN (SELECT outcome FROM runs WHERE id = NEW.run_id) <> '{RUNNING}'\n"
            "BEGIN SELECT RAISE(ABORT, 'finished runs are append-only'); END;\n"
        )
    return "".join(parts)


# Statements of the listener's hot path, each with the builder of its values by column name
# (see ``station.store_records``).
INSERT_RUN, run_row = insert_sql(RunRecord), row_of(RunRecord)
INSERT_COMPONENT, component_row = insert_sql(ComponentRecord), row_of(ComponentRecord)
INSERT_ATTEMPT, attempt_row = insert_sql(AttemptRecord), row_of(AttemptRecord)
INSERT_INSTRUMENT, instrument_row = insert_sql(InstrumentRecord), row_of(InstrumentRecord)
INSERT_STEP, step_row = insert_sql(StepRecord), row_of(StepRecord)
INSERT_MEASUREMENT, measurement_row = insert_sql(MeasurementRecord), row_of(MeasurementRecord)
INSERT_SAMPLE, sample_row = insert_sql(SampleRecord), row_of(SampleRecord)
INSERT_LOG, log_row = insert_sql(LogRecord), row_of(LogRecord)
INSERT_ATTACHMENT, attachment_row = insert_sql(AttachmentRecord), row_of(AttachmentRecord)
INSERT_AUDIT, audit_row = insert_sql(AuditRecord), row_of(AuditRecord)
INSERT_OUTBOX = (
    "INSERT OR IGNORE INTO outbox (run_id, target, queued_at) VALUES (:run_id, :target, :queued_at)"
)
"""Queue a finished run for a destination (``CENTRAL`` first); inside the finishing transaction."""
CENTRAL = "central"
"""The outbox target of the plant's central results database (``station.central``)."""
FINISH_RUN = (
    "UPDATE runs SET outcome = :outcome, ended_at = :ended_at, safe_state_ok = :safe_state_ok,"
    " safe_state_detail = :safe_state_detail, virtual_ended_at = :virtual_ended_at"
    " WHERE id = :id"
)
"""The one change a run's row takes: its end (the triggers refuse any other)."""


def outbox_row(run_id: str, queued_at: str, target: str = CENTRAL) -> dict[str, str]:
    """The named values of ``INSERT_OUTBOX``."""
    return {"run_id": run_id, "target": target, "queued_at": queued_at}


SCHEMA = _TABLES + _QUERY_INDEXES + _triggers() + f"PRAGMA user_version = {SCHEMA_VERSION};\n"
"""The whole DDL; idempotent, so two stations creating one file at once cannot clash."""


VERDICTS = PACK_VERDICTS


def attempt_of(conn: sqlite3.Connection, serial: str) -> tuple[int, str | None]:
    """The attempt number a new run of ``serial`` gets, and the id of its latest run.

    The attempt is 1 + the serial's earlier runs that ended with a verdict.
    """
    verdicts = ", ".join(f"'{v}'" for v in VERDICTS)
    (done,) = conn.execute(
        f"SELECT count(*) FROM runs WHERE serial = ? AND outcome IN ({verdicts})", (serial,)
    ).fetchone()
    last = conn.execute(
        "SELECT id FROM runs WHERE serial = ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
        (serial,),
    ).fetchone()
    return int(done) + 1, (None if last is None else str(last[0]))


def utcnow() -> str:
    """Return the current UTC time as an ISO-8601 string."""
    return datetime.now(UTC).isoformat()


def connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` in WAL mode with synchronous=FULL and foreign keys on, for any thread.

    Transactions are explicit (``isolation_level=None``): callers BEGIN and COMMIT.
    """
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise StoreError(
                f"The results database {path} cannot use WAL journaling (got {mode!r}); "
                "move it to a local disk."
            )
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA analysis_limit=400")  # bounds PRAGMA optimize on big files
    except BaseException:
        conn.close()
        raise
    return conn


def prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Give an empty file the schema, migrate an older one; refuse newer or foreign files."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The results database {path} has schema version {version}, newer than this "
            f"station's {SCHEMA_VERSION}; update the station software."
        )
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise StoreError(
            f"{path} is an SQLite file but not a results database; "
            "choose another path in the station config."
        )
    # Rebuilding the runs table (version 6) must not cascade to its children; the
    # setting only takes effect outside a transaction.
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if version == 1:
            _migrate_from_1(conn)
        # Version 2 → 3 only adds the run_attempts and components tables: runs recorded
        # before them have no rows there (their chain digests stay as they were).
        if 1 <= version <= 5:
            _migrate_to_6(conn)
        elif version == 6:
            _migrate_to_7(conn)
        if 5 <= version <= 7:
            conn.execute(f"DROP INDEX IF EXISTS {_SUPERSEDED_TEXT_INDEX}")
        for statement in _statements(SCHEMA):
            conn.execute(statement)
        if 5 <= version <= 7:  # older files get statistics for every index below
            conn.execute(f"ANALYZE {_TEXT_INDEX}")
        if 0 < version < 4:
            _queue_finished_runs(conn)
        if 0 < version < 5:
            _migrate_indexes(conn)
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise StoreError(
                f"The results database {path} has rows whose run is missing ({broken[0]}); "
                "it was changed outside the station, it is not migrated."
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA foreign_keys=ON")
    with suppress(OSError):  # `station results verify` reports a head left behind
        ledger.publish_head(path, conn)


def _migrate_indexes(conn: sqlite3.Connection) -> None:
    """Version 4 → 5 (or older): drop the indexes the query indexes replace, then collect
    the planner's statistics for them (``ANALYZE`` samples ``analysis_limit`` rows)."""
    for name in _SUPERSEDED_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.execute("ANALYZE")


def refresh_statistics(conn: sqlite3.Connection) -> None:
    """Refresh the query planner's statistics (bounded by ``analysis_limit``)."""
    conn.execute("ANALYZE")


def _statements(script: str) -> list[str]:
    """Split DDL into statements (triggers contain ``;`` inside BEGIN … END)."""
    out: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    return [s for s in out if s]


def _migrate_from_1(conn: sqlite3.Connection) -> None:
    """Version 1 → 2: the writer of each run, the chain, releases and settings.

    Runs finished before the chain existed, and the rows of users, releases and settings,
    are chained as they are found: the chain vouches for them from the migration on.
    """
    conn.execute("ALTER TABLE runs ADD COLUMN writer TEXT NOT NULL DEFAULT ''")
    conn.execute("DROP TRIGGER IF EXISTS runs_running_finish_only")  # identity gained writer
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for statement in _statements(SCHEMA):
        conn.execute(statement)
    if "ui_settings" in tables:  # the UI kept them in its own table before version 2
        conn.execute(
            "INSERT OR REPLACE INTO settings (key, value) SELECT key, value FROM ui_settings"
        )
        conn.execute("DROP TABLE ui_settings")
    now = utcnow()
    for (run_id,) in conn.execute(
        f"SELECT id FROM runs WHERE outcome <> '{RUNNING}' ORDER BY rowid"
    ).fetchall():
        ledger.append(conn, ledger.RUNS, run_id, now)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table, key in ledger.ROW_KEYS.items():
        if table in tables:
            for (subject,) in conn.execute(f"SELECT {key} FROM {table} ORDER BY rowid").fetchall():
                ledger.append(conn, table, subject, now)


def _queue_finished_runs(conn: sqlite3.Connection) -> None:
    """Version 3 → 4: the outbox; runs finished before it are queued for the central copy."""
    conn.execute(
        "INSERT OR IGNORE INTO outbox (run_id, target, queued_at)"
        f" SELECT id, ?, ? FROM runs WHERE outcome <> '{RUNNING}' ORDER BY rowid",
        (CENTRAL, utcnow()),
    )


def _migrate_to_6(conn: sqlite3.Connection) -> None:
    """Version 5 (or older) → 6: run times on the wall clock with the virtual ones beside them
    (``virtual_started_at``, ``virtual_ended_at``), and NULL rather than the hash of
    nothing for a run without a limit table or a config file.

    SQLite cannot drop NOT NULL from a column, so the runs table is rebuilt with the same
    rows. Its triggers, and the other tables' triggers that read it, are dropped first and
    made again from ``SCHEMA``. Old rows keep their values, and the new columns are NULL,
    which ``ledger.run_digest`` leaves out: every chained record keeps its hash.
    """
    for (trigger,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    ).fetchall():
        conn.execute(f'DROP TRIGGER "{trigger}"')
    old = [r[1] for r in conn.execute("PRAGMA table_info(runs)")]
    conn.execute("CREATE TABLE runs_v6 " + _RUNS_COLUMNS)
    new = {r[1] for r in conn.execute("PRAGMA table_info(runs_v6)")}
    kept = ", ".join(c for c in old if c in new)
    conn.execute(f"INSERT INTO runs_v6 ({kept}) SELECT {kept} FROM runs ORDER BY rowid")
    conn.execute("DROP TABLE runs")
    conn.execute("ALTER TABLE runs_v6 RENAME TO runs")


def _migrate_to_7(conn: sqlite3.Connection) -> None:
    """Version 6 → 7: the nest a run was tested in (``nest``, NULL for a station without
    nests). The trigger guarding a run's identity is made again to cover it; old runs keep
    NULL, which ``ledger.run_digest`` leaves out, so every chained hash stays."""
    conn.execute("ALTER TABLE runs ADD COLUMN nest TEXT")
    conn.execute("DROP TRIGGER IF EXISTS runs_running_finish_only")


def mark_interrupted(conn: sqlite3.Connection, path: Path) -> int:
    """Mark RUNNING runs whose writer is gone INTERRUPTED (with a log row); return how many.

    Called only by the holder of the writer lock. A run whose recorded writer is another
    process still alive on this machine (since this boot) is left alone: it is being
    written, whatever the lock says.
    """
    now = utcnow()
    me = os.getpid()
    conn.execute("BEGIN IMMEDIATE")
    try:
        orphans = []
        for run_id, writer_text in conn.execute(
            "SELECT id, writer FROM runs WHERE outcome = ? ORDER BY rowid", (RUNNING,)
        ).fetchall():
            writer = WriterIdentity.parse(writer_text)
            if writer is not None and writer.pid != me and writer.is_alive():
                continue
            orphans.append(run_id)
        for run_id in orphans:
            # The log row goes first: the trigger refuses rows for a run once it is final.
            message = (
                "The station stopped without finishing this run (crash or power loss); "
                "the steps recorded before that are kept."
            )
            conn.execute(
                INSERT_LOG,
                log_row(
                    id=None,
                    run_id=run_id,
                    step_id=None,
                    level=logging.getLevelName(logging.ERROR),
                    message=message,
                    at=now,
                ),
            )
            conn.execute(
                "UPDATE runs SET outcome = :outcome, ended_at = :ended_at WHERE id = :id",
                {"outcome": INTERRUPTED, "ended_at": now, "id": run_id},
            )
            ledger.append(conn, ledger.RUNS, run_id, now)
            conn.execute(INSERT_OUTBOX, outbox_row(run_id, now))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if orphans:
        with suppress(OSError):
            ledger.publish_head(path, conn)
    return len(orphans)
