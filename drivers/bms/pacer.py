"""The pacer the BMS client steps while it waits under a lockstep virtual clock.

On a real line time passes on its own while a step waits for the BMS. Under the station's
virtual clock it passes only when someone moves it, and the thread waiting inside the BMS
client is the one that would: the simulated BMS acts only as that clock moves (it is one of
the clock's actors, :mod:`drivers.sim.clock`). So the client takes a :class:`Pacer` and, when
a call has nothing to return yet, asks it to step to the next moment something is due.

The contract:

- ``pacer.step(until)`` moves the clock to the next time a simulated actor is due (never past
  ``until``), lets the actors act there and returns once what they sent has reached the
  client's listeners (the clock's settle hook, :meth:`drivers.bms.bms.Bms.settle`). No
  wall-clock wait decides how far time moves, so the same calls give the same times.
- It is called only from the thread making the waiting call (a step's thread): a reading or
  snapshot waiting for frames (timeouts are then in the pacer's time), and a UDS request
  waiting for a routine's final answer after 0x78 responsePending. Before a first answer the
  client waits without stepping: the ECU answers while time stands still. The TesterPresent
  keeper never steps: under a pacer it is one of the clock's actors (a punctual one, see
  :class:`PacedClock`), not a thread of its own.
- It runs inside a client call, so it must not call the BMS client itself. Frames keep being
  received meanwhile (the monitor's lock is not held); a UDS request keeps holding the lock
  that serialises requests.
- A wall-clock bound stays (:data:`WALL_BOUND_S` beyond the timeout) so that a simulated side
  that stops answering cannot hang a step.

Without a pacer (a real or scaled clock) every wait is a wall-clock wait.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from drivers.sim.clock import Actor


class Pacer(Protocol):
    """The station's lockstep virtual clock, as the BMS client sees it."""

    def now(self) -> float:
        """Get the virtual time in s."""
        ...

    def step(self, until: float) -> None:
        """Move to the next time a simulated actor is due (not past ``until``) and act there."""
        ...


WALL_BOUND_S = 10.0
"""Wall-clock seconds a paced wait may take beyond its timeout before it gives up."""


class PacedClock(Pacer, Protocol):
    """A pacer that also drives actors: the UDS client's TesterPresent keeper is one.

    The keeper is ``punctual``: the clock does not jump past the time it is due, so that its
    keep-alive reaches the ECU within the S3 timeout however long a step waits in one jump
    (:class:`station.clock.VirtualClock`).
    """

    def add_actor(self, actor: Actor, *, punctual: bool = False) -> None:
        """Let ``actor`` act whenever time moves."""
        ...

    def remove_actor(self, actor: Actor) -> None:
        """Stop driving ``actor``."""
        ...
