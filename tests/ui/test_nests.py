"""Two nests side by side on the operator page: each scans, starts and shows its verdict."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt

from station.outcomes import FAILED, PASSED
from tests.station.nests_bench import sim_line
from tests.ui.conftest import add_users, login_as
from ui.controller import StationController
from ui.main_window import MainWindow

pytestmark = pytest.mark.ui
RUN_MS = 60_000


def test_two_nests_show_side_by_side_and_each_runs_its_pack(
    qtbot, tmp_path: Path, qapp: object
) -> None:
    line = sim_line(tmp_path, 2, faults=("2:low_insulation_plus=2e6",))
    nests = [
        (p.nest.label, StationController(line.as_run(p.nest.index), sim=True)) for p in line.nests
    ]
    first = nests[0][1]
    window = MainWindow(first, nests=nests)
    qtbot.addWidget(window)
    try:
        window.resize(1600, 1000)
        window.show()
        add_users(first)
        login_as(first, "operator")
        window.on_login()
        assert window.nests is not None
        screens = window.nests.screens
        assert len(screens) == 2 and all(s.isVisible() for s in screens)
        assert all(c.session is not None for _, c in nests)  # one login for every nest
        for number, screen in enumerate(screens, start=1):
            screen.scan.setFocus()
            qtbot.keyClicks(screen.scan, f"NM14A000000{number}")
            qtbot.keyClick(screen.scan, Qt.Key.Key_Return)
            assert screen.start_button.isEnabled(), screen.reason.text()
        done: list[object] = []
        for _, controller in nests:
            controller.runDone.connect(done.append)
        for screen in screens:
            qtbot.mouseClick(screen.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(done) == 2, timeout=RUN_MS)
        assert [s.banner.state for s in screens] == [PASSED, FAILED]
        assert screens[1].run.steps[0].outcome == FAILED  # nest 2's own pack
        assert [s.outcome for s in screens[0].run.steps] == [PASSED] * 3
    finally:
        window.close()
        for _, controller in nests:
            controller.deleteLater()
        line.close()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_the_fault_panel_injects_into_the_nest_picked(qtbot, tmp_path: Path, qapp: object) -> None:
    line = sim_line(tmp_path, 2)
    nests = [
        (p.nest.label, StationController(line.as_run(p.nest.index), sim=True)) for p in line.nests
    ]
    first = nests[0][1]
    window = MainWindow(first, nests=nests)
    qtbot.addWidget(window)
    try:
        window.resize(1600, 1000)
        window.show()
        add_users(first)
        login_as(first, "engineer")
        window.on_login()
        panel = window.engineering.faults
        assert panel.nest.count() == 2 and not panel.nest.isHidden()
        names = [f.name for f in panel.model.rows]
        panel.table.selectRow(names.index("low_insulation_plus"))
        panel.magnitude.setText("2e6")
        window.engineering.reason.setText("training: an insulation FAIL in nest 2")
        panel.nest.setCurrentIndex(1)
        assert panel.inject_selected(), panel.message.text()
        assert [c.injected for _, c in nests] == [[], ["low_insulation_plus=2e6"]]
        assert "low_insulation_plus" in panel.active.text()
        panel.nest.setCurrentIndex(0)
        assert panel.active.text() == ""  # what is on is shown per nest

        assert window.nests is not None
        login_as(first, "operator")
        window.on_login()
        done: list[object] = []
        for number, (screen, (_, controller)) in enumerate(
            zip(window.nests.screens, nests, strict=True), start=1
        ):
            controller.runDone.connect(done.append)
            screen.scan.setFocus()
            qtbot.keyClicks(screen.scan, f"NM14A000000{number}")
            qtbot.keyClick(screen.scan, Qt.Key.Key_Return)
            qtbot.mouseClick(screen.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(done) == 2, timeout=RUN_MS)
        assert [s.banner.state for s in window.nests.screens] == [PASSED, FAILED]
    finally:
        window.close()
        for _, controller in nests:
            controller.deleteLater()
        line.close()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
