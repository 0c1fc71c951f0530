"""What the signal monitor reports: readings, message health and observed periods."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import BmsError


class BmsWaitAborted(BmsError):
    """A wait for BMS data was abandoned because the abort Event was set."""


@dataclass(frozen=True)
class Reading:
    """One role's latest value.

    ``value`` is SI (V, A, Ω, %, °C) in the station sign convention; ``raw`` is the DBC raw
    integer, ``label`` its VAL_ text if any; ``saturated`` means the raw value is the top
    of its range, i.e. "at least this much" rather than a measurement.
    """

    role: str
    value: float
    raw: int
    label: str | None
    received_at: float
    saturated: bool


@dataclass(frozen=True)
class MessageStatus:
    """Health of one mapped message."""

    name: str
    frame_id: int
    cycle_s: float | None
    frames: int
    last_received: float | None
    stale: bool
    decode_errors: int
    alive_violations: int


@dataclass(frozen=True)
class PeriodStats:
    """Observed spacing of one message's frames (s); ``jitter_s`` is the standard deviation."""

    message: str
    frames: int
    expected_s: float | None
    mean_s: float | None
    jitter_s: float | None
    min_s: float | None
    max_s: float | None
