"""Benchmark: packs per hour of a station with 1, 2 and 4 nests sharing one insulation tester.

Runs the 16S LFP reference sequence (sequences/lfp16s/eol.toml) on a virtual line — one
simulated pack per nest, the nests' own twins, one shared tester behind the relay matrix —
in lockstep virtual time, one pack per nest. Packs per hour are counted in line (virtual)
time: what the station would do on the shop floor, not how fast this machine simulates it.

Nests start one *tester block* apart (the time one pack holds the tester, measured on the
one-nest run), as a running line settles: packs started together queue for the tester once,
and the waits themselves put the nests out of step for every pack after. Each nest then
turns out one pack per its cycle (its run's time, waits for the tester included), so the
line's steady rate is the sum over nests of 3600 / cycle. The makespan of this one round
(first start to last end, the stagger included) is printed beside it.

The bound set by the shared instrument: a pack holds the tester for the sum of its shared
steps' times (the IR and hipot steps, measured on the one-nest run), so the line cannot
test more than 3600 / that sum packs an hour, however many nests it has.

    python bench/nests.py [--nests 1 2 4]

The last line reads ``nests: N=… packs/h (ratio×), … (ratio vs 1 nest)``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from station.clock import line_member
from station.console import TerminalPrompter
from station.events import Event, StepFinished
from station.line import PreparedNest, prepare_line
from station.outcomes import PASSED
from station.runner import RunOptions

ROOT = Path(__file__).resolve().parent.parent
SEQUENCE = ROOT / "sequences" / "lfp16s" / "eol.toml"
BMS = ROOT / "sequences" / "bms" / "eol_reference.toml"
TESTER = """
[instruments.insulation_tester]
model = "chroma.1905x"
resource = "TCPIP0::10.0.0.9::5025::SOCKET"
serial = "190550001234"
cal_due = 2099-12-31
"""


def line_config(folder: Path, nests: int) -> Path:
    """A station of ``nests`` nests (the virtual bench's default twins each), one tester."""
    text = '[station]\nid = "EOL-LINE"\nshared_roles = ["insulation_tester"]\n' + TESTER
    text += f'[can]\ninterface = "virtual"\nchannel = "c1"\nbms = "{BMS.as_posix()}"\n'
    text += "".join(f'[[nests]]\ncan_channel = "c{n}"\n' for n in range(1, nests + 1))
    path = folder / f"line{nests}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def one_line(nests: int, folder: Path, stagger_s: float) -> tuple[list[float], float, float, float]:
    """Test one pack per nest, nest k starting (k − 1) × ``stagger_s`` into the line; return
    (each nest's cycle in s, makespan in s, shared-step s per pack, wall s)."""
    options = RunOptions(
        sequence=SEQUENCE,
        config=line_config(folder, nests),
        db=folder / f"results{nests}.db",
        sim=True,
        pack="lfp16s",
    )
    line = prepare_line(options)
    shared_roles = set(line.config.shared_roles)
    shared_steps = {
        s.name for s in line.sequence.all_steps() if shared_roles & set(s.step_type.roles)
    }
    shared_s: list[float] = []
    cycles: dict[int, float] = {}
    outcomes: dict[int, str] = {}
    why: dict[int, list[str]] = {}

    def on_event(event: Event) -> None:
        if isinstance(event, StepFinished) and event.name in shared_steps:
            shared_s.append(event.duration_s)

    def nest_thread(prepared: PreparedNest, delay_s: float) -> None:
        with line_member(line.clock):
            line.clock.wait(delay_s, threading.Event())
            start = line.clock.now()
            result = prepared.engine.run(f"LF16A{prepared.nest.index:07d}")
            cycles[prepared.nest.index] = line.clock.now() - start
            outcomes[prepared.nest.index] = result.outcome
            why[prepared.nest.index] = [
                f"{s.name}: {s.outcome} {s.error}" for s in result.steps if s.outcome != PASSED
            ]

    for prepared in line.nests:
        prepared.engine.prompter = TerminalPrompter(assume_default=True, stdout=_Quiet())
        prepared.engine.listeners.append(on_event)
    t0_virtual = line.clock.now()
    t0 = time.perf_counter()
    threads = [
        threading.Thread(target=nest_thread, args=(p, i * stagger_s))
        for i, p in enumerate(line.nests)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        line.close()
    assert set(outcomes.values()) == {PASSED}, (outcomes, why)
    makespan = line.clock.now() - t0_virtual
    return (
        [cycles[n] for n in sorted(cycles)],
        makespan,
        sum(shared_s) / nests,
        time.perf_counter() - t0,
    )


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nests", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    counts = sorted(set(args.nests))
    per_hour: dict[int, float] = {}
    shared_per_pack = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n in counts:
            cycles, makespan, shared_s, wall = one_line(n, Path(tmp), shared_per_pack)
            if not shared_per_pack:
                shared_per_pack = shared_s  # nobody waited: the tester's own time per pack
            per_hour[n] = sum(3600.0 / c for c in cycles)
            print(
                f"{n} nest(s): cycles {', '.join(f'{c:.0f}' for c in cycles)} s → "
                f"{per_hour[n]:.2f} packs/h steady; this round {n} packs in {makespan:.0f} s "
                f"= {n * 3600.0 / makespan:.2f} packs/h (wall {wall:.0f} s)",
                flush=True,
            )
    base = per_hour[counts[0]] / counts[0]  # per nest, from the smallest line
    bound = 3600.0 / shared_per_pack if shared_per_pack else float("inf")
    print(
        f"shared insulation tester: {shared_per_pack:.0f} s per pack "
        f"→ at most {bound:.1f} packs/h whatever the nests"
    )
    for n in counts:
        ratio = per_hour[n] / base
        ideal = min(float(n), bound / base)
        verdict = "ok" if ratio >= 0.9 * ideal else "below 0.9 × ideal"
        print(f"{n} nest(s): {ratio:.2f}× one nest (ideal {ideal:.2f}×: {verdict})")
    summary = ", ".join(
        f"N={n} {per_hour[n]:.2f} packs/h ({per_hour[n] / base:.2f}×)" for n in counts
    )
    print(f"nests: {summary} (ratio vs 1 nest)")


if __name__ == "__main__":
    main()
