"""``make screenshots``: render the station screens to PNGs from real runs on the virtual bench.

::

    python -m ui.screenshots [--out docs/screenshots]

Seeds a fresh results database with a dozen packs (virtual time, different pack seeds,
a retest and a failure, so the counters and statistics have something to show), then
drives the real window offscreen: a run in progress with the live plot, an operator
prompt with its picture, PASS, FAIL, the results browser and the engineering page.

The demo sequences and their ``test_ui_pulse`` step (a load pulse streaming V, I, T)
live with the UI tests in ``tests/ui/``, until the station's own DCIR and capacity
steps replace them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "ui" / "data"
PLUGIN = "tests.ui.steps_for_ui"
SIZE = (1600, 1000)
SPEED = 30.0  # the 120 s pulse runs in 4 s
PASSWORD = "screenshots only"


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Run the Qt event loop until ``condition()`` holds; raise TimeoutError after the bound."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    while True:
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()  # queued engine events are delivered here
        if condition():
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the screen did not reach the expected state in time")


class _Script:
    """A prompter answering from a list, for the seeding runs."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers

    def ask(self, request: object, abort: object) -> str:
        return self.answers.pop(0)


def seed_history(db: Path) -> None:
    """Record a dozen packs (virtual time): passes, a failure, a retest."""
    from station.runner import RunOptions, prepare_run

    plan = [
        (f"NM96A{n:07d}", seed, "present")
        for n, seed in zip(range(101, 111), range(2, 12), strict=True)
    ]
    plan.insert(4, ("NM96A0000105", 6, "missing"))  # fails the label check, then retested
    for serial, seed, label in plan:
        prepared = prepare_run(
            RunOptions(sequence=DATA / "screenshots.toml", db=db, sim=True, seed=seed)
        )
        try:
            prepared.engine.prompter = _Script(["ok", label])
            prepared.engine.run(serial, None, "alex")
        finally:
            prepared.close()


def grab(widget: object, path: Path) -> None:
    from PySide6.QtWidgets import QWidget

    assert isinstance(widget, QWidget)
    widget.resize(*SIZE)  # a prompt shown earlier may have grown the window
    wait_until(lambda: True)  # let layouts and the plot timer catch up
    widget.grab().save(str(path))
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    opts = args.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    importlib.import_module(PLUGIN)

    from PySide6.QtWidgets import QApplication

    from station.runner import RunOptions, prepare_run
    from ui.app import close_all
    from ui.controller import StationController
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out: Path = opts.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "results.db"
        seed_history(db)

        # 1. A pack in progress, its prompts, and PASS — in (sped-up) real time.
        prepared = prepare_run(
            RunOptions(sequence=DATA / "screenshots.toml", db=db, sim=True, speed=SPEED)
        )
        controller = StationController(prepared, sim=True)
        controller.create_first_admin("admin", PASSWORD)
        controller.create_user("alex", "operator", PASSWORD)
        controller.create_user("erin", "engineer", PASSWORD)
        controller.logout()
        controller.login("alex", PASSWORD)
        window = MainWindow(controller)
        window.resize(*SIZE)
        window.show()
        window.on_login()
        op = window.operator
        op.scan.setText("NM96A0000111")
        op.start()
        wait_until(op.prompt.isVisible)
        grab(window, out / "operator-prompt.png")
        op.prompt.choose("ok")
        wait_until(lambda: op.progress.isVisible() and op.progress.value() >= 550)
        grab(window, out / "operator-running.png")
        wait_until(lambda: op.prompt.isVisible() and "label" in op.prompt.text.text())
        op.prompt.choose("present")
        wait_until(lambda: not controller.running)
        grab(window, out / "operator-pass.png")
        close_all(window, controller)
        prepared.close()

        # 2. A pack out of limits, then what an engineer sees.
        prepared = prepare_run(
            RunOptions(sequence=DATA / "screenshots_fail.toml", db=db, sim=True, seed=3)
        )
        controller = StationController(prepared, sim=True)
        controller.login("alex", PASSWORD)
        window = MainWindow(controller)
        window.resize(*SIZE)
        window.show()
        window.on_login()
        op = window.operator
        op.scan.setText("NM96A0000112")
        op.start()
        wait_until(op.prompt.isVisible)
        op.prompt.choose("ok")  # the DCIR limit fails and stops the run before the label check
        wait_until(lambda: not controller.running)
        grab(window, out / "operator-fail.png")

        window.logout("logout")
        controller.login("erin", PASSWORD)
        window.on_login()
        window.open_tab("results")
        browser = window.results
        failed = [r["serial"] for r in browser.runs.rows].index("NM96A0000112")
        browser.run_table.selectRow(failed)
        browser.tabs.setCurrentWidget(browser.measurement_table)
        grab(window, out / "results-run.png")
        browser.tabs.setCurrentWidget(browser.series)
        grab(window, out / "results-timeseries.png")
        browser.pick.setCurrentIndex(browser.pick.findText("DCIR pulse › resistance"))
        browser.tabs.setCurrentIndex(browser.tabs.count() - 1)
        grab(window, out / "results-statistics.png")
        controller.release(controller.files_to_release()[0], "approved for line 2 (ECN 0042)")
        window.open_tab("engineering")
        grab(window, out / "engineering.png")
        close_all(window, controller)
        prepared.close()
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
