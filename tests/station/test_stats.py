"""`station results stats` and the statistics the screens share: FPY, Pareto, Cpk."""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

import pytest

from station import stats
from station.cli import main
from station.store import ResultsStore
from tests.station.recorded_runs import record, run_record, sample_db


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return sample_db(tmp_path / "r.db")


def test_the_report_counts_first_attempts_by_day_and_shift(db) -> None:
    with ResultsStore(db, read_only=True) as store:
        found = stats.report(store, tz=dt.UTC)
    assert found.runs == 3
    assert (found.total.tested, found.total.passed) == (2, 1)
    assert (found.total.first_pass, found.total.first_attempts) == (1, 2)
    table = [(y.day.isoformat(), y.shift, y.counters.first_attempts, y.counters.first_pass)
             for y in found.yields]  # fmt: skip
    assert table == [
        ("2025-03-01", 1, 1, 1), ("2025-03-01", None, 1, 1),
        ("2025-03-02", 1, 1, 0), ("2025-03-02", None, 1, 0),
    ]  # fmt: skip
    [pareto] = found.pareto
    assert (pareto.step, pareto.measurement, pareto.failures, pareto.cumulative) == (
        "Pack OCV", "voltage", 1, 1.0,
    )  # fmt: skip
    [cpk] = found.cpk
    values = [350.0, 420.0, 351.0]
    sd = statistics.stdev(values)
    assert (cpk.step, cpk.measurement, cpk.low, cpk.high, cpk.capability.n) == (
        "Pack OCV", "voltage", 300.0, 400.0, 3,
    )  # fmt: skip
    assert cpk.capability.cpk == pytest.approx((400.0 - statistics.fmean(values)) / (3 * sd))


def test_a_retest_of_a_pack_first_tested_earlier_is_no_first_pass(tmp_path) -> None:
    with ResultsStore(tmp_path / "r.db") as store:
        record(store, "run-1", "NM96A0000001", voltage=420.0, at="2025-03-01T08:00:00+00:00")
        record(store, "run-2", "NM96A0000001", voltage=350.0, at="2025-03-02T08:00:00+00:00")
        since_day_2 = stats.report(store, since="2025-03-02", tz=dt.UTC)
        station_b = stats.report(store, station="EOL-2", tz=dt.UTC)
    assert since_day_2.total.first_attempts == 0 and since_day_2.total.first_pass_yield is None
    assert since_day_2.total.passed == 1 and since_day_2.pareto == []
    assert station_b.runs == 0 and station_b.cpk == []


def test_masters_are_left_out(db) -> None:
    with ResultsStore(db, read_only=True) as store:
        found = stats.report(store, tz=dt.UTC, exclude=frozenset({"NM96A0000002"}))
    assert found.runs == 1 and found.pareto == [] and found.total.first_pass_yield == 1.0


def test_without_attempts_the_first_verdict_run_stands_in() -> None:
    runs = [
        run_record("A", "FAILED", "2025-01-01T08:00"),
        run_record("A", "PASSED", "2025-01-01T09:00"),
        run_record("B", "ABORTED", "2025-01-01T10:00"),
        run_record("B", "PASSED", "2025-01-01T11:00"),
    ]
    c = stats.counters(runs)
    assert (c.tested, c.passed, c.first_pass, c.first_attempts) == (2, 2, 1, 2)


def test_shifts_belong_to_the_day_they_started() -> None:
    night = dt.datetime(2025, 3, 2, 3, 0)
    assert stats.shift_of(night) == (dt.date(2025, 3, 1), 3)
    assert stats.shift_of(dt.datetime(2025, 3, 2, 14, 0)) == (dt.date(2025, 3, 2), 2)


def test_the_cli_prints_yield_pareto_and_cpk(db, capsys) -> None:
    assert main(["results", "--db", str(db), "stats"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "3 verdict run(s), 2 pack(s), 1 passed; first-pass yield 50.0 % (1 of 2 first attempts)"
    )
    assert "    1  100.0 %  100.0 %  Pack OCV › voltage" in out
    assert "n 3     mean 373.67" in out and "limits [300, 400] V  NM96-A Pack OCV › voltage" in out
    assert main(["results", "--db", str(db), "stats", "--since", "2030-01-01"]) == 0
    out = capsys.readouterr().out
    assert "(no failing measurement)" in out and "(no judged numeric measurement)" in out
    assert main(["results", "--db", str(db), "stats", "--since", "yesterday"]) == 2
    assert capsys.readouterr().err == "error: --since 'yesterday' is not an ISO date (2026-11-26)\n"
