"""What the banner and START say while the station cannot test or is stopping a run."""

from __future__ import annotations

import pytest

from station.events import PlannedStep, RunFinished, RunStarted, StepFinished, StepStarted
from tests.ui.test_operator_run import RUN_MS, SERIAL, scan, start_and_wait_for_samples
from ui.controller import NOT_SAFE
from ui.run_view import RunView

pytestmark = pytest.mark.ui


def test_cleanup_after_an_abort_shows_aborting_not_running(qtbot, make_window) -> None:
    window = make_window("operator", sequence="long.toml", speed=1.0)
    op, c = window.operator, window.controller
    scan(qtbot, op)
    start_and_wait_for_samples(qtbot, op, c)
    seen: list[tuple[str, str]] = []  # (banner state, text) when each cleanup step starts
    c.bridge.stepStarted.connect(
        lambda ev: seen.append((op.banner.state, op.banner.text)) if ev.group == "cleanup" else None
    )
    op.abort_button.click()
    op.confirm_yes.click()
    assert op.banner.state == "ABORTING"
    qtbot.waitUntil(lambda: not c.running, timeout=RUN_MS)
    assert seen and all(state == "ABORTING" for state, _ in seen), seen
    assert "Relax" in seen[0][1]  # the cleanup step it is on
    assert op.banner.state == "READY"


def test_an_open_door_disables_start_and_says_why(qtbot, make_window) -> None:
    window = make_window("operator")
    op, c = window.operator, window.controller
    scan(qtbot, op)
    assert op.start_button.isEnabled(), op.reason.text()
    c.prepared.bench.simulator._io().open_door()
    qtbot.waitUntil(lambda: c.interlock_state.startswith(NOT_SAFE), timeout=RUN_MS)
    assert not op.start_button.isEnabled()
    assert "door" in op.reason.text().lower()
    assert op.banner.state == "BLOCKED"
    c.prepared.bench.simulator._io().close_door()
    qtbot.waitUntil(op.start_button.isEnabled, timeout=RUN_MS)
    assert op.banner.state == "READY"


def _aborted_run(cleanup_outcome: str, error: str | None) -> tuple[RunView, RunFinished]:
    """A run aborted in DCIR whose cleanup step ended ``cleanup_outcome``; sources read off."""
    view = RunView()
    plan = (("main", "DCIR", "dcir"), ("cleanup", "Contactors open", "contactors"))
    view.started(
        RunStarted(
            *(["r", "NM96A0000001", "NM96-A"] + ["x"] * 11),
            steps=tuple(PlannedStep(g, 0, n, t) for g, n, t in plan),
        )
    )
    endings = (("ABORTED", "operator abort"), (cleanup_outcome, error))
    for k, ((group, name, kind), (outcome, why)) in enumerate(zip(plan, endings, strict=True)):
        view.step_started(StepStarted("r", f"s{k}", 2 * k, group, 0, name, kind, "t"))
        view.step_finished(
            StepFinished("r", f"s{k}", 2 * k + 1, group, 0, name, kind, outcome, "t", "t", why)
        )
    view.operator_abort = True
    finished = RunFinished("r", "ABORTED", "t", safe_state_ok=True, safe_state_detail="supply: off")
    return view, finished


def test_an_abort_with_a_clean_cleanup_says_sources_off_and_safe() -> None:
    view, finished = _aborted_run("PASSED", None)
    state, _, detail = view.verdict(finished)
    assert state == "READY" and "verified safe" in detail


def test_an_abort_whose_cleanup_failed_never_says_safe() -> None:
    view, finished = _aborted_run("ERROR", "the DMM still reads 334.1 V on the fixture")
    state, headline, detail = view.verdict(finished)
    assert state == "ERROR" and headline == "SAFE STATE NOT CONFIRMED"
    assert "safe" not in detail.replace("SAFE STATE", "").lower().replace("unsafe", "")
    assert "Do not touch" in detail and "334.1 V" in detail


def test_the_screen_asks_the_start_gate_again_only_when_something_changed(
    qtbot, make_window, monkeypatch
) -> None:
    window = make_window("operator")
    op, c = window.operator, window.controller
    scan(qtbot, op)
    asked: list[str] = []
    preflight = c.engine.preflight

    def counted(serial: str, *args: object, **kwargs: object) -> object:
        if "overrides" in kwargs:  # the operator screen's question (the engineering page
            asked.append(serial)  # asks without overrides, to list what may be overridden)
        return preflight(serial, *args, **kwargs)

    monkeypatch.setattr(c.engine, "preflight", counted)
    for _ in range(5):  # refreshes with nothing new (scanner keys, redraws)
        op.refresh()
    assert len(asked) <= 1  # the answer kept since the scan (or one, were it stale)
    before = len(asked)
    c.changed.emit()  # e.g. a release or an override: the next refresh asks again
    assert len(asked) == before + 1
    assert op.start_button.isEnabled(), op.reason.text()
    assert c.blockers(op.serial, op.part) == []  # what START asks: afresh, whatever was kept
    assert asked == [SERIAL] * (before + 2)
