"""A pack through the operator screen on the virtual bench: scan, start, prompt, verdict."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import DATA

pytestmark = pytest.mark.ui
SERIAL = "NM96A0000001"
RUN_MS = 15_000


def scan(qtbot, screen, serial: str = SERIAL) -> None:
    screen.scan.setFocus()
    qtbot.keyClicks(screen.scan, serial)
    qtbot.keyClick(screen.scan, Qt.Key.Key_Return)


def start_and_wait_for_samples(qtbot, screen, controller) -> None:
    """Press START and wait until live samples reach the screen.

    Not ``qtbot.waitSignal(bridge.samples)``: batches keep coming, and one delivered to
    pytest-qt's blocker after its event loop is gone crashes the interpreter.
    """
    samples: list[object] = []
    controller.bridge.samples.connect(lambda *args: samples.append(args))
    screen.start_button.click()
    qtbot.waitUntil(lambda: bool(samples), timeout=RUN_MS)


def test_full_run_shows_pass(qtbot, make_window) -> None:
    window = make_window("operator")
    op, c = window.operator, window.controller
    assert op.banner.state == "READY"
    assert not op.start_button.isEnabled()
    assert "scan" in op.reason.text().lower()

    scan(qtbot, op)
    assert op.part == "NM96-A"  # chosen from the serial
    assert op.start_button.isEnabled(), op.reason.text()

    with qtbot.waitSignal(c.prompter.requested, timeout=RUN_MS):
        qtbot.mouseClick(op.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(op.prompt.isVisible, timeout=RUN_MS)
    assert "HV harness" in op.prompt.text.text()
    assert op.banner.state == "RUNNING"
    assert "step 1 of 4" in op.banner.text
    assert op.abort_button.isEnabled() and not op.start_button.isEnabled()

    with qtbot.waitSignal(c.runDone, timeout=RUN_MS) as done:
        qtbot.mouseClick(op.prompt.buttons["yes"], Qt.MouseButton.LeftButton)
    result = done.args[0]
    assert result.outcome == "PASSED"
    assert result.safe_state_ok
    assert op.banner.state == "PASSED"
    assert "PASS" in op.banner.text
    assert [s.outcome for s in op.run.steps] == ["PASSED"] * 4
    assert all(s.duration_s is not None for s in op.run.steps)
    names = [r[1].name for r in op.measurements.rows]
    assert names == ["answer", "voltage", "voltage_under_load", "resistance"]
    assert set(op.plot.channels) == {"pack_voltage_V", "pack_current_A", "max_cell_temp_C"}
    assert set(op.plot.plots) == {"V", "A", "°C"}  # grouped by unit
    assert op.shift.counters.tested == 1 and op.shift.counters.passed == 1
    assert op.shift.model.rows[0].serial == SERIAL
    assert c.store.list_runs()[0].operator == "otto"
    assert op.scan.text() == "" and not op.prompt.isVisible()


def test_failing_pack_shows_fail_with_value_and_limits(qtbot, make_window) -> None:
    window = make_window("operator", sequence="fail.toml")
    op, c = window.operator, window.controller
    scan(qtbot, op)
    with qtbot.waitSignal(c.prompter.requested, timeout=RUN_MS):
        op.start_button.click()
    with qtbot.waitSignal(c.runDone, timeout=RUN_MS) as done:
        op.prompt.choose("yes")
    assert done.args[0].outcome == "FAILED"
    assert op.banner.state == "FAILED"
    detail = op.banner.detail.text()
    assert "Pack OCV" in detail and "voltage" in detail
    assert "360" in detail and "400" in detail  # the limits
    value = next(m.value for _, m in op.measurements.rows if m.name == "voltage")
    assert f"{value:.1f} V" in detail  # four significant digits, unit with its prefix
    failing = [r for r in op.measurements.rows if r[1].outcome == "FAILED"]
    assert len(failing) == 1
    row = op.measurements.rows.index(failing[0])
    brush = op.measurements.data(op.measurements.index(row, 0), Qt.ItemDataRole.BackgroundRole)
    assert brush is not None  # the failing row is tinted
    shown = op.measurement_table.visualRect(op.measurements.index(row, 0))
    assert op.measurement_table.viewport().rect().contains(shown)  # and in view
    # The verdict stays until the next scan, which returns the banner to READY.
    scan(qtbot, op, "NM96A0000002")
    assert op.banner.state == "READY"


def test_faulted_pack_shows_fail_on_the_faulty_measurement(qtbot, make_window) -> None:
    window = make_window("operator", faults=("high_resistance_cell",))
    op, c = window.operator, window.controller
    scan(qtbot, op)
    with qtbot.waitSignal(c.prompter.requested, timeout=RUN_MS):
        op.start_button.click()
    with qtbot.waitSignal(c.runDone, timeout=RUN_MS) as done:
        op.prompt.choose("yes")
    assert done.args[0].outcome == "FAILED"
    assert op.banner.state == "FAILED"
    assert "DCIR pulse › resistance" in op.banner.text and "≤ 118 mΩ" in op.banner.text
    assert [s.status_text for s in op.run.steps][-2:] == ["✖ FAIL", "✔ PASS"]  # cleanup ran


def test_bad_serial_is_refused_with_a_clear_message(qtbot, make_window) -> None:
    op = make_window("operator").operator
    scan(qtbot, op, "XX123")
    assert not op.start_button.isEnabled()
    assert "does not match" in op.reason.text() and "scan" in op.reason.text()
    assert op.scan.selectedText() == "XX123"  # the next scan replaces it


def test_variant_is_chosen_from_a_list_when_the_serial_does_not_say(qtbot, make_window) -> None:
    op = make_window("operator").operator
    assert op.variant.isEnabled()
    scan(qtbot, op, "NM96B0000007")
    assert op.part == "NM96-B"
    op.variant.setCurrentIndex(0)  # "choose variant"
    assert not op.start_button.isEnabled()
    assert "variant" in op.reason.text()


def test_abort_mid_run_returns_to_ready_with_sources_safe(qtbot, make_window) -> None:
    window = make_window("operator", sequence="long.toml", speed=1.0)
    op, c = window.operator, window.controller
    scan(qtbot, op)
    start_and_wait_for_samples(qtbot, op, c)
    qtbot.waitUntil(lambda: op.progress.isVisible(), timeout=RUN_MS)
    assert op.banner.state == "RUNNING"

    op.abort_button.click()
    assert op.confirm.isVisible()
    assert c.running  # nothing happens before the confirmation
    op.confirm_no.click()
    assert not op.confirm.isVisible() and c.running

    op.abort_button.click()
    with qtbot.waitSignal(c.bridge.runFinished, timeout=RUN_MS) as finished:
        op.confirm_yes.click()
    event = finished.args[0]
    assert event.outcome == "ABORTED"
    assert event.safe_state_ok, event.safe_state_detail
    assert "load: off" in event.safe_state_detail
    qtbot.waitUntil(lambda: not c.running, timeout=RUN_MS)
    assert op.banner.state == "READY"
    assert "ABORTED" in op.banner.text and "safe" in op.banner.text
    assert not op.progress.isVisible()
    assert op.scan.isEnabled()


def test_the_data_folder_has_the_prompt_picture() -> None:
    assert (DATA / "connect_harness.png").is_file()
