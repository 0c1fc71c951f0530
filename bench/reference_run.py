"""Benchmark: a full reference EOL run on the virtual bench, in virtual time.

Runs the 96S NMC reference sequence (and optionally the LFP one) end to end through the
real drivers, pyvisa sockets, CAN/UDS and SQLite, and prints the wall time against the
virtual (line) time it represents, per step and in total. The figure to watch is the
speed-up: how many seconds of line time one second of CI buys.

    python bench/reference_run.py [--repeat 3] [--lfp]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from station.console import TerminalPrompter
from station.events import Event, StepFinished, StepStarted
from station.runner import RunOptions, prepare_run

ROOT = Path(__file__).resolve().parent.parent


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
    assert result.outcome == "PASSED", [(s.name, s.outcome, s.error) for s in result.steps]
    return wall, prepared.clock.now() - t0_virtual, walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lfp", action="store_true", help="also run the 16S LFP reference")
    args = parser.parse_args()
    cases = [(ROOT / "sequences/nmc96s/eol.toml", "NM96A0000001", "nmc96s")]
    if args.lfp:
        cases.append((ROOT / "sequences/lfp16s/eol.toml", "LF16A0000001", "lfp16s"))
    with tempfile.TemporaryDirectory() as tmp:
        for sequence, serial, pack in cases:
            runs = [
                one_run(sequence, serial, pack, Path(tmp) / f"{pack}-{i}.db")
                for i in range(args.repeat)
            ]
            walls = [w for w, _, _ in runs]
            virtual = statistics.median(v for _, v, _ in runs)
            wall = statistics.median(walls)
            print(
                f"{sequence.relative_to(ROOT)}: line time {virtual:7.0f} s, wall median "
                f"{wall:5.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
                f"speed-up {virtual / wall:5.0f}x"
            )
            steps = runs[len(runs) // 2][2]
            for name, seconds in sorted(steps.items(), key=lambda kv: -kv[1])[:6]:
                print(f"    {name:<28} {seconds:5.2f} s wall")


if __name__ == "__main__":
    main()
