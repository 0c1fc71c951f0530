"""Tests for station.engine: outcomes, cleanup, safe state, abort, interlocks, events.

The bench is made of fakes (tests/station/fakes.py) and the steps of test-only step types
(tests/station/steps_for_tests.py); these tests are about the engine's semantics. Races
are settled with Event hand-shakes, never with sleeps; bounds are measured with
time.monotonic.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from station.bench import Bench
from station.clock import Clock, RealClock, VirtualClock
from station.config import InstrumentConfig, StationConfig, default_config, load_config
from station.engine import (
    ABORTED,
    ERROR,
    FAILED,
    PASSED,
    SKIPPED,
    TERMINATED,
    Engine,
    RunResult,
    new_id,
    uuid4_text,
)
from station.errors import RunRefused
from station.events import (
    Event,
    InstrumentInfo,
    Log,
    Measurement,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
)
from station.gate import StartBlocked
from station.sequence import Sequence, load_sequence
from station.steps.api import StepContext, StepRecord, StepType, register
from tests.station.fakes import FakeDmm, FakeInterlocks, FakeSupply, open_interlocks
from tests.station.steps_for_tests import ENERGISED, WAITING

GOOD = Path(__file__).parent.parent / "data" / "good"
SERIAL = "NM96-0001"
BOUND_S = 5.0  # generous upper bound for anything that must happen "promptly"
PROMPT_S = 2.0  # an abort must end a 60 s wait within this


# -- helpers -------------------------------------------------------------------------------


def load(tmp_path: Path, steps: str, products: tuple[str, ...] = ("NM96-A",)) -> Sequence:
    """Write a sequence file with ``steps`` under a standard [sequence] table and load it."""
    header = (
        "[sequence]\n"
        'name = "engine test"\n'
        'version = "1.0"\n'
        f"products = [{', '.join(repr(p) for p in products)}]\n"
        'serial_pattern = "NM96-[0-9]{4}"\n'
    )
    path = tmp_path / "sequence.toml"
    path.write_text(header + steps, encoding="utf-8")
    return load_sequence(path)


class Recorder:
    """A listener keeping every event, with small queries for assertions."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def outcomes(self) -> dict[str, str]:
        """Last outcome per step name."""
        return {e.name: e.outcome for e in self.of(StepFinished)}

    def started(self) -> list[str]:
        return [e.name for e in self.of(StepStarted)]

    def finished(self) -> RunFinished:
        [last] = self.of(RunFinished)
        assert self.events[-1] is last
        return last

    def logs(self, level: str | None = None) -> list[str]:
        return [e.message for e in self.of(Log) if level is None or e.level == level]


class OnLog:
    """A listener that sets ``seen`` when a step logs ``message`` (a hand-shake)."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.seen = threading.Event()

    def __call__(self, event: Event) -> None:
        if isinstance(event, Log) and event.message == self.message:
            self.seen.set()


def on_event(predicate: Callable[[Event], bool], action: Callable[[], None]) -> Callable:
    """A listener calling ``action`` (on the engine's thread) the first time ``predicate``."""
    done = threading.Event()

    def listener(event: Event) -> None:
        if not done.is_set() and predicate(event):
            done.set()
            action()

    return listener


def finished_step(name: str) -> Callable[[Event], bool]:
    return lambda e: isinstance(e, StepFinished) and e.name == name


def started_step(name: str) -> Callable[[Event], bool]:
    return lambda e: isinstance(e, StepStarted) and e.name == name


def logged(message: str) -> Callable[[Event], bool]:
    return lambda e: isinstance(e, Log) and e.message == message


def fake_bench(**instruments: Any) -> Bench:
    return Bench(instruments or {"supply": FakeSupply(), "interlocks": FakeInterlocks()})


def engine_for(
    seq: Sequence,
    tmp_path: Path,
    *,
    bench: Bench | None = None,
    clock: Clock | None = None,
    config: StationConfig | None = None,
    safe_state_timeout_s: float = 1.0,
) -> tuple[Engine, Recorder]:
    recorder = Recorder()
    engine = Engine(
        seq,
        bench=bench or fake_bench(),
        config=config or default_config(tmp_path / "results.db"),
        clock=clock or VirtualClock(),
        listeners=[recorder],
        safe_state_timeout_s=safe_state_timeout_s,
    )
    return engine, recorder


def run_in_thread(engine: Engine, part: str | None = None) -> tuple[threading.Thread, dict]:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = engine.run(SERIAL, part)
        except BaseException as err:  # handed to the test thread
            box["error"] = err

    thread = threading.Thread(target=target, name="engine-under-test", daemon=True)
    thread.start()
    return thread, box


def joined(thread: threading.Thread, box: dict[str, Any]) -> RunResult:
    thread.join(BOUND_S)
    assert not thread.is_alive(), "the run did not finish within the bound"
    assert "error" not in box, box.get("error")
    result = box["result"]
    assert isinstance(result, RunResult)
    return result


PASSING = """
    [[main]]
    type = "test_record_value"
    name = "Pack OCV"
    params = { value = 350.0 }
    limits.value = { comparator = "GELE", low = 300, high = 420, unit = "V" }
"""

CLEANUP = """
    [[cleanup]]
    type = "test_record_value"
    name = "Open contactors"
    params = { value = 0.0, requires_limit = false }

    [[cleanup]]
    type = "test_record_value"
    name = "Final check"
    params = { value = 0.0, requires_limit = false }
"""


# -- order and outcomes --------------------------------------------------------------------


def test_runs_setup_then_main_then_cleanup(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[cleanup]]
        type = "test_record_value"
        name = "Discharge"
        params = { requires_limit = false }

        [[main]]
        type = "test_record_value"
        name = "Pack OCV"
        params = { value = 350.0 }
        limits.value = { comparator = "GELE", low = 300, high = 420 }

        [[setup]]
        type = "test_record_value"
        name = "Fixture"
        params = { requires_limit = false }
        """,
    )
    engine, rec = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    assert rec.started() == ["Fixture", "Pack OCV", "Discharge"]
    assert [(s.group, s.name, s.outcome) for s in result.steps] == [
        ("setup", "Fixture", PASSED),
        ("main", "Pack OCV", PASSED),
        ("cleanup", "Discharge", PASSED),
    ]
    assert result.outcome == PASSED
    assert rec.finished().outcome == PASSED


def test_a_measurement_out_of_limits_is_failed_never_error(tmp_path: Path) -> None:
    seq = load(tmp_path, PASSING.replace("350.0", "500.0"))
    engine, rec = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    [step] = result.steps
    assert (step.outcome, step.error) == (FAILED, None)
    assert result.outcome == FAILED
    [(failing_step, m)] = result.failing
    assert (failing_step.name, m.name, m.value, m.outcome) == ("Pack OCV", "value", 500.0, FAILED)
    assert rec.logs("ERROR") == []


@pytest.mark.parametrize(
    ("error", "text"),
    [
        ("station", "relay board did not answer"),
        ("runtime", "RuntimeError: bug in a step"),
        ("timeout", "TCPIP0::fake::INSTR: no reply to MEAS:VOLT?"),
    ],
)
def test_an_exception_in_a_step_is_error_never_failed(
    tmp_path: Path, error: str, text: str
) -> None:
    message = text.removeprefix("RuntimeError: ").removeprefix("TCPIP0::fake::INSTR: ")
    seq = load(
        tmp_path,
        f"""
        [[main]]
        type = "test_raise_error"
        name = "Broken"
        params = {{ error = "{error}", message = "{message}" }}
        """,
    )
    engine, rec = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    [step] = result.steps
    assert step.outcome == ERROR
    assert step.error == text
    assert step.measurements == []
    assert result.outcome == ERROR
    assert rec.outcomes() == {"Broken": ERROR}


def test_a_bug_in_a_step_leaves_its_traceback_in_the_log(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "test_raise_error"
        name = "Broken"
        params = { message = "division by zero somewhere" }
        """,
    )
    engine, rec = engine_for(seq, tmp_path)
    engine.run(SERIAL)
    [trace] = rec.logs("ERROR")
    assert "Traceback" in trace and "RuntimeError: division by zero somewhere" in trace


def test_an_exception_after_a_failing_measurement_is_error(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "test_record_value"
        name = "Twice"
        params = { value = 500.0, times = 2 }
        limits.value = { comparator = "LE", high = 420 }
        """,
    )
    engine, _ = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    [step] = result.steps
    assert step.outcome == ERROR
    assert step.error == "step recorded 'value' twice"
    assert result.outcome == ERROR


# -- cleanup and safe state ------------------------------------------------------------------

SCENARIOS = {
    "pass": (PASSED, PASSING),
    "fail": (FAILED, PASSING.replace("350.0", "500.0")),
    "error": (
        ERROR,
        """
        [[main]]
        type = "test_raise_error"
        name = "Pack OCV"
        params = { error = "timeout" }
        """,
    ),
    "exception": (
        ERROR,
        """
        [[main]]
        type = "test_raise_error"
        name = "Pack OCV"
        params = { error = "runtime" }
        """,
    ),
    "abort": (
        ABORTED,
        """
        [[main]]
        type = "test_long_wait"
        name = "Pack OCV"
        params = { seconds = 60.0 }
        """,
    ),
    "terminate": (TERMINATED, PASSING),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_cleanup_and_safe_state_always_run(tmp_path: Path, scenario: str) -> None:
    outcome, main_step = SCENARIOS[scenario]
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "test_fake_source"
        name = "Charge"
        """
        + main_step
        + """
        [[main]]
        type = "test_record_value"
        name = "After"
        params = { requires_limit = false }
        """
        + CLEANUP,
    )
    supply = FakeSupply()
    engine, rec = engine_for(seq, tmp_path, bench=fake_bench(supply=supply))
    if scenario == "abort":
        engine.listeners.append(on_event(logged(WAITING), engine.request_abort))
    if scenario == "terminate":
        engine.listeners.append(on_event(finished_step("Pack OCV"), engine.request_terminate))
    result = engine.run(SERIAL)
    assert result.outcome == outcome
    assert rec.outcomes()["Open contactors"] == PASSED
    assert rec.outcomes()["Final check"] == PASSED
    assert ("After" in rec.started()) == (scenario == "pass")
    assert "set_output(True)" in supply.calls  # "Charge" had switched it on
    assert supply.calls[-2:] == ["safe_state", "is_safe"]
    assert not supply.output_on
    finished = rec.finished()
    assert (finished.outcome, finished.safe_state_ok) == (outcome, True)
    assert finished.safe_state_detail == "supply: off"


def test_a_failing_cleanup_step_does_not_stop_later_cleanup_steps(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        PASSING
        + """
        [[cleanup]]
        type = "test_raise_error"
        name = "Open contactors"
        params = { error = "runtime", message = "contactor driver crashed" }

        [[cleanup]]
        type = "test_raise_error"
        name = "Discharge"
        params = { error = "timeout" }

        [[cleanup]]
        type = "test_record_value"
        name = "Final check"
        params = { value = 0.0, requires_limit = false }
        """,
    )
    supply = FakeSupply()
    engine, rec = engine_for(seq, tmp_path, bench=fake_bench(supply=supply))
    result = engine.run(SERIAL)
    assert rec.outcomes() == {
        "Pack OCV": PASSED,
        "Open contactors": ERROR,
        "Discharge": ERROR,
        "Final check": PASSED,
    }
    assert result.outcome == ERROR  # a broken cleanup is a broken station
    assert "safe_state" in supply.calls
    assert rec.finished().failed_steps == ("Open contactors", "Discharge")


def test_safe_state_covers_every_output_capable_instrument_only(tmp_path: Path) -> None:
    seq = load(tmp_path, PASSING)
    supply, load_, dmm, interlocks = FakeSupply(), FakeSupply(), FakeDmm(), FakeInterlocks()
    bench = Bench({"supply": supply, "load": load_, "dmm": dmm, "interlocks": interlocks})
    engine, rec = engine_for(seq, tmp_path, bench=bench)
    result = engine.run(SERIAL)
    assert supply.calls == ["safe_state", "is_safe"]
    assert load_.calls == ["safe_state", "is_safe"]
    assert dmm.calls == [] and interlocks.reads == 0
    assert (result.safe_state_ok, result.safe_state_detail) == (True, "load: off, supply: off")
    assert rec.finished().safe_state_ok


@pytest.mark.parametrize(
    ("make_supply", "verdict"),
    [
        (
            lambda: FakeSupply(safe_state_error=OSError("relay stuck")),
            "NOT CONFIRMED (relay stuck)",
        ),
        (lambda: FakeSupply(reads_safe=False), "NOT SAFE (read-back says on)"),
    ],
    ids=["raises", "reads-back-on"],
)
def test_safe_state_not_confirmed_makes_the_run_error(
    tmp_path: Path, make_supply: Callable[[], FakeSupply], verdict: str
) -> None:
    seq = load(tmp_path, PASSING)
    supply = make_supply()
    engine, rec = engine_for(seq, tmp_path, bench=fake_bench(supply=supply))
    result = engine.run(SERIAL)
    assert result.steps[0].outcome == PASSED
    assert result.outcome == ERROR
    finished = rec.finished()
    assert (finished.outcome, finished.safe_state_ok) == (ERROR, False)
    assert finished.safe_state_detail == f"supply: {verdict}"
    assert rec.logs("ERROR") == [f"safe state not confirmed: supply: {verdict}"]


def test_a_hung_safe_state_is_not_ok_within_the_bound(tmp_path: Path) -> None:
    seq = load(tmp_path, PASSING)
    hung, load_ = FakeSupply(hang=True), FakeSupply()
    engine, rec = engine_for(
        seq, tmp_path, bench=fake_bench(supply=hung, load=load_), safe_state_timeout_s=0.2
    )
    try:
        t0 = time.monotonic()
        result = engine.run(SERIAL)
        elapsed = time.monotonic() - t0
        assert hung.safe_state_entered.is_set()
    finally:
        hung.release.set()
    assert elapsed < PROMPT_S
    assert result.outcome == ERROR
    assert not rec.finished().safe_state_ok
    # The hung supply does not keep the load from being switched off and confirmed.
    assert result.safe_state_detail == ("load: off, supply: NOT CONFIRMED (no answer within 0.2 s)")


def test_several_hung_instruments_share_one_bound(tmp_path: Path) -> None:
    seq = load(tmp_path, PASSING)
    hung = [FakeSupply(hang=True) for _ in range(3)]
    bench = fake_bench(supply=hung[0], load=hung[1], insulation_tester=hung[2])
    engine, rec = engine_for(seq, tmp_path, bench=bench, safe_state_timeout_s=0.5)
    try:
        t0 = time.monotonic()
        engine.run(SERIAL)
        elapsed = time.monotonic() - t0
    finally:
        for h in hung:
            h.release.set()
    assert elapsed < 1.2  # one bound, not one per instrument (3 × 0.5 s)
    assert rec.finished().safe_state_detail.count("no answer within 0.5 s") == 3


# -- retries, on_fail, setup -----------------------------------------------------------------


def test_an_error_is_retried_until_an_attempt_succeeds(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "test_raise_error"
        name = "Flaky"
        retries = 2
        params = { error = "timeout", failures = 2 }
        """,
    )
    engine, rec = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    [step] = result.steps
    assert (step.outcome, step.attempts) == (PASSED, 3)
    assert [e.attempt for e in rec.of(StepStarted)] == [1, 2, 3]
    assert [e.outcome for e in rec.of(StepFinished)] == [ERROR, ERROR, PASSED]
    assert len([m for m in rec.logs("WARNING") if "retrying after error" in m]) == 2
    assert result.outcome == PASSED


def test_retries_give_up_after_the_last_attempt(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "test_raise_error"
        name = "Broken"
        retries = 1
        params = { error = "station" }
        """,
    )
    engine, _ = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    assert (result.steps[0].outcome, result.steps[0].attempts) == (ERROR, 2)
    assert result.outcome == ERROR


def test_a_fail_is_never_retried(tmp_path: Path) -> None:
    seq = load(tmp_path, PASSING.replace("350.0", "500.0") + "    retries = 3\n")
    engine, rec = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    assert (result.steps[0].outcome, result.steps[0].attempts) == (FAILED, 1)
    assert rec.started() == ["Pack OCV"]


def test_no_retry_after_an_abort(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "test_raise_error"
        name = "Broken"
        retries = 3
        """,
    )
    engine, rec = engine_for(seq, tmp_path)
    engine.listeners.append(on_event(finished_step("Broken"), engine.request_abort))
    result = engine.run(SERIAL)
    assert rec.started() == ["Broken"]
    assert result.steps[0].attempts == 1
    assert result.outcome == ERROR  # the step had failed before the abort came


TWO_MAIN = """
    [[main]]
    type = "test_record_value"
    name = "First"
    params = { value = 500.0 }
    limits.value = { comparator = "LE", high = 420 }
    ON_FAIL

    [[main]]
    type = "test_record_value"
    name = "Second"
    params = { value = 1.0, requires_limit = false }
"""


def test_on_fail_stop_is_the_default(tmp_path: Path) -> None:
    seq = load(tmp_path, TWO_MAIN.replace("ON_FAIL", "") + CLEANUP)
    engine, rec = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    assert rec.started() == ["First", "Open contactors", "Final check"]
    assert result.outcome == FAILED


def test_on_fail_continue_runs_the_next_step(tmp_path: Path) -> None:
    seq = load(tmp_path, TWO_MAIN.replace("ON_FAIL", 'on_fail = "continue"'))
    engine, rec = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    assert rec.outcomes() == {"First": FAILED, "Second": PASSED}
    assert result.outcome == FAILED


@pytest.mark.parametrize(
    ("setup_step", "outcome"),
    [
        (
            """
            [[setup]]
            type = "test_record_value"
            name = "Fixture"
            on_fail = "continue"
            params = { value = 0.0 }
            limits.value = { comparator = "GE", low = 1 }
            """,
            FAILED,
        ),
        (
            """
            [[setup]]
            type = "test_raise_error"
            name = "Fixture"
            on_fail = "continue"
            """,
            ERROR,
        ),
    ],
    ids=["fail", "error"],
)
def test_a_setup_failure_stops_main_but_not_cleanup(
    tmp_path: Path, setup_step: str, outcome: str
) -> None:
    seq = load(tmp_path, setup_step + PASSING + CLEANUP)
    engine, rec = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    assert rec.started() == ["Fixture", "Open contactors", "Final check"]
    assert result.outcome == outcome


# -- skip_if ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("variant", "outcome"), [("NM96-A", PASSED), ("NM96-B", SKIPPED)])
def test_skip_if_on_the_variant(tmp_path: Path, variant: str, outcome: str) -> None:
    seq = load(
        tmp_path,
        PASSING + "    skip_if = \"variant == 'NM96-B'\"\n",
        products=("NM96-A", "NM96-B"),
    )
    engine, rec = engine_for(seq, tmp_path)
    result = engine.run(SERIAL, variant)
    [step] = result.steps
    assert step.outcome == outcome
    assert rec.outcomes() == {"Pack OCV": outcome}
    assert len(rec.of(Measurement)) == (outcome == PASSED)
    if outcome == SKIPPED:
        assert step.error == "skipped: variant == 'NM96-B'"
    assert result.outcome == PASSED


@pytest.mark.parametrize(
    ("first_value", "condition", "second"),
    [
        (500.0, "outcome('First') != 'PASSED'", SKIPPED),
        (350.0, "outcome('First') != 'PASSED'", PASSED),
        (310.0, "value('First', 'value') < 320", SKIPPED),
        (350.0, "value('First', 'value') < 320", PASSED),
    ],
)
def test_skip_if_on_an_earlier_outcome_or_value(
    tmp_path: Path, first_value: float, condition: str, second: str
) -> None:
    seq = load(
        tmp_path,
        f"""
        [[main]]
        type = "test_record_value"
        name = "First"
        on_fail = "continue"
        params = {{ value = {first_value} }}
        limits.value = {{ comparator = "LE", high = 420 }}

        [[main]]
        type = "test_record_value"
        name = "Second"
        skip_if = "{condition}"
        params = {{ requires_limit = false }}
        """,
    )
    engine, rec = engine_for(seq, tmp_path)
    engine.run(SERIAL)
    assert rec.outcomes()["Second"] == second


def test_a_skip_if_that_cannot_be_evaluated_is_error(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "test_record_value"
        name = "First"
        skip_if = "variant == 'NM96-A'"
        params = { requires_limit = false }

        [[main]]
        type = "test_record_value"
        name = "Second"
        skip_if = "value('First', 'value') < 320"
        params = { requires_limit = false }
        """,
    )
    engine, _ = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    first, second = result.steps
    assert first.outcome == SKIPPED
    assert second.outcome == ERROR
    assert second.error is not None and second.error.startswith("skip_if: cannot evaluate")
    assert result.outcome == ERROR


# -- abort, terminate, clocks, timeouts ------------------------------------------------------

LONG_WAIT = """
    [[main]]
    type = "test_long_wait"
    name = "Relax"
    params = { seconds = 60.0, slice_s = 60.0 }
"""


def test_abort_from_another_thread_ends_a_60_s_wait_promptly(tmp_path: Path) -> None:
    seq = load(tmp_path, LONG_WAIT + CLEANUP)
    supply = FakeSupply()
    engine, rec = engine_for(seq, tmp_path, bench=fake_bench(supply=supply), clock=RealClock())
    waiting = OnLog(WAITING)
    engine.listeners.append(waiting)
    thread, box = run_in_thread(engine)
    assert waiting.seen.wait(BOUND_S)
    t0 = time.monotonic()
    engine.request_abort("operator pressed abort")
    result = joined(thread, box)
    assert time.monotonic() - t0 < PROMPT_S
    relax = result.steps[0]
    assert (relax.outcome, relax.error) == (ABORTED, "operator pressed abort")
    assert result.outcome == ABORTED
    assert rec.outcomes()["Final check"] == PASSED  # cleanup is not cut short by the abort
    assert "safe_state" in supply.calls and rec.finished().safe_state_ok


def test_abort_from_another_thread_is_honoured_between_steps(tmp_path: Path) -> None:
    seq = load(tmp_path, TWO_MAIN.replace("ON_FAIL", 'on_fail = "continue"') + CLEANUP)
    engine, rec = engine_for(seq, tmp_path)
    reached, proceed = threading.Event(), threading.Event()

    def pause() -> None:
        reached.set()
        assert proceed.wait(BOUND_S)

    engine.listeners.append(on_event(finished_step("First"), pause))
    thread, box = run_in_thread(engine)
    assert reached.wait(BOUND_S)
    engine.request_abort()
    proceed.set()
    result = joined(thread, box)
    assert "Second" not in rec.started()
    assert rec.outcomes()["Final check"] == PASSED
    assert result.outcome == ABORTED


def test_terminate_finishes_the_current_step_then_cleans_up(tmp_path: Path) -> None:
    seq = load(tmp_path, TWO_MAIN.replace("ON_FAIL", 'on_fail = "continue"') + CLEANUP)
    engine, rec = engine_for(seq, tmp_path)
    engine.listeners.append(on_event(started_step("First"), engine.request_terminate))
    result = engine.run(SERIAL)
    assert rec.outcomes() == {"First": FAILED, "Open contactors": PASSED, "Final check": PASSED}
    assert result.outcome == TERMINATED


def test_the_engine_runs_pack_after_pack(tmp_path: Path) -> None:
    seq = load(tmp_path, LONG_WAIT)
    engine, _ = engine_for(seq, tmp_path)
    abort_once = on_event(logged(WAITING), engine.request_abort)
    engine.listeners.append(abort_once)
    assert engine.run(SERIAL).outcome == ABORTED
    second = engine.run(SERIAL)  # the abort belonged to the first run only
    assert second.outcome == PASSED


def test_a_virtual_hour_passes_instantly(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "test_long_wait"
        name = "Soak"
        params = { seconds = 3600.0 }
        """,
    )
    clock = VirtualClock()
    engine, rec = engine_for(seq, tmp_path, clock=clock)
    t0 = time.monotonic()
    result = engine.run(SERIAL)
    assert time.monotonic() - t0 < 1.0
    assert clock.now() == 3600.0
    assert rec.of(StepFinished)[0].duration_s == 3600.0
    assert result.outcome == PASSED


def test_a_virtual_run_is_dated_by_the_wall_clock_with_its_virtual_time_beside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sequence.toml").write_text(
        '[sequence]\nname = "s"\nversion = "1"\nproducts = ["NM96-A"]\n'
        'serial_pattern = "NM96-[0-9]{4}"\n[[main]]\ntype = "test_long_wait"\nname = "Soak"\n'
        "params = { seconds = 86400.7 }\n"
        '[[main]]\ntype = "test_long_wait"\nname = "Soak more"\nparams = { seconds = 1.4 }\n',
        encoding="utf-8",
    )
    seq = load_sequence("sequence.toml")  # a path relative to the working directory
    engine, rec = engine_for(seq, tmp_path, clock=VirtualClock())
    before = dt.datetime.now(dt.UTC)
    engine.run(SERIAL)
    after = dt.datetime.now(dt.UTC)
    [started], [finished] = rec.of(RunStarted), rec.of(RunFinished)
    for wall in (started.started_at, finished.ended_at):
        assert before - dt.timedelta(seconds=1) <= dt.datetime.fromisoformat(wall) <= after
    assert started.virtual_started_at is not None and finished.virtual_ended_at is not None
    virtual_took = dt.datetime.fromisoformat(finished.virtual_ended_at) - dt.datetime.fromisoformat(
        started.virtual_started_at
    )
    assert virtual_took >= dt.timedelta(days=1)  # a virtual day; the wall clock saw far less
    # 86402.1 − 86400.7 is 1.3999999999941792 in binary; recorded as what the clock meant
    assert [f.duration_s for f in rec.of(StepFinished)] == [86400.7, 1.4]
    assert started.sequence_path == str(tmp_path / "sequence.toml")
    assert (started.limits_path, started.limits_sha256, started.config_sha256) == (None,) * 3


def test_a_real_clock_run_records_no_virtual_time(tmp_path: Path) -> None:
    engine, rec = engine_for(load(tmp_path, PASSING), tmp_path, clock=RealClock())
    engine.run(SERIAL)
    assert rec.of(RunStarted)[0].virtual_started_at is None
    assert rec.of(RunFinished)[0].virtual_ended_at is None


@pytest.mark.parametrize("operator", ["", "   "])
def test_a_station_that_requires_an_operator_refuses_a_run_without_one(
    tmp_path: Path, operator: str
) -> None:
    config = dataclasses.replace(default_config(tmp_path / "r.db"), operator_required=True)
    engine, rec = engine_for(load(tmp_path, PASSING), tmp_path, config=config)
    with pytest.raises(StartBlocked, match="name the operator"):
        engine.run(SERIAL, operator=operator)
    assert rec.events == []
    assert engine.run(SERIAL, operator="op7").outcome == PASSED


def test_a_step_past_its_timeout_is_error(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "test_long_wait"
        name = "Soak"
        timeout_s = 5
        params = { seconds = 60.0 }
        """,
    )
    clock = VirtualClock()
    engine, _ = engine_for(seq, tmp_path, clock=clock)
    result = engine.run(SERIAL)
    assert (result.steps[0].outcome, result.steps[0].error) == (ERROR, "timed out after 5 s")
    assert clock.now() == 5.0  # it waited until its deadline, not the full 60 s
    assert result.outcome == ERROR


# -- measurements ----------------------------------------------------------------------------


def test_an_undeclared_measurement_is_error(tmp_path: Path) -> None:
    seq = load(tmp_path, PASSING.replace("350.0", '350.0, record_as = "voltage"'))
    engine, rec = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    assert result.steps[0].outcome == ERROR
    assert result.steps[0].error == (
        "step type 'test_record_value' recorded undeclared measurement 'voltage'"
    )
    assert rec.of(Measurement) == []
    assert result.outcome == ERROR


@pytest.mark.parametrize(
    "step",
    [
        PASSING.replace("350.0", "350.0, record = false"),
        """
        [[main]]
        type = "test_record_value"
        name = "Pack OCV"
        params = { record = false, requires_limit = false }
        """,
    ],
    ids=["with-limit", "informational"],
)
def test_a_declared_measurement_not_recorded_is_error(tmp_path: Path, step: str) -> None:
    seq = load(tmp_path, step)
    engine, _ = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    assert (result.steps[0].outcome, result.steps[0].error) == (
        ERROR,
        "step did not record 'value'",
    )
    assert result.outcome == ERROR


def test_a_limit_in_millivolts_judges_a_value_in_volts(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        PASSING.replace('300, high = 420, unit = "V"', '3e5, high = 4.2e5, unit = "mV"'),
    )
    engine, rec = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    [m] = rec.of(Measurement)
    assert (m.outcome, m.unit, m.low, m.high, m.limit_text) == (
        PASSED,
        "V",
        300.0,
        420.0,
        "300 … 420 V",
    )
    assert result.outcome == PASSED


def test_an_array_limit_records_the_failed_elements(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "test_record_value"
        name = "Cell voltages"
        params = { value = [3.61, 4.35, 3.62, 2.90], kind = "array" }
        limits.value = { comparator = "ARRAY", low = 3.0, high = 4.2, unit = "V" }
        """,
    )
    engine, rec = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    [m] = rec.of(Measurement)
    assert m.values == (3.61, 4.35, 3.62, 2.90)
    assert m.failed_elements == (1, 3)
    assert (m.outcome, m.comparator, m.low, m.high, m.unit) == (FAILED, "ARRAY", 3.0, 4.2, "V")
    assert "element 1" in m.detail and "element 3" in m.detail
    assert result.outcome == FAILED


def test_a_prompt_without_an_operator_is_error(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "prompt"
        name = "Connect harness"
        params = { text = "Connect the HV harness", kind = "confirm" }
        """,
    )
    engine, _ = engine_for(seq, tmp_path)
    result = engine.run(SERIAL)
    assert result.steps[0].outcome == ERROR
    assert "no one can answer" in str(result.steps[0].error)


# -- interlocks ------------------------------------------------------------------------------

ENERGISE = """
    [[main]]
    type = "test_energise"
    name = "Insulation HV+"
    params = { hold_s = 60.0 }
"""


def test_an_energising_step_refuses_to_start_with_interlocks_unsafe(tmp_path: Path) -> None:
    seq = load(tmp_path, ENERGISE + CLEANUP)
    supply = FakeSupply()
    engine, rec = engine_for(
        seq, tmp_path, bench=fake_bench(supply=supply, interlocks=open_interlocks())
    )
    result = engine.run(SERIAL)
    hv = result.steps[0]
    assert (hv.outcome, hv.error) == (ABORTED, "interlock: interlocks unsafe: door open")
    assert ENERGISED not in rec.logs()  # the body never ran
    assert result.outcome == ABORTED
    assert rec.outcomes()["Final check"] == PASSED
    assert rec.finished().safe_state_ok and "safe_state" in supply.calls


def test_an_energising_step_needs_an_interlocks_instrument(tmp_path: Path) -> None:
    seq = load(tmp_path, ENERGISE.replace("60.0", "0.0"))
    engine, rec = engine_for(seq, tmp_path, bench=fake_bench(supply=FakeSupply()))
    result = engine.run(SERIAL)
    assert result.steps[0].outcome == ABORTED
    assert "no interlocks instrument is configured" in str(result.steps[0].error)
    assert ENERGISED not in rec.logs()

    relaxed = dataclasses.replace(engine.config, interlocks_required_for_hv=False)
    engine, rec = engine_for(seq, tmp_path, bench=fake_bench(supply=FakeSupply()), config=relaxed)
    assert engine.run(SERIAL).outcome == PASSED
    assert ENERGISED in rec.logs()


def test_interlocks_opening_mid_step_abort_the_run(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "test_fake_source"
        name = "Precharge"
        """
        + ENERGISE
        + CLEANUP,
    )
    supply, interlocks = FakeSupply(), FakeInterlocks()
    engine, rec = engine_for(
        seq, tmp_path, bench=fake_bench(supply=supply, interlocks=interlocks), clock=RealClock()
    )
    energised = OnLog(ENERGISED)
    engine.listeners.append(energised)
    thread, box = run_in_thread(engine)
    assert energised.seen.wait(BOUND_S)
    assert supply.output_on
    t0 = time.monotonic()
    interlocks.open_door()
    result = joined(thread, box)
    assert time.monotonic() - t0 < PROMPT_S
    hv = result.steps[1]
    assert (hv.name, hv.outcome) == ("Insulation HV+", ABORTED)
    assert hv.error == "interlock: interlocks unsafe: door open"
    assert result.outcome == ABORTED
    assert rec.outcomes()["Open contactors"] == PASSED
    assert rec.outcomes()["Final check"] == PASSED
    assert not supply.output_on and rec.finished().safe_state_ok


def test_interlocks_opening_in_cleanup_do_not_stop_later_cleanup_steps(tmp_path: Path) -> None:
    # A sequence file may not put an energising step in cleanup (load_sequence refuses
    # it); the engine must still cope if one gets there, so it is moved in by hand.
    loaded = load(
        tmp_path,
        PASSING
        + """
        [[main]]
        type = "test_energise"
        name = "Discharge HV"
        params = { hold_s = 60.0 }
        """
        + CLEANUP,
    )
    pack_ocv, energise = loaded.groups["main"]
    seq = dataclasses.replace(
        loaded,
        groups={
            "setup": (),
            "main": (pack_ocv,),
            "cleanup": (
                dataclasses.replace(energise, group="cleanup", index=0),
                *loaded.groups["cleanup"],
            ),
        },
    )
    interlocks = FakeInterlocks()
    engine, rec = engine_for(
        seq,
        tmp_path,
        bench=fake_bench(supply=FakeSupply(), interlocks=interlocks),
        clock=RealClock(),
    )
    energised = OnLog(ENERGISED)
    engine.listeners.append(energised)
    thread, box = run_in_thread(engine)
    assert energised.seen.wait(BOUND_S)
    interlocks.open_door()
    result = joined(thread, box)
    assert rec.outcomes() == {
        "Pack OCV": PASSED,
        "Discharge HV": ABORTED,
        "Open contactors": PASSED,
        "Final check": PASSED,
    }
    assert result.outcome == ERROR  # cleanup did not complete


# -- listeners -------------------------------------------------------------------------------


class FailingStore:
    """A critical listener (like the results store) that fails on one kind of event."""

    critical = True

    def __init__(self, fails_on: type) -> None:
        self.fails_on = fails_on

    def __call__(self, event: Event) -> None:
        if isinstance(event, self.fails_on):
            raise OSError("disk full")


def test_a_failing_critical_listener_makes_the_run_error(tmp_path: Path) -> None:
    seq = load(tmp_path, PASSING + TWO_MAIN.replace("ON_FAIL", "") + CLEANUP)
    supply = FakeSupply()
    engine, rec = engine_for(seq, tmp_path, bench=fake_bench(supply=supply))
    engine.listeners.append(FailingStore(Measurement))
    result = engine.run(SERIAL)
    ocv = result.steps[0]
    assert (ocv.outcome, ocv.error) == (ERROR, "results store failed: disk full")
    assert "First" not in rec.started()
    assert "Final check" in rec.started()
    assert "safe_state" in supply.calls
    assert result.outcome == ERROR and rec.finished().outcome == ERROR


def test_a_failing_critical_listener_stops_retries(tmp_path: Path) -> None:
    seq = load(tmp_path, PASSING + "    retries = 2\n")
    engine, rec = engine_for(seq, tmp_path)
    engine.listeners.append(FailingStore(Measurement))
    result = engine.run(SERIAL)
    assert result.steps[0].attempts == 1  # nothing may be tested unrecorded
    assert rec.started() == ["Pack OCV"]
    assert result.outcome == ERROR


def test_a_critical_listener_failing_at_the_start_refuses_the_run(tmp_path: Path) -> None:
    seq = load(tmp_path, '    [[main]]\n    type = "test_fake_source"\n    name = "Charge"\n')
    supply = FakeSupply()
    engine, rec = engine_for(seq, tmp_path, bench=fake_bench(supply=supply))
    engine.listeners.append(FailingStore(RunStarted))
    with pytest.raises(RunRefused, match="cannot record the run: disk full"):
        engine.run(SERIAL)
    assert rec.of(StepStarted) == []
    assert supply.calls == []


def test_a_failing_ordinary_listener_is_ignored(tmp_path: Path) -> None:
    seq = load(tmp_path, PASSING)
    engine, _ = engine_for(seq, tmp_path)

    def broken_view(event: Event) -> None:
        raise ValueError("widget gone")

    engine.listeners.append(broken_view)
    assert engine.run(SERIAL).outcome == PASSED


# -- refusals before anything runs -----------------------------------------------------------


def refused(
    engine: Engine, rec: Recorder, supply: FakeSupply, part: str | None = None, serial: str = SERIAL
) -> str:
    with pytest.raises(RunRefused) as info:
        engine.run(serial, part)
    assert rec.events == []  # nothing started, nothing recorded
    assert supply.calls == []  # nothing energised
    return str(info.value)


def test_a_serial_not_matching_the_pattern_is_refused(tmp_path: Path) -> None:
    seq = load(tmp_path, '    [[main]]\n    type = "test_fake_source"\n    name = "Charge"\n')
    supply = FakeSupply()
    engine, rec = engine_for(seq, tmp_path, bench=fake_bench(supply=supply))
    message = refused(engine, rec, supply, serial="NM97-0001")
    assert message == (
        "serial 'NM97-0001' does not match the pattern 'NM96-[0-9]{4}' of sequence "
        "'engine test'; scan the pack's label again"
    )


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ("NM96-C", "product 'NM96-C' is not served by sequence 'engine test'"),
        (None, "choose the product variant: one of NM96-A, NM96-B"),
    ],
)
def test_a_variant_that_is_unknown_or_not_chosen_is_refused(
    tmp_path: Path, part: str | None, message: str
) -> None:
    seq = load(tmp_path, PASSING, products=("NM96-A", "NM96-B"))
    supply = FakeSupply()
    engine, rec = engine_for(seq, tmp_path, bench=fake_bench(supply=supply))
    assert refused(engine, rec, supply, part).startswith(message)


def test_expired_calibration_is_refused_naming_the_instrument(tmp_path: Path) -> None:
    config_path = tmp_path / "station.toml"
    config_path.write_text(
        (GOOD / "station.toml")
        .read_text(encoding="utf-8")
        .replace("cal_due = 2099-12-31  # dmm", "cal_due = 2020-01-31"),
        encoding="utf-8",
    )
    config = load_config(config_path)
    assert config.instruments["dmm"].cal_due == dt.date(2020, 1, 31)
    seq = load(tmp_path, PASSING)
    supply = FakeSupply()
    engine, rec = engine_for(seq, tmp_path, bench=fake_bench(supply=supply), config=config)
    message = refused(engine, rec, supply)
    assert message == (
        "calibration of dmm (keysight.34465a, s/n MY59001234) expired on 2020-01-31; "
        "recalibrate it (no override: it judges safety)"
    )


def test_a_role_missing_from_the_bench_is_refused(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        PASSING + '\n    [[cleanup]]\n    type = "test_fake_source"\n    name = "Bleed"\n',
    )
    load_ = FakeSupply()  # the bench has a load, but no supply
    engine, rec = engine_for(seq, tmp_path, bench=Bench({"load": load_}))
    message = refused(engine, rec, load_)
    assert message == (
        "the station has no instrument for 'supply' (needed by Bleed); check the config"
    )


# -- events ----------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_events_come_in_order_with_their_content(tmp_path: Path) -> None:
    seq = load_sequence(GOOD / "sequence.toml")
    config = load_config(GOOD / "station.toml")
    dmm_info = InstrumentInfo(
        "dmm",
        "keysight.34465a",
        "TCPIP0::10.0.0.7::INSTR",
        "KEYSIGHT 34465A",
        "MY59001234",
        "2099-12-31",
    )
    bench = Bench({"dmm": FakeDmm(350.0), "supply": FakeSupply()}, {"dmm": dmm_info})
    engine, rec = engine_for(seq, tmp_path, bench=bench, config=config)
    result = engine.run("NM96A000123", "NM96-A", operator="op7")

    def brief(e: Event) -> tuple[str, str]:
        return type(e).__name__, getattr(e, "name", "")

    assert [brief(e) for e in rec.events] == [
        ("RunStarted", ""),
        ("StepStarted", "Settle"),
        ("StepFinished", "Settle"),
        ("StepStarted", "Pack OCV"),
        ("Measurement", "voltage"),
        ("StepFinished", "Pack OCV"),
        ("StepStarted", "Fixture bus"),
        ("Measurement", "voltage"),
        ("StepFinished", "Fixture bus"),
        ("StepStarted", "Relax"),
        ("StepFinished", "Relax"),
        ("RunFinished", ""),
    ]
    [started] = rec.of(RunStarted)
    assert (started.serial, started.part_number, started.operator) == (
        "NM96A000123",
        "NM96-A",
        "op7",
    )
    assert (started.station_id, started.sequence_name, started.sequence_version) == (
        "EOL-TEST",
        "NM96 end-of-line",
        "1.2.0",
    )
    assert started.sequence_sha256 == sha256(GOOD / "sequence.toml")
    assert started.limits_path == str(GOOD / "limits_default.toml")
    assert started.limits_sha256 == sha256(GOOD / "limits_default.toml")
    assert started.config_sha256 == sha256(GOOD / "station.toml")
    assert [(p.group, p.index, p.name, p.type) for p in started.steps] == [
        ("setup", 0, "Settle", "wait"),
        ("main", 0, "Pack OCV", "dmm_voltage"),
        ("main", 1, "Fixture bus", "dmm_voltage"),
        ("cleanup", 0, "Relax", "wait"),
    ]
    assert started.instruments == (dmm_info,)

    step_started = rec.of(StepStarted)
    assert [s.seq for s in step_started] == [1, 2, 3, 4]
    assert {e.run_id for e in rec.events if hasattr(e, "run_id")} == {result.run_id}
    ocv, bus = rec.of(Measurement)
    assert ocv.step_id == step_started[1].step_id
    assert (ocv.value, ocv.unit, ocv.comparator, ocv.low, ocv.high, ocv.outcome) == (
        350.0,
        "V",
        "GELE",
        300.0,
        420.0,
        PASSED,
    )
    assert ocv.limit_text == "300 … 420 V"
    assert (bus.comparator, bus.outcome, bus.low, bus.high) == ("LOG", "DONE", None, None)
    finished = rec.finished()
    assert (finished.outcome, finished.safe_state_ok, finished.failed_steps) == (
        PASSED,
        True,
        (),
    )


@pytest.mark.parametrize(
    ("variant", "outcome", "limits"), [("NM96-A", PASSED, "default"), ("NM96-B", FAILED, "nm96b")]
)
def test_the_variant_limit_table_changes_the_verdict(
    tmp_path: Path, variant: str, outcome: str, limits: str
) -> None:
    seq = load_sequence(GOOD / "sequence.toml")
    bench = Bench({"dmm": FakeDmm(350.0)})
    engine, rec = engine_for(seq, tmp_path, bench=bench)
    result = engine.run("NM96B000001", variant)
    assert rec.outcomes()["Pack OCV"] == outcome
    assert result.outcome == outcome
    [started] = rec.of(RunStarted)
    assert started.limits_sha256 == sha256(GOOD / f"limits_{limits}.toml")


def test_an_engineers_calibration_override_starts_the_run_and_is_recorded(tmp_path: Path) -> None:
    import datetime as dt

    from station.bench import Bench
    from station.clock import VirtualClock
    from station.config import InstrumentConfig, default_config
    from station.engine import Engine
    from station.errors import RunRefused
    from station.events import Log
    from station.sequence import load_sequence

    seq = tmp_path / "s.toml"
    seq.write_text(
        '[sequence]\nname = "s"\nversion = "1"\nproducts = ["P"]\nserial_pattern = ".*"\n'
        '[[main]]\ntype = "wait"\nname = "w"\nparams = { seconds = 1 }\n',
        encoding="utf-8",
    )
    expired = InstrumentConfig("supply", "itech.it6000c", "R", "S1", dt.date(2020, 1, 1))
    config = dataclasses.replace(default_config(tmp_path / "r.db"), instruments={"supply": expired})
    events: list[object] = []
    engine = Engine(
        load_sequence(seq),
        bench=Bench({}),
        config=config,
        clock=VirtualClock(),
        listeners=[events.append],
    )
    with pytest.raises(RunRefused, match=r"calibration of supply .* expired"):
        engine.run("SN")
    with pytest.raises(RunRefused, match="expired"):
        engine.run("SN", overrides={"calibration:dmm": "wrong key"})
    result = engine.run("SN", overrides={"calibration:supply": "cal lab booked, J. Doe"})
    assert result.outcome == "PASSED"
    notes = [e.message for e in events if isinstance(e, Log) and e.level == "WARNING"]
    assert any("overridden: cal lab booked, J. Doe" in n and "supply" in n for n in notes)


def test_a_safety_instruments_expired_calibration_cannot_be_overridden(tmp_path: Path) -> None:
    import datetime as dt

    from station.config import InstrumentConfig, default_config
    from station.gate import StartBlocked

    seq = tmp_path / "s.toml"
    seq.write_text(
        '[sequence]\nname = "s"\nversion = "1"\nproducts = ["P"]\nserial_pattern = ".*"\n'
        '[[main]]\ntype = "wait"\nname = "w"\nparams = { seconds = 1 }\n',
        encoding="utf-8",
    )
    expired = {
        role: InstrumentConfig(role, "m", "R", f"S-{role}", dt.date(2020, 1, 1))
        for role in ("dmm", "insulation_tester")
    }
    config = dataclasses.replace(default_config(tmp_path / "r.db"), instruments=expired)
    engine = Engine(load_sequence(seq), bench=Bench({}), config=config, clock=VirtualClock())
    reasons = {f"calibration:{role}": "please" for role in expired}
    with pytest.raises(StartBlocked) as refused:
        engine.run("SN", overrides=reasons)
    blockers = refused.value.blockers
    assert [b.key for b in blockers] == ["calibration:dmm", "calibration:insulation_tester"]
    assert all(not b.overridable and "no override" in b.message for b in blockers)


def test_a_step_beyond_an_instruments_configured_rating_is_refused_before_it_starts(
    tmp_path: Path,
) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "withstand"
        name = "Hipot"
        params = { voltage_v = 1000, dwell_s = 1, leakage_limit_a = 2e-3 }
        limits.leakage_a = { comparator = "LE", high = 1e-3 }
        limits.breakdown = { comparator = "BOOL", expected = false }
        limits.test_voltage_v = { comparator = "LOG" }
        """,
    )
    tester = InstrumentConfig(
        "insulation_tester", "chroma.1905x", "ASRL1::INSTR", "1", dt.date(2099, 1, 1),
        options={"max_voltage_v": 600},
    )  # fmt: skip
    config = dataclasses.replace(
        default_config(tmp_path / "r.db"), instruments={"insulation_tester": tester}
    )
    engine, rec = engine_for(seq, tmp_path, config=config)
    with pytest.raises(StartBlocked, match=r"params.voltage_v: 1000 is beyond the "
                       r"insulation_tester's max_voltage_v = 600"):  # fmt: skip
        engine.run(SERIAL)
    assert rec.events == []


# -- what a step sees of the run, and what the run plans ---------------------------------------

_earlier_seen: list[tuple[list[str], bool]] = []


@register
class SeeEarlier(StepType):
    """Note the names of the steps ``ctx.earlier`` holds, and whether it refuses a change."""

    name = "test_see_earlier"

    def run(self, ctx: StepContext, params: Any) -> None:
        try:
            ctx.earlier["forged"] = StepRecord("forged", PASSED, {})  # type: ignore[index]
            refused = False
        except TypeError:
            refused = True
        _earlier_seen.append((list(ctx.earlier), refused))


def test_a_step_sees_the_steps_before_it_and_cannot_change_them(tmp_path: Path) -> None:
    seq = load(
        tmp_path,
        """
        [[main]]
        type = "test_see_earlier"
        name = "First"

        [[main]]
        type = "test_see_earlier"
        name = "Second"
        """,
    )
    engine, _ = engine_for(seq, tmp_path)
    _earlier_seen.clear()
    result = engine.run(SERIAL)
    assert result.outcome == PASSED
    assert _earlier_seen == [([], True), (["First"], True)]


def test_every_run_records_the_plan_of_the_sequence_it_runs(tmp_path: Path) -> None:
    first = load(tmp_path, '[[main]]\ntype = "test_see_earlier"\nname = "One"\n')
    engine, rec = engine_for(first, tmp_path)
    engine.run(SERIAL)
    engine.run(SERIAL)
    (tmp_path / "other").mkdir()
    engine.sequence = load(
        tmp_path / "other", '[[main]]\ntype = "test_see_earlier"\nname = "Two"\n'
    )
    engine.run(SERIAL)
    plans = [[s.name for s in e.steps] for e in rec.of(RunStarted)]
    assert plans == [["One"], ["One"], ["Two"]]
    first_run, second_run, _ = rec.of(RunStarted)
    assert first_run.steps == second_run.steps


@given(st.binary(min_size=16, max_size=16))
def test_an_id_is_the_text_of_a_version_4_uuid_of_its_random_bytes(random: bytes) -> None:
    assert uuid4_text(random) == str(uuid.UUID(bytes=random, version=4))


def test_new_ids_are_random_version_4_uuids() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in ids)
