"""A scan prompt on the screen: a barcode in the entry, checked against its pattern."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from station.steps.api import PromptRequest
from tests.ui.conftest import DATA
from ui.prompts import PromptPanel, validate

pytestmark = pytest.mark.ui


def test_a_scan_must_match_its_pattern() -> None:
    scan = PromptRequest(kind="scan", text="Scan module 1", pattern="^MOD[0-9]{6}$")
    assert validate(scan, "MOD000123") == ""
    assert validate(scan, "MOD12") == "'MOD12' does not have the expected format (^MOD[0-9]{6}$)."
    assert validate(scan, "") == "Enter an answer."


def test_the_panel_takes_a_scan_in_its_entry_and_refuses_a_misread(qtbot) -> None:
    panel = PromptPanel()
    panel.base_dir = DATA
    qtbot.addWidget(panel)
    panel.show()
    panel.show_prompt(7, PromptRequest("scan", "Scan module 1", pattern="^MOD[0-9]{6}$"))
    assert panel.entry.isVisible() and "Scan the barcode" in panel.hint.text()
    with qtbot.assertNotEmitted(panel.answered):
        qtbot.keyClicks(panel.entry, "MOD12")
        qtbot.keyClick(panel.entry, Qt.Key.Key_Return)
    assert "does not have the expected format" in panel.error.text()
    panel.entry.clear()
    with qtbot.waitSignal(panel.answered) as answered:
        qtbot.keyClicks(panel.entry, "MOD000123")
        qtbot.keyClick(panel.entry, Qt.Key.Key_Return)
    assert answered.args == [7, "MOD000123"]
