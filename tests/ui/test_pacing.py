"""Demo pacing (ui.pacing): a virtual-time run held to SPEED × real time, never racing."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from station.events import Progress, RunStarted
from ui.pacing import Pacer

pytestmark = pytest.mark.ui
STARTED = RunStarted(
    **{f.name: "" for f in dataclasses.fields(RunStarted) if f.default is dataclasses.MISSING}
)
TICK = Progress("run", "step", 0.5)


class Clocks:
    """A virtual clock and a wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.virtual = 0.0
        self.wall = 100.0


def timed(pacer: Pacer) -> float:
    t0 = time.monotonic()
    pacer(TICK)
    return time.monotonic() - t0


def test_an_event_ahead_of_schedule_waits_for_it() -> None:
    clocks = Clocks()
    pacer = Pacer(lambda: clocks.virtual, 20.0, wall=lambda: clocks.wall)
    pacer(STARTED)
    clocks.virtual = 4.0  # 4 s of pack time at ×20 is due 0.2 s after the start
    assert 0.15 < timed(pacer) < 1.0
    clocks.wall += 0.2  # on schedule now: nothing to wait for
    assert timed(pacer) < 0.05


def test_after_a_slow_stretch_the_run_does_not_race_to_catch_up() -> None:
    clocks = Clocks()
    pacer = Pacer(lambda: clocks.virtual, 20.0, wall=lambda: clocks.wall)
    pacer(STARTED)
    clocks.wall += 60.0  # a prompt kept the operator busy for a minute
    clocks.virtual = 1.0
    assert timed(pacer) < 0.05
    clocks.virtual = 5.0  # paced again, from the end of the prompt
    assert 0.15 < timed(pacer) < 1.0


def test_stop_wakes_the_engine_thread_and_pacing_resumes_with_the_next_run() -> None:
    clocks = Clocks()
    pacer = Pacer(lambda: clocks.virtual, 1.0, wall=lambda: clocks.wall)
    pacer(STARTED)
    clocks.virtual = 3600.0  # an hour ahead
    engine = threading.Thread(target=pacer, args=(TICK,))
    engine.start()
    engine.join(0.05)  # the pacer holds the engine thread: an hour ahead of the wall
    assert engine.is_alive()
    pacer.stop()  # an abort: cleanup runs unpaced
    engine.join(1.0)
    assert not engine.is_alive()
    assert timed(pacer) < 0.05
    pacer(STARTED)
    clocks.virtual += 0.2
    assert 0.15 < timed(pacer) < 1.0


def test_the_speed_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(lambda: 0.0, 0.0)
