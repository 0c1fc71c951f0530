"""The transport interface every driver is given (it never opens pyvisa itself)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Tracer = Callable[[str, str, str], None]
"""Called as ``tracer(resource, direction, text)`` for every message; direction is
``">"`` (to the instrument) or ``"<"`` (from it). A run uses it to keep a transcript."""


class Transport(Protocol):
    """Line-oriented message I/O with one instrument; every call has a timeout.

    Implementations translate their library's exceptions into ``drivers.errors`` once,
    here, so drivers and steps only ever see the station's error tree.
    """

    resource: str
    timeout_s: float

    def write(self, message: str) -> None:
        """Send one message (the terminator is added by the transport)."""
        ...

    def read(self) -> str:
        """Read one reply, without its terminator."""
        ...

    def query(self, message: str) -> str:
        """Send one message and read its reply."""
        ...

    def close(self) -> None:
        """Release the connection; safe to call twice."""
        ...
