"""Benchmark: instructions per lockstep clock move, counted by valgrind (no clock involved).

Wall and CPU time on a shared 2-core VM drift by half within an hour, and a host that steals
CPU makes the same code look slower; the number of instructions a piece of code executes
does not change with either. This script counts them with valgrind's cachegrind (no cache
simulation) for the three parts of ``bench/lockstep_move.py``:

- a **move**: one 0.25 s move of the lockstep clock with the 96S reference run's bench
  prepared (the clock steps, the simulated BMS measures and sends a cycle's frames over
  python-can's ``virtual`` bus, the BMS client receives and decodes them);
- the **model** alone: the pack integrated by 0.25 s and the BMS model measuring it;
- the **bus** alone: python-can's ``virtual`` bus carrying a move's five frames (sent and
  received, no encoding, no listener).

The model and the bus are what a move cannot drop; the rest is the station's own code around
them (frames built, encoded and decoded, the circuit, the clock). Each count is the
difference between two fresh processes that make ``--moves`` + 100 and 100 moves, so start-up
and imports cancel. Six processes under valgrind, two at a time: about two minutes.

``--run`` also counts the whole 96S reference run (``bench/reference_run.py``'s, seed 7):
a process that prepares the bench and runs the sequence against one that only prepares it
(about five more minutes). Its figure is the one to compare across changes of the code when
the machine's speed drifts: the same code and seed give the same count within about 1 %.

    python bench/move_instructions.py [--moves 1000] [--run]

The last line reads ``move_instructions: N k per move (ratio vs the model and the bus)``, or
says that valgrind is not installed (Debian: ``apt install valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_MOVES = 100  # the shorter process of each pair: its count is start-up plus these
PERIOD_S = 0.25
PARTS = ("move", "model", "bus")
RUN_PARTS = ("prepared", "run")  # --run: the reference run's bench prepared, and run
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def run_part(part: str, moves: int) -> None:
    """Make ``moves`` moves of ``part`` (what runs under valgrind)."""
    if part in RUN_PARTS:
        from reference_run import CASES, one_run

        from station.runner import RunOptions, prepare_run

        [(sequence, serial, pack, _)] = [case for case in CASES if case[3] == "nmc96s"]
        db = Path(tempfile.mkdtemp()) / "run.db"
        if part == "run":
            one_run(sequence, serial, pack, db)
        else:
            prepare_run(RunOptions(sequence=sequence, sim=True, pack=pack, db=db)).close()
    elif part == "move":
        from station.runner import RunOptions, prepare_run

        db = Path(tempfile.mkdtemp()) / "moves.db"
        sequence = ROOT / "sequences/nmc96s/eol.toml"
        prepared = prepare_run(RunOptions(sequence=sequence, sim=True, pack="nmc96s", db=db))
        try:
            for _ in range(moves):
                prepared.clock.advance(PERIOD_S)
        finally:
            prepared.close()
    elif part == "model":
        from lockstep_move import model_alone

        model_alone(moves)
    else:
        from lockstep_move import bus_alone

        bus_alone(moves)


def instructions(valgrind: str, part: str, moves: int) -> int:
    """Instructions of a fresh process making ``moves`` moves of ``part``."""
    done = subprocess.run(
        [
            valgrind,
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--part",
            part,
            "--moves",
            str(moves),
        ],
        capture_output=True,
        text=True,
        check=False,
        # One hash seed for every process: dicts and sets then lay out, and cost, the same.
        # One OpenBLAS thread: numpy's import starts a pool whose idle spinning valgrind
        # counts too (up to ±13 k instructions a move between otherwise equal processes).
        env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"},
    )
    found = _REFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"valgrind on {part} ({moves} moves) failed:\n{done.stderr[-2000:]}")
    return int(found[1].replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=1000, help="moves counted per part")
    parser.add_argument("--run", action="store_true", help="count the 96S reference run too")
    parser.add_argument("--part", choices=PARTS + RUN_PARTS, help=argparse.SUPPRESS)  # a child
    args = parser.parse_args()
    if args.part is not None:
        run_part(args.part, args.moves)
        return
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("move_instructions: not measured (valgrind is not installed)")
        return
    jobs = [(part, n) for part in PARTS for n in (BASE_MOVES, BASE_MOVES + args.moves)]
    if args.run:
        jobs += [(part, 0) for part in RUN_PARTS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(
            zip(jobs, pool.map(lambda job: instructions(valgrind, *job), jobs), strict=True)
        )
    per_move = {
        part: (counts[(part, BASE_MOVES + args.moves)] - counts[(part, BASE_MOVES)]) / args.moves
        for part in PARTS
    }
    floor = per_move["model"] + per_move["bus"]
    for part, label in (
        ("move", "clock move (96S bench)"),
        ("model", "model alone (pack 0.25 s, BMS measure)"),
        ("bus", "bus alone (5 frames sent and received)"),
    ):
        print(f"{label:40s} {per_move[part] / 1e3:7.0f} k instructions per move")
    print(f"station's own code per move: {(per_move['move'] - floor) / 1e3:.0f} k")
    if args.run:
        run = counts[("run", 0)] - counts[("prepared", 0)]
        print(f"move_instructions_reference_run: {run / 1e9:.2f} G for the 96S reference run")
    print(
        f"move_instructions: {per_move['move'] / 1e3:.0f} k per move"
        f" ({per_move['move'] / floor:.2f}x the model and the bus)"
    )


if __name__ == "__main__":
    main()
