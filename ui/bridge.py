"""The one place engine events become Qt signals.

The engine calls its listeners on its own (worker) thread. ``EngineBridge`` is such a
listener: it queues each event, in order, and the GUI thread takes them off the queue and
re-emits them as signals carrying the frozen events. Widgets never see the worker thread
and never call the engine back from a slot.

High-rate data — samples, measurements, progress — is delivered in batches, at most every
``BATCH_MS``: one ``samples`` signal with every sample that arrived meanwhile, one
``measurements`` with every measurement, and ``progress`` with the latest fraction only. So
a step sampling at 100 Hz costs the GUI ten updates a second, not a hundred. Every other
event (step started or finished, prompt, log, the run's start and verdict) is urgent: it
wakes the GUI thread at once, which first delivers what was batched before it, so the
screens see events in the order the engine sent them and a verdict or a prompt never waits
for a batch. Queuing is cheap and never raises, so the bridge cannot slow down or break a
run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from station.events import (
    Attachment,
    Event,
    Log,
    Measurement,
    Progress,
    Prompt,
    RunFinished,
    RunStarted,
    Sample,
    StepFinished,
    StepStarted,
)

BATCH_MS = 100
"""The longest a sample, measurement or progress report waits for the GUI (10 Hz)."""
BATCHED = (Sample, Measurement, Progress)


class EngineBridge(QObject):
    """An engine listener re-emitting engine events as signals on the GUI thread."""

    runStarted = Signal(object)  # RunStarted
    stepStarted = Signal(object)  # StepStarted
    measurements = Signal(object)  # list[Measurement], in order
    samples = Signal(object)  # list[Sample], in order
    progress = Signal(object)  # Progress: the latest of a batch
    log = Signal(object)  # Log
    prompt = Signal(object)  # Prompt
    attachment = Signal(object)  # Attachment
    stepFinished = Signal(object)  # StepFinished
    runFinished = Signal(object)  # RunFinished
    _wake = Signal(bool)  # urgent: queued from the engine thread to the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._queue: list[Event] = []
        self._woken = False  # a wake for batched events is on its way or its timer runs
        self._urgent = False  # an urgent wake is on its way
        self._batch = QTimer(self)
        self._batch.setSingleShot(True)
        self._batch.setInterval(BATCH_MS)
        self._batch.timeout.connect(self.deliver)
        self._wake.connect(self._on_wake, Qt.ConnectionType.QueuedConnection)
        self._emit: dict[type, Callable[[object], None]] = {
            RunStarted: self.runStarted.emit,
            StepStarted: self.stepStarted.emit,
            StepFinished: self.stepFinished.emit,
            Log: self.log.emit,
            Prompt: self.prompt.emit,
            Attachment: self.attachment.emit,
            RunFinished: self.runFinished.emit,
        }

    def __call__(self, event: Event) -> None:
        """Engine listener: runs on the engine's thread."""
        urgent = not isinstance(event, BATCHED)
        with self._lock:
            self._queue.append(event)
            if urgent:
                post, self._urgent = not self._urgent, True
            else:
                post, self._woken = not self._woken, True
        if post:
            self._wake.emit(urgent)

    def _on_wake(self, urgent: bool) -> None:
        if urgent:
            self.deliver()
        elif not self._batch.isActive():
            self._batch.start()

    def deliver(self) -> None:
        """Emit every queued event now, in order, high-rate ones batched (GUI thread)."""
        self._batch.stop()
        with self._lock:
            events, self._queue = self._queue, []
            self._woken = self._urgent = False
        samples: list[Sample] = []
        measurements: list[Measurement] = []
        progress: Progress | None = None
        for event in events:
            if isinstance(event, Sample):
                samples.append(event)
                continue
            if isinstance(event, Measurement):
                measurements.append(event)
                continue
            if isinstance(event, Progress):
                progress = event
                continue
            # An urgent event: what came before it first (a step's last measurements
            # before its end, every failure before the verdict).
            samples, measurements, progress = self._flush(samples, measurements, progress)
            emit = self._emit.get(type(event))
            if emit is not None:
                emit(event)
        self._flush(samples, measurements, progress)

    def _flush(
        self, samples: list[Sample], measurements: list[Measurement], progress: Progress | None
    ) -> tuple[list[Sample], list[Measurement], None]:
        if samples:
            self.samples.emit(samples)
        if measurements:
            self.measurements.emit(measurements)
        if progress is not None:
            self.progress.emit(progress)
        return [], [], None
