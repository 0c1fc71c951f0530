"""Benchmark: the reference EOL runs on the virtual bench, in lockstep virtual time.

Runs the 96S NMC and the 16S LFP reference sequences end to end through the real drivers,
pyvisa sockets, CAN/UDS and SQLite, interleaved (96S, 16S, 96S, …) so that a change in the
machine's load hits both alike, and prints the median wall time against the virtual (line)
time each represents, and the slowest steps. The figure to watch is the wall time; the
speed-up says how many seconds of line time one second of CI buys.

    python bench/reference_run.py [--repeat 5] [--only nmc96s|lfp16s|audit] [--audit]

``--audit`` adds the 96S audit sequence (a full-capacity discharge and recharge, 3.3 h of
line time; goal ≤ 5 s), which ``make bench`` leaves out for its length. The last lines read
``NAME: median wall (line time, speed-up)``, one per sequence.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

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


def one_run(
    sequence: Path, serial: str, pack: str, db: Path
) -> tuple[float, float, dict[str, float]]:
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
    t0 = time.perf_counter()
    try:
        result = prepared.engine.run(serial)
    finally:
        prepared.close()
    wall = time.perf_counter() - t0
    assert result.outcome == Outcome.PASSED, [(s.name, s.outcome, s.error) for s in result.steps]
    return wall, prepared.clock.now() - t0_virtual, walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per sequence (median)")
    every = [*CASES, AUDIT]
    parser.add_argument("--only", choices=[name for *_, name in every], help="one sequence")
    parser.add_argument("--audit", action="store_true", help="run the audit sequence too")
    args = parser.parse_args()
    chosen = every if args.audit or args.only == AUDIT[3] else CASES
    cases = [case for case in chosen if args.only in (None, case[3])]
    runs: dict[str, list[tuple[float, float, dict[str, float]]]] = {name: [] for *_, name in cases}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for sequence, serial, pack, name in cases:
                db = Path(tmp) / f"{name}-{i}.db"
                runs[name].append(one_run(sequence, serial, pack, db))
    lines = []
    for sequence, _, _, name in cases:
        walls = [w for w, _, _ in runs[name]]
        virtual = statistics.median(v for _, v, _ in runs[name])
        wall = statistics.median(walls)
        print(
            f"{sequence.relative_to(ROOT)}: {len(walls)} runs, wall min {min(walls):.2f} s, "
            f"max {max(walls):.2f} s; slowest steps of a median run:"
        )
        steps = sorted(runs[name], key=lambda run: run[0])[len(walls) // 2][2]
        for step, seconds in sorted(steps.items(), key=lambda kv: -kv[1])[:6]:
            print(f"    {step:<28} {seconds:5.2f} s wall")
        lines.append(
            f"reference_run_{name}: {wall:.2f} s wall median "
            f"(line time {virtual:.0f} s, {virtual / wall:.0f}x real time)"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
