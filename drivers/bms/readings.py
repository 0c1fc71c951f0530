"""What the signal monitor reports: readings, message health and observed periods."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import BmsError


class BmsWaitAborted(BmsError):
    """A wait for BMS data was abandoned because the abort Event was set."""


class BmsNotAvailable(BmsError):
    """The BMS sent a role's "not available" value (SNA, Invalid, Init…): no measurement."""


@dataclass(frozen=True)
class Reading:
    """One role's latest value.

    ``value`` is SI (V, A, Ω, %, °C) in the station sign convention, or None when the raw
    value means "not available" (declared in the description, or a VAL_ label such as SNA):
    then there is no number at all. ``raw`` is the DBC raw integer, ``label`` its VAL_ text
    if any; ``above_range`` means the description declares this raw value "more than the
    BMS can measure", i.e. "at least this much" rather than a measurement.
    """

    role: str
    value: float | None
    raw: int
    label: str | None
    received_at: float
    above_range: bool = False

    def number(self) -> float:
        """Return the value; raise BmsNotAvailable if the BMS sent "not available"."""
        if self.value is None:
            label = f" {self.label!r}" if self.label is not None else ""
            raise BmsNotAvailable(
                f"the BMS reports {self.role} as not available (raw {self.raw}{label}): "
                "no measurement, so nothing can be judged"
            )
        return self.value


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
