"""Demo pacing: a virtual-time run on the virtual bench, watchable by a person.

``station ui --sim`` runs on virtual time (the engine and the simulated pack agree on a
clock that jumps instead of sleeping) and holds the run back to at most ``speed`` × real
time with ``Pacer``, an engine listener that sleeps on the engine thread when an event
arrives ahead of schedule. The pack and the engine see exactly the run they would see at
full virtual speed, so a demo shows the same measurements as CI.

``station run --sim --speed`` paces inside the clock instead (``VirtualClock(pace=…)``, on
each wait); both give the measurements of an unpaced run, because the virtual bench runs in
lockstep with virtual time either way. This pacer also shows events evenly to a person.

The pacer never catches up: after a prompt or a slow stretch it restarts its schedule
from the present, so the run never races to make up lost time. ``stop()`` ends pacing
for the rest of the run (an abort, the window closing); the next run paces again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from station.events import Event, RunStarted


class Pacer:
    """An engine listener holding a run on ``now`` (virtual seconds) to ``speed`` × real time.

    ``wall`` is the real clock (monotonic seconds); tests pass a fake.
    """

    def __init__(
        self,
        now: Callable[[], float],
        speed: float,
        *,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError("the demo speed must be positive")
        self.now = now
        self.speed = speed
        self.wall = wall
        self._stopped = threading.Event()
        self._origin: tuple[float, float] | None = None  # (wall, virtual)

    def __call__(self, event: Event) -> None:
        """Engine listener: sleep until ``event`` is due at the demo speed."""
        if isinstance(event, RunStarted):
            self._stopped.clear()
            self._origin = None
        if self._stopped.is_set():
            return
        wall, virtual = self.wall(), self.now()
        if self._origin is None:
            self._origin = (wall, virtual)
            return
        due = self._origin[0] + (virtual - self._origin[1]) / self.speed
        delay = due - wall
        if delay <= 0:
            self._origin = (wall, virtual)  # behind schedule: go on from here, never race
            return
        self._stopped.wait(delay)

    def stop(self) -> None:
        """Stop pacing until the next run starts (wakes a sleeping engine thread)."""
        self._stopped.set()
