"""In-process fakes of the bench for the engine tests.

They fake instruments, not the engine: each records what the engine asked of it, so a
test can check that cleanup and safe state really happened. Nothing here sleeps; a fake
that "hangs" blocks on an Event for a bounded time, and the test releases it.
"""

from __future__ import annotations

import threading

from drivers.roles import InterlockState

HANG_BOUND_S = 10.0  # a hung fake gives up after this long even if no test releases it


class FakeSupply:
    """A source (supply or load) implementing ``safe_state()`` and ``is_safe()``.

    ``safe_state_error`` is raised from ``safe_state``; ``hang`` makes ``safe_state`` block
    until ``release`` is set (at most ``HANG_BOUND_S``); ``reads_safe=False`` makes the
    read-back say the output is still on.
    """

    def __init__(
        self,
        *,
        safe_state_error: Exception | None = None,
        hang: bool = False,
        reads_safe: bool = True,
    ) -> None:
        self.safe_state_error = safe_state_error
        self.hang = hang
        self.reads_safe = reads_safe
        self.calls: list[str] = []
        self.output_on = False
        self.volts = 0.0
        self.safe_state_entered = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def _called(self, name: str) -> None:
        with self._lock:
            self.calls.append(name)

    def set_voltage(self, volts: float) -> None:
        """Set the voltage setpoint in V."""
        self._called("set_voltage")
        self.volts = volts

    def set_output(self, on: bool) -> None:
        """Switch the output on or off."""
        self._called(f"set_output({on})")
        self.output_on = on

    def safe_state(self) -> None:
        """Switch the output off (or raise, or hang, as configured)."""
        self._called("safe_state")
        self.safe_state_entered.set()
        if self.hang:
            self.release.wait(HANG_BOUND_S)
        if self.safe_state_error is not None:
            raise self.safe_state_error
        self.output_on = False
        self.volts = 0.0

    def is_safe(self) -> bool:
        """Read back whether the output is off."""
        self._called("is_safe")
        return self.reads_safe and not self.output_on


class FakeDmm:
    """A DMM that reads ``volts``; not output-capable, so safe state never touches it."""

    def __init__(self, volts: float = 0.0) -> None:
        self.volts = volts
        self.calls: list[str] = []

    def measure_dc_voltage(self, *, range_v: float | None = None, nplc: float = 1.0) -> float:
        """Measure DC voltage in V."""
        self.calls.append("measure_dc_voltage")
        return self.volts


class FakeInterlocks:
    """Safety inputs whose state a test may change from any thread."""

    def __init__(self, state: InterlockState | None = None) -> None:
        self._lock = threading.Lock()
        self._state = state or InterlockState(
            door_closed=True, estop_released=True, fixture_clamped=True
        )
        self.reads = 0

    def read(self) -> InterlockState:
        """Read every safety input."""
        with self._lock:
            self.reads += 1
            return self._state

    def set_state(self, state: InterlockState) -> None:
        """Change what the inputs read (thread-safe)."""
        with self._lock:
            self._state = state

    def open_door(self) -> None:
        """Open the fixture door (thread-safe)."""
        self.set_state(InterlockState(door_closed=False, estop_released=True, fixture_clamped=True))

    def set_hv_lamp(self, on: bool) -> None:
        """Switch the HV-present lamp (ignored)."""


def open_interlocks() -> FakeInterlocks:
    """Interlocks that read unsafe: the door is open."""
    return FakeInterlocks(
        InterlockState(door_closed=False, estop_released=True, fixture_clamped=True)
    )
