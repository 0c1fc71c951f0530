"""Benchmark: one move of the lockstep virtual clock with the 96S virtual bench running.

A guard check, a sample, any engine wait on the virtual bench is one clock move: the clock
steps, the simulated BMS measures the pack and sends a cycle's frames over python-can's
``virtual`` bus, and the move returns once the BMS client has received them (the settle
hand-off). The reference runs make ~12 000 of them. This script prepares the 96S reference
run's bench (nothing runs) and times moves of 0.25 s (the cell guard's period) against the
floor of the same physics without any bus: the pack integrated by 0.25 s and the BMS model
measuring it, in the same process. Interleaved blocks, medians; also CPU time and thread
switches per move (what a loaded machine makes expensive), and the other floor a move
cannot drop: python-can's ``virtual`` bus alone carrying a move's five frames (sent and
received, no encoding, no listener; frames of the kind the simulated BMS sends, which the
bus does not copy).

    python bench/lockstep_move.py [--moves 2000]

The last line reads ``lockstep_move: wall per move (ratio vs the model alone)``.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import statistics
import tempfile
import time
from pathlib import Path

import can

from drivers.sim.bms import SentFrame
from drivers.sim.bms_model import BmsModel
from drivers.sim.pack import Pack
from drivers.sim.packs import get_pack_spec
from station.runner import RunOptions, prepare_run

ROOT = Path(__file__).resolve().parent.parent
PERIOD_S = 0.25


def model_alone(moves: int) -> float:
    """Seconds per move of the pack and BMS model alone (no circuit, no bus, no threads)."""
    pack = Pack(get_pack_spec("nmc96s"), seed=1)
    model = BmsModel(pack, seed=3)
    start = time.perf_counter()
    for _ in range(moves):
        pack.advance(PERIOD_S, 30.0)
        model.measure()
    return (time.perf_counter() - start) / moves


FRAMES_PER_MOVE = 5  # pack status, state, limits, one cell page, one temperature page
_channels = itertools.count()


def bus_alone(moves: int) -> float:
    """CPU seconds per move of python-can's virtual bus carrying a move's frames alone."""
    channel = f"lockstep-move-floor-{next(_channels)}"
    sender = can.Bus(interface="virtual", channel=channel)
    receiver = can.Bus(interface="virtual", channel=channel)
    # The frames the simulated BMS sends: the bus shares them rather than copying them.
    frames = [SentFrame(0x100 + i, bytes(8)) for i in range(FRAMES_PER_MOVE)]
    try:
        start = time.process_time()
        for _ in range(moves):
            for frame in frames:
                sender.send(frame)
            for _ in frames:
                receiver.recv(0)
        return (time.process_time() - start) / moves
    finally:
        sender.shutdown()
        receiver.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=2000, help="moves per variant")
    args = parser.parse_args()
    block = 200
    db = Path(tempfile.mkdtemp()) / "moves.db"
    sequence = ROOT / "sequences/nmc96s/eol.toml"
    prepared = prepare_run(RunOptions(sequence=sequence, sim=True, pack="nmc96s", db=db))
    walls: list[float] = []
    floors: list[float] = []
    buses: list[float] = []
    cpu = switches = 0.0
    try:
        clock = prepared.clock
        for _ in range(50):  # warm-up
            clock.advance(PERIOD_S)
        for _ in range(max(1, args.moves // block)):
            floors.append(model_alone(block))
            buses.append(bus_alone(block))
            before = resource.getrusage(resource.RUSAGE_SELF)
            cpu0, start = time.process_time(), time.perf_counter()
            for _ in range(block):
                clock.advance(PERIOD_S)
            walls.append((time.perf_counter() - start) / block)
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu += time.process_time() - cpu0
            switches += after.ru_nvcsw - before.ru_nvcsw
    finally:
        prepared.close()
    moves = block * len(walls)
    wall, floor = statistics.median(walls), statistics.median(floors)
    print(f"model alone: {floor * 1e3:.3f} ms per move (pack by {PERIOD_S} s, BMS measure)")
    print(
        f"bus alone:   {statistics.median(buses) * 1e3:.3f} ms CPU per move "
        f"(python-can's virtual bus, {FRAMES_PER_MOVE} frames sent and received)"
    )
    print(
        f"clock move:  {wall * 1e3:.3f} ms wall, {cpu / moves * 1e3:.3f} ms CPU, "
        f"{switches / moves:.1f} voluntary thread switches per move"
    )
    print(f"lockstep_move: {wall * 1e3:.2f} ms wall ({wall / floor:.2f}x the model alone)")


if __name__ == "__main__":
    main()
