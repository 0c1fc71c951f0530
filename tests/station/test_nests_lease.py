"""The shared-instrument lease: first come first served, abortable, and time-aware."""

from __future__ import annotations

import threading

import pytest

from station.clock import LineClock
from station.errors import AbortRequested
from station.leases import SharedInstrument


def test_grants_follow_the_order_of_requests_so_no_nest_starves() -> None:
    shared = SharedInstrument("insulation_tester", object())
    turns = 20
    start = threading.Barrier(3)

    def nest(number: int) -> None:
        start.wait()
        for _ in range(turns):  # asks again the moment it gave the instrument back
            shared.acquire(number, threading.Event())
            shared.release(number)

    threads = [threading.Thread(target=nest, args=(n,)) for n in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(shared.requests) == 3 * turns
    assert list(shared.grants) == list(shared.requests)  # first come, first served
    for n in (1, 2, 3):
        assert shared.grants.count(n) == turns
    assert shared.holder is None


def test_a_nest_asking_again_goes_behind_those_already_waiting() -> None:
    shared = SharedInstrument("insulation_tester", object())
    shared.acquire(1, threading.Event())
    waiters = [threading.Thread(target=_take_and_give_back, args=(shared, n)) for n in (2, 3)]
    for number, t in zip((2, 3), waiters, strict=True):
        t.start()
        while shared.requests[-1] != number:  # queued before the next one asks
            threading.Event().wait(0.0005)
    shared.release(1)
    again = threading.Thread(target=_take_and_give_back, args=(shared, 1))
    again.start()
    for t in (*waiters, again):
        t.join(10)
    assert list(shared.grants) == [1, 2, 3, 1]


def _take_and_give_back(shared: SharedInstrument, nest: int) -> None:
    shared.acquire(nest, threading.Event())
    shared.release(nest)


def test_a_waiting_nest_says_who_holds_the_instrument_and_aborts_promptly() -> None:
    shared = SharedInstrument("insulation_tester", object())
    shared.acquire(1, threading.Event())
    abort = threading.Event()
    said: list[str] = []
    outcome: list[str] = []

    def nest_two() -> None:
        try:
            shared.acquire(2, abort, said.append)
            outcome.append("granted")
        except AbortRequested as err:
            outcome.append(str(err))

    t = threading.Thread(target=nest_two)
    t.start()
    while not said:
        threading.Event().wait(0.001)
    assert said == ["waiting for insulation_tester (nest 1 using it)"]
    abort.set()
    t.join(1.0)  # promptly: the wait looks at the abort flag every 20 ms
    assert not t.is_alive()
    assert outcome == ["aborted while waiting for insulation_tester"]
    shared.release(1)
    assert (shared.holder, list(shared._queue)) == (None, [])


def test_a_release_by_a_nest_that_does_not_hold_it_is_a_bug() -> None:
    shared = SharedInstrument("insulation_tester", object())
    with pytest.raises(RuntimeError, match="nest 2 does not hold insulation_tester"):
        shared.release(2)


def test_line_time_moves_when_every_nest_waits_and_parked_nests_let_it_move() -> None:
    clock = LineClock()
    shared = SharedInstrument("insulation_tester", object(), parking=clock)
    ends: dict[str, float] = {}
    both_joined = threading.Barrier(2)

    def holder() -> None:
        with clock.joined():
            shared.acquire(1, threading.Event())
            both_joined.wait()
            clock.wait(60, threading.Event())  # a 60 s IR test
            shared.release(1)
            clock.wait(10, threading.Event())
            ends["holder"] = clock.now()

    def waiter() -> None:
        with clock.joined():
            both_joined.wait()
            while shared.holder != 1:
                threading.Event().wait(0.001)
            shared.acquire(2, threading.Event())  # parked: time moves for the holder
            ends["granted"] = clock.now()
            clock.wait(60, threading.Event())
            shared.release(2)
            ends["waiter"] = clock.now()

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    # Side by side: the waiter got the tester at 60 s, the holder's 10 s ran beside its test.
    assert ends == {"granted": 60.0, "holder": 70.0, "waiter": 120.0}


def test_time_moves_on_for_the_other_nests_while_one_waits_for_its_operator() -> None:
    clock = LineClock()
    answered = threading.Event()
    soaked: list[float] = []
    both = threading.Barrier(2)

    def prompting() -> None:
        with clock.joined():
            both.wait()
            with clock.parked():  # the operator reads the prompt
                assert answered.wait(10)

    def soaking() -> None:
        with clock.joined():
            both.wait()
            clock.wait(600, threading.Event())
            soaked.append(clock.now())
            answered.set()

    threads = [threading.Thread(target=prompting), threading.Thread(target=soaking)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert soaked == [600.0]  # without parking, the soak would wait for the answer forever
