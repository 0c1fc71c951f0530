"""Clocks the engine waits on: real time, and a virtual time that advances instantly.

No wait in the station is an unconditional ``time.sleep``: every wait takes an abort
event and returns early when it is set. The virtual clock lets CI run an hour of
discharge in milliseconds; the virtual bench reads the same clock, so the pack's
physics and the engine agree on what time it is.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds plus an abortable wait."""

    def now(self) -> float:
        """Seconds on a monotonic scale (only differences mean anything)."""
        ...

    def utcnow(self) -> datetime:
        """Wall-clock UTC time, for timestamps in records."""
        ...

    def wait(self, seconds: float, abort: threading.Event) -> bool:
        """Wait ``seconds``; return False at once if ``abort`` is or becomes set."""
        ...


class RealClock:
    """Wall-clock time, optionally scaled (``speed=60`` makes a minute last a second).

    Scaling is for demos: the bench and the engine then agree on a faster time.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start_mono = time.monotonic()
        self._start_wall = datetime.now(UTC)

    def now(self) -> float:
        return (time.monotonic() - self._start_mono) * self.speed

    def utcnow(self) -> datetime:
        if self.speed == 1.0:
            return datetime.now(UTC)
        return self._start_wall + timedelta(seconds=self.now())

    def wait(self, seconds: float, abort: threading.Event) -> bool:
        if seconds <= 0:
            return not abort.is_set()
        return not abort.wait(seconds / self.speed)


class VirtualClock:
    """Deterministic time that jumps forward on ``wait`` instead of sleeping.

    Thread-safe: simulated instruments read ``now()`` from their own threads.
    """

    def __init__(self, start: float = 0.0, epoch: datetime | None = None) -> None:
        # Records carry real dates (calibration checks, traceability); only the
        # passage of time is virtual.
        self._now = start
        self._epoch = epoch or datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def utcnow(self) -> datetime:
        return self._epoch + timedelta(seconds=self.now())

    def advance(self, seconds: float) -> None:
        """Move time forward (never backward)."""
        if seconds < 0:
            raise ValueError("virtual time cannot go backwards")
        with self._lock:
            self._now += seconds

    def wait(self, seconds: float, abort: threading.Event) -> bool:
        if abort.is_set():
            return False
        if seconds > 0:
            self.advance(seconds)
        return not abort.is_set()


def iso(moment: datetime) -> str:
    """Format a UTC datetime the way every record stores it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
