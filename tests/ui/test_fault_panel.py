"""Engineers inject virtual-bench faults from the Engineering tab (station ui --sim)."""

from __future__ import annotations

import pytest

from station.errors import StationError
from tests.ui.conftest import login_as
from tests.ui.test_operator_run import RUN_MS, scan

pytestmark = pytest.mark.ui


def test_an_engineer_injects_a_fault_and_the_next_pack_fails_on_it(qtbot, make_window) -> None:
    window = make_window("engineer")
    c, page = window.controller, window.engineering
    assert window.open_tab("engineering")
    panel = page.faults
    assert panel.isVisibleTo(page)
    names = [f.name for f in panel.model.rows]
    assert "high_resistance_cell" in names and "hvil_open" in names
    fault = panel.model.rows[names.index("high_resistance_cell")]
    assert fault.value and fault.default  # it has a magnitude, with a default

    panel.table.selectRow(names.index("high_resistance_cell"))
    assert not panel.inject_selected()  # no reason yet
    assert "reason" in panel.message.text()
    page.reason.setText("training: a FAIL on DCIR")
    assert panel.inject_selected(), panel.message.text()
    assert "high_resistance_cell" in panel.active.text()
    audit = c.store.query("SELECT user, target, detail FROM audit WHERE action = 'inject_fault'")
    assert audit == [
        {"user": "erin", "target": "high_resistance_cell", "detail": "training: a FAIL on DCIR"}
    ]

    window.tabs.setCurrentIndex(0)
    op = window.operator
    scan(qtbot, op)
    with qtbot.waitSignal(c.prompter.requested, timeout=RUN_MS):
        op.start_button.click()
    with qtbot.waitSignal(c.runDone, timeout=RUN_MS) as done:
        op.prompt.choose("yes")
    assert done.args[0].outcome == "FAILED"
    assert "DCIR pulse › resistance" in op.banner.text


def test_a_wrong_magnitude_is_one_sentence(make_window) -> None:
    window = make_window("engineer")
    panel = window.engineering.faults
    names = [f.name for f in panel.model.rows]
    panel.table.selectRow(names.index("high_resistance_cell"))
    panel.magnitude.setText("lots")
    window.engineering.reason.setText("demo")
    assert not panel.inject_selected()
    assert panel.message.text().startswith("✖ fault high_resistance_cell=lots")


def test_operators_cannot_inject_faults(make_station) -> None:
    c = make_station()
    login_as(c, "operator")
    with pytest.raises(StationError):
        c.inject_fault("hvil_open", "", "just looking")
    assert c.injected == []
