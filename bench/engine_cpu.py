"""Benchmark: CPU time per step of the engine, against OpenHTF's per phase (not a test).

Both run a sequence of N trivial steps (phases), each recording one measurement judged
against a limit, and the CPU time of the whole process (``time.process_time``, all
threads) is divided by N:

  (a) OpenHTF (the optional ``bench`` extra: ``pip install -e '.[bench]'``): a test of N
      phases with one ``in_range`` measurement each, no output callbacks;
  (b) the station's engine with no listener;
  (c) the station's engine writing into the real results store (one durable commit a step);
  (d) raw sqlite3 writing one step row and one measurement row per WAL + synchronous=FULL
      transaction: the CPU that durability costs anyway (the floor of (c)).

Runs alternate, 5 of each; medians. The goal is (b) ≤ 0.2x (a); (c) is printed against
(a) and against (d). Without OpenHTF the
script says so and compares against the stack notes' figure of ~1.3 ms for a trivial
OpenHTF phase (wall time, OpenHTF 1.6.3), which it names as such.

    python bench/engine_cpu.py [--steps 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine_overhead import floor_per_step, sequence_file  # also registers bench_record

from station.bench import Bench
from station.clock import VirtualClock
from station.config import default_config
from station.engine import Engine
from station.outcomes import Outcome
from station.sequence import load_sequence
from station.store import ResultsStore

STACK_NOTES_PHASE_S = 1.3e-3  # trivial OpenHTF 1.6.3 phase, no output (wall, stack notes)

try:
    import openhtf as htf
except ImportError:  # the optional bench extra is not installed
    htf = None


def openhtf_cpu_per_phase(steps: int) -> float:
    assert htf is not None

    @htf.measures(htf.Measurement("value").in_range(0, 2))
    def record(test: Any) -> None:
        test.measurements.value = 1.0

    test = htf.Test(*([record] * steps))
    quiet = io.StringIO()
    start = time.process_time()
    with contextlib.redirect_stdout(quiet):  # the console summary is not the phase's cost
        outcome = test.execute(test_start=lambda: "SN1")
    elapsed = time.process_time() - start
    assert outcome, "the OpenHTF test did not pass"
    return elapsed / steps


def engine_cpu_per_step(folder: Path, steps: int, *, store: bool) -> float:
    sequence = load_sequence(sequence_file(folder, steps))
    db = folder / f"engine-{uuid.uuid4().hex}.db"
    results = ResultsStore(db) if store else None
    engine = Engine(
        sequence,
        bench=Bench({}),
        config=default_config(db),
        clock=VirtualClock(),
        listeners=[results] if results is not None else [],
    )
    start = time.process_time()
    result = engine.run("SN1")
    elapsed = time.process_time() - start
    if results is not None:
        results.close()
    assert result.outcome == Outcome.PASSED, result.outcome
    return elapsed / steps


def floor_cpu_per_step(folder: Path, steps: int) -> float:
    start = time.process_time()
    floor_per_step(folder, steps)
    return (time.process_time() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("openhtf").setLevel(logging.ERROR)
    peer: list[float] = []
    bare: list[float] = []
    stored: list[float] = []
    floor: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for _ in range(args.repeat):  # alternate so drift hits all alike
            if htf is not None:
                peer.append(openhtf_cpu_per_phase(args.steps))
            bare.append(engine_cpu_per_step(folder, args.steps, store=False))
            stored.append(engine_cpu_per_step(folder, args.steps, store=True))
            floor.append(floor_cpu_per_step(folder, args.steps))
    b, s, f = statistics.median(bare), statistics.median(stored), statistics.median(floor)
    if peer:
        p = statistics.median(peer)
        print(f"(a) OpenHTF {htf.__name__} phase, one measurement  median {p * 1e3:7.3f} ms CPU")
        against = f"OpenHTF's {p * 1e3:.2f} ms CPU per phase, same run"
    else:
        p = STACK_NOTES_PHASE_S
        print("(a) OpenHTF is not installed (pip install -e '.[bench]'): comparing against the")
        print("    stack notes' ~1.3 ms per trivial OpenHTF 1.6.3 phase (wall time, not CPU)")
        against = "the stack notes' 1.3 ms OpenHTF phase, not measured here"
    print(f"(b) engine, no listener                     median {b * 1e3:7.3f} ms CPU")
    print(f"(c) engine + results store                  median {s * 1e3:7.3f} ms CPU")
    print(f"(d) raw sqlite3, one WAL+FULL commit a step median {f * 1e3:7.3f} ms CPU")
    print(f"({args.steps} steps × {args.repeat} interleaved runs)")
    print(f"engine_cpu_step: {b * 1e3:.3f} ms CPU ({b / p:.2f}x {against})")
    print(
        f"engine_store_cpu_step: {s * 1e3:.3f} ms CPU ({s / p:.2f}x OpenHTF's phase, "
        f"{s / f:.2f}x raw sqlite3 commit CPU)"
    )


if __name__ == "__main__":
    main()
