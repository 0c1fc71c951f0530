"""What a simulated ECU implements for :class:`~drivers.sim.uds_server.UdsServer`.

The server does sessions, security, parsing and the NRC order; the ECU answers through a
:class:`DiagnosticApplication` and refuses with :class:`NegativeResponse`. A routine that
takes time returns :class:`Pending`; the server sends 0x78 until it is done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol


class Nrc(IntEnum):
    """Negative response codes the server uses (ISO 14229-1 annex A)."""

    GENERAL_REJECT = 0x10
    SERVICE_NOT_SUPPORTED = 0x11
    SUBFUNCTION_NOT_SUPPORTED = 0x12
    INCORRECT_LENGTH = 0x13
    BUSY_REPEAT_REQUEST = 0x21
    CONDITIONS_NOT_CORRECT = 0x22
    REQUEST_SEQUENCE_ERROR = 0x24
    REQUEST_OUT_OF_RANGE = 0x31
    SECURITY_ACCESS_DENIED = 0x33
    INVALID_KEY = 0x35
    EXCEEDED_ATTEMPTS = 0x36
    DELAY_NOT_EXPIRED = 0x37
    RESPONSE_PENDING = 0x78
    SERVICE_NOT_SUPPORTED_IN_SESSION = 0x7F


class NegativeResponse(Exception):
    """Answer the request with negative response code ``nrc``."""

    def __init__(self, nrc: int, reason: str = "") -> None:
        self.nrc = nrc
        super().__init__(f"NRC 0x{nrc:02X}{': ' + reason if reason else ''}")


@dataclass
class Pending:
    """A routine that finishes later: ``poll()`` returns its status record when done.

    ``poll`` returns ``None`` while still running and raises :class:`NegativeResponse` if it
    fails. The server polls it from its own thread and sends 0x78 meanwhile.
    """

    poll: Callable[[], bytes | None]


class DiagnosticApplication(Protocol):
    """What the ECU behind the server knows; every method is called from the server thread."""

    def online(self) -> bool:
        """Return False while the ECU is silent (no ISO-TP, no answers)."""

    def read_did(self, did: int) -> bytes | None:
        """Read ``did``; ``None`` if the ECU does not have it."""

    def writable_did_length(self, did: int) -> int | None:
        """Get the data length of writable ``did``; ``None`` if unknown or read-only."""

    def write_did(self, did: int, data: bytes) -> None:
        """Write ``did`` (length already checked); raise NegativeResponse(0x31) if out of range."""

    def has_routine(self, rid: int) -> bool:
        """Return whether routine ``rid`` exists."""

    def routine_control(self, control: int, rid: int, option: bytes) -> bytes | Pending:
        """Start (1), stop (2) or get results (3) of ``rid``; return the status record."""

    def read_dtcs(self) -> list[tuple[int, int]]:
        """Get the stored DTCs as (3-byte code, status byte)."""

    def clear_dtcs(self, group: int) -> None:
        """Clear DTC group ``group`` (0xFFFFFF = all); raise NegativeResponse(0x31) if unknown."""

    def ecu_reset(self) -> None:
        """Reset the ECU (called after the positive response went out)."""
