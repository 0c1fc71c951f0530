"""What the BMS client does while it waits: let the station's time move on.

On a real line time passes on its own while a step waits for the BMS. Under the engine's
virtual clock it passes only when the engine thread waits, and that thread is the one blocked
inside the BMS client: the simulated BMS would never send the next pages nor finish a
precharge. So the client takes an ``idle`` callable and calls it while a call is starved.

The contract:

- ``idle()`` is called only from the thread making the waiting call (a step's thread), and
  only while that call has nothing to return yet: a snapshot or reading waiting for frames,
  a UDS request waiting for its response (also after 0x78 responsePending). The
  TesterPresent keeper never calls it: background threads must not move the engine's time.
- It is called about every :data:`IDLE_INTERVAL_S` of wall time, after a wait of that
  length came back empty; between calls the client waits on its condition or queue, so a
  frame that arrives meanwhile is seen at once and nothing busy-spins.
- It runs inside a client call, so it must not call the BMS client itself. Frames keep
  being received meanwhile (the monitor's lock is not held); a UDS request keeps holding the
  lock that serialises requests, so the keeper's TesterPresent waits for that request anyway.
- It should return promptly; what it does is the station's business. The station passes
  ``lambda: clock.advance(0.005)`` for a virtual clock and ``None`` otherwise: waiting for
  the BMS then costs virtual time, as it costs real time on a real line.
- The wall-clock timeouts stay the upper bound: a dead BMS still times out, idle or not.
"""

from __future__ import annotations

from collections.abc import Callable

Idle = Callable[[], None]
"""Let time move on a little while the client waits (see the module docstring)."""

IDLE_INTERVAL_S = 0.002
"""Wall-clock seconds between ``idle()`` calls while a call is starved."""
