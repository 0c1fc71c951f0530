"""Benchmark: where a reference run's wall time goes, by the parts of the virtual bench.

Runs the 96S (or 16S) reference sequence twice through ``bench/reference_run.py``'s
``one_run`` (the first to warm up) and, in the second, times every call of the functions
that make up a lockstep clock move, a power sample and the twins' SCPI work, by wrapping
them (a wrapper costs ~1 µs a call, so the run is ~10 % slower than unwrapped). Unlike a
profiler, the figures are wall time on the engine's thread, so the hand-offs to the twins'
threads are where they happen. Calls nest (a move contains the BMS's cycle, which contains
its measuring): the rows are not meant to add up.

    python bench/where_time_goes.py [--only nmc96s|lfp16s|audit]

The last line reads ``where_time_goes: clock moves N % of the run's wall (power samples M %)``.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reference_run import AUDIT, CASES, one_run

from drivers.bms.lockstep import LockstepNotifier
from drivers.sim.bms import SimulatedBms
from drivers.sim.bms_model import BmsModel
from drivers.sim.scpi_server import ScpiServer
from station.clock import VirtualClock
from station.steps.api import StepContext
from station.steps.eol.guards import CellGuard
from station.steps.eol.power import PowerPath

PARTS: list[tuple[str, type, str]] = [  # label, class, method
    ("clock move", VirtualClock, "_act"),
    ("  BMS cycle (measure, frames, send)", SimulatedBms, "tick"),
    ("    BMS measuring (circuit synced)", BmsModel, "measure"),
    ("      the pack and circuit synced", BmsModel, "sync"),
    ("  client dispatch (recv, decode)", LockstepNotifier, "drain"),
    ("power sample (one SCPI exchange)", PowerPath, "read"),
    ("  twin executing a line", ScpiServer, "process"),
    ("cell guard check", CellGuard, "check"),
    ("sample recorded", StepContext, "sample"),
]

spent: Counter[str] = Counter()
calls: Counter[str] = Counter()


def timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start
            calls[label] += 1

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    every = [*CASES, AUDIT]
    parser.add_argument("--only", choices=[name for *_, name in every], default="nmc96s")
    args = parser.parse_args()
    [(sequence, serial, pack, name)] = [case for case in every if case[3] == args.only]
    with tempfile.TemporaryDirectory() as tmp:
        one_run(sequence, serial, pack, Path(tmp) / "warm-up.db")
        for label, cls, method in PARTS:
            setattr(cls, method, timed(label, getattr(cls, method)))
        run = one_run(sequence, serial, pack, Path(tmp) / "timed.db")
        wall, virtual = run.wall, run.virtual
    print(f"{name}: {wall:.2f} s wall with the wrappers (line time {virtual:.0f} s)")
    print(f"{'part':<40} {'wall s':>7} {'share':>6} {'calls':>7} {'ms/call':>8}")
    for label, _, _ in PARTS:
        n = calls[label]
        per_call = f"{spent[label] / n * 1e3:8.3f}" if n else f"{'—':>8}"
        print(f"{label:<40} {spent[label]:7.2f} {spent[label] / wall:6.0%} {n:7d} {per_call}")
    moves, samples = spent["clock move"] / wall, spent["power sample (one SCPI exchange)"] / wall
    print(
        f"where_time_goes: clock moves {moves:.0%} of the run's wall (power samples {samples:.0%})"
    )


if __name__ == "__main__":
    main()
