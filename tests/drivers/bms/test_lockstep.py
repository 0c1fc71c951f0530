"""The lockstep notifier: frames dispatched on the thread that drains, in bus order."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence

import can
import pytest
from can.interfaces.virtual import VirtualBus

from drivers.bms.lockstep import LockstepNotifier

_channels = itertools.count()


class Seen(can.Listener):
    def __init__(self) -> None:
        self.frames: list[tuple[int, int]] = []  # (counter in the data, receiving thread)
        self.enough = threading.Event()
        self.want = 0

    def on_message_received(self, msg: can.Message) -> None:
        self.frames.append((int.from_bytes(msg.data, "big"), threading.get_ident()))
        if len(self.frames) >= self.want:
            self.enough.set()


@pytest.fixture
def buses() -> Iterator[tuple[VirtualBus, VirtualBus]]:
    channel = f"lockstep-{next(_channels)}"
    sender, receiver = VirtualBus(channel=channel), VirtualBus(channel=channel)
    yield sender, receiver
    sender.shutdown()
    receiver.shutdown()


def frame(n: int) -> can.Message:
    return can.Message(arbitration_id=0x100, data=n.to_bytes(4, "big"), is_extended_id=False)


def test_drain_dispatches_every_queued_frame_on_the_calling_thread_in_order(
    buses: tuple[VirtualBus, VirtualBus],
) -> None:
    sender, receiver = buses
    seen = Seen()
    notifier = LockstepNotifier(receiver, [seen], timeout=0.05)
    try:
        for n in range(50):
            sender.send(frame(n))
        assert notifier.drain() == 50
        assert [n for n, _ in seen.frames] == list(range(50))
        assert {thread for _, thread in seen.frames} == {threading.get_ident()}
        assert notifier.drain() == 0
    finally:
        notifier.stop()


def test_while_expecting_the_notifier_thread_receives_frames_sent_from_elsewhere(
    buses: tuple[VirtualBus, VirtualBus],
) -> None:
    sender, receiver = buses
    seen = Seen()
    seen.want = 3
    notifier = LockstepNotifier(receiver, [seen], timeout=0.05)
    try:
        with notifier.expecting():
            answer = threading.Thread(target=lambda: [sender.send(frame(n)) for n in range(3)])
            answer.start()
            assert seen.enough.wait(5.0), "nobody received the answer"
            answer.join()
        assert [n for n, _ in seen.frames] == [0, 1, 2]
        assert threading.get_ident() not in {thread for _, thread in seen.frames}
    finally:
        notifier.stop()


def test_once_nothing_is_expected_the_next_moves_frames_wait_for_the_drainer(
    buses: tuple[VirtualBus, VirtualBus],
) -> None:
    """The notifier's thread, still waiting for a frame when a request's expecting block
    ends, must not take the next move's frames: the moving thread drains them, whole, after
    recording what it sent itself among them (a keep-alive)."""
    sender, receiver = buses
    seen = Seen()
    seen.want = 1
    notifier = LockstepNotifier(receiver, [seen], timeout=5.0)  # a long wait for a frame
    try:
        with notifier.expecting():
            sender.send(frame(0))
            assert seen.enough.wait(5.0), "nobody received the answer"
            # The thread now waits for the next frame, on the bus's queue (5 s).
        seen.enough.clear()
        seen.want = 2
        for n in range(1, 4):
            sender.send(frame(n))  # the next move's frames, as the actors send them
        # The stimulus, not a wait for a race to pass: 0.2 s in which the notifier's thread,
        # woken by those frames, has the interpreter to itself. It must leave them.
        assert not seen.enough.wait(0.2), "the notifier's thread took the move's frames"
        assert notifier.drain() == 3
        me = threading.get_ident()
        assert seen.frames[1:] == [(1, me), (2, me), (3, me)]
    finally:
        notifier.stop()


def test_expecting_first_dispatches_what_is_already_queued(
    buses: tuple[VirtualBus, VirtualBus],
) -> None:
    sender, receiver = buses
    seen = Seen()
    notifier = LockstepNotifier(receiver, [seen], timeout=0.05)
    try:
        sender.send(frame(7))  # a late answer to an earlier request
        with notifier.expecting():
            assert seen.frames == [(7, threading.get_ident())]
    finally:
        notifier.stop()


def test_drains_racing_the_notifier_thread_never_reorder_or_lose_a_frame(
    buses: tuple[VirtualBus, VirtualBus],
) -> None:
    sender, receiver = buses
    seen = Seen()
    notifier = LockstepNotifier(receiver, [seen], timeout=0.05)
    frames = 3000
    try:
        with notifier.expecting():
            flood = threading.Thread(target=lambda: [sender.send(frame(n)) for n in range(frames)])
            flood.start()
            while flood.is_alive():
                notifier.drain()
            flood.join()
        notifier.drain()
        assert [n for n, _ in seen.frames] == list(range(frames))
    finally:
        notifier.stop()


def test_a_listener_error_reaches_the_drainer_and_is_kept(
    buses: tuple[VirtualBus, VirtualBus],
) -> None:
    sender, receiver = buses

    def broken(msg: can.Message) -> None:
        raise RuntimeError("listener broke")

    notifier = LockstepNotifier(receiver, [broken], timeout=0.05)
    try:
        sender.send(frame(1))
        with pytest.raises(RuntimeError, match="listener broke"):
            notifier.drain()
        assert isinstance(notifier.exception, RuntimeError)
    finally:
        notifier.stop()


class Wrapped(can.Listener):
    """A listener whose own ``__call__`` must be the one called."""

    def __init__(self) -> None:
        self.called: list[int] = []

    def __call__(self, msg: can.Message) -> None:
        self.called.append(int.from_bytes(msg.data, "big"))

    def on_message_received(self, msg: can.Message) -> None:
        raise AssertionError("dispatch must go through this listener's __call__")


def test_listeners_added_and_removed_later_get_exactly_the_frames_of_their_time(
    buses: tuple[VirtualBus, VirtualBus],
) -> None:
    sender, receiver = buses
    first, later, wrapped = Seen(), Seen(), Wrapped()
    plain: list[int] = []
    notifier = LockstepNotifier(receiver, [first, wrapped], timeout=0.05)
    try:
        sender.send(frame(1))
        notifier.drain()
        notifier.add_listener(later)
        notifier.add_listener(lambda msg: plain.append(int.from_bytes(msg.data, "big")))
        sender.send(frame(2))
        notifier.drain()
        notifier.remove_listener(first)
        sender.send(frame(3))
        notifier.drain()
        assert [n for n, _ in first.frames] == [1, 2]
        assert [n for n, _ in later.frames] == [2, 3]
        assert plain == [2, 3]
        assert wrapped.called == [1, 2, 3]
    finally:
        notifier.stop()


class Batches(can.Listener):
    """A batch listener: what each call brought."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def on_batch(self, msgs: Sequence[can.Message]) -> None:
        self.batches.append([int.from_bytes(msg.data, "big") for msg in msgs])

    def on_message_received(self, msg: can.Message) -> None:
        raise AssertionError("a batch listener gets a drain's frames in one call")


def test_a_batch_listener_gets_each_drains_frames_in_one_call_in_order(
    buses: tuple[VirtualBus, VirtualBus],
) -> None:
    sender, receiver = buses
    batches, seen = Batches(), Seen()
    notifier = LockstepNotifier(receiver, [batches, seen], timeout=0.05)
    try:
        for n in range(5):
            sender.send(frame(n))
        assert notifier.drain() == 5
        assert notifier.drain() == 0  # nothing queued: no call
        sender.send(frame(5))
        assert notifier.drain() == 1
        assert batches.batches == [[0, 1, 2, 3, 4], [5]]
        assert [n for n, _ in seen.frames] == list(range(6))
    finally:
        notifier.stop()


def test_a_batch_listener_error_reaches_the_drainer_and_is_kept(
    buses: tuple[VirtualBus, VirtualBus],
) -> None:
    sender, receiver = buses

    class Broken(Batches):
        def on_batch(self, msgs: Sequence[can.Message]) -> None:
            raise RuntimeError("batch listener broke")

    notifier = LockstepNotifier(receiver, [Broken()], timeout=0.05)
    try:
        sender.send(frame(1))
        with pytest.raises(RuntimeError, match="batch listener broke"):
            notifier.drain()
        assert isinstance(notifier.exception, RuntimeError)
    finally:
        notifier.stop()
