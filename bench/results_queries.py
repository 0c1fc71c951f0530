"""Benchmark: every documented results query on a database of 1M measurements (not a test).

Generates a results database through the real store's schema (the station creates the
file, the rows go in by bulk insert: 10 000 runs of 20 steps × 5 measurements, 5
instruments, 2 scanned components and an attempt row each), then times each query of
``docs/results-schema.md`` and each query behind the CLI (``station results list``,
``results show``, the retest history of ``station run``, the measurement history of the
trend view, the BMS genealogy check of the identify step): median of 5 after one warm-up.
The goal is < 50 ms for each; the last line is ``results_queries: slowest X ms (...)``.

    python bench/results_queries.py [--runs 10000] [--db PATH]

``--db`` keeps the generated file for another run (it is reused when it exists).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station import store_schema
from station.genealogy import packs_with_bms
from station.outcomes import Outcome, RunState, Verdict
from station.retest import history
from station.store import ResultsStore

STEPS_PER_RUN = 20
MEASUREMENTS_PER_STEP = 5
FAIL_RATE = 0.03
SERIAL = "NM96A{:07d}"
INSTRUMENT_SERIALS = [f"43{n:05d}" for n in range(12)]


def generate(path: Path, runs: int) -> None:
    """Fill a new results database at ``path`` through the store's own schema."""
    ResultsStore(path).close()  # creates the file, schema, indexes and triggers
    rng = random.Random(14)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    conn.execute("BEGIN")
    finished: list[tuple[str, str, int, str]] = []
    for n in range(runs):
        run_id = str(uuid.UUID(int=rng.getrandbits(128)))
        serial = SERIAL.format(rng.randrange(int(runs * 0.9)))  # about 1 in 10 is a retest
        started = start + timedelta(seconds=n * 1500 + rng.randrange(600))
        failed = rng.random() < FAIL_RATE
        run = store_schema.run_row(
            id=run_id, serial=serial, part_number="P-96S", station_id=f"EOL-{n % 3}",
            operator="op", sequence_name="nmc96s-eol", sequence_version="1",
            sequence_path="sequences/nmc96s/eol.toml", sequence_sha256="0" * 64,
            limits_path="sequences/nmc96s/limits.toml", limits_sha256="0" * 64,
            config_sha256="0" * 64, software_version="1.0", started_at=started.isoformat(),
            ended_at=None, outcome=RunState.RUNNING, safe_state_ok=None, safe_state_detail=None,
            planned_steps="[]", writer="", virtual_started_at=None, virtual_ended_at=None,
            nest=None,
        )  # fmt: skip
        conn.execute(store_schema.INSERT_RUN, run)
        conn.execute(
            "INSERT INTO run_attempts (run_id, attempt, previous_run_id, rework_reason)"
            " VALUES (?, 1, NULL, '')",
            (run_id,),
        )
        conn.executemany(
            "INSERT INTO instruments (run_id, role, model, resource, idn, serial, cal_due)"
            " VALUES (?, ?, 'M', 'TCPIP0::x::SOCKET', 'ACME', ?, '2027-01-01')",
            [(run_id, f"role{i}", INSTRUMENT_SERIALS[(n + i) % 12]) for i in range(5)],
        )
        conn.executemany(
            store_schema.INSERT_COMPONENT,
            [store_schema.component_row(id=None, run_id=run_id, step_id="scan", kind=kind,
                                        code=f"{kind.upper()}-{n // 50:05d}",
                                        at=started.isoformat())
             for kind in ("module", "cell_lot")],
        )  # fmt: skip
        failing_step = rng.randrange(STEPS_PER_RUN) if failed else -1
        for s in range(STEPS_PER_RUN):
            step_id = str(uuid.UUID(int=rng.getrandbits(128)))
            at = (started + timedelta(seconds=s * 10)).isoformat()
            step_failed = s == failing_step
            conn.execute(
                "INSERT INTO steps (id, run_id, seq, grp, idx, name, type, outcome,"
                " started_at, ended_at, error, attempts, duration_s)"
                " VALUES (?, ?, ?, 'main', ?, ?, ?, ?, ?, ?, NULL, 1, 10.0)",
                (step_id, run_id, s, s, f"step {s}", "identify" if s == 0 else f"type{s}",
                 Outcome.FAILED if step_failed else Outcome.PASSED, at, at),
            )  # fmt: skip
            rows = []
            for m in range(MEASUREMENTS_PER_STEP):
                bad = step_failed and m == 0
                name = "bms_serial" if s == 0 and m == 0 else f"m{s}_{m}"
                text = f"BMS{rng.randrange(runs):08d}" if name == "bms_serial" else None
                rows.append(
                    store_schema.measurement_row(
                        id=None, run_id=run_id, step_id=step_id, attempt=1, name=name,
                        value=rng.gauss(3.7, 0.01), value_text=text, values_json=None, unit="V",
                        comparator="GELE", low=3.6, high=3.8, nominal=None, limit_text="",
                        outcome=Verdict.FAILED if bad else Verdict.PASSED, marginal=0, detail="",
                        failed_elements=f"[{rng.randrange(96)}]" if bad else None,
                    )
                )  # fmt: skip
            conn.executemany(store_schema.INSERT_MEASUREMENT, rows)
        finished.append((run_id, serial, n, Outcome.FAILED if failed else Outcome.PASSED))
        if n % 1000 == 999:
            _finish(conn, finished, start)
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    _finish(conn, finished, start)
    conn.execute("COMMIT")
    # What the store does after every ANALYZE_EVERY_RUNS runs it records.
    conn.execute("PRAGMA analysis_limit=400")
    store_schema.refresh_statistics(conn)
    conn.close()


def _finish(conn: sqlite3.Connection, runs: list[tuple[str, str, int, str]], start: Any) -> None:
    for run_id, _, n, outcome in runs:
        if n % 997 == 0:
            outcome = RunState.INTERRUPTED
        ended = (start + timedelta(seconds=n * 1500 + 1200)).isoformat()
        conn.execute(
            "UPDATE runs SET outcome = ?, ended_at = ?, safe_state_ok = 1 WHERE id = ?",
            (outcome, ended, run_id),
        )
    runs.clear()


def queries(store: ResultsStore) -> dict[str, Callable[[], object]]:
    """Each documented query, as a call that returns its rows."""
    some = store.query("SELECT id, serial FROM runs WHERE outcome = 'FAILED' LIMIT 1")[0]
    bms = store.query("SELECT value_text FROM measurements WHERE name = 'bms_serial' LIMIT 1")
    docs = {
        "docs: instrument out-of-tolerance impact": (
            "SELECT DISTINCT r.serial, r.part_number FROM instruments AS i"
            " JOIN runs AS r ON r.id = i.run_id WHERE i.serial = ?"
            " AND r.started_at >= '2026-03-01' AND r.started_at < '2026-04-01' ORDER BY r.serial",
            [INSTRUMENT_SERIALS[3]],
        ),
        "docs: latest verdict per serial": (
            "SELECT serial, outcome, max(started_at) AS started_at, id FROM runs"
            " GROUP BY serial ORDER BY started_at DESC",
            [],
        ),
        "docs: first-pass yield per day": (
            "SELECT substr(started_at, 1, 10) AS day, count(*) AS runs,"
            " round(100.0 * sum(outcome = 'PASSED') / count(*), 1) AS pass_pct"
            " FROM runs WHERE outcome <> 'RUNNING' GROUP BY day ORDER BY day",
            [],
        ),
        "docs: failed measurements of one pack": (
            "SELECT r.started_at, s.name AS step, m.name, m.value, m.value_text, m.unit,"
            " m.comparator, m.low, m.high, m.failed_elements FROM runs AS r"
            " JOIN measurements AS m ON m.run_id = r.id JOIN steps AS s ON s.id = m.step_id"
            " WHERE r.serial = ? AND m.outcome = 'FAILED' ORDER BY r.started_at, s.seq, m.id",
            [some["serial"]],
        ),
        "docs: which cells failed": (
            "SELECT r.serial, m.name, j.value AS cell_index FROM measurements AS m"
            " JOIN runs AS r ON r.id = m.run_id, json_each(m.failed_elements) AS j"
            " WHERE m.failed_elements IS NOT NULL",
            [],
        ),
        "docs: interrupted runs": (
            "SELECT id, serial, started_at, ended_at FROM runs WHERE outcome = 'INTERRUPTED'",
            [],
        ),
        "docs: packs holding a cell lot": (
            "SELECT DISTINCT r.serial, r.part_number FROM components c JOIN runs r"
            " ON r.id = c.run_id WHERE c.kind = 'cell_lot' AND c.code = ?"
            " AND r.outcome = 'PASSED'",
            ["CELL_LOT-00042"],
        ),
        "docs: latest 20 runs (sqlite-utils)": (
            "select serial, outcome, started_at from runs order by started_at desc limit 20",
            [],
        ),
    }
    calls: dict[str, Callable[[], object]] = {
        name: (lambda sql=sql, params=params: store.query(sql, params))
        for name, (sql, params) in docs.items()
    }
    calls["cli: results list"] = lambda: store.list_runs(limit=50)
    calls["cli: results list --serial"] = lambda: store.list_runs(serial=some["serial"])
    calls["cli: results list --outcome --since"] = lambda: store.list_runs(
        outcome=Outcome.FAILED, since="2026-03-01", limit=50
    )
    calls["cli: results show"] = lambda: store.get_run(some["id"][:8])
    calls["run: retest history of a serial"] = lambda: history(store, some["serial"])
    calls["trend: measurement history"] = lambda: store.measurement_history("m7_2", "step 7")
    calls["identify: BMS genealogy"] = lambda: packs_with_bms(
        store, bms[0]["value_text"], except_serial="X"
    )
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--db", type=Path, help="keep (or reuse) the generated file here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "results.db"
        if not path.exists():
            began = time.perf_counter()
            generate(path, args.runs)
            print(f"generated {path} in {time.perf_counter() - began:.0f} s")
        store = ResultsStore(path)  # opening maintains the statistics, as a station does
        try:
            (count,) = store.query("SELECT count(*) AS n FROM measurements")[0].values()
            print(f"{count} measurements, {args.runs} runs")
            timings: dict[str, list[float]] = {}
            cpu: dict[str, list[float]] = {}
            calls = queries(store)
            for _ in range(6):  # interleaved; the first round is a warm-up
                for name, call in calls.items():
                    began, began_cpu = time.perf_counter(), time.process_time()
                    call()
                    timings.setdefault(name, []).append(time.perf_counter() - began)
                    cpu.setdefault(name, []).append(time.process_time() - began_cpu)
        finally:
            store.close()
    medians = {name: statistics.median(t[1:]) for name, t in timings.items()}
    for name, median in medians.items():
        cpu_ms = statistics.median(cpu[name][1:]) * 1e3
        print(f"  {name:<44} median {median * 1e3:8.2f} ms wall {cpu_ms:8.2f} ms CPU")
    worst = max(medians, key=lambda name: medians[name])
    print(
        f"results_queries: slowest {medians[worst] * 1e3:.1f} ms "
        f"({medians[worst] * 1e3 / 50:.2f}x the 50 ms goal; {worst}; {count} measurements)"
    )


if __name__ == "__main__":
    main()
