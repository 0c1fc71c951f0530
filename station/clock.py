"""Clocks the engine waits on: real time, and a virtual time that advances instantly.

No wait in the station is an unconditional ``time.sleep``: every wait takes an abort
event and returns early when it is set. The virtual clock lets CI run an hour of
discharge in milliseconds; the virtual bench reads the same clock, so the pack's
physics and the engine agree on what time it is, and its simulated actors run in lockstep
with it (:class:`VirtualClock`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    """Deterministic time that jumps forward on ``wait`` instead of sleeping: lockstep.

    Thread-safe: simulated instruments read ``now()`` from their own threads.

    **Lockstep.** Simulated actors (the virtual bench's BMS frames, its UDS routines…) do not
    run on wall-clock threads: they register with :meth:`add_actor` and act only when this
    clock moves. Every move (:meth:`advance`, :meth:`wait`, :meth:`step`) sets the time,
    runs every actor at that time, in registration order, on the moving thread, then calls
    the ``settle`` hooks (:meth:`add_settle`), which return once what the actors sent has
    reached its receivers (the BMS client's listeners). So frames due at ``t`` are on the
    bus, and seen, before anyone reads at ``t``, whatever the machine's load.

    - :meth:`advance`/:meth:`wait` jump: actors act once at the end (an actor skips the
      slots it missed, as a BMS does not replay an hour of frames), except that a jump stops
      wherever a *punctual* actor is due (``add_actor(actor, punctual=True)``) and every
      actor acts there: the TesterPresent keeper, whose keep-alive must reach the ECU
      within its S3 timeout however long the station waits.
    - :meth:`step` is for someone waiting on an actor (a BMS client waiting for a frame):
      it moves to the next time an actor is due (never past ``until``).

    An actor is any object with ``next_due() -> float | None`` (the next time it has
    something to do; None: nothing planned) and ``run_due(now)`` (do what is due at
    ``now``). ``run_due`` must not move the clock; it may block briefly on the simulated
    side (a blocking ISO-TP send). Only one thread moves the clock at a time.

    ``pace`` > 0 holds :meth:`wait` back so that virtual time runs at most ``pace`` × real
    time (``station run --sim --speed``): the results are those of an unpaced run, only the
    operator sees them unfold at that speed. Steps are not held back (the next wait absorbs
    them); after a prompt or a slow stretch the pace restarts from the present.
    """

    def __init__(
        self, start: float = 0.0, epoch: datetime | None = None, *, pace: float = 0.0
    ) -> None:
        # Records carry real dates (calibration checks, traceability); only the
        # passage of time is virtual.
        if pace < 0:
            raise ValueError("pace must be 0 (unpaced) or positive")
        self._now = start
        self._epoch = epoch or datetime.now(UTC)
        self._moving = threading.RLock()
        # Tuples, replaced (under _moving) when one is added or removed: a move iterates
        # them as they are, with no copy, even if an actor adds or removes one meanwhile.
        self._actors: tuple[Actor, ...] = ()
        self._punctual: tuple[Actor, ...] = ()  # also in _actors
        self._settles: tuple[Callable[[], object], ...] = ()
        self.pace = pace
        self._pace_origin = (time.monotonic(), start)

    def now(self) -> float:
        # One attribute read is atomic, and only a move (under _moving) writes it: no lock
        # round trip for a value read several times per move (every frame is stamped).
        return self._now

    def utcnow(self) -> datetime:
        return self._epoch + timedelta(seconds=self.now())

    # --- lockstep actors -------------------------------------------------------------------

    def add_actor(self, actor: Actor, *, punctual: bool = False) -> None:
        """Let ``actor`` act whenever time moves (see the class docstring).

        ``punctual``: no jump passes the time the actor is due without a move there (a
        time already past is no stop: the actor acts at the next move, as any actor does).
        """
        with self._moving:
            self._actors = (*self._actors, actor)
            if punctual:
                self._punctual = (*self._punctual, actor)

    def remove_actor(self, actor: Actor) -> None:
        """Stop calling ``actor``; no error if it is not registered."""
        with self._moving:
            self._actors = _without(self._actors, actor)
            self._punctual = _without(self._punctual, actor)

    def add_settle(self, settle: Callable[[], object]) -> None:
        """Call ``settle()`` after the actors at each move (it waits for their output)."""
        with self._moving:
            self._settles = (*self._settles, settle)

    def next_due(self) -> float | None:
        """Get the earliest time at which an actor has something to do (maybe now)."""
        with self._moving:
            due = [t for a in self._actors if (t := a.next_due()) is not None]
        return min(due, default=None)

    def _punctual_stop(self, target: float) -> float | None:
        """Get the earliest time before ``target`` (and after now) at which a punctual
        actor is due, where a jump to ``target`` must stop (``_moving`` held)."""
        stops = [
            t for a in self._punctual if (t := a.next_due()) is not None and self._now < t < target
        ]
        return min(stops, default=None)

    # --- moving time -----------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move time forward (never backward), then let the actors act at the new time."""
        if seconds < 0:
            raise ValueError("virtual time cannot go backwards")
        with self._moving:
            target = self._now + seconds
            while self._punctual and (stop := self._punctual_stop(target)) is not None:
                self._now = stop
                self._act(stop)
            self._now = target
            self._act(target)

    def step(self, until: float) -> None:
        """Move to the next time an actor is due, but not past ``until``; then act there.

        For whoever waits on an actor (the BMS client waiting for a frame, for a routine's
        final answer): no wall-clock wait, time goes straight to the next event. An actor
        due now (one that started since the clock last moved) acts without time moving.
        """
        with self._moving:
            due = self.next_due()
            target = until if due is None else min(due, until)
            self._now = max(self._now, target)
            self._act(self._now)

    def _act(self, now: float) -> None:
        for actor in self._actors:
            actor.run_due(now)
        for settle in self._settles:
            settle()

    def wait(self, seconds: float, abort: threading.Event) -> bool:
        if abort.is_set():
            return False
        if seconds > 0:
            self.advance(seconds)
        if self.pace > 0:
            wall0, virtual0 = self._pace_origin
            now = self.now()
            ahead = wall0 + (now - virtual0) / self.pace - time.monotonic()
            if ahead < 0:
                # Behind schedule (a prompt, a slow stretch): pace on from here rather than
                # race to make up the lost time.
                self._pace_origin = (time.monotonic(), now)
            elif abort.wait(ahead):
                # The jump ahead is not paid back in wall time: pace on from the present,
                # or everything after an abort (discharge checks, cleanup, the safe-state
                # read-back) would crawl behind the interrupted wait.
                self._pace_origin = (time.monotonic(), self.now())
                return False
        return not abort.is_set()


class LineClock(VirtualClock):
    """Virtual time shared by the nests of a line: it moves only when every nest waits.

    Each nest's engine thread is a *member* for the length of its run (:meth:`joined`).
    A member's wait (or BMS step) registers when it wants to wake; while any member runs
    (talks to an instrument, computes) time stands still, as a single-nest
    :class:`VirtualClock` stands still between waits. When every member waits or is parked
    (:meth:`park`: waiting for a shared instrument, see :mod:`station.leases`), time moves
    to the earliest wake-up, the actors act there, and every member due then runs on. So
    two nests waiting 60 s each side by side take 60 s of line time, not 120 s, and a pack
    per hour is counted in line time.

    A thread that is not a member moves time by itself, as :class:`VirtualClock` does (a
    single-nest run joins nothing). Pacing (``--speed``) is not offered on a line.
    """

    def __init__(self, start: float = 0.0, epoch: datetime | None = None) -> None:
        super().__init__(start, epoch)
        self._line = threading.Condition()
        self._members: set[int] = set()
        self._wakes: dict[int, float | None] = {}  # waiting members: wake time, None: parked

    @contextmanager
    def joined(self) -> Iterator[None]:
        """Make the calling thread a member while the block runs (one nest's run)."""
        me = threading.get_ident()
        with self._line:
            self._members.add(me)
        try:
            yield
        finally:
            with self._line:
                self._members.discard(me)
                self._wakes.pop(me, None)
                self._move_if_all_wait()

    @contextmanager
    def parked(self) -> Iterator[None]:
        """Let time move for the other members while the calling member waits on a person
        (an operator prompt): on a real line time does not stop for one nest's operator."""
        me = threading.get_ident()
        self.park(me)
        try:
            yield
        finally:
            self.unpark(me)

    def park(self, thread: int) -> None:
        """Let time move while member ``thread`` waits for something other than time."""
        with self._line:
            if thread in self._members:
                self._wakes[thread] = None
                self._move_if_all_wait()

    def unpark(self, thread: int) -> None:
        """Member ``thread`` runs again (granted what it waited for): time waits for it."""
        with self._line:
            if thread in self._wakes and self._wakes[thread] is None:
                del self._wakes[thread]

    def wait(self, seconds: float, abort: threading.Event) -> bool:
        if threading.get_ident() not in self._members:
            return super().wait(seconds, abort)
        if abort.is_set():
            return False
        return self._wait_until(self.now() + max(seconds, 0.0), abort)

    def step(self, until: float) -> None:
        if threading.get_ident() not in self._members:
            super().step(until)
            return
        due = self.next_due()
        target = until if due is None else min(due, until)
        if target <= self.now():  # an actor due now acts without time moving
            with self._moving:
                self._act(self.now())
            return
        self._wait_until(target, threading.Event())

    def _wait_until(self, target: float, abort: threading.Event) -> bool:
        me = threading.get_ident()
        if target <= self.now():
            return not abort.is_set()
        with self._line:
            self._wakes[me] = target
            self._move_if_all_wait()
            # The member that moves time takes the due ones out of _wakes.
            while me in self._wakes and not abort.is_set():
                self._line.wait(_LINE_POLL_S)
            self._wakes.pop(me, None)
        return not abort.is_set()

    def _move_if_all_wait(self) -> None:
        """Move to the earliest wake-up once every member waits (``_line`` held)."""
        if not self._members or not self._members <= self._wakes.keys():
            return
        times = [t for t in self._wakes.values() if t is not None]
        if not times:
            return  # all parked: a release (or an abort) comes from one of them
        target = min(times)
        with self._moving:
            # Punctual actors due before the first wake-up act there, member-less moves.
            while (stop := self._punctual_stop(target)) is not None:
                self._now = stop
                self._act(stop)
            self._now = max(self._now, target)
            now = self._now
            self._act(now)
        for thread, wake in list(self._wakes.items()):
            if wake is not None and wake <= now:
                del self._wakes[thread]
        self._line.notify_all()


def _without(actors: tuple[Actor, ...], actor: Actor) -> tuple[Actor, ...]:
    return tuple(a for a in actors if a is not actor)


def line_member(clock: Clock) -> contextlib.AbstractContextManager[None]:
    """Make the calling thread a member of ``clock`` for a run if it is a line clock
    (:meth:`LineClock.joined`); any other clock needs nothing."""
    return clock.joined() if isinstance(clock, LineClock) else contextlib.nullcontext()


def waiting_on_a_person(clock: Clock) -> contextlib.AbstractContextManager[None]:
    """While the calling thread waits on the operator, time moves on for the other nests
    (:meth:`LineClock.parked`); any other clock needs nothing."""
    return clock.parked() if isinstance(clock, LineClock) else contextlib.nullcontext()


_LINE_POLL_S = 0.02
"""How often a member waiting on the line clock looks at its abort flag (wall time)."""


class Actor(Protocol):
    """A simulated actor driven by a :class:`VirtualClock` (see its docstring)."""

    def next_due(self) -> float | None:
        """Get the next virtual time at which the actor has something to do."""
        ...

    def run_due(self, now: float) -> None:
        """Do what is due at ``now`` (skip what was missed); never move the clock."""
        ...


def iso(moment: datetime) -> str:
    """Format a UTC datetime the way every record stores it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
