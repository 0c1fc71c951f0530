"""The engine's prompter for the Qt UI: asks on the GUI thread, waits on the worker thread.

``ask`` runs on the engine's thread. It emits ``requested`` (queued to the GUI thread,
where the operator screen shows the prompt panel) and waits on a ``threading.Event`` in
short bounded waits, checking the run's abort flag between them, so an abort ends the
wait at once and returns None. The GUI thread answers with ``answer``; an answer to a
prompt that is no longer pending (the run was aborted meanwhile) is ignored.
"""

from __future__ import annotations

import itertools
import threading

from PySide6.QtCore import QObject, Signal

from station.steps.api import PromptRequest

POLL_S = 0.05


class QtPrompter(QObject):
    """Implements the engine's ``Prompter`` protocol with Qt signals."""

    requested = Signal(int, object)  # prompt id, PromptRequest
    withdrawn = Signal(int)  # prompt id: the run was aborted while it was shown

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: int | None = None
        self._answer: str | None = None
        self._answered = threading.Event()

    def ask(self, request: PromptRequest, abort: threading.Event) -> str | None:
        """Show ``request`` to the operator and return the answer (None when aborted)."""
        with self._lock:
            prompt_id = next(self._ids)
            self._pending = prompt_id
            self._answer = None
            self._answered.clear()
        self.requested.emit(prompt_id, request)
        while not self._answered.wait(POLL_S):
            if abort.is_set():
                with self._lock:
                    self._pending = None
                self.withdrawn.emit(prompt_id)
                return None
        with self._lock:
            self._pending = None
            return self._answer

    def answer(self, prompt_id: int, text: str | None) -> bool:
        """Give the operator's answer (GUI thread); False if that prompt is gone."""
        with self._lock:
            if self._pending != prompt_id:
                return False
            self._answer = text
            self._answered.set()
            return True

    @property
    def pending(self) -> int | None:
        with self._lock:
            return self._pending
