"""Benchmark: what the BMS client costs per received CAN frame, against cantools' decode.

The traffic is the reference BMS's cyclic mix in its real proportions per 100 ms (pack
status and state once, cell voltages 10 pages, cell temperatures 5 pages), encoded by
cantools from ``sequences/bms/eol_reference.dbc``. The floor is cantools decoding each
frame in full (``Message.decode``, what a client that decodes everything pays at least).
The measured path is the station's ``SignalMonitor.on_message_received``: look up the
message, decode only the mapped signals (precompiled), store them, assemble array pages,
check the alive counter, wake waiters. Prints both rates side by side, the ratio and the
share of one core that 8000 frames/s would take. Machines are noisy: compare figures from
one run, not seconds.

    python bench/can_ingest.py [--frames 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import can

from drivers.bms.description import BmsDescription
from drivers.bms.signals import SignalMonitor

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTION = ROOT / "sequences" / "bms" / "eol_reference.toml"
RATE_HZ = 8000


def traffic(db: Any) -> list[can.Message]:
    """One 100 ms cycle of the reference BMS, in the order it sends it."""
    frames: list[can.Message] = []

    def add(name: str, **values: float) -> None:
        message = db.get_message_by_name(name)
        signals = {s.name: 0 for s in message.signals if s.multiplexer_ids is None}
        signals.update(values)
        data = message.encode(signals, strict=False)
        frames.append(can.Message(arbitration_id=message.frame_id, is_extended_id=False, data=data))

    add("BMS_PackStatus", PackVoltage=350.0, PackCurrent=-12.5, BusVoltage=349.0, SOC=55.0)
    add("BMS_State", ContactorState=2, InsulationResistance=5000)
    for page in range(10):
        add("BMS_CellVoltages", CellPage=page, Cell0=3.7, Cell1=3.71, Cell2=3.72)
    for page in range(5):
        add("BMS_CellTemperatures", TempPage=page, **{f"Temp{i}": 25.0 + i for i in range(6)})
    return frames


def timed(run: Any, frames: list[can.Message], count: int) -> tuple[float, float]:
    """Return (wall s, CPU s) to push ``count`` frames through ``run``."""
    batch = (frames * (count // len(frames) + 1))[:count]
    wall, cpu = time.perf_counter(), time.process_time()
    for msg in batch:
        run(msg)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    desc = BmsDescription.load(DESCRIPTION)
    db = desc.db
    frames = traffic(db)
    by_id = {m.frame_id: m for m in db.messages}
    clock = time.monotonic
    monitor = SignalMonitor(None, db, desc.signal_map(), now=clock, cycle_s=desc.cycle_s)

    def cantools_decode(msg: can.Message) -> None:
        by_id[msg.arbitration_id].decode(bytes(msg.data), decode_choices=False)

    floor_rates, client_rates, client_cpu = [], [], []
    for _ in range(args.repeat):  # interleaved, so both see the same load
        wall, _cpu = timed(cantools_decode, frames, args.frames)
        floor_rates.append(args.frames / wall)
        wall, cpu = timed(monitor.on_message_received, frames, args.frames)
        client_rates.append(args.frames / wall)
        client_cpu.append(cpu / args.frames)
    # The client really decoded: the last frames' values are there (else the figure lies).
    volts = monitor.reading("pack_voltage", timeout_s=1.0).value
    cells = monitor.snapshot("cell_voltages", after=0.0, timeout_s=1.0)
    assert volts is not None and abs(volts - 350.0) < 0.01 and len(cells) == 30, (volts, cells)
    floor = statistics.median(floor_rates)
    client = statistics.median(client_rates)
    per_frame_s = statistics.median(client_cpu)
    print(f"cantools Message.decode (all signals): {floor:10.0f} frames/s")
    print(f"SignalMonitor.on_message_received:      {client:10.0f} frames/s")
    print(f"CPU per frame (client): {per_frame_s * 1e6:.2f} µs")
    print(
        f"can_ingest: {client:.0f} frames/s ({client / floor:.2f}x cantools decode, "
        f"{per_frame_s * RATE_HZ * 100:.1f} % of a core at 8k frames/s)"
    )


if __name__ == "__main__":
    main()
