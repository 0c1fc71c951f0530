"""Parallel nests on the virtual bench: side by side, one shared tester, safety per nest."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from station.events import Event, Progress, StepFinished, StepStarted
from station.line import PreparedLine
from station.outcomes import ABORTED, FAILED, PASSED
from tests.station.nests_bench import serials, sim_line


def _listen(line: PreparedLine, listener: object) -> None:
    for prepared in line.nests:
        prepared.engine.listeners.append(listener)  # type: ignore[arg-type]


def test_two_nests_test_side_by_side_and_a_fault_on_nest_2_shows_only_there(
    tmp_path: Path,
) -> None:
    line = sim_line(tmp_path, 2, faults=("2:low_insulation_plus=2e6",))
    try:
        runs = line.run(serials(line))
        rows = line.store.query("SELECT serial, nest, outcome FROM runs ORDER BY serial")
        testers = line.store.query(
            "SELECT count(*) AS n FROM instruments WHERE role = 'insulation_tester'"
        )
        busy = line.store.query("SELECT sum(duration_s) AS s FROM steps")[0]["s"]
    finally:
        line.close()
    outcomes = {r.nest.index: r.result.outcome for r in runs if r.result is not None}
    assert outcomes == {1: PASSED, 2: FAILED}
    failed = [s.name for r in runs if r.result for s in r.result.steps if s.outcome == FAILED]
    assert failed == ["IR HV+"]  # nest 2's pack, read through the relay matrix
    assert rows == [
        {"serial": "NM14A0000001", "nest": "1 (n1)", "outcome": PASSED},
        {"serial": "NM14A0000002", "nest": "2 (n2)", "outcome": FAILED},
    ]
    assert testers == [{"n": 2}]  # each run records the shared tester it used
    shared = line.shared["insulation_tester"]
    # Nest 2 stopped at its failed IR (on_fail = stop), nest 1 went on to its second test.
    assert list(shared.grants) == list(shared.requests) and sorted(shared.grants) == [1, 1, 2]
    matrix = line_matrix(line)
    assert matrix.conflicts == [] and list(matrix.connections) == list(shared.grants)
    assert matrix.connected is None  # the last holder opened its relay
    # Side by side: one nest soaked while the other used the tester, so the line took less
    # time than the two runs' steps added up (waits for the tester included).
    assert line.clock.now() < busy


def test_aborting_the_nest_waiting_for_the_tester_leaves_the_holder_testing(
    tmp_path: Path,
) -> None:
    line = sim_line(tmp_path, 2)
    waiting: list[tuple[str, str]] = []
    seen = threading.Event()
    finished: dict[str, float] = {}

    def listener(event: Event) -> None:
        if isinstance(event, Progress) and event.text.startswith("waiting for"):
            waiting.append((event.run_id, event.text))
            seen.set()
        if isinstance(event, StepFinished) and event.run_id not in finished:
            finished[event.run_id] = time.monotonic()  # the first step to end: the waiting one

    _listen(line, listener)
    results: list[object] = []
    runner = threading.Thread(target=lambda: results.append(line.run(serials(line))))
    try:
        runner.start()
        assert seen.wait(30)
        run_id, text = waiting[0]
        waiter = next(p for p in line.nests if p.engine._run and p.engine._run.run_id == run_id)
        holder = 3 - waiter.nest.index
        assert text == f"waiting for insulation_tester (nest {holder} using it)"
        aborted_at = time.monotonic()
        waiter.engine.request_abort("operator abort")
        runner.join(60)
    finally:
        line.close()
    # Promptly (the wait looks at the abort flag every 20 ms), not after the holder's test.
    assert finished[run_id] - aborted_at < 2.0
    (runs,) = results
    by_nest = {r.nest.index: r.result for r in runs}  # type: ignore[attr-defined]
    assert by_nest[waiter.nest.index].outcome == ABORTED
    # The waiter's safe state left the shared tester alone: the holder's IR test went on.
    assert by_nest[holder].outcome == PASSED
    assert by_nest[waiter.nest.index].safe_state_ok and by_nest[holder].safe_state_ok
    assert "insulation_tester" not in by_nest[waiter.nest.index].safe_state_detail


@pytest.mark.parametrize(
    ("opening", "reason"), [("press_estop", "e-stop pressed"), ("open_door", "door open")]
)
def test_an_estop_or_an_open_door_aborts_every_nest_and_leaves_everything_safe(
    tmp_path: Path, opening: str, reason: str
) -> None:
    line = sim_line(tmp_path, 2)
    virtual = line.simulator
    pressed = threading.Event()
    soaking: list[str] = []

    def listener(event: Event) -> None:
        if isinstance(event, StepStarted) and event.name == "Soak" and not pressed.is_set():
            pressed.set()
            soaking.append(event.run_id)
            getattr(virtual, opening)()  # the cell's: every nest's I/O sees it

    _listen(line, listener)
    try:
        runs = line.run(serials(line))
        tester = virtual.shared["insulation_tester"]
        # Not driving HV (a discharge through its own resistor may still be under way).
        tester_idle = tester.output.phase() not in ("RISE", "TEST", "FALL")
    finally:
        line.close()
    assert pressed.is_set()
    for run in runs:
        assert run.result is not None and run.result.outcome == ABORTED, run
        assert run.result.safe_state_ok
    # The soaking nest runs no HV step, so no interlock check of its own: the station-wide
    # watch aborted it in the middle of its soak.
    soak = next(
        s
        for r in runs
        if r.result and r.result.run_id == soaking[0]
        for s in r.result.steps
        if s.name == "Soak"
    )
    assert soak.outcome == ABORTED
    assert soak.error is not None and reason in soak.error
    assert "every nest is aborted" in soak.error
    assert tester_idle
    assert line_matrix(line).connected is None


def line_matrix(line: PreparedLine):  # type: ignore[no-untyped-def]
    assert line.simulator is not None and line.simulator.matrix is not None
    return line.simulator.matrix


def test_an_unconfirmed_safe_state_blocks_only_its_own_nest(tmp_path: Path) -> None:
    from dataclasses import replace

    from station.gate import _safe_state
    from station.store import ResultsStore
    from tests.station.test_store import finished, started

    with ResultsStore(tmp_path / "r.db") as store:
        store(replace(started(run_id="live"), nest="2 (n2)"))
        store(replace(finished(run_id="live"), safe_state_ok=False, safe_state_detail="load on"))
        assert [b.key for b in _safe_state(store, "2 (n2)")] == ["safe_state"]
        assert _safe_state(store, "1 (n1)") == []  # nest 1's fixture is not the live one


def test_an_open_return_lead_on_nest_2s_path_to_the_shared_tester_stops_only_nest_2(
    tmp_path: Path,
) -> None:
    from drivers.sim.faults import FAULTS
    from drivers.sim.line import PATH_FAULTS

    assert FAULTS.keys() >= PATH_FAULTS
    line = sim_line(tmp_path, 2, faults=("2:ir_lead_open",))
    try:
        runs = line.run(serials(line))
        matrix = line_matrix(line)
    finally:
        line.close()
    outcomes = {r.nest.index: r.result.outcome for r in runs if r.result is not None}
    assert outcomes[1] == PASSED  # the same tester, through nest 1's intact path
    assert outcomes[2] != PASSED  # an open lead never reads as a perfect insulation
    stopped = [s.name for r in runs if r.nest.index == 2 and r.result for s in r.result.steps]
    assert stopped == ["IR HV+"]
    assert matrix.return_open == {2} and not matrix.output.return_open  # off once detached


def test_the_cell_door_opening_when_the_tester_starts_on_nest_2_aborts_every_nest(
    tmp_path: Path,
) -> None:
    line = sim_line(tmp_path, 2, faults=("2:door_opened_mid_test",))
    try:
        runs = line.run(serials(line))
        matrix = line_matrix(line)
    finally:
        line.close()
    outcomes = {r.nest.index: r.result.outcome for r in runs if r.result is not None}
    # Nest 1 is still soaking or testing when nest 2's first IR test starts: both stop.
    assert outcomes == {1: ABORTED, 2: ABORTED}
    assert all(r.result is not None and r.result.safe_state_ok for r in runs)
    assert 2 in matrix.connections and matrix.connected is None
