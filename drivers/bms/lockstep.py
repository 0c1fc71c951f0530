"""Receive an in-process bus's frames on the thread that moves the lockstep clock.

Under the station's lockstep virtual clock the simulated BMS sends its cyclic frames from
the thread that moves the clock, and the move must not return before the BMS client has
seen them (the clock's settle hook, :meth:`drivers.bms.bms.Bms.settle`). With a plain
``can.Notifier`` that is a hand-off per move: the notifier's thread wakes, receives and
dispatches, and the moving thread waits for it — thousands of thread switches per run, each
a wait for the scheduler on a loaded machine. :class:`LockstepNotifier` lets the moving
thread take the frames off the bus and dispatch them itself (:meth:`~LockstepNotifier.drain`):
the same python-can ``virtual`` bus, the same ``Message`` objects and listeners, in the same
order, with no thread switch.

Frames that come from another thread — a UDS answer from the simulated ECU's stack — still
need a receiving thread, but only while someone waits for them: a UDS request runs inside
:meth:`~LockstepNotifier.expecting`, and only then does the notifier's thread watch the bus.
Whoever receives holds one lock from taking a frame off the bus to the end of its dispatch,
and the thread waits for a frame without taking it, so the two never reorder frames and,
once :meth:`~LockstepNotifier.drain` returns, every frame queued before it has been
dispatched. The thread drains only inside an ``expecting`` block, which does not end
during its drain: a move's frames are never split between it and the moving thread. A
drain takes every queued frame off the bus first, then hands them to each
listener in turn: all at once to a listener that has an ``on_batch`` method
(:class:`BatchListener`: the BMS client's signal monitor and CAN trace, which then take their
lock and look up what they need once per move rather than once per frame), one by one, in
bus order, straight to any other listener's ``on_message_received`` (one call, not
``can.Notifier``'s three: its loop, ``Listener.__call__``, the listener). Listeners are added
and removed with :meth:`~can.Notifier.add_listener` and :meth:`~can.Notifier.remove_listener`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

import can
from can.interfaces.virtual import VirtualBus
from can.notifier import MessageRecipient


@runtime_checkable
class BatchListener(Protocol):
    """A listener that takes a drain's frames in one call."""

    def on_batch(self, msgs: Sequence[can.Message]) -> None:
        """Receive ``msgs``, in bus order: what as many ``on_message_received`` calls would
        do. Frames of one batch are received at one moment of the lockstep clock."""
        ...


_Recipient = tuple[Callable[..., object], bool]
"""What a drain calls for one listener, and whether it takes the whole batch."""


class LockstepNotifier(can.Notifier):
    """A ``can.Notifier`` on python-can's ``virtual`` ``bus`` that a lockstep clock drains.

    ``listeners`` and ``timeout`` (how long the thread blocks, which bounds :meth:`stop`) are
    ``can.Notifier``'s. An exception in a listener is kept in :attr:`exception`, handed to
    the listeners' ``on_error`` and, if none handles it, raised to whoever was receiving
    (the listeners after the one that raised then miss the rest of that drain's frames).
    """

    def __init__(
        self, bus: VirtualBus, listeners: Iterable[MessageRecipient], timeout: float = 1.0
    ) -> None:
        self._virtual = bus
        self._receiving = threading.Lock()  # held from taking a frame to its dispatch's end
        self._waiters = threading.Condition()
        self._expected = 0  # UDS requests (or others) waiting for frames from elsewhere
        self._recipients: tuple[_Recipient, ...] = ()
        super().__init__(bus, listeners, timeout=timeout)
        self._recipients = _recipients(self.listeners)

    def add_listener(self, listener: MessageRecipient) -> None:
        super().add_listener(listener)
        self._recipients = _recipients(self.listeners)

    def remove_listener(self, listener: MessageRecipient) -> None:
        super().remove_listener(listener)
        self._recipients = _recipients(self.listeners)

    @contextmanager
    def expecting(self) -> Iterator[None]:
        """Let the notifier's thread receive while the block runs (frames from elsewhere).

        Frames already queued are dispatched first, on the calling thread, so that a late
        answer to an earlier request is not taken for the answer to the next.
        """
        self.drain()
        with self._waiters:
            self._expected += 1
            self._waiters.notify_all()
        try:
            yield
        finally:
            with self._waiters:
                self._expected -= 1

    def drain(self) -> int:
        """Receive and dispatch every frame queued on the bus, on the calling thread."""
        bus = self._virtual
        queued = bus.queue.queue  # the bus's deque: only looked at, never taken from
        # The receiving lock serialises dispatch, as can.Notifier's lock does for its thread
        # (this class has no other thread dispatching). The deque is looked at first because
        # recv(0) on an empty bus costs an exception raised and caught inside python-can, and
        # every lockstep move ends on one; a frame put meanwhile is as if sent after the drain.
        with self._receiving:
            frames: list[can.Message] = []
            while queued and not self._stopped and (msg := bus.recv(0)) is not None:
                frames.append(msg)
            if not frames:
                return 0
            for deliver, whole in self._recipients:
                if whole:
                    try:
                        deliver(frames)
                    except Exception as exc:
                        self._failed(exc)
                    continue
                for msg in frames:
                    try:
                        deliver(msg)
                    except Exception as exc:
                        self._failed(exc)
        return len(frames)

    def _failed(self, exc: Exception) -> None:
        """Keep a listener's error, hand it to ``on_error``; raise it if none handles it."""
        self.exception = exc
        if not self._on_error(exc):
            raise exc

    def stop(self, timeout: float = 5.0) -> None:
        with self._waiters:
            self._stopped = True  # before the join in super().stop(): wake the thread now
            self._waiters.notify_all()
        super().stop(timeout)

    def _rx_thread(self, bus: can.BusABC) -> None:
        frames = self._virtual.queue
        while not self._stopped:
            with self._waiters:
                if not self._expected:
                    self._waiters.wait(self.timeout)
                    continue
            # Wait for a frame without taking it off the bus: drain() takes it under the
            # receiving lock, so a frame is never held by one thread while another
            # dispatches the ones after it.
            with frames.not_empty:
                if not frames.queue:
                    frames.not_empty.wait(self.timeout)
            # Drain only while a request still expects frames, and keep it expecting until
            # the drain is done: once it has ended, the frames are the next move's, sent by
            # the clock's actors and received by its settle hook. A drain here then would
            # take part of a move's frames on this thread while the moving thread records
            # what it sends itself (a keep-alive) in between, in an order left to chance.
            with self._waiters:
                if not self._expected:
                    continue
                try:
                    self.drain()
                except Exception:
                    return  # kept in self.exception; the thread ends as can.Notifier's does


def _recipients(listeners: Iterable[MessageRecipient]) -> tuple[_Recipient, ...]:
    """What to call for each listener: a :class:`BatchListener`'s ``on_batch`` with the
    drain's frames; a ``can.Listener``'s ``on_message_received`` (what its ``__call__``
    calls) or any other recipient itself with each frame. A listener with a ``__call__`` of
    its own is called per frame. No event loop: none is awaited."""
    out: list[_Recipient] = []
    for listener in listeners:
        if isinstance(listener, can.Listener) and type(listener).__call__ is can.Listener.__call__:
            if isinstance(listener, BatchListener):
                out.append((listener.on_batch, True))
            else:
                out.append((listener.on_message_received, False))
        else:
            out.append((listener, False))
    return tuple(out)
