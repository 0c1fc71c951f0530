"""The outbox and the central copy, against a real PostgreSQL server."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest

from station import central
from station.cli import main
from station.events import RunFinished, RunStarted
from station.store import ResultsStore
from station.store_schema import CENTRAL
from tests.plant.conftest import Cluster
from tests.plant.stations import make_station, record_runs


def local_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def central_counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as pg:
        runs, distinct = pg.execute(
            "SELECT count(*), count(DISTINCT id) FROM plant.runs"
        ).fetchone()  # type: ignore[misc]
        steps = pg.execute("SELECT count(*) FROM plant.steps").fetchone()[0]  # type: ignore[index]
        values = pg.execute("SELECT count(*) FROM plant.measurements").fetchone()[0]  # type: ignore[index]
    return {"runs": runs, "distinct": distinct, "steps": steps, "measurements": values}


def station_counts(db: Path) -> dict[str, int]:
    runs = local_rows(db, "SELECT count(*) FROM runs")[0][0]
    return {
        "runs": runs,
        "distinct": runs,
        "steps": local_rows(db, "SELECT count(*) FROM steps")[0][0],
        "measurements": local_rows(db, "SELECT count(*) FROM measurements")[0][0],
    }


def test_a_finished_run_is_queued_with_its_final_state_and_a_running_one_is_not(
    tmp_path: Path,
) -> None:
    db = tmp_path / "eol.db"
    with ResultsStore(db) as store:
        (done,) = record_runs(store, "EOL-01", 1)
        store(RunStarted(**{**_started_fields(), "run_id": "still-running"}))
        assert local_rows(db, "SELECT run_id, target, sent_at FROM outbox") == [
            (done, CENTRAL, None)
        ]
    # The next open marks the abandoned run INTERRUPTED and queues it in that transaction.
    with ResultsStore(db) as store:
        assert store.interrupted_on_open == 1
    queued = local_rows(db, "SELECT r.outcome FROM outbox o JOIN runs r ON r.id = o.run_id")
    assert sorted(q[0] for q in queued) == ["INTERRUPTED", "PASSED"]


def _started_fields() -> dict[str, Any]:
    return {
        "run_id": "x", "serial": "NM96A0000099", "part_number": "NM96-A", "operator": "op",
        "station_id": "EOL-01", "sequence_name": "s", "sequence_version": "1",
        "sequence_path": "s.toml", "sequence_sha256": "a" * 64, "limits_path": "l.toml",
        "limits_sha256": "b" * 64, "config_sha256": "c" * 64, "software_version": "0",
        "started_at": "2026-11-30T06:00:00+00:00", "steps": (), "instruments": (),
    }  # fmt: skip


def test_a_version_3_database_queues_its_finished_runs_when_migrated(tmp_path: Path) -> None:
    db = tmp_path / "eol.db"
    ids = make_station(db, "EOL-01", 3)
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("DROP TABLE outbox")
        conn.execute("PRAGMA user_version = 3")
    with ResultsStore(db):
        pass
    assert sorted(r[0] for r in local_rows(db, "SELECT run_id FROM outbox")) == sorted(ids)


def test_sync_copies_whole_runs_with_their_chain_hash_and_a_repeat_is_a_no_op(
    tmp_path: Path, central_dsn: str
) -> None:
    db = tmp_path / "eol.db"
    ids = make_station(db, "EOL-01", 5)
    report = central.sync(db, central_dsn)
    assert (report.sent, report.pending, report.unreachable) == (5, 0, "")
    assert central_counts(central_dsn) == station_counts(db)
    chain = dict(local_rows(db, "SELECT subject, sha256 FROM chain WHERE kind = 'runs'"))
    with psycopg.connect(central_dsn) as pg:
        copied = dict(pg.execute("SELECT id, chain_sha256 FROM plant.runs").fetchall())
    assert copied == {run_id: chain[run_id] for run_id in ids}
    attempts = dict(local_rows(db, "SELECT run_id, attempt FROM run_attempts"))
    with psycopg.connect(central_dsn) as pg:
        assert dict(pg.execute("SELECT id, attempt FROM plant.runs").fetchall()) == attempts
    assert central.sync(db, central_dsn).sent == 0  # nothing due any more
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("UPDATE outbox SET sent_at = NULL")  # as if every mark were lost
    again = central.sync(db, central_dsn)
    assert (again.sent, again.already_there) == (0, 5)
    assert central_counts(central_dsn) == station_counts(db)


class RelayCrash(BaseException):
    """Stands for the relay process dying."""


def test_a_relay_killed_between_the_server_commit_and_the_sent_mark_duplicates_nothing(
    tmp_path: Path, central_dsn: str
) -> None:
    db = tmp_path / "eol.db"
    make_station(db, "EOL-01", 8)
    committed: list[str] = []

    def crash_at_the_fourth(run_id: str) -> None:
        committed.append(run_id)
        if len(committed) == 4:
            raise RelayCrash

    with pytest.raises(RelayCrash):
        central.sync(db, central_dsn, after_commit=crash_at_the_fourth)
    assert len(local_rows(db, "SELECT 1 FROM outbox WHERE sent_at IS NOT NULL")) == 3
    report = central.sync(db, central_dsn)
    assert (report.sent, report.already_there, report.pending) == (4, 1, 0)
    assert central_counts(central_dsn) == station_counts(db)


def test_a_server_killed_in_the_middle_of_a_run_loses_and_duplicates_nothing(
    tmp_path: Path, cluster: Cluster, central_dsn: str
) -> None:
    db = tmp_path / "eol.db"
    ids = make_station(db, "EOL-01", 60)
    victim = ids[29]
    with psycopg.connect(central_dsn, autocommit=True) as pg:
        central.ensure_schema(pg)
        # Run 30's insert waits on a lock the test holds: the server dies inside that
        # transaction, after the run row and before its steps.
        pg.execute(
            "CREATE FUNCTION plant.hold() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NEW; END $$"
        )
        pg.execute(
            "CREATE TRIGGER hold BEFORE INSERT ON plant.steps FOR EACH ROW"
            f" WHEN (NEW.run_id = '{victim}') EXECUTE FUNCTION plant.hold()"
        )
    holder = psycopg.connect(central_dsn)  # advisory locks belong to one database
    holder.execute("SELECT pg_advisory_lock(4242)")
    result: list[central.SyncReport] = []
    relay = threading.Thread(target=lambda: result.append(central.sync(db, central_dsn)))
    relay.start()
    with psycopg.connect(cluster.dsn(), autocommit=True) as watch:
        while not _waiting(watch):
            relay.join(0.02)  # wait for the relay to reach the held run, not for time
            assert relay.is_alive(), "the relay finished without reaching the held run"
    cluster.stop_immediately()
    relay.join(60)
    holder.close()
    cluster.start()
    (report,) = result
    assert report.sent == 29 and report.unreachable.startswith("lost the central")
    with psycopg.connect(central_dsn, autocommit=True) as pg:
        assert pg.execute(
            "SELECT count(*) FROM plant.runs WHERE id = %s", (victim,)
        ).fetchone() == (0,)
        pg.execute("DROP TRIGGER hold ON plant.steps")
    after = central.sync(db, central_dsn)
    assert (after.sent, after.already_there, after.pending) == (31, 0, 0)
    assert central_counts(central_dsn) == station_counts(db)


def _waiting(watch: psycopg.Connection[Any]) -> bool:
    row = watch.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory'"
    ).fetchone()
    return row is not None and row[0] > 0


def test_a_run_the_server_refuses_backs_off_then_is_quarantined_while_others_flow(
    tmp_path: Path, central_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "eol.db"
    with ResultsStore(db) as store:
        record_runs(store, "EOL-01", 2)
        poison = {**_started_fields(), "run_id": "poison", "started_at": "not a time"}
        store(RunStarted(**poison))
        store(RunFinished("poison", "PASSED", "2026-11-30T06:10:00+00:00", safe_state_ok=True))
        record_runs(store, "EOL-01", 2, start=2)
    first = central.sync(db, central_dsn, max_attempts=2)
    assert (first.sent, first.failed, first.quarantined, first.pending) == (4, 1, 0, 1)
    ((attempts, retry, error),) = local_rows(
        db, "SELECT attempts, next_attempt_at, last_error FROM outbox WHERE run_id = 'poison'"
    )
    assert attempts == 1 and retry > central_now() and "not a time" in error
    assert central.sync(db, central_dsn, max_attempts=2).failed == 0  # backing off: not retried
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("UPDATE outbox SET next_attempt_at = '' WHERE run_id = 'poison'")
    second = central.sync(db, central_dsn, max_attempts=2)
    assert (second.failed, second.quarantined, second.quarantined_total) == (1, 1, 1)
    assert central_counts(central_dsn)["runs"] == 4
    assert main(["sync", "--db", str(db), "--show-quarantine"]) == 2
    assert "poison  central  2 attempts" in capsys.readouterr().out
    assert main(["sync", "--db", str(db), "--dsn", central_dsn, "--retry-quarantined"]) == 2
    out = capsys.readouterr().out
    assert "1 quarantined run(s) released" in out and "1 refused (will retry)" in out


def central_now() -> str:
    from station.store_schema import utcnow

    return utcnow()


def test_the_station_keeps_testing_while_the_server_is_away_and_catches_up(
    tmp_path: Path, cluster: Cluster, central_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "eol.db"
    nowhere = f"host={tmp_path} port=5432 dbname=x user=eol"  # no server listens there
    config = tmp_path / "station.toml"
    config.write_text(
        f'[station]\nid = "EOL-01"\nresults_db = "eol.db"\n\n[central]\ndsn = "{central_dsn}"\n',
        encoding="utf-8",
    )
    with ResultsStore(db) as store:
        background = central.BackgroundSync(db, nowhere, interval_s=0.05)
        background.start()
        record_runs(store, "EOL-01", 5)
        background.stop()
    assert background.last is not None and "cannot reach" in background.last.unreachable
    assert main(["sync", "--db", str(db), "--dsn", nowhere]) == 2
    assert "5 waiting" in capsys.readouterr().out
    assert main(["sync", "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith("5 run(s) copied to the central database")
    assert central_counts(central_dsn) == station_counts(db)


def test_the_plant_views_give_first_pass_yield_pareto_and_capability(
    tmp_path: Path, central_dsn: str
) -> None:
    for n in (1, 2):
        make_station(tmp_path / f"eol{n}.db", f"EOL-0{n}", 14, fail_every=7 * n)
        assert central.sync(tmp_path / f"eol{n}.db", central_dsn).sent == 14
    with psycopg.connect(central_dsn) as pg:
        fpy = pg.execute(
            "SELECT station_id, packs, passed_first_time FROM plant.first_pass_yield"
            " ORDER BY station_id"
        ).fetchall()
        pareto = pg.execute(
            "SELECT step_name, failures, stations FROM plant.failure_pareto"
        ).fetchall()
        cpk = pg.execute(
            "SELECT station_id, n, round(cpk::numeric, 2) FROM plant.capability"
            " WHERE name = 'ocv_value' ORDER BY station_id"
        ).fetchall()
    assert fpy == [("EOL-01", 14, 12), ("EOL-02", 14, 13)]
    assert pareto == [("insulation", 3, 2)]
    assert [(s, n) for s, n, _ in cpk] == [("EOL-01", 14), ("EOL-02", 14)]
    assert all(c is not None and c > 1 for _, _, c in cpk)


def test_station_run_syncs_in_the_background_and_sends_its_last_run_when_it_closes(
    tmp_path: Path, central_dsn: str
) -> None:
    from station.runner import RunOptions, prepare_run

    sequence = tmp_path / "s.toml"
    sequence.write_text(
        '[sequence]\nname = "s"\nversion = "1"\nproducts = ["NM96-A"]\nserial_pattern = ".*"\n'
        '[[main]]\ntype = "wait"\nname = "w"\nparams = { seconds = 1 }\n',
        encoding="utf-8",
    )
    config = tmp_path / "station.toml"
    config.write_text(
        '[station]\nid = "EOL-01"\nresults_db = "eol.db"\n\n'
        f'[central]\ndsn = "{central_dsn}"\nbackground = true\ninterval_s = 3600\n',
        encoding="utf-8",
    )
    prepared = prepare_run(RunOptions(sequence=sequence, config=config))
    prepared.engine.default_production = False  # an unreleased test sequence
    try:
        ids = [prepared.engine.run(f"SN{n}").run_id for n in range(2)]
    finally:
        prepared.close()
    with psycopg.connect(central_dsn) as pg:
        copied = [r[0] for r in pg.execute("SELECT id FROM plant.runs ORDER BY started_at")]
    assert sorted(copied) == sorted(ids)


@pytest.mark.parametrize(("version", "words"), [(3, "no outbox yet"), (99, "newer than")])
def test_sync_refuses_a_database_it_cannot_read_with_a_sentence(
    tmp_path: Path, version: int, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "eol.db"
    make_station(db, "EOL-01", 1)
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute(f"PRAGMA user_version = {version}")
    assert main(["sync", "--db", str(db), "--dsn", "host=/nowhere"]) == 2
    assert words in capsys.readouterr().err


def test_a_run_without_a_limit_table_or_config_reaches_the_plant_with_null_hashes(
    tmp_path: Path, central_dsn: str
) -> None:
    from dataclasses import replace

    from tests.station.test_store import finished, started

    db = tmp_path / "eol.db"
    with ResultsStore(db) as store:
        bare = started(run_id="bare")
        store(replace(bare, limits_path=None, limits_sha256=None, config_sha256=None))
        store(finished(run_id="bare"))
    with psycopg.connect(central_dsn) as pg:  # a plant schema of version 1 had NOT NULL
        central.ensure_schema(pg)
        pg.execute("ALTER TABLE plant.runs ALTER COLUMN config_sha256 SET NOT NULL")
        pg.execute("DELETE FROM plant.schema_version")
        pg.execute("INSERT INTO plant.schema_version (version) VALUES (1)")
        pg.commit()
    assert central.sync(db, central_dsn).sent == 1
    with psycopg.connect(central_dsn) as pg:
        row = pg.execute("SELECT limits_sha256, config_sha256 FROM plant.runs").fetchone()
    assert row == (None, None)


def test_a_run_tested_in_a_nest_reaches_the_plant_with_its_nest_on_an_older_schema(
    tmp_path: Path, central_dsn: str
) -> None:
    from dataclasses import replace

    from tests.station.test_store import finished, started

    db = tmp_path / "eol.db"
    with ResultsStore(db) as store:
        store(replace(started(run_id="in-nest"), nest="2 (right)"))
        store(finished(run_id="in-nest"))
        store(started(run_id="no-nest", serial="NM96A0000002"))
        store(finished(run_id="no-nest"))
    with psycopg.connect(central_dsn) as pg:  # a plant schema of version 2 had no nest
        central.ensure_schema(pg)
        pg.execute("ALTER TABLE plant.runs DROP COLUMN nest")
        pg.execute("DELETE FROM plant.schema_version")
        pg.execute("INSERT INTO plant.schema_version (version) VALUES (2)")
        pg.commit()
    assert central.sync(db, central_dsn).sent == 2
    with psycopg.connect(central_dsn) as pg:
        rows = pg.execute("SELECT id, nest FROM plant.runs ORDER BY id").fetchall()
        version = pg.execute("SELECT max(version) FROM plant.schema_version").fetchone()
    assert rows == [("in-nest", "2 (right)"), ("no-nest", None)]
    assert version == (central.PLANT_SCHEMA_VERSION,)
