"""The typed records of the results store and the tables they mirror cannot drift apart."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from pathlib import Path

import pytest

from station import store_schema
from station.outcomes import Outcome, RunState, Verdict
from station.store import ResultsStore
from station.store_records import (
    RUN_ATTEMPT_FIELDS,
    TABLES,
    MeasurementRecord,
    RunRecord,
    StepRecord,
    columns,
    insert_sql,
    row_of,
    stored_outcome,
)
from tests.station.recorded_runs import record


def table_columns(db: Path, table: str) -> tuple[str, ...]:
    with sqlite3.connect(db) as conn:
        return tuple(row[1] for row in conn.execute(f"PRAGMA table_info({table})"))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("records") / "r.db"
    ResultsStore(path).close()
    return path


@pytest.mark.parametrize("record_type", list(TABLES), ids=lambda r: r.__name__)
def test_a_record_has_its_tables_columns_in_order(db: Path, record_type: type) -> None:
    assert columns(record_type) == table_columns(db, TABLES[record_type])


def test_a_runs_attempt_fields_are_the_columns_of_run_attempts(db: Path) -> None:
    names = [f.name for f in dataclasses.fields(RunRecord)]
    assert tuple(names[-len(RUN_ATTEMPT_FIELDS) :]) == RUN_ATTEMPT_FIELDS
    assert (
        "run_id",
        *RUN_ATTEMPT_FIELDS,
    ) == table_columns(db, "run_attempts")


@pytest.mark.parametrize("record_type", list(TABLES), ids=lambda r: r.__name__)
def test_an_insert_names_the_records_columns_and_binds_its_row(record_type: type) -> None:
    sql = insert_sql(record_type)
    names = ", ".join(columns(record_type))
    placeholders = ", ".join("?" for _ in columns(record_type))
    assert sql == f"INSERT INTO {TABLES[record_type]} ({names}) VALUES ({placeholders})"


def test_a_row_is_built_by_column_name_in_the_statements_order(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "r.db") as store:
        record(store, "run-0001")
        run = store.get_run("run-0001")
    [step] = [s for s in run.steps if s.name == "Pack OCV"]
    by_name = {c: getattr(step, c) for c in reversed(columns(StepRecord))}  # any order
    assert row_of(StepRecord)(**by_name) == tuple(getattr(step, c) for c in columns(StepRecord))
    del by_name["grp"]
    with pytest.raises(KeyError, match="grp"):
        row_of(StepRecord)(**by_name)


def test_every_insert_of_the_schema_names_its_columns() -> None:
    inserts = {k: v for k, v in vars(store_schema).items() if k.startswith("INSERT_")}
    assert inserts and all(
        re.match(r"INSERT (OR IGNORE )?INTO \w+ \(", s) for s in inserts.values()
    )


def test_outcomes_come_back_as_their_enums(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "r.db") as store:
        record(store, "run-0001", voltage=420.0)  # out of limits: FAILED
        run = store.get_run("run-0001")
        [listed] = store.list_runs()
    assert type(run.outcome) is Outcome and run.outcome is Outcome.FAILED
    assert type(listed.outcome) is Outcome
    assert {type(s.outcome) for s in run.steps} == {Outcome}
    assert {type(m.outcome) for m in run.measurements} == {Verdict}
    assert isinstance(run.measurements[0], MeasurementRecord)


@pytest.mark.parametrize("word", [*Outcome, *RunState])
def test_every_stored_word_reads_as_its_member(word: str) -> None:
    assert stored_outcome(str(word)) is word
