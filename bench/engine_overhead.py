"""Benchmark: what the engine and the results store cost per step, against a floor.

The floor is what durability costs anyway: one SQLite transaction per step in WAL mode
with synchronous=FULL, writing one step row and one measurement row with raw sqlite3.
The measured path is the real engine running a sequence of N trivial steps (each records
one measurement judged against a limit) into the real results store. Between the two, the
same rows the store writes (every column) go with raw sqlite3 into a file with the store's
schema (indexes, foreign keys, triggers): what the results schema costs without the engine.
Prints medians of wall and CPU time (``time.process_time``) and the ratio engine/floor
(machines are noisy: compare ratios from one run, not seconds).

    python bench/engine_overhead.py [--steps 200] [--repeat 5] [--split]

``--split`` adds where the engine's CPU time per step goes: the store's handling of each
kind of event (the run's start and finish spread over its steps), and the rest — the
engine itself, judging included.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station import store_schema as schema
from station.bench import Bench
from station.clock import VirtualClock
from station.config import default_config
from station.engine import Engine
from station.events import Event
from station.outcomes import Outcome, Verdict
from station.sequence import load_sequence
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.store import ResultsStore


@register
class BenchRecord(StepType):
    """Record one constant: the cheapest step that still measures and judges."""

    name = "bench_record"
    measurements = (MeasurementSpec("value", "V"),)

    @dataclass(frozen=True)
    class Params:
        value: float = 1.0

    def run(self, ctx: StepContext, params: Any) -> None:
        ctx.measure("value", params.value)


def sequence_file(folder: Path, steps: int) -> Path:
    lines = ['[sequence]\nname = "bench"\nversion = "1"\nproducts = ["P"]\nserial_pattern = ".*"\n']
    for i in range(steps):
        lines.append(
            f'[[main]]\ntype = "bench_record"\nname = "step {i}"\n'
            'limits.value = { comparator = "GELE", low = 0, high = 2 }\n'
        )
    path = folder / "bench.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


Timing = tuple[float, float]  # wall, CPU seconds per step


class TimedStore:
    """The results store as the engine's listener, adding up its CPU time per event kind."""

    critical = True

    def __init__(self, store: ResultsStore, cpu: dict[str, float]) -> None:
        self.store, self.cpu = store, cpu

    def __call__(self, event: Event) -> None:
        start = time.process_time()
        self.store(event)
        kind = type(event).__name__
        self.cpu[kind] = self.cpu.get(kind, 0.0) + time.process_time() - start


def engine_per_step(
    folder: Path, steps: int, split: dict[str, list[float]] | None = None
) -> Timing:
    sequence = load_sequence(sequence_file(folder, steps))
    db = folder / f"engine-{uuid.uuid4().hex}.db"
    store = ResultsStore(db)
    cpu_of: dict[str, float] = {}
    engine = Engine(
        sequence,
        bench=Bench({}),
        config=default_config(db),
        clock=VirtualClock(),
        listeners=[store if split is None else TimedStore(store, cpu_of)],
    )
    start, cpu = time.perf_counter(), time.process_time()
    result = engine.run("SN1")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    store.close()
    assert result.outcome == Outcome.PASSED, result.outcome
    if split is not None:
        cpu_of["engine (the rest)"] = cpu - sum(cpu_of.values())
        for kind, seconds in cpu_of.items():
            split.setdefault(kind, []).append(seconds / steps)
    return elapsed / steps, cpu / steps


def schema_per_step(folder: Path, steps: int) -> Timing:
    """The step and measurement rows the store writes, raw, into the store's schema."""
    db = folder / f"schema-{uuid.uuid4().hex}.db"
    ResultsStore(db).close()
    conn = schema.connect(db)
    run_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO runs (id, serial, part_number, station_id, operator, sequence_name,"
        " sequence_version, sequence_path, sequence_sha256, software_version, started_at)"
        " VALUES (?, 'SN1', 'P', 'S', 'op', 'bench', '1', 'bench.toml', '0', 'v', ?)",
        (run_id, schema.utcnow()),
    )
    rows = []
    for i in range(steps):
        step_id, at = str(uuid.uuid4()), schema.utcnow()
        step = schema.step_row(
            id=step_id, run_id=run_id, seq=i, grp="main", idx=i, name=f"step {i}",
            type="bench_record", outcome=Outcome.PASSED, started_at=at, ended_at=at,
            error=None, attempts=1, duration_s=0.0,
        )  # fmt: skip
        measurement = schema.measurement_row(
            id=None, run_id=run_id, step_id=step_id, attempt=1, name="value", value=1.0,
            value_text=None, values_json=None, unit="V", comparator="GELE", low=0.0, high=2.0,
            nominal=None, limit_text="0 V <= value <= 2 V", outcome=Verdict.PASSED, marginal=0,
            detail="", failed_elements=None,
        )  # fmt: skip
        rows.append((step, [measurement]))
    start, cpu = time.perf_counter(), time.process_time()
    for step, measurements in rows:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(schema.INSERT_STEP, step)
        conn.executemany(schema.INSERT_MEASUREMENT, measurements)
        conn.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    conn.close()
    return elapsed / steps, cpu / steps


def floor_per_step(folder: Path, steps: int) -> Timing:
    conn = sqlite3.connect(folder / f"floor-{uuid.uuid4().hex}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE steps (id TEXT PRIMARY KEY, name TEXT, outcome TEXT)")
    conn.execute("CREATE TABLE measurements (step_id TEXT, name TEXT, value REAL)")
    step_ids = [str(uuid.uuid4()) for _ in range(steps)]
    start, cpu = time.perf_counter(), time.process_time()
    for i, step_id in enumerate(step_ids):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO steps VALUES (?, ?, ?)", (step_id, f"step {i}", Outcome.PASSED))
        conn.execute("INSERT INTO measurements VALUES (?, 'value', 1.0)", (step_id,))
        conn.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    conn.close()
    return elapsed / steps, cpu / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--split", action="store_true", help="where the engine's CPU goes")
    args = parser.parse_args()
    split: dict[str, list[float]] | None = {} if args.split else None
    variants: dict[str, Callable[[Path, int], Timing]] = {
        "floor  (raw sqlite3, one WAL+FULL commit per step)": floor_per_step,
        "schema (the store's rows, raw, in its schema)": schema_per_step,
        "engine (engine + results store, judged measurement)": (
            lambda folder, steps: engine_per_step(folder, steps, split)
        ),
    }
    timings: dict[str, list[Timing]] = {label: [] for label in variants}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for _ in range(args.repeat):  # alternate so drift hits both alike
            for label, measure in variants.items():
                timings[label].append(measure(folder, args.steps))
    medians = {
        label: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
        for label, t in timings.items()
    }
    floor, floor_cpu = medians[next(iter(variants))]
    for label, (wall, cpu) in medians.items():
        print(
            f"{label:54s} median {wall * 1e3:7.3f} ms/step ({wall / floor:4.2f}x),"
            f" CPU {cpu * 1e3:6.3f} ms ({cpu / floor_cpu:4.2f}x)"
        )
    print(f"({args.steps} steps × {args.repeat} interleaved runs)")
    if split is not None:
        print("engine CPU per step, median (the store's by event kind, the run's spread):")
        for kind, seconds in split.items():
            print(f"  {kind:22s} {statistics.median(seconds) * 1e3:6.3f} ms")
    engine = medians[list(variants)[-1]][0]
    print(f"engine_step: {engine * 1e3:.2f} ms ({engine / floor:.2f}x raw sqlite3 WAL+FULL commit)")


if __name__ == "__main__":
    main()
