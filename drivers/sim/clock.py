"""What time it is for the virtual bench: any ``() -> seconds`` callable.

The station passes its engine clock in as ``clock.now`` (``station.clock``), so the pack's
physics and the engine agree on time; drivers never import ``station``. Tests use
:class:`ManualTime` and move time by hand instead of sleeping.

**Lockstep.** Under the station's virtual clock no simulated actor runs on a wall-clock
thread: it registers with the clock (a :class:`Scheduler`) as an :class:`Actor` and acts
only when the clock moves, on the thread that moves it. A new actor follows the same rule:

- ``next_due()`` returns the next virtual time at which it has something to do (``None``:
  nothing planned); ``run_due(now)`` does what is due at ``now``, skipping slots it missed
  (the clock jumps), and must never move the clock;
- register it with ``scheduler.add_actor(actor)`` when it starts and remove it with
  ``scheduler.remove_actor(actor)`` when it stops (the station's clock also takes
  ``punctual=True``: a jump then stops where the actor is due, instead of letting it skip
  the slots it missed — the TesterPresent keeper is one);
- whatever it sends must be on its transport when ``run_due`` returns (a CAN frame sent with
  ``bus.send`` is; an ISO-TP payload needs a blocking send), so that the clock's settle hooks
  can wait for it to be received before time moves on.

Actors that only answer requests (the SCPI and Modbus twins) need no registration: the pack
integrates lazily to ``now()`` whenever it is read, and the client waits for their answers.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Protocol

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


class Actor(Protocol):
    """A simulated actor a lockstep :class:`Scheduler` drives (see the module docstring)."""

    def next_due(self) -> float | None:
        """Get the next virtual time at which the actor has something to do."""
        ...

    def run_due(self, now: float) -> None:
        """Do what is due at ``now`` (skipping missed slots); never move the clock."""
        ...


class Scheduler(Protocol):
    """A virtual clock that drives actors in lockstep (the station's ``VirtualClock``)."""

    def now(self) -> float:
        """Get the virtual time in s."""
        ...

    def add_actor(self, actor: Actor) -> None:
        """Let ``actor`` act whenever time moves."""
        ...

    def remove_actor(self, actor: Actor) -> None:
        """Stop driving ``actor``."""
        ...
