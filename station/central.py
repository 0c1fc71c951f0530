"""The plant's central results database: PostgreSQL, fed from each station's outbox.

``sync`` is the relay: it copies the station's queued runs (``station.outbox``) to
PostgreSQL with psycopg 3, oldest first, each whole run in one server transaction keyed by
the run's id (``INSERT … ON CONFLICT DO NOTHING``), and marks a row sent only after the
server committed. A relay killed between the commit and the mark sends the run again, and
the repeat is a no-op: nothing lost, nothing duplicated. When the server or the network is
away the pass stops and the rows wait; a run the server refuses (a data error) is retried
with backoff and quarantined after ``max_attempts`` while the others keep flowing. The
station never waits for any of this: the outbox is written by the store, read here.

``PLANT_SCHEMA`` is the central schema (``plant``), versioned in ``plant.schema_version``;
docs/plant.md documents it and its views. psycopg comes with the ``plant`` extra.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station import ledger, outbox
from station import store_schema as schema
from station.config import StationConfig
from station.errors import StoreError
from station.mes import Mes, MesUnreachable, RunSummary, load

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

PLANT_SCHEMA_VERSION = 3
DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_BATCH = 200
_SCHEMA_LOCK = 0x45_4F_4C_01  # advisory lock: twenty stations creating the schema at once

PLANT_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS plant;
CREATE TABLE IF NOT EXISTS plant.schema_version (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS plant.runs (
    id text PRIMARY KEY,
    station_id text NOT NULL,
    serial text NOT NULL,
    part_number text NOT NULL,
    operator text NOT NULL,
    sequence_name text NOT NULL,
    sequence_version text NOT NULL,
    sequence_sha256 text NOT NULL,
    limits_sha256 text,
    config_sha256 text,
    software_version text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    outcome text NOT NULL,
    safe_state_ok boolean,
    safe_state_detail text,
    attempt integer,
    previous_run_id text,
    rework_reason text,
    record_sha256 text,
    chain_seq bigint,
    chain_sha256 text,
    received_at timestamptz NOT NULL DEFAULT now()
);
-- version 2: a run without a limit table or a station config has no hash (NULL)
ALTER TABLE plant.runs ALTER COLUMN limits_sha256 DROP NOT NULL;
ALTER TABLE plant.runs ALTER COLUMN config_sha256 DROP NOT NULL;
-- version 3: the nest a run was tested in (NULL for a station without nests)
ALTER TABLE plant.runs ADD COLUMN IF NOT EXISTS nest text;
CREATE INDEX IF NOT EXISTS runs_station_started ON plant.runs (station_id, started_at);
CREATE INDEX IF NOT EXISTS runs_serial_started ON plant.runs (serial, started_at);
CREATE TABLE IF NOT EXISTS plant.steps (
    run_id text NOT NULL REFERENCES plant.runs (id),
    id text NOT NULL,
    seq integer NOT NULL,
    grp text NOT NULL,
    idx integer NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    outcome text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz NOT NULL,
    error text,
    attempts integer NOT NULL,
    duration_s double precision NOT NULL,
    PRIMARY KEY (run_id, id)
);
CREATE TABLE IF NOT EXISTS plant.measurements (
    run_id text NOT NULL REFERENCES plant.runs (id),
    local_id bigint NOT NULL,
    step_id text NOT NULL,
    attempt integer NOT NULL,
    name text NOT NULL,
    value double precision,
    value_text text,
    unit text NOT NULL,
    comparator text NOT NULL,
    low double precision,
    high double precision,
    nominal double precision,
    limit_text text NOT NULL,
    outcome text NOT NULL,
    marginal boolean NOT NULL,
    PRIMARY KEY (run_id, local_id)
);
CREATE INDEX IF NOT EXISTS measurements_name ON plant.measurements (name);
CREATE TABLE IF NOT EXISTS plant.instruments (
    run_id text NOT NULL REFERENCES plant.runs (id),
    position integer NOT NULL,
    role text NOT NULL,
    model text NOT NULL,
    idn text NOT NULL,
    serial text NOT NULL,
    cal_due text NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX IF NOT EXISTS instruments_serial ON plant.instruments (serial);
CREATE OR REPLACE VIEW plant.first_pass_yield AS
WITH first_runs AS (
    SELECT DISTINCT ON (station_id, serial) station_id, serial, started_at, outcome
    FROM plant.runs WHERE outcome IN ('PASSED', 'FAILED')
    ORDER BY station_id, serial, started_at, id
)
SELECT station_id, (started_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS packs,
       count(*) FILTER (WHERE outcome = 'PASSED') AS passed_first_time,
       round(count(*) FILTER (WHERE outcome = 'PASSED')::numeric / count(*), 4) AS fpy
FROM first_runs GROUP BY station_id, day;
CREATE OR REPLACE VIEW plant.failure_pareto AS
SELECT r.part_number, s.name AS step_name, count(*) AS failures,
       count(DISTINCT r.serial) AS packs, count(DISTINCT r.station_id) AS stations
FROM plant.steps s JOIN plant.runs r ON r.id = s.run_id
WHERE s.outcome = 'FAILED'
GROUP BY r.part_number, s.name;
CREATE OR REPLACE VIEW plant.capability AS
SELECT r.part_number, m.name, m.unit, r.station_id, m.low, m.high,
       count(*) AS n, avg(m.value) AS mean, stddev_samp(m.value) AS sigma,
       least((m.high - avg(m.value)) / nullif(3 * stddev_samp(m.value), 0),
             (avg(m.value) - m.low) / nullif(3 * stddev_samp(m.value), 0)) AS cpk
FROM plant.measurements m JOIN plant.runs r ON r.id = m.run_id
WHERE m.value IS NOT NULL AND (m.low IS NOT NULL OR m.high IS NOT NULL)
GROUP BY r.part_number, m.name, m.unit, r.station_id, m.low, m.high;
"""

_RUN_COLUMNS = (
    "id, station_id, serial, part_number, operator, sequence_name, sequence_version,"
    " sequence_sha256, limits_sha256, config_sha256, software_version, started_at, ended_at,"
    " outcome, safe_state_ok, safe_state_detail, nest"
)
_STEP_COLUMNS = (
    "run_id, id, seq, grp, idx, name, type, outcome, started_at, ended_at, error, attempts,"
    " duration_s"
)
_MEASUREMENT_COLUMNS = (
    "run_id, id, step_id, attempt, name, value, value_text, unit, comparator, low, high,"
    " nominal, limit_text, outcome, marginal"
)
_INSTRUMENT_COLUMNS = "run_id, rowid, role, model, idn, serial, cal_due"


def _placeholders(columns: str) -> str:
    return ", ".join(["%s"] * len(columns.split(",")))


_INSERT_RUN = (
    f"INSERT INTO plant.runs ({_RUN_COLUMNS}, attempt, previous_run_id, rework_reason,"
    f" record_sha256, chain_seq, chain_sha256) VALUES ({_placeholders(_RUN_COLUMNS)},"
    " %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (id) DO NOTHING RETURNING id"
)
_INSERT_STEP = (
    f"INSERT INTO plant.steps ({_STEP_COLUMNS}) VALUES ({_placeholders(_STEP_COLUMNS)})"
    " ON CONFLICT DO NOTHING"
)
_INSERT_MEASUREMENT = (
    f"INSERT INTO plant.measurements ({_MEASUREMENT_COLUMNS.replace(' id,', ' local_id,')})"
    f" VALUES ({_placeholders(_MEASUREMENT_COLUMNS)}) ON CONFLICT DO NOTHING"
)
_INSERT_INSTRUMENT = (
    "INSERT INTO plant.instruments (run_id, position, role, model, idn, serial, cal_due)"
    f" VALUES ({_placeholders(_INSTRUMENT_COLUMNS)}) ON CONFLICT DO NOTHING"
)


class CentralUnreachable(StoreError):
    """The central database or the network to it is away; the outbox keeps the runs."""


@dataclass(frozen=True)
class SyncReport:
    """One pass of ``sync``."""

    sent: int = 0
    already_there: int = 0
    failed: int = 0
    quarantined: int = 0
    mes_sent: int = 0
    pending: int = 0
    quarantined_total: int = 0
    unreachable: str = ""
    """Why the pass stopped early ("" when it reached the end of what was due)."""

    @property
    def ok(self) -> bool:
        """Reached the server, nothing refused, nothing quarantined."""
        return not (self.unreachable or self.failed or self.quarantined_total)

    def text(self) -> str:
        parts = [
            f"{self.sent} run(s) copied to the central database",
            f"{self.already_there} already there",
        ]
        if self.mes_sent:
            parts.append(f"{self.mes_sent} uploaded to the MES")
        if self.failed:
            parts.append(f"{self.failed} refused (will retry)")
        parts.append(f"{self.pending} waiting")
        if self.quarantined_total:
            parts.append(
                f"{self.quarantined_total} quarantined after repeated failures "
                "(see `station sync --show-quarantine`)"
            )
        line = "; ".join(parts) + "."
        if self.unreachable:
            line += f" Stopped early: {self.unreachable}; the runs wait in the outbox."
        return line


def connect(dsn: str, connect_timeout_s: float = 5.0) -> psycopg.Connection[Any]:
    """Connect to the central database; raise CentralUnreachable with one sentence."""
    try:
        import psycopg
    except ImportError as err:
        raise StoreError(
            "The central results database needs psycopg; install the station with the "
            "`plant` extra (pip install 'eol-station[plant]')."
        ) from err
    try:
        return psycopg.connect(dsn, connect_timeout=max(1, round(connect_timeout_s)))
    except psycopg.Error as err:
        raise CentralUnreachable(
            f"cannot reach the central results database ({_first_line(err)})"
        ) from err


def ensure_schema(pg: psycopg.Connection[Any]) -> None:
    """Create or check the plant schema; refuse a server with a newer one."""
    with pg.transaction():
        pg.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        found = pg.execute("SELECT to_regclass('plant.schema_version')").fetchone()
        if found is not None and found[0] is not None:
            row = pg.execute("SELECT max(version) FROM plant.schema_version").fetchone()
            version = row[0] if row is not None else None
            if version is not None and version > PLANT_SCHEMA_VERSION:
                raise StoreError(
                    f"The central results database has plant schema version {version}, "
                    f"newer than this station's {PLANT_SCHEMA_VERSION}; update the station."
                )
            if version == PLANT_SCHEMA_VERSION:
                return
        pg.execute(PLANT_SCHEMA.encode())
        pg.execute(
            "INSERT INTO plant.schema_version (version) VALUES (%s) ON CONFLICT DO NOTHING",
            (PLANT_SCHEMA_VERSION,),
        )


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _rows(conn: sqlite3.Connection, sql: str, run_id: str) -> list[tuple[Any, ...]]:
    return conn.execute(sql, (run_id,)).fetchall()


def copy_run(pg: psycopg.Connection[Any], local: sqlite3.Connection, run_id: str) -> bool:
    """Copy one finished run in one server transaction; False when it was already there."""
    run = local.execute(
        f"SELECT {', '.join('r.' + c.strip() for c in _RUN_COLUMNS.split(','))},"
        " a.attempt, a.previous_run_id, a.rework_reason"
        " FROM runs r LEFT JOIN run_attempts a ON a.run_id = r.id WHERE r.id = ?",
        (run_id,),
    ).fetchone()
    if run is None:
        raise ValueError(f"run {run_id} is queued but not in the station's database")
    if run[13] == schema.RUNNING:
        raise ValueError(f"run {run_id} is queued but still RUNNING")
    link = local.execute(
        "SELECT record_sha256, seq, sha256 FROM chain WHERE kind = ? AND subject = ?"
        " ORDER BY seq DESC LIMIT 1",
        (ledger.RUNS, run_id),
    ).fetchone() or (None, None, None)
    values = (*run[:14], None if run[14] is None else bool(run[14]), *run[15:], *link)
    steps = _rows(local, f"SELECT {_STEP_COLUMNS} FROM steps WHERE run_id = ?", run_id)
    measurements = [
        (*m[:14], bool(m[14]))
        for m in _rows(
            local, f"SELECT {_MEASUREMENT_COLUMNS} FROM measurements WHERE run_id = ?", run_id
        )
    ]
    instruments = _rows(
        local, f"SELECT {_INSTRUMENT_COLUMNS} FROM instruments WHERE run_id = ?", run_id
    )
    with pg.transaction(), pg.cursor() as cur:
        cur.execute(_INSERT_RUN, values)
        if cur.fetchone() is None:
            return False  # sent before; the earlier copy is whole (one transaction)
        if steps:
            cur.executemany(_INSERT_STEP, steps)
        if measurements:
            cur.executemany(_INSERT_MEASUREMENT, measurements)
        if instruments:
            cur.executemany(_INSERT_INSTRUMENT, instruments)
    return True


def run_summary(local: sqlite3.Connection, run_id: str) -> RunSummary:
    row = local.execute(
        "SELECT id, serial, part_number, station_id, outcome, started_at, ended_at"
        " FROM runs WHERE id = ?",
        (run_id,),
    ).fetchone()
    if row is None:
        raise ValueError(f"run {run_id} is queued but not in the station's database")
    return RunSummary(*(str(v) if v is not None else "" for v in row))


def open_outbox(db_path: Path) -> sqlite3.Connection:
    """The relay's own connection to the station's database (never the writer lock)."""
    if not db_path.is_file():
        raise StoreError(f"There is no results database at {db_path}; check the path.")
    try:
        conn = schema.connect(db_path)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as err:
        raise StoreError(f"Cannot open the results database {db_path} ({err}).") from err
    if version < 4:
        conn.close()
        raise StoreError(
            f"{db_path} has no outbox yet (schema version {version}); open it once with the "
            "station (station run or station ui) to migrate it, then sync."
        )
    if version > schema.SCHEMA_VERSION:
        conn.close()
        raise StoreError(
            f"{db_path} has schema version {version}, newer than this station's "
            f"{schema.SCHEMA_VERSION}; update the station software, then sync."
        )
    return conn


def sync(
    db_path: Path,
    dsn: str,
    *,
    mes: Mes | None = None,
    batch: int = DEFAULT_BATCH,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    connect_timeout_s: float = 5.0,
    after_commit: Callable[[str], None] | None = None,
) -> SyncReport:
    """Copy every due run of the outbox at ``db_path`` to the central database.

    Returns what happened; a server that goes away ends the pass early with
    ``unreachable`` set, never with an exception. ``after_commit`` is called with each run
    id between the server's commit and the local sent mark (tests crash the relay there).
    """
    import psycopg

    local = open_outbox(db_path)
    counts = {"sent": 0, "already_there": 0, "failed": 0, "quarantined": 0, "mes_sent": 0}
    unreachable = ""
    try:
        try:
            pg = connect(dsn, connect_timeout_s)
        except CentralUnreachable as err:
            unreachable = str(err)
        else:
            with pg:
                unreachable = _drain_central(
                    pg, local, counts, mes, batch, max_attempts, after_commit
                )
        if mes is not None and not unreachable:
            unreachable = _drain_mes(local, counts, mes, batch, max_attempts)
        left = outbox.backlog(local, schema.CENTRAL)
    except psycopg.OperationalError as err:  # e.g. the schema check lost the server
        unreachable = f"lost the central results database ({_first_line(err)})"
        left = outbox.backlog(local, schema.CENTRAL)
    finally:
        local.close()
    return SyncReport(
        **counts,
        pending=left.pending,
        quarantined_total=left.quarantined,
        unreachable=unreachable,
    )


def _drain_central(
    pg: psycopg.Connection[Any],
    local: sqlite3.Connection,
    counts: dict[str, int],
    mes: Mes | None,
    batch: int,
    max_attempts: int,
    after_commit: Callable[[str], None] | None,
) -> str:
    import psycopg

    ensure_schema(pg)
    then = outbox.MES if mes is not None else None
    while rows := outbox.due(local, schema.CENTRAL, batch):
        for row in rows:
            try:
                inserted = copy_run(pg, local, row.run_id)
            except (psycopg.OperationalError, psycopg.InterfaceError) as err:
                return f"lost the central results database ({_first_line(err)})"
            except (psycopg.Error, ValueError, sqlite3.Error) as err:
                counts["failed"] += 1
                error = f"{type(err).__name__}: {_first_line(err)}"
                log.warning("central copy of run %s refused: %s", row.run_id, error)
                if outbox.mark_failed(local, row, error, max_attempts):
                    counts["quarantined"] += 1
                    log.error("run %s quarantined after %d attempts", row.run_id, max_attempts)
                continue
            if after_commit is not None:
                after_commit(row.run_id)
            outbox.mark_sent(local, row, then)
            counts["sent" if inserted else "already_there"] += 1
    return ""


def _drain_mes(
    local: sqlite3.Connection, counts: dict[str, int], mes: Mes, batch: int, max_attempts: int
) -> str:
    while rows := outbox.due(local, outbox.MES, batch):
        for row in rows:
            try:
                mes.upload(run_summary(local, row.run_id))
            except MesUnreachable as err:
                return f"cannot reach the MES ({err})"
            except Exception as err:  # a plug-in's failure is this row's, not the relay's
                counts["failed"] += 1
                if outbox.mark_failed(local, row, f"{type(err).__name__}: {err}", max_attempts):
                    counts["quarantined"] += 1
                continue
            outbox.mark_sent(local, row)
            counts["mes_sent"] += 1
    return ""


class BackgroundSync:
    """``sync`` in a daemon thread every ``interval_s``, backing off while the server is away.

    The station starts it beside the engine; it never blocks a run. ``stop`` ends the
    waiting and makes one last pass, so a run finished just before the station closes is
    sent too (an absent server costs at most the connect timeout).
    """

    def __init__(
        self,
        db_path: Path,
        dsn: str,
        *,
        interval_s: float = 30.0,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        mes: Mes | None = None,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.db_path = db_path
        self.dsn = dsn
        self.interval_s = interval_s
        self.connect_timeout_s = connect_timeout_s
        self.max_attempts = max_attempts
        self.mes = mes
        self.last: SyncReport | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="central-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2 * self.connect_timeout_s + 30.0)

    def _loop(self) -> None:
        failures = 0
        while True:
            stopping = self._stop.is_set()  # a stop during this pass gets one more pass
            reached = self._pass()
            if stopping:
                return
            failures = 0 if reached else failures + 1
            wait = self.interval_s if reached else max(self.interval_s, outbox.backoff_s(failures))
            self._stop.wait(wait)

    def _pass(self) -> bool:
        try:
            self.last = sync(
                self.db_path,
                self.dsn,
                mes=self.mes,
                max_attempts=self.max_attempts,
                connect_timeout_s=self.connect_timeout_s,
            )
        except Exception as err:  # the thread must outlive a bad pass; the next one retries
            log.error("central sync: %s: %s", type(err).__name__, err)
            return False
        if self.last.unreachable:
            log.warning("central sync: %s", self.last.unreachable)
        return not self.last.unreachable


def mes_for(config: StationConfig) -> Mes | None:
    """The config's MES plug-in for result upload, or None (raise StoreError if broken)."""
    if config.mes is None:
        return None
    try:
        return load(config.mes.plugin, config.mes.options)
    except ValueError as err:
        raise StoreError(f"{err}; fix [mes] in the station config") from err


def start_background(config: StationConfig, db_path: Path) -> BackgroundSync | None:
    """Start the background sync the config asks for (``[central] background``)."""
    if config.central is None or not config.central.background:
        return None
    worker = BackgroundSync(
        db_path,
        config.central.dsn,
        interval_s=config.central.interval_s,
        max_attempts=config.central.max_attempts,
        mes=mes_for(config),
        connect_timeout_s=config.central.connect_timeout_s,
    )
    worker.start()
    return worker
