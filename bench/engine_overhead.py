"""Benchmark: what the engine and the results store cost per step, against a floor.

The floor is what durability costs anyway: one SQLite transaction per step in WAL mode
with synchronous=FULL, writing one step row and one measurement row with raw sqlite3.
The measured path is the real engine running a sequence of N trivial steps (each records
one measurement judged against a limit) into the real results store. Prints medians and
the ratio engine/floor (machines are noisy: compare ratios from one run, not seconds).

    python bench/engine_overhead.py [--steps 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.bench import Bench
from station.clock import VirtualClock
from station.config import default_config
from station.engine import Engine
from station.outcomes import Outcome
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


def engine_per_step(folder: Path, steps: int) -> float:
    sequence = load_sequence(sequence_file(folder, steps))
    db = folder / f"engine-{uuid.uuid4().hex}.db"
    store = ResultsStore(db)
    engine = Engine(
        sequence,
        bench=Bench({}),
        config=default_config(db),
        clock=VirtualClock(),
        listeners=[store],
    )
    start = time.perf_counter()
    result = engine.run("SN1")
    elapsed = time.perf_counter() - start
    store.close()
    assert result.outcome == Outcome.PASSED, result.outcome
    return elapsed / steps


def floor_per_step(folder: Path, steps: int) -> float:
    conn = sqlite3.connect(folder / f"floor-{uuid.uuid4().hex}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE steps (id TEXT PRIMARY KEY, name TEXT, outcome TEXT)")
    conn.execute("CREATE TABLE measurements (step_id TEXT, name TEXT, value REAL)")
    start = time.perf_counter()
    for i in range(steps):
        step_id = str(uuid.uuid4())
        conn.execute("BEGIN")
        conn.execute("INSERT INTO steps VALUES (?, ?, ?)", (step_id, f"step {i}", Outcome.PASSED))
        conn.execute("INSERT INTO measurements VALUES (?, 'value', 1.0)", (step_id,))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        engine, floor = [], []
        for _ in range(args.repeat):  # alternate so drift hits both alike
            floor.append(floor_per_step(folder, args.steps))
            engine.append(engine_per_step(folder, args.steps))
    e, f = statistics.median(engine), statistics.median(floor)
    print(f"floor  (raw sqlite3, one WAL+FULL commit per step)  median {f * 1e3:7.3f} ms/step")
    print(f"engine (engine + results store, judged measurement)  median {e * 1e3:7.3f} ms/step")
    print(f"({args.steps} steps × {args.repeat} interleaved runs)")
    print(f"engine_step: {e * 1e3:.2f} ms ({e / f:.2f}x raw sqlite3 WAL+FULL commit)")


if __name__ == "__main__":
    main()
