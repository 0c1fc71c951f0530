"""What time it is for the virtual bench: any ``() -> seconds`` callable.

The station passes its engine clock in as ``clock.now`` (``station.clock``), so the pack's
physics and the engine agree on time; drivers never import ``station``. Tests use
:class:`ManualTime` and move time by hand instead of sleeping.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

TimeSource = Callable[[], float]
"""Monotonic seconds (only differences mean anything)."""


class ManualTime:
    """A settable clock for tests: call it (or :meth:`now`) to read, :meth:`advance` to move.

    ``start`` is the initial time in s. Thread-safe; time never goes backwards.
    """

    def __init__(self, start: float = 0.0) -> None:
        if not math.isfinite(start):
            raise ValueError(f"start must be finite, got {start!r}")
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now()

    def now(self) -> float:
        """Get the present time in s."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (≥ 0)."""
        self._check(seconds)
        with self._lock:
            self._now += seconds

    def set(self, seconds: float) -> None:
        """Set the time to ``seconds`` (not earlier than now)."""
        if not math.isfinite(seconds):
            raise ValueError(f"seconds must be finite, got {seconds!r}")
        with self._lock:
            if seconds < self._now:
                raise ValueError(f"time cannot go backwards ({seconds} < {self._now})")
            self._now = float(seconds)

    @staticmethod
    def _check(seconds: float) -> None:
        if not (math.isfinite(seconds) and seconds >= 0.0):
            raise ValueError(f"seconds must be finite and ≥ 0, got {seconds!r}")
