"""The bridge: engine events reach the GUI thread in order, high-rate data in batches."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QCoreApplication, QObject, QThread, Slot
from PySide6.QtWidgets import QApplication

from station.events import (
    Log,
    Measurement,
    PlannedStep,
    Progress,
    RunFinished,
    RunStarted,
    Sample,
    StepStarted,
)
from station.outcomes import Verdict
from ui.bridge import EngineBridge

pytestmark = pytest.mark.ui


class _Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, bool]] = []

    @Slot(object)
    def take(self, event: object) -> None:
        on_gui = QThread.currentThread() is QApplication.instance().thread()
        name = (
            f"list[{type(event[0]).__name__}]" if isinstance(event, list) else type(event).__name__
        )
        self.seen.append((name, on_gui))


def _sample(t: float) -> Sample:
    return Sample("r", "s1", t, "pack_voltage_V", 350.0 + t)


def _measurement(name: str, outcome: Verdict = Verdict.PASSED) -> Measurement:
    return Measurement("r", "s1", name, "V", "GELE", outcome, value=1.0, low=0.5, high=0.9)


def test_the_bridge_delivers_engine_events_on_the_gui_thread_in_order(qtbot) -> None:
    bridge = EngineBridge()
    receiver = _Receiver()
    for signal in (bridge.samples, bridge.measurements, bridge.log, bridge.runFinished):
        signal.connect(receiver.take)
    events = [
        _sample(0.0),
        Log("r", None, "INFO", "x", ""),
        _measurement("m"),
        _sample(1.0),
        RunFinished("r", "PASSED", "", True),
    ]
    worker = threading.Thread(target=lambda: [bridge(e) for e in events])
    worker.start()
    worker.join(5)
    qtbot.waitUntil(lambda: len(receiver.seen) == 5)
    assert receiver.seen == [
        ("list[Sample]", True),
        ("Log", True),
        ("list[Sample]", True),  # a batch's samples, then its measurements
        ("list[Measurement]", True),
        ("RunFinished", True),
    ]


def _run_started() -> RunStarted:
    step = PlannedStep("main", 0, "Open-circuit voltage", "ocv")
    return RunStarted(
        run_id="r", serial="NM96A0000001", part_number="NM96-A", operator="otto",
        station_id="st", sequence_name="eol", sequence_version="1", sequence_path="eol.toml",
        sequence_sha256="0", limits_path=None, limits_sha256=None, config_sha256=None,
        software_version="0", started_at="2026-12-02T12:00:00Z", steps=(step,),
    )  # fmt: skip


def test_a_burst_of_samples_and_measurements_updates_the_screen_once(qtbot, make_window) -> None:
    window = make_window("operator")
    op, bridge = window.operator, window.controller.bridge
    bridge(_run_started())
    bridge(StepStarted("r", "s1", 1, "main", 0, "Open-circuit voltage", "ocv", "now"))
    qtbot.waitUntil(lambda: op.run.current_name == "Open-circuit voltage")
    inserted: list[int] = []
    op.measurements.rowsInserted.connect(lambda _, first, last: inserted.append(last - first + 1))
    redraws: list[int] = []
    plot_redraw = op.plot.redraw
    op.plot.redraw = lambda: (redraws.append(1), plot_redraw())  # type: ignore[method-assign]
    # The engine's burst, queued before the GUI thread runs again.
    for k in range(300):
        bridge(_sample(float(k)))
        if k % 3 == 0:
            bridge(_measurement(f"m{k}"))
        bridge(Progress("r", "s1", k / 300))
    qtbot.waitUntil(lambda: op.measurements.rowCount() == 100)
    assert inserted == [100]  # one insertion for the whole burst, not one per measurement
    assert redraws == [1] and op.plot.data["pack_voltage_V"].n == 300
    assert op.progress.value() == int(299 / 300 * 1000)  # the latest fraction only
    assert [r[0] for r in op.measurements.rows[:1]] == ["Open-circuit voltage"]


def test_a_verdict_is_shown_at_once_after_the_batch_before_it(qtbot, make_window) -> None:
    window = make_window("operator")
    op, bridge = window.operator, window.controller.bridge
    bridge(_run_started())
    bridge(StepStarted("r", "s1", 1, "main", 0, "Open-circuit voltage", "ocv", "now"))
    bridge(_sample(0.0))
    bridge(_measurement("voltage", Verdict.FAILED))
    bridge(RunFinished("r", "FAILED", "", True))
    # One pass of the event loop, no waiting for the batch timer: the verdict is urgent,
    # and the failing measurement queued before it is delivered first.
    QCoreApplication.processEvents()
    assert op.banner.state == "FAILED"
    assert "voltage" in op.banner.text
    assert op.measurements.rowCount() == 1
