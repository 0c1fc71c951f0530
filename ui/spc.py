"""Production statistics for the screens: the station's (``station.stats``), and formatting.

The definitions (verdict run, tested, passed, first-pass yield over first attempts, Cpk)
are in ``station/stats.py`` and docs/ui.md; the CLI's ``station results stats`` uses the
same functions.
"""

from __future__ import annotations

from station.stats import (
    SHIFT_STARTS,
    Capability,
    Counters,
    capability,
    counters,
    shift_start,
)
from station.store_schema import VERDICTS

__all__ = [
    "SHIFT_STARTS",
    "VERDICTS",
    "Capability",
    "Counters",
    "capability",
    "counters",
    "format_yield",
    "shift_start",
]


def format_yield(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"
