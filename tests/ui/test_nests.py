"""Two nests side by side on the operator page: each scans, starts and shows its verdict."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def nests_window(qtbot, tmp_path: Path, faults: tuple[str, ...] = ()) -> Iterator[MainWindow]:
    """A shown main window over a two-nest virtual line; closed and deleted afterwards."""
    line = sim_line(tmp_path, 2, faults=faults)
    nests = [
        (p.nest.label, StationController(line.as_run(p.nest.index), sim=True)) for p in line.nests
    ]
    window = MainWindow(nests[0][1], nests=nests)
    qtbot.addWidget(window)
    try:
        window.resize(1600, 1000)
        window.show()
        add_users(nests[0][1])
        yield window
    finally:
        window.close()
        for _, controller in nests:
            controller.deleteLater()
        line.close()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def start_both(qtbot, window: MainWindow) -> list[object]:
    """Scan a serial into each nest and start it; the list fills with each run's result."""
    assert window.nests is not None
    done: list[object] = []
    for number, (screen, controller) in enumerate(
        zip(window.nests.screens, window.nests.controllers, strict=True), start=1
    ):
        controller.runDone.connect(done.append)
        screen.scan.setFocus()
        qtbot.keyClicks(screen.scan, f"NM14A000000{number}")
        qtbot.keyClick(screen.scan, Qt.Key.Key_Return)
        assert screen.start_button.isEnabled(), screen.reason.text()
        qtbot.mouseClick(screen.start_button, Qt.MouseButton.LeftButton)
    return done


def test_two_nests_show_side_by_side_and_each_runs_its_pack(
    qtbot, tmp_path: Path, qapp: object
) -> None:
    with nests_window(qtbot, tmp_path, faults=("2:low_insulation_plus=2e6",)) as window:
        first = window.controller
        login_as(first, "operator")
        window.on_login()
        assert window.nests is not None
        screens = window.nests.screens
        assert len(screens) == 2 and all(s.isVisible() for s in screens)
        assert all(c.session is not None for c in window.nests.controllers)  # one login
        done = start_both(qtbot, window)
        qtbot.waitUntil(lambda: len(done) == 2, timeout=RUN_MS)
        assert [s.banner.state for s in screens] == [PASSED, FAILED]
        assert screens[1].run.steps[0].outcome == FAILED  # nest 2's own pack
        assert [s.outcome for s in screens[0].run.steps] == [PASSED] * 3


def test_the_fault_panel_injects_into_the_nest_picked(qtbot, tmp_path: Path, qapp: object) -> None:
    with nests_window(qtbot, tmp_path) as window:
        assert window.nests is not None
        controllers = window.nests.controllers
        login_as(window.controller, "engineer")
        window.on_login()
        panel = window.engineering.faults
        assert panel.nest.count() == 2 and not panel.nest.isHidden()
        names = [f.name for f in panel.model.rows]
        panel.table.selectRow(names.index("low_insulation_plus"))
        panel.magnitude.setText("2e6")
        window.engineering.reason.setText("training: an insulation FAIL in nest 2")
        panel.nest.setCurrentIndex(1)
        assert panel.inject_selected(), panel.message.text()
        assert [c.injected for c in controllers] == [[], ["low_insulation_plus=2e6"]]
        assert "low_insulation_plus" in panel.active.text()
        panel.nest.setCurrentIndex(0)
        assert panel.active.text() == ""  # what is on is shown per nest

        login_as(window.controller, "operator")
        window.on_login()
        done = start_both(qtbot, window)
        qtbot.waitUntil(lambda: len(done) == 2, timeout=RUN_MS)
        assert [s.banner.state for s in window.nests.screens] == [PASSED, FAILED]
