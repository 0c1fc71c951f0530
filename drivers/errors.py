"""The error tree shared by the whole station.

It lives in ``drivers`` because dependencies point one way (ui → station → drivers):
the hardware layer raises these, and ``station.errors`` adds the station's own branches
under the same root. Every user-facing error is one sentence: what, where, what to do.

::

    StationError
    ├── ConfigError                 (station.errors) station config is wrong
    ├── SequenceError               (station.errors) sequence or limit file is wrong
    ├── RunRefused                  (station.errors) a run may not start (calibration, serial…)
    ├── StoreError                  (station.errors) results database problem
    ├── AbortRequested              (station.errors) operator or interlock abort
    ├── InstrumentError             an instrument could not do what was asked
    │   ├── InstrumentTimeout       no reply within the I/O timeout
    │   ├── InstrumentConnectionError   resource cannot be opened or link dropped
    │   ├── InstrumentProtocolError     reply could not be parsed (raw reply in message)
    │   └── InstrumentReportedError     the instrument's own error queue (SYST:ERR?)
    │       └── MeterOverload           the input is above the meter's range
    ├── BmsError                    the pack's BMS (CAN, UDS) misbehaved
    │   ├── BmsTimeout              no frame or UDS reply in time
    │   └── BmsNegativeResponse     UDS negative response code
    └── InterlockError              interlocks read unsafe; HV refused
"""

from __future__ import annotations


class StationError(Exception):
    """Root of every error the station raises on purpose."""


class InstrumentError(StationError):
    """An instrument could not do what was asked.

    ``resource`` names the instrument (VISA resource string or role) when known.
    """

    def __init__(self, message: str, *, resource: str | None = None) -> None:
        self.resource = resource
        super().__init__(f"{resource}: {message}" if resource else message)


class InstrumentTimeout(InstrumentError):
    """No reply arrived within the I/O timeout."""


class InstrumentConnectionError(InstrumentError):
    """The resource cannot be opened, or the link dropped."""


class InstrumentProtocolError(InstrumentError):
    """A reply could not be parsed; the raw reply is quoted in the message."""


class InstrumentReportedError(InstrumentError):
    """The instrument reported an error through its own error queue."""

    def __init__(self, message: str, *, code: int | None = None, resource: str | None = None):
        self.code = code
        super().__init__(message, resource=resource)


class BmsError(StationError):
    """The pack's BMS misbehaved on CAN or UDS."""


class BmsTimeout(BmsError):
    """No CAN frame or UDS reply arrived in time."""


class BmsNegativeResponse(BmsError):
    """The BMS answered a UDS request with a negative response code."""

    def __init__(self, message: str, *, nrc: int) -> None:
        self.nrc = nrc
        super().__init__(message)


class InterlockError(StationError):
    """The interlocks read unsafe, so a hazardous action was refused."""


class MeterOverload(InstrumentReportedError):
    """A meter reported overload: its input is above the range (a reading, not a number)."""
