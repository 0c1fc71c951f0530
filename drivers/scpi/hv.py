"""What the HV safety testers (insulation resistance, withstand) share.

Both supported testers (Chroma 1905x, Kikusui TOS9300) report a meter value beyond range
as SCPI's over-range number; :func:`reading_or_overflow` turns it into a value that can
never pass a limit by accident.
"""

from __future__ import annotations

import math

from drivers.scpi.instrument import OVERFLOW


def reading_or_overflow(value: float, verdict: str) -> float:
    """Map an over-range meter reading (±9.9E+37 or beyond) to ``inf`` or ``nan``.

    After a completed test (``verdict`` PASS, or HIGH = above an upper limit) overflow means
    "above the meter's range": ``math.inf`` (an IR above range is a very high resistance, a
    leakage above range fails any upper limit). After an aborted, refused or otherwise
    failed test the meter holds no measurement, so the reading is ``math.nan``, which
    compares false against every limit. A reading within range is returned as it is.
    """
    if abs(value) < OVERFLOW:
        return value
    return math.inf if verdict in ("PASS", "HIGH") else math.nan
