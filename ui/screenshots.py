"""``make screenshots``: render the station screens to PNGs from real runs on the virtual bench.

::

    python -m ui.screenshots [--out docs/screenshots]

Every picture comes from the shipped reference sequence ``sequences/nmc96s/eol.toml`` on
the virtual bench, on virtual time (no wall-clock pacing is needed for a still picture):

1. a few packs are recorded first (different pack seeds, an insulation failure and its
   retest), so the shift counters, the last packs and the statistics have something to show;
2. the operator screen at the "Connect pack" prompt (also at 1366×768), during the
   partial-capacity discharge (the engine thread is held at a chosen progress event by
   ``PauseAt`` until the picture is taken, so the live plot and the progress bar are the
   same on every run), and at PASS;
3. a pack with a high-resistance cell (virtual-bench fault): FAIL on the DCIR limit (also
   at 1366×768);
   then 2 and 3 again in French and in Arabic, with the screen waiting for a scan too, at
   1366×768 (``operator-<state>-<language>.png``);
4. what an engineer sees: the results browser (measurements, record, time series,
   statistics) and the engineering page.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sequences
from station.languages import LANGUAGES
from station.outcomes import Verdict

ROOT = Path(__file__).resolve().parents[1]
SEQUENCE = sequences.path("nmc96s", "eol.toml")
SIZE = (1920, 1080)  # a station monitor (Full HD)
SMALL = (1366, 768)  # the smallest station screen the layout is made for
PASSWORD = "screenshots only"
OPERATOR, ENGINEER = "alex", "erin"
PASS_SERIAL, FAIL_SERIAL = "NM96A0000111", "NM96A0000112"
OTHER_SERIALS = {"fr": ("NM96A0000121", "NM96A0000122"), "ar": ("NM96A0000131", "NM96A0000132")}
"""The packs of the French and Arabic pictures (new packs: no retest question)."""
HISTORY = (  # serial, pack seed, virtual-bench faults
    ("NM96A0000101", 2, ()),
    ("NM96A0000102", 3, ()),
    ("NM96A0000103", 4, ("low_insulation_plus",)),  # fails insulation, reworked, retested
    ("NM96A0000103", 4, ()),
    ("NM96A0000104", 5, ()),
)
PAUSE_STEP, PAUSE_FRACTION = "Partial capacity", 0.6
FAULT = "high_resistance_cell"
FAILING = "DCIR › r0_discharge_ohm"
HOLD_S = 600.0  # longest the engine thread waits for a picture before going on anyway


def wait_until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
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


def settle(seconds: float = 0.3) -> None:
    """Run the event loop for ``seconds`` (layouts, the bridge's 10 Hz batches of live data)."""
    end = time.monotonic() + seconds
    wait_until(lambda: time.monotonic() >= end)


class PauseAt:
    """An engine listener holding the engine thread at the first matching event.

    ``when(step_name, event)`` picks the event. The engine waits until ``release()`` (or
    ``HOLD_S``), so the screen can catch up with everything before it and be photographed
    in exactly that state. Added after the UI's bridge, which has then already passed the
    event on to the screen.
    """

    def __init__(self, when: Callable[[str, Any], bool]) -> None:
        self.when = when
        self.event: Any = None
        self.reached = threading.Event()
        self._go = threading.Event()
        self._step = ""

    def __call__(self, event: Any) -> None:
        from station.events import StepStarted

        if isinstance(event, StepStarted):
            self._step = event.name
        if not self.reached.is_set() and self.when(self._step, event):
            self.event = event
            self.reached.set()
            self._go.wait(HOLD_S)

    def release(self) -> None:
        self._go.set()


class _Yes:
    """A prompter confirming every prompt, for the recorded history."""

    def ask(self, request: object, abort: object) -> str:
        return "yes"


def record_history(db: Path) -> None:
    """Run the reference sequence for the packs of ``HISTORY`` (no UI, virtual time)."""
    from station.runner import RunOptions, prepare_run

    for serial, seed, faults in HISTORY:
        options = RunOptions(sequence=SEQUENCE, db=db, sim=True, seed=seed, faults=faults)
        prepared = prepare_run(options)
        try:
            prepared.engine.prompter = _Yes()
            result = prepared.engine.run(serial, None, OPERATOR)
        finally:
            prepared.close()
        print(
            f"recorded {serial} (seed {seed}{', ' if faults else ''}{', '.join(faults)}): "
            f"{result.outcome}"
        )


def grab(widget: Any, path: Path, size: tuple[int, int] = SIZE) -> None:
    widget.resize(*size)
    settle()
    widget.grab().save(str(path))
    print(f"wrote {path}")


class Session:
    """A station (prepared run, controller) and its shown window, logged in as ``user``."""

    def __init__(
        self,
        db: Path,
        user: str,
        *,
        seed: int = 1,
        faults: tuple[str, ...] = (),
        language: str = "en",
    ):
        from station.runner import RunOptions, prepare_run
        from ui.controller import StationController
        from ui.main_window import MainWindow

        options = RunOptions(sequence=SEQUENCE, db=db, sim=True, seed=seed, faults=faults)
        self.prepared = prepare_run(options)
        self.controller = StationController(self.prepared, sim=True)
        if self.controller.users.is_empty():
            self.controller.create_first_admin("admin", PASSWORD)
            self.controller.create_user(OPERATOR, "operator", PASSWORD, "screenshots")
            self.controller.create_user(ENGINEER, "engineer", PASSWORD, "screenshots")
            self.controller.logout()
        self.window = MainWindow(self.controller)
        self.window.resize(*SIZE)
        self.window.show()
        self.login(user)
        self.window.set_language(language)  # kept as the user's own, like the selector

    def login(self, user: str) -> None:
        if self.controller.session is not None:
            self.window.logout("logout")
        assert self.controller.login(user, PASSWORD) is not None
        self.window.on_login()

    def start(self, serial: str) -> None:
        op = self.window.operator
        op.scan.setText(serial)
        op.start()
        wait_until(op.prompt.isVisible)

    def finish(self) -> None:
        wait_until(lambda: not self.controller.running, timeout_s=600.0)

    def close(self) -> None:
        from ui.app import close_all

        close_all(self.window, self.controller)
        self.prepared.close()


def shot_name(state: str, language: str) -> str:
    """``operator-<state>.png`` in English; ``operator-<state>-<language>.png`` otherwise."""
    return f"operator-{state}.png" if language == "en" else f"operator-{state}-{language}.png"


def operator_shots(db: Path, out: Path, language: str = "en") -> None:
    """The prompt, a run in progress with its live plot, and PASS (in another language than
    English, at 1366×768 and also waiting for the scan)."""
    from station.events import Progress

    english = language == "en"
    size = SIZE if english else SMALL
    s = Session(db, OPERATOR, language=language)
    op = s.window.operator
    pause = PauseAt(
        lambda step, ev: (
            step == PAUSE_STEP and isinstance(ev, Progress) and ev.fraction >= PAUSE_FRACTION
        )
    )
    s.controller.engine.listeners.append(pause)
    try:
        if not english:
            grab(s.window, out / shot_name("idle", language), size)
        s.start(OTHER_SERIALS[language][0] if not english else PASS_SERIAL)
        grab(s.window, out / shot_name("prompt", language), size)
        if english:
            grab(s.window, out / "operator-prompt-1366x768.png", SMALL)
        op.prompt.choose("yes")
        wait_until(pause.reached.is_set, timeout_s=600.0)
        shown = int(pause.event.fraction * 1000)
        wait_until(lambda: op.progress.isVisible() and op.progress.value() == shown)
        grab(s.window, out / shot_name("running", language), size)
        pause.release()
        s.finish()
        grab(s.window, out / shot_name("pass", language), size)
    finally:
        pause.release()
        s.close()


def fail_shot(db: Path, out: Path, language: str = "en") -> None:
    """A pack with a high-resistance cell: FAIL on the DCIR limit."""
    s = Session(db, OPERATOR, seed=7, faults=(FAULT,), language=language)
    try:
        s.start(FAIL_SERIAL if language == "en" else OTHER_SERIALS[language][1])
        s.window.operator.prompt.choose("yes")
        s.finish()
        if language == "en":
            grab(s.window, out / "operator-fail.png")
            grab(s.window, out / "operator-fail-1366x768.png", SMALL)
        else:
            grab(s.window, out / shot_name("fail", language), SMALL)
    finally:
        s.close()


def engineer_shots(db: Path, out: Path) -> None:
    """The results browser on the failed and the passed pack, and the engineering page."""
    s = Session(db, ENGINEER)
    try:
        s.window.open_tab("results")
        browser = s.window.results
        serials = [r.serial for r in browser.runs.rows]
        browser.run_table.selectRow(serials.index(FAIL_SERIAL))
        browser.tabs.setCurrentWidget(browser.measurement_table)
        rows = browser.measurements.rows
        failing = next(i for i, m in enumerate(rows) if m.outcome == Verdict.FAILED)
        centre = browser.measurement_table.ScrollHint.PositionAtCenter
        browser.measurement_table.scrollTo(browser.measurements.index(failing, 0), centre)
        grab(s.window, out / "results-run.png")
        browser.pick.setCurrentIndex(browser.pick.findText(FAILING))
        browser.tabs.setCurrentIndex(browser.tabs.count() - 1)
        grab(s.window, out / "results-statistics.png")

        browser.run_table.selectRow(serials.index(PASS_SERIAL))
        browser.tabs.setCurrentWidget(browser.record)
        grab(s.window, out / "results-record.png")
        browser.tabs.setCurrentWidget(browser.series)
        grab(s.window, out / "results-timeseries.png")

        s.controller.release(s.controller.files_to_release()[0], "approved for line 2 (ECN 0042)")
        s.window.open_tab("engineering")
        grab(s.window, out / "engineering.png")
    finally:
        s.close()


def _quiet_offscreen(_mode: object, _context: object, message: str) -> None:
    """Pass Qt's messages on, except the offscreen platform's note on every shown window."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    opts = args.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    qInstallMessageHandler(_quiet_offscreen)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    out: Path = opts.out
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "results.db"
        record_history(db)
        for language in LANGUAGES:
            operator_shots(db, out, language)
            fail_shot(db, out, language)
        engineer_shots(db, out)
    print(f"screenshots done in {time.monotonic() - t0:.0f} s")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
