"""The retest policy: attempts per serial, supervisor sign-off, rework of a passed pack."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from station import ledger
from station import store_schema as schema
from station.cli import main
from station.config import load_config
from station.errors import ConfigError
from station.gate import StartBlocked
from station.retest import RetestPolicy, history
from station.runner import RunOptions, prepare_run
from station.store import ResultsStore
from tests.station.recorded_runs import record
from tests.station.test_cli_run import HEADER, OCV

SERIAL = "NM96A0000001"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    passing = tmp_path / "pass.toml"
    passing.write_text(HEADER + OCV.replace("LOW", "300"), encoding="utf-8")
    failing = tmp_path / "fail.toml"
    failing.write_text(HEADER + OCV.replace("LOW", "390"), encoding="utf-8")
    config = tmp_path / "station.toml"
    config.write_text(
        '[station]\nid = "EOL-T"\nresults_db = "r.db"\n\n'
        "[retest]\nmax_attempts = 3\nsignoff_from_attempt = 3\n",
        encoding="utf-8",
    )
    return {"pass": passing, "fail": failing, "config": config, "db": tmp_path / "r.db"}


def run(files: dict[str, Path], which: str, *extra: str) -> int:
    return main(["run", str(files[which]), "--serial", SERIAL, "--sim", "--config",
                 str(files["config"]), *extra])  # fmt: skip


def attempts(db: Path) -> list[tuple[str, int, bool, str]]:
    """(outcome, attempt, previous run is the one before, rework reason) per run, oldest first."""
    with ResultsStore(db, read_only=True) as store:
        runs = store.list_runs()[::-1]
    previous = [None, *[r.id for r in runs]]
    return [
        (r.outcome, r.attempt, r.previous_run_id == previous[i], r.rework_reason)
        for i, r in enumerate(runs)
    ]


def test_a_passed_serial_is_retested_only_as_rework(files, capsys) -> None:
    assert run(files, "pass") == 0
    assert "first test of this serial" in capsys.readouterr().out
    assert run(files, "pass") == 2
    captured = capsys.readouterr()
    assert "attempt 2 on this serial (last run" in captured.out
    assert f"error: serial {SERIAL} already PASSED (run " in captured.err
    assert "test it again only as rework, with the reason (station run --rework REASON)" in (
        captured.err
    )
    assert run(files, "pass", "--rework", "   ") == 2
    assert capsys.readouterr().err == "error: --rework needs the reason: what was repaired\n"
    assert run(files, "pass", "--rework", "connector J3 replaced") == 0
    assert attempts(files["db"]) == [
        ("PASSED", 1, True, ""),
        ("PASSED", 2, True, "connector J3 replaced"),
    ]


def test_attempts_are_limited_and_the_last_needs_a_sign_off(files, capsys) -> None:
    assert run(files, "fail") == 1
    assert run(files, "fail") == 1
    capsys.readouterr()
    assert run(files, "fail") == 2  # attempt 3 of 3: a supervisor signs off
    err = capsys.readouterr().err
    assert f"error: retest of serial {SERIAL} (attempt 3 of 3, last run " in err
    assert "FAILED) needs a supervisor's sign-off" in err
    prepared = prepare_run(RunOptions(files["fail"], config=files["config"], sim=True))
    try:
        verdict = prepared.engine.preflight(SERIAL, None)
        [blocker] = verdict.blockers
        assert blocker.overridable and blocker.key == f"retest:{SERIAL}"
        signed = {blocker.key: "sam (supervisor): fixture re-seated"}
        result = prepared.engine.run(SERIAL, overrides=signed)
        assert result.outcome == "FAILED"
        with pytest.raises(StartBlocked) as refused:  # a 4th attempt: repair first
            prepared.engine.run(SERIAL, overrides=signed)
        [limit] = refused.value.blockers
        assert limit.key == "retest:limit" and not limit.overridable
        assert "has had its 3 attempts" in limit.message and "test it as rework" in limit.message
        logs = prepared.store.query("SELECT message FROM logs WHERE run_id = ?", [result.run_id])
        assert any("overridden: sam (supervisor): fixture re-seated" in r["message"] for r in logs)
        # Repaired: rework starts a new count of attempts.
        assert prepared.engine.run(SERIAL, rework="cell module 3 replaced").outcome == "FAILED"
    finally:
        prepared.close()
    assert [a[:2] for a in attempts(files["db"])] == [
        ("FAILED", 1), ("FAILED", 2), ("FAILED", 3), ("FAILED", 4),
    ]  # fmt: skip


def test_rework_of_a_serial_never_tested_is_refused(files) -> None:
    prepared = prepare_run(RunOptions(files["pass"], config=files["config"], sim=True))
    try:
        with pytest.raises(StartBlocked) as refused:
            prepared.engine.run(SERIAL, rework="nothing to rework")
    finally:
        prepared.close()
    [blocker] = refused.value.blockers
    assert blocker.message == (
        f"serial {SERIAL} has never been tested here: test it normally, without the rework flag"
    )


def test_an_aborted_run_is_not_an_attempt(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "r.db") as store:
        record(store, "run-0001", SERIAL, outcome="ABORTED")
        record(store, "run-0002", SERIAL, voltage=420.0, at="2025-03-01T09:00:00+00:00")
        record(store, "run-0003", SERIAL, at="2025-03-01T10:00:00+00:00")
        runs = {r.id: r for r in store.list_runs()}
        h = history(store, SERIAL)
    assert [(runs[i].attempt, runs[i].previous_run_id) for i in sorted(runs)] == [
        (1, None), (1, "run-0001"), (2, "run-0002"),
    ]  # fmt: skip
    assert (h.verdict_runs, h.since_rework, h.next_attempt) == (2, 2, 3)
    assert h.last_verdict is not None and h.last_verdict["id"] == "run-0003"


def test_without_a_retest_section_nothing_is_limited(files, capsys) -> None:
    files["config"].write_text('[station]\nid = "EOL-T"\nresults_db = "r.db"\n')
    for _ in range(3):
        assert run(files, "pass") == 0
    assert [a[:2] for a in attempts(files["db"])] == [("PASSED", 1), ("PASSED", 2), ("PASSED", 3)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("max_attempts = 0", "retest.max_attempts: must be ≥ 1, got 0"),
        ("signoff_from_attempt = true", "retest.signoff_from_attempt: expected an integer"),
        ("rework_signoff = 1", "retest.rework_signoff: expected true or false, got 1"),
        ("max_atempts = 2", "retest.max_atempts: unknown field (did you mean 'max_attempts'?)"),
    ],
)
def test_a_bad_retest_section_is_named(tmp_path: Path, body: str, message: str) -> None:
    config = tmp_path / "station.toml"
    config.write_text(f'[station]\nid = "E"\n\n[retest]\n{body}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert message in str(err.value)


def test_the_policy_defaults(tmp_path: Path) -> None:
    config = tmp_path / "station.toml"
    config.write_text('[station]\nid = "E"\n\n[retest]\n', encoding="utf-8")
    assert load_config(config).retest == RetestPolicy(3, 2, False)


def test_a_version_2_database_gains_attempts_without_breaking_its_chain(tmp_path, capsys):
    db = tmp_path / "v2.db"
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.executescript(schema.SCHEMA)  # then take it back to what version 2 had
        for table in ("run_attempts", "components"):
            for trigger in ("no_update", "no_delete", "run_open"):
                conn.execute(f"DROP TRIGGER {table}_{trigger}")
            conn.execute(f"DROP TABLE {table}")
        conn.execute("PRAGMA user_version = 2")
        conn.execute(
            "INSERT INTO runs (id, serial, part_number, station_id, operator, sequence_name,"
            " sequence_version, sequence_path, sequence_sha256, limits_path, limits_sha256,"
            " config_sha256, software_version, started_at, ended_at, outcome)"
            f" VALUES ('old-run', '{SERIAL}', 'P', 'E', 'o', 's', '1', 'p', 'a', 'l', 'b', 'c',"
            " 'v', '2025-01-01T00:00:00+00:00', '2025-01-01T00:01:00+00:00', 'FAILED')"
        )
        conn.execute("BEGIN")
        ledger.append(conn, ledger.RUNS, "old-run", "2025-01-01T00:01:00+00:00")
        conn.execute("COMMIT")
    with ResultsStore(db, read_only=True) as store:  # not migrated yet: still readable
        assert store.list_runs()[0].attempt is None
    with ResultsStore(db) as store:
        assert store.list_runs()[0].attempt is None  # older runs have no attempt row
    assert main(["results", "--db", str(db), "verify"]) == 0, capsys.readouterr().out
    assert "OK:" in capsys.readouterr().out
