"""Tamper evidence: every edit, deletion or reordering made behind the station's back is found.

Each case edits a copy of one recorded database the way an attacker with the sqlite3 CLI
would: drop the triggers, change the rows, recreate the triggers. ``station results
verify`` must name the first broken link and exit non-zero for every one of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
from contextlib import closing
from pathlib import Path

import pytest

from station import ledger
from station import store_schema as schema
from station.cli import main
from station.store import ResultsStore
from tests.station.test_store import finished, started, step

RUNS = ("run-0001-aaaa", "run-0002-bbbb", "run-0003-cccc")


def recorded(db: Path) -> None:
    """Three finished runs (two steps, samples, a log each) and station data rows."""
    from station.events import Log, Sample

    with ResultsStore(db) as store:
        for n, run_id in enumerate(RUNS):
            store(started(run_id, serial=f"NM96A000000{n}", at=f"2025-03-0{n + 1}T08:00:00+00:00"))
            sid = step(store, run_id, 1, values=(350.0 + n, 351.0))
            store(Sample(run_id, sid, 0.5, "pack_v", 350.0))
            store(Sample(run_id, sid, 1.0, "pack_v", 351.0))
            store(Log(run_id, None, "INFO", "note", "2025-03-01T08:00:00+00:00"))
            step(store, run_id, 2, name="IR", values=(600e6,), outcome="FAILED" if n else "PASSED")
            store(finished(run_id, "FAILED" if n else "PASSED"))
        with store.chained_change() as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES ('production_mode', 'on')")
            ledger.append(conn, "settings", "production_mode", "2025-03-04T08:00:00+00:00")
            conn.execute(
                "INSERT INTO releases (kind, path, sha256, name, version, released_by,"
                " released_at, note) VALUES ('sequence', 's.toml', ?, 's', '1', 'erin', 'x', 'ok')",
                ("d" * 64,),
            )
            ledger.append(conn, "releases", 1, "2025-03-04T08:00:00+00:00")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("pristine") / "results.db"
    recorded(db)
    return db


def copy_of(pristine: Path, tmp_path: Path) -> Path:
    db = tmp_path / "results.db"
    for suffix in ("", ".chain-head"):
        shutil.copy(f"{pristine}{suffix}", f"{db}{suffix}")
    return db


def tamper(db: Path, *statements: str) -> None:
    """Drop every trigger, run ``statements``, recreate the triggers: no trace left in SQL."""
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
        conn.execute("BEGIN")
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        for sql in statements:
            before = conn.total_changes
            conn.execute(sql)
            assert conn.total_changes > before, f"no row changed by {sql}"  # no empty edits
        for _, sql in triggers:
            conn.execute(sql)
        conn.execute("COMMIT")


def verify(db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["results", "--db", str(db), "verify"])
    return code, capsys.readouterr().out


def test_an_untouched_database_verifies(pristine: Path, tmp_path: Path, capsys) -> None:
    code, out = verify(copy_of(pristine, tmp_path), capsys)
    assert code == 0, out
    assert "OK:" in out and "3 finished run(s)" in out


SECOND = "run-0002-bbbb"
EDITS = {
    "run outcome FAILED -> PASSED": [f"UPDATE runs SET outcome = 'PASSED' WHERE id = '{SECOND}'"],
    "run serial": [f"UPDATE runs SET serial = 'NM96A9999999' WHERE id = '{SECOND}'"],
    "run started_at": [
        f"UPDATE runs SET started_at = '2025-03-02T07:00:00+00:00' WHERE id = '{SECOND}'"
    ],
    "run ended_at": [f"UPDATE runs SET ended_at = '2025-03-02T09:00:00' WHERE id = '{SECOND}'"],
    "run safe state": [f"UPDATE runs SET safe_state_ok = 0 WHERE id = '{SECOND}'"],
    "run sequence hash": [f"UPDATE runs SET sequence_sha256 = 'e' WHERE id = '{SECOND}'"],
    "step outcome": [f"UPDATE steps SET outcome = 'PASSED' WHERE run_id = '{SECOND}' AND seq = 2"],
    "step timestamp": [f"UPDATE steps SET ended_at = 'z' WHERE run_id = '{SECOND}' AND seq = 1"],
    "measurement value": [
        f"UPDATE measurements SET value = 700e6 WHERE run_id = '{SECOND}' AND value = 600e6"
    ],
    "measurement value (tiny)": [
        f"UPDATE measurements SET value = value + 1e-9 WHERE run_id = '{SECOND}' AND id ="
        f" (SELECT min(id) FROM measurements WHERE run_id = '{SECOND}')"
    ],
    "measurement low limit": [f"UPDATE measurements SET low = 100 WHERE run_id = '{SECOND}'"],
    "measurement high limit": [f"UPDATE measurements SET high = 1e12 WHERE run_id = '{SECOND}'"],
    "measurement outcome": [
        f"UPDATE measurements SET outcome = 'FAILED' WHERE run_id = '{SECOND}'"
    ],
    "sample value": [f"UPDATE samples SET value = 1 WHERE run_id = '{SECOND}' AND t = 1.0"],
    "instrument serial": [f"UPDATE instruments SET serial = 'X' WHERE run_id = '{SECOND}'"],
    "log message": [f"UPDATE logs SET message = 'x' WHERE run_id = '{SECOND}'"],
    "delete a step": [
        f"DELETE FROM measurements WHERE step_id = '{SECOND}-s2'",
        f"DELETE FROM steps WHERE id = '{SECOND}-s2'",
    ],
    "delete a measurement": [
        f"DELETE FROM measurements WHERE id = (SELECT max(id) FROM measurements"
        f" WHERE run_id = '{SECOND}')"
    ],
    "delete a sample": [f"DELETE FROM samples WHERE run_id = '{SECOND}' AND t = 0.5"],
    "delete a run": [
        f"DELETE FROM {t} WHERE run_id = '{SECOND}'"
        for t in ("measurements", "samples", "logs", "instruments", "steps")
    ]
    + [f"DELETE FROM runs WHERE id = '{SECOND}'"],
    "delete the last run and its link": [
        f"DELETE FROM {t} WHERE run_id = 'run-0003-cccc'"
        for t in ("measurements", "samples", "logs", "instruments", "steps")
    ]
    + ["DELETE FROM runs WHERE id = 'run-0003-cccc'", "DELETE FROM chain WHERE seq > 2"],
    "reorder steps": [
        f"UPDATE steps SET seq = 3 - seq WHERE run_id = '{SECOND}'",
    ],
    "reorder samples": [
        f"DELETE FROM samples WHERE run_id = '{SECOND}'",
        f"INSERT INTO samples VALUES ('{SECOND}', '{SECOND}-s1', 1.0, 'pack_v', 351.0)",
        f"INSERT INTO samples VALUES ('{SECOND}', '{SECOND}-s1', 0.5, 'pack_v', 350.0)",
    ],
    "reorder chain links": [
        "UPDATE chain SET seq = -1 WHERE seq = 1",
        "UPDATE chain SET seq = 1 WHERE seq = 2",
        "UPDATE chain SET seq = 2 WHERE seq = -1",
    ],
    "forge a finished run": [
        "INSERT INTO runs (id, serial, part_number, station_id, operator, sequence_name,"
        " sequence_version, sequence_path, sequence_sha256, limits_path, limits_sha256,"
        " config_sha256, software_version, started_at, ended_at, outcome, safe_state_ok)"
        " VALUES ('forged', 'S', 'P', 'E', 'o', 's', '1', 'p', 'a', 'l', 'b', 'c', 'v', 'x', 'y',"
        " 'PASSED', 1)"
    ],
    "edit a chain link's record hash": [
        "UPDATE chain SET record_sha256 = (CASE WHEN substr(record_sha256, 1, 1) = '0'"
        " THEN '1' ELSE '0' END) || substr(record_sha256, 2) WHERE seq = 2"
    ],
    "forge a release": [
        "INSERT INTO releases (kind, path, sha256, name, version, released_by, released_at,"
        " note) VALUES ('sequence', 'x.toml', 'f', 'x', '1', 'eve', 'x', 'forged')"
    ],
    "edit a release": ["UPDATE releases SET sha256 = 'f' WHERE id = 1"],
    "switch production mode off": ["UPDATE settings SET value = 'off'"],
}


@pytest.mark.parametrize("name", list(EDITS))
def test_every_edit_behind_the_stations_back_is_detected(
    pristine: Path, tmp_path: Path, capsys, name: str
) -> None:
    db = copy_of(pristine, tmp_path)
    tamper(db, *EDITS[name])
    code, out = verify(db, capsys)
    assert code == 1, f"{name} went undetected:\n{out}"
    assert "TAMPERED:" in out
    if "run" in name and "forge" not in name and "chain" not in name and "last" not in name:
        assert SECOND in out.split("TAMPERED:", 1)[1].splitlines()[0]  # names the run


def test_a_rewritten_chain_is_caught_by_the_head_file(pristine: Path, tmp_path, capsys) -> None:
    """Recompute every link after an edit: the DB is consistent, the head beside it is not."""
    db = copy_of(pristine, tmp_path)
    tamper(db, f"UPDATE runs SET outcome = 'PASSED' WHERE id = '{SECOND}'", "DELETE FROM chain")
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='trigger'"
        ).fetchall()
        conn.execute("BEGIN")
        for trigger, _ in triggers:
            conn.execute(f"DROP TRIGGER {trigger}")
        for run_id in RUNS:
            ledger.append(conn, "runs", run_id, "x")
        ledger.append(conn, "settings", "production_mode", "x")
        ledger.append(conn, "releases", 1, "x")
        for _, sql in triggers:
            conn.execute(sql)
        conn.execute("COMMIT")
    code, out = verify(db, capsys)
    assert code == 1 and "rewritten" in out


def test_a_deleted_head_file_is_reported(pristine: Path, tmp_path, capsys) -> None:
    db = copy_of(pristine, tmp_path)
    ledger.head_path(db).unlink()
    code, out = verify(db, capsys)
    assert code == 1 and "head file" in out


def test_show_prints_the_runs_link_and_the_head(pristine: Path, tmp_path, capsys) -> None:
    db = copy_of(pristine, tmp_path)
    assert main(["results", "--db", str(db), "show", SECOND]) == 0
    out = capsys.readouterr().out
    head = json.loads(ledger.head_path(db).read_text())
    assert f"chain_head         {head['seq']}:{head['sha256']}" in out
    assert "chain_link         2 " in out


def test_files_holding_results_and_hashes_are_closed_to_others(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    with ResultsStore(db) as store:
        store(started())
        step(store, "run-0001-aaaa", 1)
        store(finished())
        wal = Path(f"{db}-wal")
        assert stat.S_IMODE(os.stat(wal).st_mode) == 0o600  # SQLite copies the file's mode
    for path in (db, ledger.head_path(db), Path(f"{db}.lock")):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode & 0o007 == 0, f"{path.name} is {oct(mode)}"
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


def test_a_world_readable_database_is_closed_to_others_when_opened(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    ResultsStore(db).close()
    os.chmod(db, 0o644)
    ResultsStore(db).close()
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o640


def test_a_version_1_database_is_migrated_and_chained(tmp_path: Path, capsys) -> None:
    db = tmp_path / "old.db"
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.executescript(schema.SCHEMA)  # then take it back to what version 1 had
        conn.execute("DROP TRIGGER runs_running_finish_only")
        conn.execute("ALTER TABLE runs DROP COLUMN writer")
        conn.execute("DROP TABLE chain")
        conn.execute("DROP TABLE settings")  # the UI kept its own settings table
        conn.execute(
            "CREATE TABLE ui_settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)"
        )
        conn.execute("INSERT INTO ui_settings VALUES ('production_mode', 'off')")
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO runs (id, serial, part_number, station_id, operator, sequence_name,"
            " sequence_version, sequence_path, sequence_sha256, limits_path, limits_sha256,"
            " config_sha256, software_version, started_at, ended_at, outcome)"
            " VALUES ('old-run', 'S', 'P', 'E', 'o', 's', '1', 'p', 'a', 'l', 'b', 'c', 'v',"
            " 'x', 'y', 'PASSED')"
        )
    with ResultsStore(db) as store:
        assert store.query("SELECT value FROM settings") == [{"value": "off"}]
        assert store.query("SELECT writer FROM runs") == [{"writer": ""}]
    code, out = verify(db, capsys)
    assert code == 0, out
    assert "1 finished run(s)" in out


def version_5_schema() -> str:
    """The DDL as schema version 5 had it: no virtual times, every hash NOT NULL."""
    ddl = version_6_schema().replace("PRAGMA user_version = 6", "PRAGMA user_version = 5")
    assert "PRAGMA user_version = 5" in ddl
    ddl = ddl.replace(",\n    virtual_started_at TEXT,\n    virtual_ended_at TEXT\n", "\n")
    for column in ("limits_path", "limits_sha256", "config_sha256"):
        ddl = ddl.replace(f"    {column} TEXT,", f"    {column} TEXT NOT NULL,")
    return ddl.replace(" OR NEW.virtual_started_at IS NOT OLD.virtual_started_at", "")


def version_7_schema() -> str:
    """The DDL as schema version 7 had it: every measurement in the (name, value_text) index."""
    ddl = schema.SCHEMA.replace("PRAGMA user_version = 8", "PRAGMA user_version = 7")
    assert "PRAGMA user_version = 7" in ddl
    partial = (
        "CREATE INDEX IF NOT EXISTS measurements_name_text ON measurements(name, value_text)\n"
        "    WHERE value_text IS NOT NULL;"
    )
    assert partial in ddl
    return ddl.replace(
        partial,
        "CREATE INDEX IF NOT EXISTS measurements_name_value ON measurements(name, value_text);",
    )


def version_6_schema() -> str:
    """The DDL as schema version 6 had it: no nest column."""
    ddl = version_7_schema().replace("PRAGMA user_version = 7", "PRAGMA user_version = 6")
    assert "PRAGMA user_version = 6" in ddl
    ddl = ddl.replace("    virtual_ended_at TEXT,\n    nest TEXT\n", "    virtual_ended_at TEXT\n")
    assert "nest TEXT" not in ddl
    return ddl.replace(" OR NEW.nest IS NOT OLD.nest", "")


def test_a_version_5_database_is_migrated_and_every_record_keeps_its_hash(
    tmp_path: Path, capsys
) -> None:
    db = tmp_path / "old.db"
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.executescript(version_5_schema())
        assert conn.execute("SELECT count(*) FROM pragma_table_info('runs')").fetchone() == (20,)
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("PRAGMA user_version = 5")
        conn.execute(
            "INSERT INTO runs (id, serial, part_number, station_id, operator, sequence_name,"
            " sequence_version, sequence_path, sequence_sha256, limits_path, limits_sha256,"
            " config_sha256, software_version, started_at)"
            " VALUES ('old-run', 'S', 'P', 'E', 'o', 's', '1', 'p', 'a', '', '', 'c', 'v', 'x')"
        )
        conn.execute("INSERT INTO steps VALUES ('st', 'old-run', 1, 'main', 0, 'n', 't',"
                     " 'PASSED', 'x', 'y', NULL, 1, 0.5)")  # fmt: skip
        conn.execute("UPDATE runs SET outcome = 'PASSED', ended_at = 'y' WHERE id = 'old-run'")
        conn.execute("BEGIN")
        ledger.append(conn, ledger.RUNS, "old-run", "z")
        conn.execute("COMMIT")
        before = ledger.run_digest(conn, "old-run")
    with ResultsStore(db) as store:
        store(started(run_id="new-run"))
        store(finished(run_id="new-run"))
        assert store.query("SELECT count(*) AS n FROM steps") == [{"n": 1}]
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)
        assert ledger.run_digest(conn, "old-run") == before
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE runs SET serial = 'T' WHERE id = 'old-run'")
    code, out = verify(db, capsys)
    assert code == 0, out
    assert "2 finished run(s)" in out


def test_a_version_6_database_gains_the_nest_and_every_record_keeps_its_hash(
    tmp_path: Path, capsys
) -> None:
    from dataclasses import replace

    db = tmp_path / "v6.db"
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.executescript(version_6_schema())
        conn.execute("PRAGMA user_version = 6")
        conn.execute(
            "INSERT INTO runs (id, serial, part_number, station_id, operator, sequence_name,"
            " sequence_version, sequence_path, sequence_sha256, software_version, started_at)"
            " VALUES ('old-run', 'S', 'P', 'E', 'o', 's', '1', 'p', 'a', 'v', 'x')"
        )
        conn.execute("UPDATE runs SET outcome = 'PASSED', ended_at = 'y' WHERE id = 'old-run'")
        conn.execute("BEGIN")
        ledger.append(conn, ledger.RUNS, "old-run", "z")
        conn.execute("COMMIT")
        before = ledger.run_digest(conn, "old-run")
    with ResultsStore(db) as store:
        store(replace(started(run_id="new-run"), nest="2 (right)"))
        store(finished(run_id="new-run"))
        assert store.query("SELECT id, nest FROM runs ORDER BY rowid") == [
            {"id": "old-run", "nest": None},
            {"id": "new-run", "nest": "2 (right)"},
        ]
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)
        assert ledger.run_digest(conn, "old-run") == before
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE runs SET nest = '1' WHERE id = 'old-run'")
    code, out = verify(db, capsys)
    assert code == 0, out


def test_a_version_7_database_keeps_only_text_values_in_the_text_index(
    tmp_path: Path, capsys
) -> None:
    db = tmp_path / "v7.db"
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.executescript(version_7_schema())
        conn.execute(
            "INSERT INTO runs (id, serial, part_number, station_id, operator, sequence_name,"
            " sequence_version, sequence_path, sequence_sha256, software_version, started_at)"
            " VALUES ('old-run', 'S', 'P', 'E', 'o', 's', '1', 'p', 'a', 'v', 'x')"
        )
        conn.execute("INSERT INTO steps VALUES ('st', 'old-run', 1, 'main', 0, 'n', 'identify',"
                     " 'PASSED', 'x', 'y', NULL, 1, 0.5)")  # fmt: skip
        for name, value, text in (("bms_serial", None, "BMS-1"), ("pack_v", 3.7, None)):
            conn.execute(
                "INSERT INTO measurements (run_id, step_id, name, value, value_text, unit,"
                " comparator, outcome) VALUES ('old-run', 'st', ?, ?, ?, '', 'LOG', 'DONE')",
                (name, value, text),
            )
        conn.execute("UPDATE runs SET outcome = 'PASSED', ended_at = 'y' WHERE id = 'old-run'")
        conn.execute("BEGIN")
        ledger.append(conn, ledger.RUNS, "old-run", "z")
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        before = ledger.run_digest(conn, "old-run")
    with ResultsStore(db) as store:
        store(started(run_id="new-run"))
        store(finished(run_id="new-run"))
        found = store.query(
            "SELECT run_id FROM measurements WHERE name = 'bms_serial' AND value_text = ?",
            ["BMS-1"],
        )
        assert found == [{"run_id": "old-run"}]
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)
        assert ledger.run_digest(conn, "old-run") == before
        indexes = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        assert "measurements_name_text" in indexes
        assert "measurements_name_value" not in indexes
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'measurements_name_text'"
        ).fetchone()
        assert sql.endswith("WHERE value_text IS NOT NULL")
        analysed = {r[0] for r in conn.execute("SELECT idx FROM sqlite_stat1")}
        assert "measurements_name_text" in analysed
        assert "measurements_name_value" not in analysed
        plan = " ".join(
            str(r[3])
            for r in conn.execute(
                "EXPLAIN QUERY PLAN SELECT run_id FROM measurements"
                " WHERE name = 'bms_serial' AND value_text = 'BMS-1'"
            )
        )
        assert "measurements_name_text" in plan
    code, out = verify(db, capsys)
    assert code == 0, out
    assert "2 finished run(s)" in out


def test_a_run_without_a_config_or_limit_table_records_null_hashes(tmp_path: Path) -> None:
    from dataclasses import replace

    db = tmp_path / "results.db"
    with ResultsStore(db) as store:
        bare = replace(started(), limits_path=None, limits_sha256=None, config_sha256=None)
        store(bare)
        store(finished())
        [row] = store.query("SELECT limits_path, limits_sha256, config_sha256 FROM runs")
    assert row == {"limits_path": None, "limits_sha256": None, "config_sha256": None}


@pytest.mark.parametrize(("behind", "code"), [(1, 0), (2, 1)])
def test_an_older_head_file_is_a_crash_only_one_link_behind(
    pristine: Path, tmp_path: Path, capsys, behind: int, code: int
) -> None:
    db = copy_of(pristine, tmp_path)
    with closing(sqlite3.connect(db)) as conn:
        links = conn.execute("SELECT seq, sha256 FROM chain ORDER BY seq").fetchall()
    seq, sha = links[-1 - behind]
    ledger.head_path(db).write_text(json.dumps({"seq": seq, "sha256": sha}))
    got, out = verify(db, capsys)
    assert got == code, out
    assert ("one link behind" in out) if behind == 1 else ("older one" in out)


def test_an_attachment_file_edited_on_disk_is_detected(tmp_path: Path, capsys) -> None:
    from station.events import Attachment

    db = tmp_path / "results.db"
    log = tmp_path / "instruments.log"
    log.write_text("2025-03-01 DMM > MEAS:VOLT?\n2025-03-01 DMM < +3.5E+02\n")
    with ResultsStore(db) as store:
        store(started())
        store(Attachment("run-0001-aaaa", None, "instrument transcript", "text/plain", str(log)))
        step(store, "run-0001-aaaa", 1)
        store(finished())
    assert verify(db, capsys)[0] == 0
    log.write_text(log.read_text().replace("+3.5E+02", "+3.9E+02"))
    code, out = verify(db, capsys)
    assert code == 1 and "instrument transcript of run run-0001-aaaa" in out
    log.unlink()
    code, out = verify(db, capsys)
    assert code == 0 and "1 attachment file(s) are not where they were recorded" in out


@pytest.mark.parametrize("rows", [0, 1, 2, 4095, 4096, 4097, 9000])
def test_the_samples_digest_is_one_canonical_line_per_row(rows: int) -> None:
    """Chunks encoded whole hash the same lines as rows encoded one by one, also when a
    channel's name holds the text that separates rows, and across chunk boundaries."""
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE samples (run_id TEXT, step_id TEXT, t REAL, channel TEXT, value REAL)"
    )
    channels = ("pack_v", "odd],[name", 'ü "quoted" \\ ]', "[],[]")
    values = (350.25, None, float("inf"), -0.0, 1e-300, 7)
    conn.executemany(
        "INSERT INTO samples VALUES (?, ?, ?, ?, ?)",
        [
            (r, f"step-{i % 3}", i * 0.1, channels[i % 4 if i % 997 == 0 else 0], values[i % 6])
            for i in range(rows)
            for r in ("run-a", "run-b")
        ],
    )
    for run_id in ("run-a", "run-b"):
        reference = hashlib.sha256()
        for row in conn.execute(
            "SELECT step_id, t, channel, value FROM samples WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        ):
            reference.update(json.dumps(list(row), sort_keys=True, separators=(",", ":")).encode())
            reference.update(b"\n")
        assert ledger._samples_digest(conn, run_id) == reference.hexdigest()
