"""Lockstep virtual time: the same seed gives the same results, whatever the machine's load.

The virtual bench's simulated actors (the BMS's cyclic frames, its UDS routines) act only
as the virtual clock moves, and the clock moves on only once what they sent has been
received. So a run's measurements, outcomes, samples, logs and CAN traffic depend on the
seed and the sequence alone: not on how the threads happen to be scheduled. These tests
run the reference sequence beside CPU burners (bounded processes that stop by themselves)
and compare runs field by field; run ids and wall-clock timestamps are left out. Another
holds threads at the hand-offs between the station and the simulated ECU for longer than
any real-time bound, as only a badly overloaded machine would.

The tests with burners are marked ``exclusive``: ``make test`` runs them after the parallel
pass, so their load never lands on another test's wall-clock bound.
"""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

import can
import pytest

from drivers.bms.isotp_link import IsoTpConnection
from drivers.sim.uds_server import UdsServer
from station.cli import main
from station.console import TerminalPrompter
from station.runner import RunOptions, prepare_run

ROOT = Path(__file__).resolve().parent.parent
NMC = ROOT / "sequences" / "nmc96s" / "eol.toml"
BURNERS = 2
BURN_LIMIT_S = 300.0
"""A burner stops by itself after this long, even if the test never tells it to."""

_TRACE_LINE = re.compile(r"^\s*\d+\.\d+\s+\d+\s+(?P<frame>[0-9A-F]+x?\s+[RT]x\s+d\s.*)$")
_RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FIXED_RUN_ID = "00000000-0000-4000-8000-000000000007"


@pytest.fixture(autouse=True)
def one_run_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give every run the same id, so that ids are left out of the comparison everywhere.

    The run id is random by design, and it reaches the pack: the EOL record written into
    the BMS holds it, so it is in the measurements and in the CAN traffic as well.
    """
    monkeypatch.setattr("station.engine.new_run_id", lambda: FIXED_RUN_ID)


def _burn(stop: EventType, limit_s: float) -> None:
    end = time.monotonic() + limit_s
    while not stop.is_set() and time.monotonic() < end:
        sum(i * i for i in range(20_000))


@contextmanager
def cpu_load(processes: int = BURNERS) -> Iterator[None]:
    """Keep ``processes`` other processes busy computing while the block runs."""
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    burners = [
        context.Process(target=_burn, args=(stop, BURN_LIMIT_S), daemon=True)
        for _ in range(processes)
    ]
    for burner in burners:
        burner.start()
    try:
        yield
    finally:
        stop.set()
        for burner in burners:
            burner.join(timeout=10.0)
            if burner.is_alive():
                burner.terminate()
                burner.join(timeout=5.0)


def run_record(db: Path, sequence: Path, *, speed: float = 0.0, seed: int = 7) -> dict[str, Any]:
    """Run ``sequence`` on the virtual bench and return everything it recorded."""
    prepared = prepare_run(RunOptions(sequence=sequence, db=db, sim=True, seed=seed, speed=speed))
    prepared.engine.prompter = TerminalPrompter(assume_default=True)
    try:
        result = prepared.engine.run("NM96A0000001")
    finally:
        prepared.close()
    record = recorded(db)
    record["outcome"] = result.outcome
    return record


def recorded(db: Path) -> dict[str, Any]:
    """Every result of the one run in ``db``, without ids and wall-clock timestamps."""
    with sqlite3.connect(db) as con:
        seq = dict(con.execute("SELECT id, seq FROM steps"))
        steps = con.execute(
            "SELECT seq, grp, idx, name, type, outcome, error, attempts, duration_s "
            "FROM steps ORDER BY seq"
        ).fetchall()
        measurements = [
            (seq[step], *rest)
            for step, *rest in con.execute(
                "SELECT step_id, attempt, name, value, value_text, values_json, unit, "
                "comparator, low, high, nominal, outcome, marginal, detail, failed_elements "
                "FROM measurements ORDER BY id"
            )
        ]
        samples = [
            (seq.get(step), *rest)
            for step, *rest in con.execute(
                "SELECT step_id, t, channel, value FROM samples ORDER BY rowid"
            )
        ]
        logs = [
            (seq.get(step), *rest)
            for step, *rest in con.execute("SELECT step_id, level, message FROM logs ORDER BY id")
        ]
        [trace_path] = [
            Path(p) for (p,) in con.execute("SELECT path FROM attachments WHERE name = 'CAN trace'")
        ]
    return {
        "steps": steps,
        "measurements": measurements,
        "samples": samples,
        "logs": logs,
        "can_trace": can_frames(trace_path),
    }


def can_frames(path: Path) -> list[str]:
    """The trace's frames in order, without their wall-clock times and channel numbers.

    python-can numbers the in-process channels of the virtual bench per process, so the
    channel column says how many benches came before, not what was on the bus. Every frame
    is kept, the TesterPresent keeper's too: it acts on virtual time.
    """
    frames = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _TRACE_LINE.match(line)
        if match:
            frames.append(" ".join(match["frame"].split()))
    return frames


def assert_same(first: dict[str, Any], other: dict[str, Any]) -> None:
    for key, expected in first.items():
        got = other[key]
        if isinstance(expected, list):
            assert len(got) == len(expected), key
            for i, (a, b) in enumerate(zip(expected, got, strict=True)):
                assert a == b, f"{key}[{i}]"
        else:
            assert got == expected, key


@pytest.mark.exclusive  # its burners would steal the CPU from the tests beside it
def test_the_96s_reference_gives_identical_results_beside_cpu_burners(tmp_path: Path) -> None:
    with cpu_load():
        runs = [run_record(tmp_path / f"r{i}.db", NMC) for i in range(3)]
    first = runs[0]
    assert first["outcome"] == "PASSED", [s for s in first["steps"] if s[5] != "PASSED"]
    assert len(first["measurements"]) > 60 and len(first["samples"]) > 1000
    assert len(first["can_trace"]) > 1000
    # The keeper's keep-alives in the extended session, on virtual time like the rest.
    assert sum("7E0 Tx d 8 02 3E 80" in frame for frame in first["can_trace"]) > 100
    for other in runs[1:]:
        assert_same(first, other)


SHORT = """
[sequence]
name = "Lockstep at speed"
version = "1.0.0"
products = ["NM96-A"]
serial_pattern = "^NM96[A-Z][0-9]{7}$"

[[setup]]
type = "identify"
name = "BMS identity"
params = { dids = ["part_number", "sw_version"] }
limits.part_number = { comparator = "STREQ", expected = "NM96-A" }
limits.sw_version = { comparator = "STREQ", expected = "2.4.1" }

[[setup]]
type = "can_check"
name = "CAN communication"
params = { window_s = 2.0 }
limits.missing_messages = { comparator = "EQ", nominal = 0 }
limits.max_period_error_pct = { comparator = "LE", high = 10 }
limits.decode_errors = { comparator = "EQ", nominal = 0 }
limits.alive_counter_errors = { comparator = "EQ", nominal = 0 }

[[main]]
type = "contactors_precharge"
name = "Contactors and precharge"
params = { leave_closed = true }
limits.closed = { comparator = "BOOL", expected = true }
limits.precharge_time_s = { comparator = "LE", high = 1.0 }
limits.bus_voltage_v = { comparator = "LOG" }
limits.bus_to_pack_ratio = { comparator = "GE", low = 0.95 }

[[main]]
type = "ocv_and_cells"
name = "OCV and cells"
params = { cells = 96 }
limits.voltage_delta_v = { comparator = "LE", high = 2.0 }
limits.dmm_voltage_v = { comparator = "GELE", low = 320.0, high = 398.0 }
limits.bms_voltage_v = { comparator = "GELE", low = 320.0, high = 398.0 }
limits.cell_voltages = { comparator = "ARRAY", low = 3.3, high = 4.15, max_spread = 0.03 }
limits.cell_spread_v = { comparator = "LE", high = 0.03 }
limits.sum_vs_pack_v = { comparator = "GELE", low = -1.5, high = 1.5 }

[[main]]
type = "dcir"
name = "DCIR"
params = { current_a = 45, pulse_s = 10, guard_min_v = 280, guard_max_v = 405 }
limits.r0_discharge_ohm = { comparator = "NOMTOL", nominal = 0.096, tolerance_pct = 15 }
limits.r_discharge_ohm = { comparator = "LE", high = 0.13 }

[[cleanup]]
type = "contactors"
name = "Contactors open (cleanup)"
params = { action = "open" }
limits.state = { comparator = "STREQ", expected = "OPEN" }
"""


@pytest.mark.exclusive  # its burners would steal the CPU from the tests beside it
def test_a_run_paced_at_speed_50_gives_the_results_of_an_unpaced_one(tmp_path: Path) -> None:
    """``--speed 50`` under load: the CAN check, precharge and BMS readings as in CI.

    A short sequence with the BMS identity, a CAN check, a precharge, cell voltages over CAN
    and a DCIR pulse (about 18 s of line time, 0.35 s of wall time at × 50): the full
    reference run would take about 19 s at × 50.
    """
    sequence = tmp_path / "short.toml"
    sequence.write_text(SHORT, encoding="utf-8")
    unpaced = run_record(tmp_path / "unpaced.db", sequence)
    assert unpaced["outcome"] == "PASSED", [s for s in unpaced["steps"] if s[5] != "PASSED"]
    line_time = sum(step[8] for step in unpaced["steps"])
    with cpu_load():
        started = time.monotonic()
        paced = run_record(tmp_path / "paced.db", sequence, speed=50.0)
        wall = time.monotonic() - started
    assert_same(unpaced, paced)
    assert wall >= 0.9 * line_time / 50  # it was paced: not faster than × 50


def test_threads_stalled_past_every_real_time_bound_change_no_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a heavily loaded machine does at worst: hold a thread for seconds at a hand-off.

    The simulated ECU's thread is held 1.2 s before its first answer (past the 1 s P2 the
    station gives a simulated ECU), and the tester's ISO-TP stack gets the first frame of a
    later multi-frame answer 1.2 s late (past ISO-TP's 1 s flow-control bound). Under the
    lockstep clock neither is a timeout: the record is the unstalled run's.
    """
    sequence = tmp_path / "short.toml"
    sequence.write_text(SHORT, encoding="utf-8")
    unstalled = run_record(tmp_path / "unstalled.db", sequence)
    assert unstalled["outcome"] == "PASSED", [s for s in unstalled["steps"] if s[5] != "PASSED"]

    held: list[str] = []
    handle, on_frame = UdsServer.handle, IsoTpConnection._on_frame

    def first_answer_late(self: UdsServer, request: bytes) -> bytes | None:
        if "ecu" not in held:
            held.append("ecu")
            time.sleep(1.2)  # the stall under test, not a wait for a race: past the 1 s P2
        return handle(self, request)

    def second_first_frame_late(self: IsoTpConnection, msg: can.Message) -> None:
        if msg.arbitration_id == 0x7E8 and msg.data[0] >> 4 == 1:
            held.append("first frame")
            if held.count("first frame") == 2:
                time.sleep(1.2)  # the stall under test: past ISO-TP's 1 s flow-control bound
        on_frame(self, msg)

    monkeypatch.setattr(UdsServer, "handle", first_answer_late)
    monkeypatch.setattr(IsoTpConnection, "_on_frame", second_first_frame_late)
    stalled = run_record(tmp_path / "stalled.db", sequence)
    assert held[0] == "ecu" and held.count("first frame") >= 2
    assert_same(unstalled, stalled)


def test_station_run_with_a_seed_twice_prints_and_records_the_same_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs, records = [], []
    for i in range(2):
        db = tmp_path / f"cli{i}.db"
        args = ["run", str(NMC), "--serial", "NM96A0000001", "--sim", "--seed", "7", "--yes"]
        assert main([*args, "--db", str(db)]) == 0
        out = capsys.readouterr().out
        out = out.replace(str(db), "<db>")
        outputs.append(_RUN_ID.sub("<run id>", out).splitlines())
        records.append(recorded(db))
    assert len(outputs[0]) > 60 and "VERDICT: PASSED" in "\n".join(outputs[0])
    assert outputs[0] == outputs[1]
    assert_same(records[0], records[1])
