"""Tests for station.clock: abortable waits on real and virtual time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from station.clock import LineClock, RealClock, VirtualClock, iso

BOUND_S = 2.0


def test_a_virtual_hour_passes_instantly() -> None:
    clock = VirtualClock(start=10.0)
    t0 = time.monotonic()
    assert clock.wait(3600.0, threading.Event()) is True
    assert time.monotonic() - t0 < 0.5
    assert clock.now() == 3610.0


def test_a_virtual_wait_returns_false_and_stands_still_when_aborted() -> None:
    clock = VirtualClock()
    abort = threading.Event()
    abort.set()
    assert clock.wait(60.0, abort) is False
    assert clock.now() == 0.0


def test_virtual_time_never_goes_backwards() -> None:
    clock = VirtualClock()
    clock.advance(1.5)
    with pytest.raises(ValueError, match="cannot go backwards"):
        clock.advance(-1.0)
    assert clock.now() == 1.5


def test_virtual_wall_time_follows_virtual_time() -> None:
    epoch = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    clock = VirtualClock(epoch=epoch)
    clock.wait(90.0, threading.Event())
    assert clock.utcnow() == epoch + timedelta(seconds=90)


def test_virtual_time_advances_safely_from_many_threads() -> None:
    clock = VirtualClock()
    threads = [
        threading.Thread(target=lambda: [clock.advance(0.5) for _ in range(1000)]) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(BOUND_S)
    assert clock.now() == 2000.0


def test_a_real_wait_ends_promptly_when_another_thread_aborts() -> None:
    clock = RealClock()
    abort, started = threading.Event(), threading.Event()
    outcome: list[bool] = []

    def waiter() -> None:
        started.set()
        outcome.append(clock.wait(60.0, abort))

    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    assert started.wait(BOUND_S)
    t0 = time.monotonic()
    abort.set()
    thread.join(BOUND_S)
    assert not thread.is_alive()
    assert time.monotonic() - t0 < BOUND_S
    assert outcome == [False]


def test_a_real_wait_of_nothing_returns_at_once() -> None:
    clock = RealClock()
    abort = threading.Event()
    assert clock.wait(0.0, abort) is True
    assert clock.wait(-1.0, abort) is True
    abort.set()
    assert clock.wait(0.0, abort) is False


def test_a_scaled_real_clock_runs_faster() -> None:
    clock = RealClock(speed=1000.0)
    t0 = time.monotonic()
    assert clock.wait(50.0, threading.Event()) is True  # 50 ms of wall time
    assert time.monotonic() - t0 < BOUND_S
    assert clock.now() >= 49.0
    assert clock.utcnow() - datetime.now(UTC) > timedelta(seconds=40)


def test_a_real_clock_needs_a_positive_speed() -> None:
    with pytest.raises(ValueError, match="speed must be positive"):
        RealClock(speed=0)


def test_iso_stamps_are_utc_with_milliseconds() -> None:
    moment = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert iso(moment) == "2026-03-01T08:30:15.123Z"


# --- lockstep: actors move with virtual time ------------------------------------------------


class Ticker:
    """A lockstep actor with a slot every ``period`` s; it records when it acted."""

    def __init__(self, clock: VirtualClock, period: float) -> None:
        self.clock = clock
        self.period = period
        self.slot = 0
        self.acted: list[float] = []

    def next_due(self) -> float:
        return self.slot * self.period

    def run_due(self, now: float) -> None:
        assert now == self.clock.now()
        if now >= self.next_due():
            self.acted.append(now)
            self.slot = int(now // self.period) + 1  # missed slots are skipped


def test_a_jump_lets_each_actor_act_once_at_its_end_then_settles() -> None:
    clock = VirtualClock()
    ticker = Ticker(clock, 0.01)
    order: list[str] = []
    clock.add_actor(ticker)
    clock.add_settle(lambda: order.append(f"settle {len(ticker.acted)}"))
    clock.wait(600.0, threading.Event())
    assert ticker.acted == [600.0]  # not 60 000 frames: the slots in between are skipped
    assert order == ["settle 1"]  # settled after the actors acted


def test_a_step_goes_to_the_next_actor_due_and_never_past_until() -> None:
    clock = VirtualClock()
    fast, slow = Ticker(clock, 0.01), Ticker(clock, 0.1)
    clock.add_actor(fast)
    clock.add_actor(slow)
    clock.step(until=1.0)  # both are due at 0 and have not acted yet: act, stand still
    assert clock.now() == 0.0 and fast.acted == [0.0] and slow.acted == [0.0]
    clock.step(until=1.0)
    assert clock.now() == 0.01 and fast.acted == [0.0, 0.01] and slow.acted == [0.0]
    clock.remove_actor(fast)
    clock.step(until=1.0)
    assert clock.now() == 0.1 and slow.acted == [0.0, 0.1]
    clock.step(until=0.15)
    assert clock.now() == 0.15 and slow.acted == [0.0, 0.1]  # nothing due before until
    clock.remove_actor(slow)
    clock.step(until=3.0)  # no actor: straight to until
    assert clock.now() == 3.0


def test_actors_added_or_removed_during_a_move_change_the_next_move_not_this_one() -> None:
    clock = VirtualClock()
    first, second, late = Ticker(clock, 0.01), Ticker(clock, 0.01), Ticker(clock, 0.01)

    class Rearranger:
        def next_due(self) -> None:
            return None

        def run_due(self, now: float) -> None:
            if now == 1.0:
                clock.remove_actor(second)
                clock.add_actor(late)

    clock.add_actor(first)
    clock.add_actor(Rearranger())
    clock.add_actor(second)
    clock.advance(1.0)
    assert (first.acted, second.acted, late.acted) == ([1.0], [1.0], [])
    clock.advance(1.0)
    assert (first.acted, second.acted, late.acted) == ([1.0, 2.0], [1.0], [2.0])
    clock.remove_actor(second)  # no longer there: nothing to do


def test_a_jump_stops_wherever_a_punctual_actor_is_due_and_every_actor_acts_there() -> None:
    clock = VirtualClock()
    frames, keeper = Ticker(clock, 0.01), Ticker(clock, 2.5)
    keeper.slot = 1  # first due at 2.5
    clock.add_actor(frames)
    clock.add_actor(keeper, punctual=True)
    moves: list[float] = []
    clock.add_settle(lambda: moves.append(clock.now()))
    clock.wait(10.0, threading.Event())
    # Stops at 2.5, 5 and 7.5, then the jump's end.
    assert moves == [2.5, 5.0, 7.5, 10.0]
    assert keeper.acted == [2.5, 5.0, 7.5, 10.0]
    assert frames.acted == [2.5, 5.0, 7.5, 10.0]  # one frame a stop: the rest are skipped
    clock.remove_actor(keeper)
    clock.advance(10.0)
    assert moves[-1] == 20.0 and len(moves) == 5  # no longer punctual: one move
    assert keeper.acted[-1] == 10.0


def test_a_line_clock_stops_where_a_punctual_actor_is_due_before_waking_a_member() -> None:
    clock = LineClock()
    keeper = Ticker(clock, 2.0)
    keeper.slot = 1  # first due at 2
    clock.add_actor(keeper, punctual=True)
    with clock.joined():
        assert clock.wait(5.0, threading.Event())
    assert clock.now() == 5.0
    assert keeper.acted == [2.0, 4.0]  # stops at 2 and 4, then the member wakes at 5


def test_a_paced_clock_gives_the_same_times_but_takes_wall_time() -> None:
    clock = VirtualClock(pace=50.0)
    t0 = time.monotonic()
    assert clock.wait(5.0, threading.Event())  # 0.1 s of wall time at × 50
    assert clock.now() == 5.0
    assert 0.09 <= time.monotonic() - t0 < BOUND_S
    abort = threading.Event()
    threading.Timer(0.05, abort.set).start()
    assert clock.wait(3600.0, abort) is False  # the pacing wait is abortable
    assert time.monotonic() - t0 < BOUND_S


def test_an_aborted_paced_wait_does_not_hold_back_the_waits_after_it() -> None:
    # Virtual time jumps to the end of a wait before pacing it; after an abort the lead
    # must not be paid back in wall time by the cleanup and safe-state waits that follow.
    clock = VirtualClock(pace=1.0)
    abort = threading.Event()

    def abort_once_pacing() -> None:
        while clock.now() < 600.0:  # the wait has jumped ahead and is being paced
            if abort.wait(0.001):
                return
        abort.set()

    aborter = threading.Thread(target=abort_once_pacing)
    aborter.start()
    assert clock.wait(600.0, abort) is False
    aborter.join()
    wall_origin, virtual_origin = clock._pace_origin
    assert virtual_origin == 600.0  # paced on from the present, not from the wait's start
    assert wall_origin <= time.monotonic()
