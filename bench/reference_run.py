"""Benchmark: the reference EOL runs on the virtual bench, in lockstep virtual time.

Runs the 96S NMC and the 16S LFP reference sequences end to end through the real drivers,
pyvisa sockets, CAN/UDS and SQLite, interleaved (96S, 16S, 96S, …) so that a change in the
machine's load hits both alike, and prints the median wall time against the virtual (line)
time each represents, and the slowest steps. The figure to watch is the wall time; the
speed-up says how many seconds of line time one second of CI buys. Beside it, the CPU time
of the engine's thread (where nearly all the work runs) and, on Linux, the CPU time the host
took from this VM during the run (``steal`` in ``/proc/stat``, both CPUs): on a shared VM the
wall time of the same code drifts by half within an hour, and these two say how much of a
slow run was the machine.

    python bench/reference_run.py [--repeat 5] [--only nmc96s|lfp16s|audit] [--audit]

``--audit`` adds the 96S audit sequence (a full-capacity discharge and recharge, 3.3 h of
line time; goal ≤ 5 s), which ``make bench`` leaves out for its length. The last lines read
``NAME: median wall (line time, speed-up)``, one per sequence.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from station.console import TerminalPrompter
from station.events import Event, StepFinished, StepStarted
from station.outcomes import Outcome
from station.runner import RunOptions, prepare_run

ROOT = Path(__file__).resolve().parent.parent
CASES = [  # sequence, serial, virtual pack, name in the summary line
    (ROOT / "sequences/nmc96s/eol.toml", "NM96A0000001", "nmc96s", "nmc96s"),
    (ROOT / "sequences/lfp16s/eol.toml", "LF16A0000001", "lfp16s", "lfp16s"),
]
AUDIT = (ROOT / "sequences/nmc96s/audit.toml", "NM96A0000001", "nmc96s", "audit")


class Run(NamedTuple):
    wall: float
    """Seconds of wall time."""
    virtual: float
    """Seconds of line (virtual) time."""
    steps: dict[str, float]
    """Each step's wall seconds, by step name."""
    cpu: float
    """Seconds of CPU time on the engine's thread (the calling one)."""
    stolen: float | None
    """Seconds of CPU the host took from this VM meanwhile (all CPUs), None if unknown."""


def host_steal_s() -> float | None:
    """The CPU time the hypervisor has taken from this machine so far, all CPUs (Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")  # cpu user nice system … steal
    except (OSError, IndexError, ValueError):
        return None


def one_run(sequence: Path, serial: str, pack: str, db: Path) -> Run:
    prepared = prepare_run(RunOptions(sequence=sequence, sim=True, pack=pack, db=db))
    prepared.engine.prompter = TerminalPrompter(assume_default=True)
    started: dict[str, float] = {}
    walls: dict[str, float] = {}

    def timing(event: Event) -> None:
        if isinstance(event, StepStarted):
            started[event.step_id] = time.perf_counter()
        elif isinstance(event, StepFinished):
            walls[event.name] = time.perf_counter() - started[event.step_id]

    prepared.engine.listeners.append(timing)
    t0_virtual = prepared.clock.now()
    steal0 = host_steal_s()
    t0, cpu0 = time.perf_counter(), time.thread_time()
    try:
        result = prepared.engine.run(serial)
    finally:
        wall, cpu = time.perf_counter() - t0, time.thread_time() - cpu0
        steal1 = host_steal_s()
        prepared.close()
    assert result.outcome == Outcome.PASSED, [(s.name, s.outcome, s.error) for s in result.steps]
    stolen = None if steal0 is None or steal1 is None else steal1 - steal0
    return Run(wall, prepared.clock.now() - t0_virtual, walls, cpu, stolen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per sequence (median)")
    every = [*CASES, AUDIT]
    parser.add_argument("--only", choices=[name for *_, name in every], help="one sequence")
    parser.add_argument("--audit", action="store_true", help="run the audit sequence too")
    args = parser.parse_args()
    chosen = every if args.audit or args.only == AUDIT[3] else CASES
    cases = [case for case in chosen if args.only in (None, case[3])]
    runs: dict[str, list[Run]] = {name: [] for *_, name in cases}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for sequence, serial, pack, name in cases:
                db = Path(tmp) / f"{name}-{i}.db"
                runs[name].append(one_run(sequence, serial, pack, db))
    lines = []
    for sequence, _, _, name in cases:
        walls = [run.wall for run in runs[name]]
        virtual = statistics.median(run.virtual for run in runs[name])
        wall = statistics.median(walls)
        cpu = statistics.median(run.cpu for run in runs[name])
        print(
            f"{sequence.relative_to(ROOT)}: {len(walls)} runs, wall min {min(walls):.2f} s, "
            f"max {max(walls):.2f} s; CPU on the engine's thread median {cpu:.2f} s"
        )
        stolen = [run.stolen for run in runs[name] if run.stolen is not None]
        if stolen:
            print(f"    the host took {min(stolen):.2f}–{max(stolen):.2f} s of CPU from the VM")
        print("    slowest steps of a median run:")
        median_run = sorted(runs[name], key=lambda run: run.wall)[len(walls) // 2]
        for step, seconds in sorted(median_run.steps.items(), key=lambda kv: -kv[1])[:6]:
            print(f"    {step:<28} {seconds:5.2f} s wall")
        lines.append(
            f"reference_run_{name}: {wall:.2f} s wall median "
            f"(CPU {cpu:.2f} s; line time {virtual:.0f} s, {virtual / wall:.0f}x real time)"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
