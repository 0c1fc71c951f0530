"""Tests for station.clock: abortable waits on real and virtual time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from station.clock import RealClock, VirtualClock, iso

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
