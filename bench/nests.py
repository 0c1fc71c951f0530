"""Benchmark: packs per hour of a station with 1, 2 and 4 nests sharing one insulation tester.

Runs the 16S LFP reference sequence (sequences/lfp16s/eol.toml) on a virtual line — one
simulated pack per nest, the nests' own twins, one shared tester behind the relay matrix —
in lockstep virtual time, one pack per nest, all nests started together. Packs per hour are
counted in line (virtual) time: what the station would do on the shop floor, not how fast
this machine simulates it.

The bound set by the shared instrument: a pack holds the tester for the sum of its shared
steps' times (the IR and hipot steps, measured on the one-nest run, where nobody waits), so
the line cannot test more than 3600 / that sum packs an hour, however many nests it has.

    python bench/nests.py [--nests 1 2 4]

The last line reads ``nests: N=… packs/h (ratio×), … (ratio vs 1 nest)``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from station.console import TerminalPrompter
from station.events import Event, StepFinished
from station.line import prepare_line
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


def one_line(nests: int, folder: Path) -> tuple[float, float, float]:
    """Test one pack per nest; return (line time in s, shared-step s per pack, wall s)."""
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

    def on_event(event: Event) -> None:
        if isinstance(event, StepFinished) and event.name in shared_steps:
            shared_s.append(event.duration_s)

    for prepared in line.nests:
        prepared.engine.prompter = TerminalPrompter(assume_default=True, stdout=_Quiet())
        prepared.engine.listeners.append(on_event)
    t0_virtual = line.clock.now()
    t0 = time.perf_counter()
    try:
        runs = line.run({n: f"LF16A{n:07d}" for n in range(1, nests + 1)})
    finally:
        line.close()
    for run in runs:
        assert run.result is not None and run.result.outcome == PASSED, run
    return line.clock.now() - t0_virtual, sum(shared_s) / nests, time.perf_counter() - t0


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
            line_s, shared_s, wall = one_line(n, Path(tmp))
            per_hour[n] = n * 3600.0 / line_s
            if n == counts[0]:
                shared_per_pack = shared_s  # nobody waited: the tester's own time per pack
            print(
                f"{n} nest(s): {n} packs in {line_s:.0f} s of line time = "
                f"{per_hour[n]:.2f} packs/h (wall {wall:.0f} s)",
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
