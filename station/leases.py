"""Shared instruments: one nest at a time, first come first served.

A station with parallel nests may share an instrument (one insulation tester for all
fixtures, switched by a relay matrix). A step that declares a shared role takes its
:class:`SharedInstrument`'s lease for the whole step and gives it back on every way out.
Requests are granted strictly in the order they were made (a FIFO of tickets), so no nest
starves however often the others ask.

While a nest waits, its step reports who holds the instrument ("waiting for
insulation_tester (nest 1 using it)"); an abort of the waiting nest ends its wait at once.
Under the line's shared virtual clock a waiting nest is *parked*: time may move on for the
holder, and the grant unparks the next nest before the holder goes on, so time cannot run
past a nest that has been given the instrument but not yet woken (:class:`Parking`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from station.errors import AbortRequested

POLL_S = 0.02
"""How often a waiting nest looks at its abort flag (wall time)."""
HISTORY_KEPT = 10_000
"""Requests and grants remembered per shared instrument (for tests and diagnosis)."""


class Parking(Protocol):
    """The line's clock as a lease sees it: a parked thread lets time move without it."""

    def park(self, thread: int) -> None:
        """Let time move while ``thread`` (an id) waits for something other than time."""
        ...

    def unpark(self, thread: int) -> None:
        """``thread`` runs again: time waits for it."""
        ...


@dataclass
class _Ticket:
    nest: int
    thread: int
    granted: threading.Event = field(default_factory=threading.Event)


class SharedInstrument:
    """The instrument playing a shared ``role``; nests take it in turns (see the module).

    ``parking`` is the line's shared virtual clock (None on real time). ``requests`` and
    ``grants`` list the nests in the order they asked for and were given the instrument:
    being first come first served, the two are the same.
    """

    def __init__(self, role: str, instrument: Any, *, parking: Parking | None = None) -> None:
        self.role = role
        self.instrument = instrument
        self.parking = parking
        self._cond = threading.Condition()
        self._queue: deque[_Ticket] = deque()
        self._holder: _Ticket | None = None
        # The latest HISTORY_KEPT of each, so a station that stays up does not grow.
        self.requests: deque[int] = deque(maxlen=HISTORY_KEPT)
        self.grants: deque[int] = deque(maxlen=HISTORY_KEPT)

    @property
    def holder(self) -> int | None:
        """Get the nest holding the instrument now (None: free)."""
        with self._cond:
            return self._holder.nest if self._holder is not None else None

    def acquire(
        self, nest: int, abort: threading.Event, on_wait: Callable[[str], None] | None = None
    ) -> None:
        """Take the instrument for ``nest``, after every earlier request; raise
        AbortRequested if ``abort`` is set before it is granted."""
        ticket = _Ticket(nest, threading.get_ident())
        with self._cond:
            if self._holder is not None and self._holder.nest == nest:
                raise RuntimeError(f"nest {nest} already holds {self.role}")
            self._queue.append(ticket)
            self.requests.append(nest)
            holder = self._grant_next()
            if ticket.granted.is_set():
                return
            if self.parking is not None:  # under the lock: a grant cannot slip in between
                self.parking.park(ticket.thread)
        if on_wait is not None:
            on_wait(f"waiting for {self.role} (nest {holder} using it)")
        while not ticket.granted.wait(POLL_S):
            if abort.is_set():
                with self._cond:
                    if not ticket.granted.is_set():
                        self._queue.remove(ticket)
                        if self.parking is not None:
                            self.parking.unpark(ticket.thread)
                        raise AbortRequested(f"aborted while waiting for {self.role}")
                break  # granted meanwhile: keep it, the caller releases it

    def release(self, nest: int) -> None:
        """Give the instrument back; the longest-waiting nest gets it next."""
        with self._cond:
            if self._holder is None or self._holder.nest != nest:
                raise RuntimeError(f"nest {nest} does not hold {self.role}")
            self._holder = None
            self._grant_next()

    def _grant_next(self) -> int | None:
        """Grant the head of the queue if free (lock held); return the holder's nest."""
        if self._holder is None and self._queue:
            ticket = self._queue.popleft()
            self._holder = ticket
            self.grants.append(ticket.nest)
            if self.parking is not None:
                # Before the releasing nest moves time on: the grantee counts as running.
                self.parking.unpark(ticket.thread)
            ticket.granted.set()
        return self._holder.nest if self._holder is not None else None
