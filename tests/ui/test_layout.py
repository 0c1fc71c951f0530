"""The operator screen on small station screens: nothing grows, everything is touchable."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QPushButton, QScrollBar, QTabBar

from station.events import Measurement
from station.steps.api import PromptRequest
from tests.ui.conftest import DATA
from ui.run_view import RunView, failure_line
from ui.style import TOUCH_PX

pytestmark = pytest.mark.ui
SMALL_SCREENS = [(1366, 768), (1024, 768)]


def inside(window, widget) -> bool:
    top_left = widget.mapTo(window, QPoint(0, 0))
    return (
        top_left.x() >= 0
        and top_left.y() >= 0
        and top_left.x() + widget.width() <= window.width()
        and top_left.y() + widget.height() <= window.height()
    )


@pytest.mark.parametrize("size", SMALL_SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_prompt_with_a_picture_fits_without_growing_the_window(qtbot, make_window, size) -> None:
    window = make_window("operator")
    window.resize(*size)
    op = window.operator
    request = PromptRequest(
        kind="confirm",
        text="Pack on the fixture, HV harness and LV connector in, door closed?",
        image=str(DATA / "connect_harness.png"),
    )
    op.prompt.show_prompt(1, request)
    qtbot.waitUntil(op.prompt.isVisible)
    qtbot.waitUntil(lambda: op.prompt.buttons["yes"].isVisible())
    assert (window.width(), window.height()) == size
    assert window.minimumSizeHint().height() <= size[1]
    for widget in (op.banner, op.scan, op.start_button, op.abort_button, op.prompt):
        assert inside(window, widget), widget
    for button in op.prompt.buttons.values():
        assert inside(window, button)
    # The step list gives way to the prompt but still shows a whole row under its header.
    header = op.step_table.horizontalHeader().height()
    assert op.step_table.height() >= header + TOUCH_PX


def test_touch_targets_are_at_least_48_px(qtbot, make_window) -> None:
    window = make_window("engineer")
    window.resize(1366, 768)
    qtbot.waitExposed(window)
    buttons = [b for b in window.findChildren(QPushButton) if b.isVisible()]
    assert buttons
    small = [(b.text(), b.height()) for b in buttons if b.height() < TOUCH_PX]
    assert not small
    tabs = window.findChild(QTabBar)
    assert all(tabs.tabRect(i).height() >= TOUCH_PX for i in range(tabs.count()))
    op = window.operator
    assert op.step_table.verticalHeader().defaultSectionSize() >= TOUCH_PX
    bars = [
        b for b in window.findChildren(QScrollBar) if b.orientation() == Qt.Orientation.Vertical
    ]
    assert bars and all(b.sizeHint().width() >= TOUCH_PX for b in bars)


def test_kiosk_mode_fills_the_screen_and_only_an_engineer_may_close_it(qtbot, make_window) -> None:
    window = make_window("operator")
    window.set_kiosk(True)
    assert window.isFullScreen()
    assert window.windowFlags() & Qt.WindowType.FramelessWindowHint
    window.close()
    assert window.isVisible() and "engineer" in window.notice.text()
    window.controller.logout()
    assert window.controller.login("erin", "correct horse battery") is not None
    window.close()
    assert not window.isVisible()


def _failing(
    name: str, value: float, unit: str, limit: str, cells: tuple[int, ...] = ()
) -> Measurement:
    return Measurement(
        run_id="r",
        step_id="s",
        name=name,
        unit=unit,
        comparator="GE",
        outcome="FAILED",
        value=value,
        limit_text=limit,
        failed_elements=cells,
    )


def test_every_failure_is_listed_with_its_cell_in_si_units() -> None:
    view = RunView()
    view.failing = [
        ("IR HV+ to chassis", _failing("riso_ohm", 1.98486e6, "Ohm", "≥ 1e+07 Ohm")),
        ("OCV and cells", _failing("cell_voltages", 3.512, "V", "each 3.6 … 4.2 V", (11, 40))),
        ("DCIR", _failing("resistance", 0.1263, "Ohm", "≤ 0.118 Ohm")),
    ]
    lines = view.failing_lines()
    assert len(lines) == 3
    assert lines[0] == "IR HV+ to chassis › riso_ohm = 1.985 MΩ  —  limits ≥ 10 MΩ"
    assert "cells 12, 41" in lines[1]
    assert "126.3 mΩ" in lines[2] and "≤ 118 mΩ" in lines[2]
    assert view.failing_text().startswith(lines[0]) and "+2 more" in view.failing_text()
    assert failure_line("DCIR", view.failing[2][1]) == lines[2]


@pytest.mark.parametrize("size", SMALL_SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_fail_with_every_failure_listed_fits(qtbot, make_window, size) -> None:
    window = make_window("operator")
    window.resize(*size)
    op = window.operator
    text = "DCIR › r0_discharge_ohm = 112.6 mΩ  —  limits 96 mΩ ± 15 %   (+3 more, listed below)"
    op.banner.set_state("FAILED", "FAIL", text)
    op.failures.addItems([f"Step {i} › value = {i} V  —  limits ≤ 1 V" for i in range(4)])
    op.failures.show()
    op.prompt.show_prompt(1, PromptRequest(kind="confirm", text="Is the pack labelled?"))
    qtbot.waitUntil(op.failures.isVisible)
    assert (window.width(), window.height()) == size
    for widget in (op.banner, op.failures, op.scan, op.start_button):
        assert inside(window, widget), widget
