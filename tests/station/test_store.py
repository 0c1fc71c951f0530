"""The results store: schema, durability per step, immutability, crash recovery, queries."""

from __future__ import annotations

import hashlib
import math
import os
import re
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest

from station import store_schema as schema
from station.errors import StoreError
from station.events import (
    Attachment,
    InstrumentInfo,
    Log,
    Measurement,
    PlannedStep,
    Progress,
    Prompt,
    RunFinished,
    RunStarted,
    Sample,
    StepFinished,
    StepStarted,
)
from station.store import SAMPLE_BATCH, SAMPLE_BUFFER_MAX, ResultsStore
from station.store_schema import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "results-schema.md"
TABLES = ("runs", "run_attempts", "components", "steps", "measurements", "samples", "instruments",
          "attachments", "logs", "audit", "chain", "releases", "settings")  # fmt: skip
DMM = InstrumentInfo("dmm", "Keithley 2000", "TCPIP0::10.0.0.7::5025::SOCKET",
                     "KEITHLEY,2000,4301234,A02", "4301234", "2026-01-31")  # fmt: skip
HIPOT = InstrumentInfo("insulation", "Chroma 19055", "TCPIP0::10.0.0.8::5025::SOCKET",
                       "CHROMA,19055,1905500123,1.0", "1905500123", "2026-06-30")  # fmt: skip


def started(run_id="run-0001-aaaa", serial="NM96A0000001", at="2025-03-01T08:00:00+00:00",
            part_number="NM96-A", instruments=(DMM, HIPOT)):  # fmt: skip
    return RunStarted(
        run_id=run_id, serial=serial, part_number=part_number, operator="op17",
        station_id="EOL-1", sequence_name="EOL NMC 96S", sequence_version="1.2.0",
        sequence_path="sequences/nm96.toml", sequence_sha256="a" * 64,
        limits_path="sequences/limits/nm96.toml", limits_sha256="b" * 64,
        config_sha256="c" * 64, software_version="0.1.0+g1234567", started_at=at,
        steps=(PlannedStep("main", 0, "OCV", "ocv"),), instruments=instruments,
    )  # fmt: skip


def measurement(run_id, step_id, name="pack_voltage_v", value=350.2, **kw):
    kw.setdefault("unit", "V")
    kw.setdefault("comparator", "GELE")
    kw.setdefault("outcome", "PASSED")
    return Measurement(run_id, step_id, name, value=value, low=300.0, high=400.0, **kw)


def step(store, run_id, seq, name="OCV", values=(350.2,), outcome="PASSED", at=None):
    """Feed one started-measured-finished step; return its id."""
    step_id = f"{run_id}-s{seq}"
    at = at or f"2025-03-01T08:00:{seq:02d}+00:00"
    store(StepStarted(run_id, step_id, seq, "main", seq - 1, name, "ocv", at))
    for v in values:
        store(measurement(run_id, step_id, value=v))
    store(StepFinished(run_id, step_id, seq, "main", seq - 1, name, "ocv", outcome, at, at,
                       duration_s=0.5))  # fmt: skip
    return step_id


def finished(run_id="run-0001-aaaa", outcome="PASSED"):
    return RunFinished(run_id, outcome, "2025-03-01T08:05:00+00:00", safe_state_ok=True,
                       safe_state_detail="all outputs off")  # fmt: skip


def record_run(store, run_id="run-0001-aaaa", outcome="PASSED", **kw):
    store(started(run_id, **kw))
    step(store, run_id, 1)
    store(finished(run_id, outcome))


def raw(path):
    """A second, independent connection, as another process would have."""
    return closing(sqlite3.connect(path, isolation_level=None))


def count(path, table):
    with raw(path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def db(tmp_path):
    return tmp_path / "results" / "results.db"


@pytest.fixture
def store(db):
    with ResultsStore(db) as s:
        yield s


# -- schema and pragmas ----------------------------------------------------------------


def test_open_creates_schema_with_wal_and_full_sync(store, db):
    assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert store._reader.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert store._writer.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with raw(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert set(TABLES) <= names
    assert {"runs_serial_started", "runs_started_at", "runs_outcome", "steps_run_id",
            "measurements_run_name", "measurements_name_text", "samples_run_step_channel",
            "instruments_serial"} <= indexes  # fmt: skip
    assert store.interrupted_on_open == 0


def test_reopening_keeps_data_and_schema(db):
    with ResultsStore(db) as s:
        record_run(s)
    with ResultsStore(db) as s:
        assert [r.id for r in s.list_runs()] == ["run-0001-aaaa"]
        assert s.interrupted_on_open == 0


def test_sqlite_utils_cli_lists_the_tables(store, db):
    record_run(store)
    # sqlite-utils is a dependency of the project, so its CLI sits next to this python.
    cli = Path(sys.executable).with_name("sqlite-utils")
    out = subprocess.run([cli, "tables", db], capture_output=True, text=True, check=True).stdout
    for table in TABLES:
        assert f'"table": "{table}"' in out


# -- event round trip ------------------------------------------------------------------


def test_events_round_trip_through_get_run(store, tmp_path):
    trace = tmp_path / "can.asc"
    trace.write_bytes(b"0.000 1 18FF50E5x Rx d 8 00 01 02 03 04 05 06 07\n")
    rid, sid = "run-0001-aaaa", "run-0001-aaaa-s1"
    store(started(rid))
    store(Log(rid, None, "INFO", "run started", "2025-03-01T08:00:00+00:00"))
    store(StepStarted(rid, sid, 1, "main", 0, "Cell voltages", "cells", "2025-03-01T08:00:01Z"))
    store(measurement(rid, sid, "pack_voltage_v", 350.25, nominal=350.0, marginal=True,
                      limit_text="300 <= x <= 400"))  # fmt: skip
    store(Measurement(rid, sid, "cell_v", "V", "GELE", "FAILED", values=(3.70, 3.71, 2.90),
                      low=3.0, high=4.2, failed_elements=(2,), detail="cell 2 low"))  # fmt: skip
    store(Measurement(rid, sid, "bms_sw", "", "EQ", "PASSED", value_text="1.4.2",
                      limit_text="1.4.2"))  # fmt: skip
    store(Sample(rid, sid, 0.1, "pack_v", 350.1))
    store(Sample(rid, sid, 0.2, "pack_i", 0.0))
    store(Log(rid, sid, "WARNING", "cell 2 low", "2025-03-01T08:00:02+00:00"))
    store(Prompt(rid, sid, "confirm", "Is the pack label readable?", answer="yes"))
    store(Attachment(rid, sid, "CAN trace", "text/plain", str(trace)))
    store(StepFinished(rid, sid, 1, "main", 0, "Cell voltages", "cells", "FAILED",
                       "2025-03-01T08:00:01+00:00", "2025-03-01T08:00:03+00:00", attempts=2,
                       duration_s=2.0))  # fmt: skip
    store(RunFinished(rid, "FAILED", "2025-03-01T08:05:00+00:00", safe_state_ok=True,
                      safe_state_detail="all outputs off",
                      failed_steps=("Cell voltages",)))  # fmt: skip

    run = store.get_run(rid)
    assert run.serial == "NM96A0000001" and run.outcome == "FAILED"
    assert run.ended_at == "2025-03-01T08:05:00+00:00"
    assert (run.safe_state_ok, run.safe_state_detail) == (1, "all outputs off")
    assert run.sequence_sha256 == "a" * 64 and run.software_version == "0.1.0+g1234567"
    assert '"name": "OCV"' in run.planned_steps
    [s] = run.steps
    assert (s.id, s.seq, s.grp, s.idx, s.outcome, s.attempts) == (
        sid, 1, "main", 0, "FAILED", 2)  # fmt: skip
    pack, cells, sw = run.measurements
    assert (pack.value, pack.unit, pack.low, pack.high) == (350.25, "V", 300.0, 400.0)
    assert (pack.marginal, pack.nominal, pack.limit_text) == (1, 350.0, "300 <= x <= 400")
    assert cells.values_json == "[3.7, 3.71, 2.9]" and cells.failed_elements == "[2]"
    assert cells.value is None and cells.detail == "cell 2 low"
    assert sw.value_text == "1.4.2" and sw.value is None
    assert [i.serial for i in run.instruments] == ["4301234", "1905500123"]
    [att] = run.attachments
    assert att.sha256 == hashlib.sha256(trace.read_bytes()).hexdigest()
    assert att.size == trace.stat().st_size and att.step_id == sid
    assert [(g.level, g.step_id) for g in run.logs] == [
        ("INFO", None), ("WARNING", sid), ("PROMPT", sid)]  # fmt: skip
    assert "answer: yes" in run.logs[2].message
    assert [(p.channel, p.value) for p in store.samples(rid)] == [
        ("pack_v", 350.1), ("pack_i", 0.0)]  # fmt: skip
    assert store.samples(rid, step_id=sid, channel="pack_i")[0].t == 0.2


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_kept_visible(store, value):
    store(started())
    sid = "run-0001-aaaa-s1"
    store(StepStarted("run-0001-aaaa", sid, 1, "main", 0, "IR", "ir", "2025-03-01T08:00:00Z"))
    store(measurement("run-0001-aaaa", sid, "riso_ohm", value, values=(1.0, value)))
    store(StepFinished("run-0001-aaaa", sid, 1, "main", 0, "IR", "ir", "PASSED", "a", "b"))
    [m] = store.get_run("run-0001-aaaa").measurements
    if math.isnan(value):
        assert (m.value, m.value_text) == (None, "NaN")
    else:
        assert m.value == value
    assert m.values_json == "[1.0, null]"


def test_a_skipped_step_may_finish_without_starting(store):
    store(started())
    store(StepFinished("run-0001-aaaa", "sk", 1, "main", 0, "Hipot", "hipot", "SKIPPED", "a", "a"))
    assert store.get_run("run-0001-aaaa").steps[0].outcome == "SKIPPED"


def test_retried_step_keeps_every_attempts_values(store):
    rid, sid = "run-0001-aaaa", "run-0001-aaaa-s1"
    store(started(rid))
    for attempt in (1, 2):
        store(StepStarted(rid, sid, 1, "main", 0, "OCV", "ocv", "a", attempt=attempt))
        store(measurement(rid, sid, value=300.0 + attempt))
    store(StepFinished(rid, sid, 1, "main", 0, "OCV", "ocv", "PASSED", "a", "b", attempts=2))
    ms = store.get_run(rid).measurements
    assert [(m.attempt, m.value) for m in ms] == [(1, 301.0), (2, 302.0)]


def test_a_step_never_finished_is_recorded_interrupted_at_run_end(store):
    rid = "run-0001-aaaa"
    store(started(rid))
    store(StepStarted(rid, "s9", 9, "main", 0, "DCIR", "dcir", "2025-03-01T08:01:00Z"))
    store(measurement(rid, "s9", "dcir_ohm", 0.05))
    store(finished(rid, "ERROR"))
    run = store.get_run(rid)
    assert [(s.id, s.outcome) for s in run.steps] == [("s9", "INTERRUPTED")]
    assert run.measurements[0].value == 0.05


def test_events_for_an_unknown_run_or_step_are_refused(store):
    with pytest.raises(StoreError, match="did not see start"):
        store(Log("nope", None, "INFO", "x", "a"))
    store(started())
    with pytest.raises(StoreError, match="before that step started"):
        store(measurement("run-0001-aaaa", "no-such-step"))


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE runs SET outcome = 'FAIL'",
        "INSERT INTO steps SELECT 'x', run_id, 9, grp, 9, 'x', type, 'FAIL',"
        " started_at, ended_at, NULL, 1, 0 FROM steps",
        "INSERT INTO measurements (run_id, step_id, name, unit, comparator, outcome)"
        " SELECT run_id, step_id, name, unit, comparator, 'PASS' FROM measurements",
    ],
    ids=["runs", "steps", "measurements"],
)
def test_the_file_refuses_a_word_that_is_not_an_outcome(store, db, sql):
    store(started())
    step(store, "run-0001-aaaa", 1)
    with raw(db) as conn, pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute(sql)


def test_a_run_id_cannot_start_twice(store, db):
    store(started())
    with pytest.raises(StoreError, match=re.escape(str(db))):
        store(started())


# -- durability: one transaction per step ----------------------------------------------


def test_a_step_becomes_visible_to_others_only_when_finished(store, db):
    rid, sid = "run-0001-aaaa", "run-0001-aaaa-s1"
    store(started(rid))
    assert count(db, "runs") == 1 and count(db, "instruments") == 2  # committed at once
    store(StepStarted(rid, sid, 1, "main", 0, "OCV", "ocv", "a"))
    for v in (1.0, 2.0, 3.0):
        store(measurement(rid, sid, value=v))
    store(Log(rid, sid, "INFO", "measuring", "a"))
    assert [count(db, t) for t in ("steps", "measurements", "logs")] == [0, 0, 0]
    store(StepFinished(rid, sid, 1, "main", 0, "OCV", "ocv", "PASSED", "a", "b"))
    assert [count(db, t) for t in ("steps", "measurements", "logs")] == [1, 3, 1]
    with raw(db) as conn:
        assert conn.execute("SELECT outcome FROM runs").fetchone()[0] == "RUNNING"


def test_samples_are_flushed_in_batches_and_at_step_end(db):
    rid, sid = "run-0001-aaaa", "run-0001-aaaa-s1"
    store = ResultsStore(db, sample_commit_gap_s=0.0)  # every full batch, however soon
    store(started(rid))
    store(StepStarted(rid, sid, 1, "main", 0, "Capacity", "capacity", "a"))
    n = 2 * SAMPLE_BATCH + 50
    for i in range(n):
        store(Sample(rid, sid, i * 1.0, "pack_v" if i % 2 else "pack_i", 350.0))
        if i == 2 * SAMPLE_BATCH:
            assert count(db, "samples") == 2 * SAMPLE_BATCH
    store(StepFinished(rid, sid, 1, "main", 0, "Capacity", "capacity", "PASSED", "a", "b"))
    assert count(db, "samples") == n
    assert len(store.samples(rid, channel="pack_v")) == n // 2
    assert [p.t for p in store.samples(rid)] == [i * 1.0 for i in range(n)]
    store.close()


def test_a_full_batch_waits_for_the_commit_gap_then_goes_with_all_buffered(db):
    wall = [100.0]
    store = ResultsStore(db, sample_commit_gap_s=1.0, monotonic=lambda: wall[0])
    rid, sid = "run-0001-aaaa", "run-0001-aaaa-s1"
    store(started(rid))
    store(StepStarted(rid, sid, 1, "main", 0, "Capacity", "capacity", "a"))
    stored = 0

    def sample() -> None:
        nonlocal stored
        store(Sample(rid, sid, stored * 1.0, "pack_v", 350.0))
        stored += 1

    for _ in range(SAMPLE_BATCH):
        sample()
    assert count(db, "samples") == SAMPLE_BATCH  # the first batch: no commit before it
    for _ in range(SAMPLE_BATCH + 10):
        sample()
    assert count(db, "samples") == SAMPLE_BATCH  # a second full batch, 0 s later: held back
    wall[0] += 0.999
    sample()
    assert count(db, "samples") == SAMPLE_BATCH
    wall[0] += 0.001
    sample()
    assert count(db, "samples") == stored  # the gap is over: everything buffered goes
    committed = stored
    for _ in range(SAMPLE_BUFFER_MAX - 1):  # the clock stands still: held back up to the cap
        sample()
    assert count(db, "samples") == committed
    sample()
    assert count(db, "samples") == committed + SAMPLE_BUFFER_MAX
    store.close()


def test_a_sample_row_is_what_the_row_builder_gives_by_column_name(store, db):
    # The store builds sample rows positionally (its hot path): they must be sample_row's.
    rid, sid = "run-0001-aaaa", "run-0001-aaaa-s1"
    store(started(rid))
    store(StepStarted(rid, sid, 1, "main", 0, "Capacity", "capacity", "a"))
    store(Sample(rid, sid, 0.5, "pack_v", 351.25))
    store(Sample(rid, sid, 1.5, "pack_v", math.nan))  # NaN is stored as NULL
    store(Progress(rid, sid, 0.5, 10.0, "half-way"))  # for the displays only
    assert store._runs[rid].samples == [
        schema.sample_row(run_id=rid, step_id=sid, t=0.5, channel="pack_v", value=351.25),
        schema.sample_row(run_id=rid, step_id=sid, t=1.5, channel="pack_v", value=None),
    ]
    store(StepFinished(rid, sid, 1, "main", 0, "Capacity", "capacity", "PASSED", "a", "b"))
    with raw(db) as conn:
        rows = conn.execute("SELECT run_id, step_id, t, channel, value FROM samples").fetchall()
    assert rows == [(rid, sid, 0.5, "pack_v", 351.25), (rid, sid, 1.5, "pack_v", None)]


def test_a_failing_step_write_leaves_nothing_half_written(store, db):
    rid, sid = "run-0001-aaaa", "run-0001-aaaa-s1"
    store(started(rid))
    store(StepStarted(rid, sid, 1, "main", 0, "OCV", "ocv", "a"))
    store(measurement(rid, sid, value=1.0))
    store(measurement(rid, sid, value=2.0, comparator=None))  # NOT NULL violated
    with pytest.raises(StoreError, match=re.escape(str(db))):
        store(StepFinished(rid, sid, 1, "main", 0, "OCV", "ocv", "PASSED", "a", "b"))
    assert count(db, "steps") == count(db, "measurements") == 0
    step(store, rid, 2)  # the store keeps working for the next step
    store(finished(rid, "ERROR"))
    assert store.get_run(rid).outcome == "ERROR"


def test_a_full_disk_is_a_store_error_naming_the_file(store, db):
    store(started())
    store._writer.execute("PRAGMA max_page_count = 1")  # stands in for a full disk
    store(StepStarted("run-0001-aaaa", "s1", 1, "main", 0, "OCV", "ocv", "a"))
    store(measurement("run-0001-aaaa", "s1", detail="x" * 100_000))
    with pytest.raises(StoreError, match=rf"{re.escape(str(db))}.*full"):
        store(StepFinished("run-0001-aaaa", "s1", 1, "main", 0, "OCV", "ocv", "PASSED", "a", "b"))


# -- immutability ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE runs SET outcome = 'PASSED'",
        "UPDATE runs SET serial = 'FORGED'",
        "UPDATE runs SET outcome = 'RUNNING'",
        "DELETE FROM runs",
        "UPDATE steps SET outcome = 'PASSED'",
        "DELETE FROM steps",
        "UPDATE measurements SET value = 351",
        "DELETE FROM measurements",
        "UPDATE samples SET value = 0",
        "DELETE FROM samples",
        "UPDATE instruments SET serial = 'X'",
        "DELETE FROM instruments",
        "UPDATE attachments SET sha256 = 'X'",
        "DELETE FROM attachments",
        "UPDATE logs SET message = 'X'",
        "DELETE FROM logs",
        "UPDATE audit SET user = 'X'",
        "DELETE FROM audit",
    ],
)
def test_finished_results_cannot_be_changed(store, db, tmp_path, sql):
    (tmp_path / "a.txt").write_text("x")
    store(started())
    store(StepStarted("run-0001-aaaa", "s1", 1, "main", 0, "OCV", "ocv", "a"))
    store(measurement("run-0001-aaaa", "s1"))
    store(Sample("run-0001-aaaa", "s1", 0.0, "v", 1.0))
    store(Log("run-0001-aaaa", "s1", "INFO", "x", "a"))
    store(Attachment("run-0001-aaaa", None, "a", "text/plain", str(tmp_path / "a.txt")))
    store(StepFinished("run-0001-aaaa", "s1", 1, "main", 0, "OCV", "ocv", "FAILED", "a", "b"))
    store(finished(outcome="FAILED"))
    store.audit("eng1", "limits.edit", "nm96.toml", "riso_ohm low 500e6 -> 400e6")
    with raw(db) as conn, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(sql)
    assert store.get_run("run-0001-aaaa").outcome == "FAILED"


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO steps VALUES ('s2', 'run-0001-aaaa', 2, 'main', 1, 'x', 'x', 'PASSED',"
        " 'a', 'b', NULL, 1, 0)",
        "INSERT INTO measurements (run_id, step_id, name, unit, comparator, outcome)"
        " VALUES ('run-0001-aaaa', 'run-0001-aaaa-s1', 'x', 'V', 'LOG', 'DONE')",
        "INSERT INTO samples VALUES ('run-0001-aaaa', 'run-0001-aaaa-s1', 9, 'v', 1)",
        "INSERT INTO logs (run_id, level, message, at) VALUES ('run-0001-aaaa', 'INFO', 'x', 'a')",
    ],
)
def test_a_finished_run_takes_no_new_rows(store, db, sql):
    record_run(store)
    with raw(db) as conn, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(sql)


def test_a_running_run_may_only_be_finished(store, db):
    store(started())
    with raw(db) as conn:
        for sql in ("UPDATE runs SET serial = 'FORGED'", "DELETE FROM runs"):
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(sql)
    store(finished())
    with pytest.raises(StoreError):
        store(finished())  # a second verdict is refused


def test_audit_rows_are_appended(store):
    first = store.audit("eng1", "limits.edit", "nm96.toml", "old -> new (reason: ECN 42)")
    assert store.audit("eng2", "sequence.release", "nm96.toml") == first + 1


# -- crash recovery --------------------------------------------------------------------


def test_a_killed_station_leaves_finished_steps_and_an_interrupted_run(db):
    rid = "crash-run-0001"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child_script = Path(__file__).with_name("crash_child.py")
    with subprocess.Popen(
        [sys.executable, str(child_script), str(db), rid],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO,
    ) as child:  # fmt: skip
        assert child.stdout.readline() == "READY\n"
        child.kill()
        child.wait()
    with ResultsStore(db) as store:
        assert store.interrupted_on_open == 1
        run = store.get_run(rid)
        assert run.outcome == "INTERRUPTED" and run.ended_at
        assert [s.seq for s in run.steps] == [1, 2, 3]
        assert len(run.measurements) == 6
        assert "crash or power loss" in run.logs[-1].message
        # The committed sample batch of the step in progress is kept, the rest is lost.
        assert len(store.samples(rid)) == SAMPLE_BATCH
    with raw(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    with ResultsStore(db) as store:
        assert store.interrupted_on_open == 0


def test_a_second_store_on_a_live_file_does_not_interrupt_its_run(db):
    with ResultsStore(db) as station:
        station(started())
        with ResultsStore(db, read_only=True) as cli:
            assert cli.interrupted_on_open == 0
            assert cli.list_runs()[0].outcome == "RUNNING"
        step(station, "run-0001-aaaa", 1)
        station(finished())
        assert station.get_run("run-0001-aaaa").outcome == "PASSED"


# -- queries ---------------------------------------------------------------------------


def test_list_runs_filters_and_orders_newest_first(store):
    record_run(store, "run-a", serial="S1", at="2025-03-01T08:00:00+00:00")
    record_run(store, "run-b", serial="S2", at="2025-03-02T08:00:00+00:00", outcome="FAILED")
    record_run(store, "run-c", serial="S1", at="2025-03-03T08:00:00+00:00")
    ids = lambda **kw: [r.id for r in store.list_runs(**kw)]  # noqa: E731
    assert ids() == ["run-c", "run-b", "run-a"]
    assert ids(serial="S1") == ["run-c", "run-a"]
    assert ids(outcome="FAILED") == ["run-b"]
    assert ids(since="2025-03-02") == ["run-c", "run-b"]
    assert ids(since="2025-03-02T10:00:00+02:00") == ["run-c", "run-b"]  # 08:00 UTC
    assert ids(serial="S1", since="2025-03-02", limit=5) == ["run-c"]
    assert ids(limit=1) == ["run-c"]
    with pytest.raises(StoreError, match="ISO date"):
        store.list_runs(since="yesterday")


def test_get_run_accepts_a_unique_prefix_of_eight_characters(store):
    record_run(store, "3f2a9c10-1111-4000-8000-000000000001")
    record_run(store, "3f2a9c10-2222-4000-8000-000000000002")
    assert store.get_run("3f2a9c10-1").id == "3f2a9c10-1111-4000-8000-000000000001"
    with pytest.raises(StoreError, match="several runs"):
        store.get_run("3f2a9c10")
    with pytest.raises(StoreError, match="at least 8"):
        store.get_run("3f2a")
    with pytest.raises(StoreError, match="No run"):
        store.get_run("ffffffff")


def test_measurement_history_is_oldest_first_and_filtered(store):
    for day, (rid, pn) in enumerate([("r1", "NM96-A"), ("r2", "NM96-B"), ("r3", "NM96-A")]):
        store(started(rid, at=f"2025-03-0{day + 1}T08:00:00+00:00", part_number=pn))
        step(store, rid, 1, name="OCV", values=(350.0 + day,))
        step(store, rid, 2, name="OCV end", values=(340.0 + day,))
        store(finished(rid))
    hist = store.measurement_history("pack_voltage_v", step_name="OCV")
    assert [(h.run_id, h.value) for h in hist] == [
        ("r1", 350.0),
        ("r2", 351.0),
        ("r3", 352.0),
    ]
    assert hist[0].serial == "NM96A0000001" and hist[0].unit == "V"
    hist = store.measurement_history("pack_voltage_v", part_number="NM96-A", limit=3)
    assert [h.value for h in hist] == [340.0, 352.0, 342.0]


def test_queries_from_another_thread_while_the_engine_writes(store):
    errors = []
    stop = threading.Event()

    def ui():
        while not stop.is_set():
            try:
                for r in store.list_runs():
                    store.get_run(r.id)
            except Exception as err:  # pragma: no cover - reported below
                errors.append(err)
                return

    reader = threading.Thread(target=ui)
    reader.start()
    try:
        for n in range(30):
            record_run(store, f"run-{n:04d}-thread")
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert len(store.list_runs(limit=1000)) == 30


# -- opening errors --------------------------------------------------------------------


def test_unopenable_paths_raise_store_error_naming_the_path(tmp_path):
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_bytes(b"this is not an SQLite database, just some text" * 100)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    foreign = tmp_path / "other.db"
    with closing(sqlite3.connect(foreign)) as conn:
        conn.execute("CREATE TABLE t (x)")
    newer = tmp_path / "newer.db"
    with closing(sqlite3.connect(newer)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    for path in (tmp_path, not_a_db, blocker / "results.db", foreign, newer):
        with pytest.raises(StoreError) as err:
            ResultsStore(path)
        assert str(path) in str(err.value)
        assert str(err.value).count(". ") == 0  # one sentence


def test_a_closed_store_says_so(db):
    store = ResultsStore(db)
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.list_runs()
    with pytest.raises(StoreError, match="closed"):
        store.audit("u", "a", "t")


# -- documentation ---------------------------------------------------------------------


def test_every_table_and_column_is_documented(store, db):
    doc = DOC.read_text()
    with raw(db) as conn:
        for table in TABLES:
            assert f"### `{table}`" in doc, f"table {table} undocumented"
            section = doc.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
            for (column,) in conn.execute(f"SELECT name FROM pragma_table_info('{table}')"):
                assert f"| `{column}` |" in section, f"{table}.{column} undocumented"


def test_the_documented_sql_queries_run(store, db):
    record_run(store, "3f2a9c10-1111-4000-8000-000000000001", at="2025-03-10T08:00:00+00:00")
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 4
    with raw(db) as conn:
        for sql in blocks:
            conn.execute(sql).fetchall()
        iatf = next(b for b in blocks if "instruments" in b and "DISTINCT" in b)
        assert conn.execute(iatf).fetchall() == [("NM96A0000001", "NM96-A")]


# -- query indexes and planner statistics (schema version 5) -----------------------------


def _indexes(path):
    with raw(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_a_version_4_file_gets_the_query_indexes_and_statistics(db):
    with ResultsStore(db) as store:
        record_run(store)
    with raw(db) as conn:  # make it look like a version-4 file
        for name in ("runs_serial_started", "measurements_run_name", "measurements_name_text",
                     "measurements_failed"):  # fmt: skip
            conn.execute(f"DROP INDEX {name}")
        conn.execute("CREATE INDEX runs_serial ON runs(serial)")
        conn.execute("CREATE INDEX measurements_run_id ON measurements(run_id)")
        conn.execute("CREATE INDEX measurements_name ON measurements(name)")
        conn.execute("DROP TABLE IF EXISTS sqlite_stat1")
        conn.execute("PRAGMA user_version = 4")
    with ResultsStore(db) as store:
        assert store.get_run("run-0001-aaaa").outcome == "PASSED"
    indexes = _indexes(db)
    assert {"runs_serial_started", "measurements_run_name", "measurements_name_text",
            "measurements_failed"} <= indexes  # fmt: skip
    assert not {"runs_serial", "measurements_run_id", "measurements_name"} & indexes
    with raw(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 0


def test_planner_statistics_are_refreshed_every_so_many_runs(db, monkeypatch):
    import station.store_schema as schema

    monkeypatch.setattr(schema, "ANALYZE_EVERY_RUNS", 2)
    with ResultsStore(db) as store:
        record_run(store, "run-0001-aaaa")
        with raw(db) as conn:
            stats = conn.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            assert stats.fetchone() is None
        record_run(store, "run-0002-bbbb")
        with raw(db) as conn:
            rows = conn.execute("SELECT tbl FROM sqlite_stat1").fetchall()
        assert ("measurements",) in rows and ("runs",) in rows


def test_the_documented_queries_use_their_indexes(store, db):
    record_run(store)
    plans = {
        "SELECT serial, outcome, max(started_at) AS started_at, id FROM runs"
        " GROUP BY serial ORDER BY started_at DESC": "COVERING INDEX runs_serial_started",
        "SELECT r.serial, m.name, j.value FROM measurements AS m JOIN runs AS r"
        " ON r.id = m.run_id, json_each(m.failed_elements) AS j"
        " WHERE m.failed_elements IS NOT NULL": "measurements_failed",
    }
    with raw(db) as conn:
        for sql, index in plans.items():
            plan = " ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            assert index in plan, (sql, plan)
