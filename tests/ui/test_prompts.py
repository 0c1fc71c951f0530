"""Typed operator prompts: the panel checks answers, the prompter hands them to the engine."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from station.steps.api import PromptRequest
from tests.ui.conftest import DATA
from ui.prompter import QtPrompter
from ui.prompts import PromptPanel, validate

pytestmark = pytest.mark.ui


@pytest.fixture
def panel(qtbot) -> PromptPanel:
    p = PromptPanel()
    p.base_dir = DATA
    qtbot.addWidget(p)
    p.show()
    return p


def test_confirm_offers_yes_and_no(qtbot, panel) -> None:
    panel.show_prompt(1, PromptRequest("confirm", "Door closed?"))
    assert set(panel.buttons) == {"yes", "no"}
    with qtbot.waitSignal(panel.answered) as answered:
        qtbot.mouseClick(panel.buttons["no"], Qt.MouseButton.LeftButton)
    assert answered.args == [1, "no"]
    assert not panel.isVisible()


def test_choice_has_a_button_per_choice(qtbot, panel) -> None:
    panel.show_prompt(2, PromptRequest("choice", "Label?", choices=("present", "missing")))
    assert list(panel.buttons) == ["present", "missing"]
    with qtbot.waitSignal(panel.answered) as answered:
        panel.buttons["missing"].click()
    assert answered.args == [2, "missing"]


def test_number_is_checked_against_its_range(qtbot, panel) -> None:
    panel.show_prompt(3, PromptRequest("number", "Rated capacity (Ah)?", minimum=40, maximum=80))
    assert "from 40 to 80" in panel.hint.text()
    with qtbot.assertNotEmitted(panel.answered):
        qtbot.keyClicks(panel.entry, "95")
        qtbot.keyClick(panel.entry, Qt.Key.Key_Return)
    assert "out of range" in panel.error.text() and panel.isVisible()
    panel.entry.setText("abc")
    panel.buttons["ok"].click()
    assert "not a number" in panel.error.text()
    panel.entry.setText("60,5")
    with qtbot.waitSignal(panel.answered) as answered:
        panel.buttons["ok"].click()
    assert answered.args == [3, "60.5"]


def test_text_must_match_the_pattern() -> None:
    request = PromptRequest("text", "BMS label?", pattern=r"BMS-[0-9]{4}")
    assert "expected format" in validate(request, "BMS-12")
    assert validate(request, "BMS-1234") == ""
    assert validate(request, "") == "Enter an answer."


def test_message_shows_its_picture(qtbot, panel) -> None:
    panel.show_prompt(
        4, PromptRequest("message", "Connect the harness", image="connect_harness.png")
    )
    assert panel.image.pixmap() is not None and not panel.image.pixmap().isNull()
    assert list(panel.buttons) == ["ok"]
    panel.show_prompt(5, PromptRequest("message", "x", image="missing.png"))
    assert "not found" in panel.image.text()


def test_prompter_returns_the_answer_given_on_the_gui_thread(qtbot) -> None:
    prompter = QtPrompter()
    result: list[str | None] = []
    with qtbot.waitSignal(prompter.requested) as asked:
        worker = threading.Thread(
            target=lambda: result.append(
                prompter.ask(PromptRequest("confirm", "?"), threading.Event())
            )
        )
        worker.start()
    prompt_id, request = asked.args
    assert request.text == "?"
    assert prompter.answer(prompt_id + 1, "no") is False  # not the pending prompt
    assert prompter.answer(prompt_id, "yes") is True
    worker.join(5)
    assert result == ["yes"]
    assert prompter.answer(prompt_id, "late") is False


def test_prompter_returns_none_promptly_on_abort(qtbot) -> None:
    prompter = QtPrompter()
    abort = threading.Event()
    result: list[str | None] = []
    with qtbot.waitSignal(prompter.requested):
        worker = threading.Thread(
            target=lambda: result.append(prompter.ask(PromptRequest("message", "wait"), abort))
        )
        worker.start()
    with qtbot.waitSignal(prompter.withdrawn, timeout=2000):
        abort.set()
    worker.join(2)
    assert not worker.is_alive() and result == [None]
    assert prompter.pending is None


def test_abort_while_a_prompt_is_shown_closes_it(qtbot, make_window) -> None:
    window = make_window("operator")
    op, c = window.operator, window.controller
    op.scan.setText("NM96A0000001")
    with qtbot.waitSignal(c.prompter.requested, timeout=10_000):
        op.start_button.click()
    qtbot.waitUntil(op.prompt.isVisible)
    op.abort_button.click()
    with qtbot.waitSignal(c.runDone, timeout=10_000) as done:
        op.confirm_yes.click()
    assert done.args[0].outcome == "ABORTED" and done.args[0].safe_state_ok
    assert not op.prompt.isVisible()
    assert op.banner.state == "READY"
    assert [s.outcome for s in op.run.steps] == ["ABORTED", "NOT RUN", "NOT RUN", "PASSED"]
