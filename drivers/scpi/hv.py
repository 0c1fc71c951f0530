"""What the HV safety testers (insulation resistance, withstand) share.

Both supported testers (Chroma 1905x, Kikusui TOS9300) report a meter value beyond range
as SCPI's over-range number; :func:`reading_or_overflow` turns it into a value that can
never pass a limit by accident. Both are made safe the same way (:class:`HvTester`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

from drivers.scpi.instrument import OVERFLOW, ScpiInstrument


def reading_or_overflow(value: float, verdict: str) -> float:
    """Map an over-range meter reading (±9.9E+37 or beyond) to ``inf`` or ``nan``.

    After a completed test (``verdict`` PASS, or HIGH = above an upper limit) overflow means
    "above the meter's range": ``math.inf``. A leakage above range fails any upper limit; an
    IR above range is what an open lead reads, so the IR step never judges it (no contact
    proven, ERROR) — the drivers program an upper IR judgement so it is a HIGH fail anyway.
    After an aborted, refused or otherwise failed test the meter holds no measurement, so
    the reading is ``math.nan``, which
    compares false against every limit. A reading within range is returned as it is.
    """
    if abs(value) < OVERFLOW:
        return value
    return math.inf if verdict in ("PASS", "HIGH") else math.nan


class HvTester(ScpiInstrument, ABC):
    """Base of a safety tester: its safe state is no test running.

    A tester holds no HV setpoint between tests, so :meth:`safe_state` only stops a test
    and :meth:`is_safe` reads back that none runs; each model gives :meth:`stop` and
    :meth:`test_running`.
    """

    @abstractmethod
    def stop(self) -> None:
        """Stop any running test; the tester switches HV off."""

    @abstractmethod
    def test_running(self) -> bool:
        """Return whether a test may still hold HV."""

    def safe_state(self) -> None:
        """Stop any running test; a safety tester holds no HV setpoint between tests."""
        self.stop()

    def is_safe(self) -> bool:
        """Read back that no test is running."""
        return not self.test_running()
