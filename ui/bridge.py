"""The one place engine events become Qt signals.

The engine calls its listeners on its own (worker) thread. ``EngineBridge`` is such a
listener: it emits one signal per event type, carrying the frozen event. The bridge lives
in the GUI thread, so Qt queues each emission to the GUI thread's event loop for every
receiver there; widgets never see the worker thread and never call the engine back from
a slot. Emitting is cheap and never raises, so the bridge cannot slow down or break a run.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

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


class EngineBridge(QObject):
    """An engine listener re-emitting each event as a queued Qt signal."""

    runStarted = Signal(object)  # RunStarted
    stepStarted = Signal(object)  # StepStarted
    measurement = Signal(object)  # Measurement
    sample = Signal(object)  # Sample
    progress = Signal(object)  # Progress
    log = Signal(object)  # Log
    prompt = Signal(object)  # Prompt
    attachment = Signal(object)  # Attachment
    stepFinished = Signal(object)  # StepFinished
    runFinished = Signal(object)  # RunFinished

    def __call__(self, event: Event) -> None:
        """Engine listener: runs on the engine's thread."""
        match event:
            case Sample():
                self.sample.emit(event)
            case Measurement():
                self.measurement.emit(event)
            case Progress():
                self.progress.emit(event)
            case StepStarted():
                self.stepStarted.emit(event)
            case StepFinished():
                self.stepFinished.emit(event)
            case Log():
                self.log.emit(event)
            case Prompt():
                self.prompt.emit(event)
            case Attachment():
                self.attachment.emit(event)
            case RunStarted():
                self.runStarted.emit(event)
            case RunFinished():
                self.runFinished.emit(event)
