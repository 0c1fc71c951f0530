"""The interlock guard: HV steps start only while the interlocks read safe, and a
monitor aborts the run as soon as they open.

The software is not the safety function (the hardware interlock chain is); this is the
second, diagnostic layer that keeps the station from making things worse.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from drivers.errors import InterlockError
from station.errors import StationError

POLL_S = 0.1
"""How often the monitor reads the interlocks while an energising step runs."""


class InterlockGuard:
    """Checks the bench's interlocks; ``required`` refuses HV when there are none."""

    def __init__(self, bench: Any, *, required: bool) -> None:
        self.bench = bench
        self.required = required
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raise InterlockError unless the interlocks read safe for HV."""
        if not self.bench.has("interlocks"):
            if self.required:
                raise InterlockError(
                    "no interlocks instrument is configured, so HV steps are refused; "
                    "add [instruments.interlocks] or set [interlocks] required_for_hv = false"
                )
            return
        with self._lock:
            state = self.bench.get("interlocks").read()
        if not state.safe_for_hv:
            raise InterlockError(f"interlocks unsafe: {', '.join(state.reasons())}")

    def monitor(
        self, abort_run: Callable[[str], None], step_abort: threading.Event
    ) -> InterlockMonitor | None:
        """Start polling while an energising step runs (None when there are no interlocks)."""
        if not self.bench.has("interlocks"):
            return None
        monitor = InterlockMonitor(self.check, abort_run, step_abort)
        monitor.start()
        return monitor


class InterlockMonitor:
    """Polls the interlocks while an energising step runs; aborts the run if they open."""

    def __init__(
        self,
        check: Callable[[], None],
        abort_run: Callable[[str], None],
        step_abort: threading.Event,
    ) -> None:
        self._check = check
        self._abort_run = abort_run
        self._step_abort = step_abort
        self._stop = threading.Event()
        self.reason: str | None = None
        self._thread = threading.Thread(target=self._loop, name="interlock-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self._check()
            except StationError as err:
                self.reason = f"interlock: {err}"
                self._abort_run(self.reason)
                self._step_abort.set()
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
