"""The scan flow on a real line: focus back in the scan field, rescans, packs tested before."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt

from tests.ui.test_operator_run import RUN_MS, SERIAL, scan, start_and_wait_for_samples

pytestmark = pytest.mark.ui


def focused(window, widget) -> bool:
    return window.focusWidget() is widget


def run_to_verdict(qtbot, window, serial: str = SERIAL) -> None:
    op, c = window.operator, window.controller
    scan(qtbot, op, serial)
    with qtbot.waitSignal(c.prompter.requested, timeout=RUN_MS):
        op.start_button.click()
    with qtbot.waitSignal(c.runDone, timeout=RUN_MS):
        op.prompt.choose("yes")


def test_the_scan_field_has_the_focus_after_a_verdict(qtbot, make_window) -> None:
    window = make_window("operator")
    op = window.operator
    run_to_verdict(qtbot, window)
    assert op.banner.state == "PASSED"
    qtbot.waitUntil(lambda: focused(window, op.scan), timeout=RUN_MS)
    # The next pack's scan lands in the field without a tap.
    qtbot.keyClicks(window.focusWidget(), "NM96A0000002")
    assert op.serial == "NM96A0000002"


def test_the_scan_field_has_the_focus_after_an_abort(qtbot, make_window) -> None:
    window = make_window("operator", sequence="long.toml", speed=1.0)
    op, c = window.operator, window.controller
    scan(qtbot, op)
    start_and_wait_for_samples(qtbot, op, c)
    op.abort_button.click()
    op.confirm_no.click()
    assert op.confirm.isHidden()
    op.abort_button.click()
    op.confirm_yes.click()
    qtbot.waitUntil(lambda: not c.running, timeout=RUN_MS)
    qtbot.waitUntil(lambda: focused(window, op.scan), timeout=RUN_MS)


def test_the_scan_field_has_the_focus_after_a_crash(qtbot, make_window) -> None:
    window = make_window("operator")
    op, c = window.operator, window.controller
    op.start_button.setFocus()
    c.runCrashed.emit("station software error: test")
    assert op.banner.state == "ERROR"
    assert focused(window, op.scan)


def test_a_second_scan_replaces_the_first_and_says_so(qtbot, make_window) -> None:
    window = make_window("operator")
    op = window.operator
    scan(qtbot, op, "NM96A0000001")
    assert focused(window, op.scan) and op.scan.selectedText() == "NM96A0000001"
    qtbot.keyClicks(op.scan, "NM96A0000002")  # the wedge types over the selection
    qtbot.keyClick(op.scan, Qt.Key.Key_Return)
    assert op.serial == "NM96A0000002"
    assert "NM96A0000002" in op.banner.text and "replaces NM96A0000001" in op.banner.text
    assert op.start_button.isEnabled()


def test_a_pack_that_passed_is_tested_again_only_when_the_operator_confirms(
    qtbot, make_window
) -> None:
    window = make_window("operator")
    op, c = window.operator, window.controller
    run_to_verdict(qtbot, window)
    scan(qtbot, op, SERIAL)
    assert op.retest.isVisible()
    assert "already PASSED" in op.retest_text.text()
    op.start_button.click()
    assert not c.running  # START alone does not retest it
    op.retest_no.click()
    assert op.serial == "" and op.retest.isHidden() and focused(window, op.scan)

    scan(qtbot, op, SERIAL)
    op.retest_yes.click()
    assert op.retest.isHidden() and focused(window, op.scan)
    audit = c.store.query(
        "SELECT user, action, target FROM audit WHERE action = 'retest_confirmed'"
    )
    assert audit == [{"user": "otto", "action": "retest_confirmed", "target": SERIAL}]
    with qtbot.waitSignal(c.prompter.requested, timeout=RUN_MS):
        op.start_button.click()
    assert c.running


def test_a_new_pack_needs_no_confirmation(qtbot, make_window) -> None:
    window = make_window("operator")
    op = window.operator
    scan(qtbot, op, "NM96A0000009")
    assert op.retest.isHidden()


def test_scan_to_start_starts_the_test_on_a_valid_scan(qtbot, make_window) -> None:
    window = make_window("operator")
    op, c = window.operator, window.controller
    c.engine.config = dataclasses.replace(c.config, scan_to_start=True)
    scan(qtbot, op, "XX1")  # a bad scan never starts anything
    assert not c.running
    with qtbot.waitSignal(c.prompter.requested, timeout=RUN_MS):
        scan(qtbot, op, "NM96A0000003")
    assert c.running
    with qtbot.waitSignal(c.runDone, timeout=RUN_MS):
        op.prompt.choose("yes")


def test_a_bad_serial_reads_in_plain_words_with_the_pattern_behind_details(
    qtbot, make_window
) -> None:
    op = make_window("operator").operator
    scan(qtbot, op, "XX123")
    assert "does not match the expected format" in op.reason.text()
    assert "[0-9]" not in op.reason.text()  # no regular expression for the operator
    assert op.details_button.isVisible() and not op.reason_detail.isVisible()
    op.details_button.click()
    assert op.reason_detail.isVisible() and "^NM96[AB][0-9]{7}$" in op.reason_detail.text()
    scan(qtbot, op, SERIAL)
    assert not op.details_button.isVisible() and not op.reason_detail.isVisible()


def test_digests_are_kept_out_of_the_plain_words() -> None:
    from ui.wording import plain_words

    digest = "ab" * 32
    assert digest not in plain_words(f"sequence changed on disk (sha256 {digest})")
    assert plain_words("calibration of dmm expired") == "calibration of dmm expired"
