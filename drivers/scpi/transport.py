"""The transport interface every driver is given (it never opens pyvisa itself).

:class:`Transport` is what a driver sees; :class:`LineTransport` is what the VISA and
serial transports are built on.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol, Self

from drivers import loopback
from drivers.errors import InstrumentConnectionError, InstrumentProtocolError

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


class LineTransport(ABC):
    """Base of the line transports: framing, tracing, ASCII replies, closing, the timeout.

    A subclass only moves bytes, translating its library's exceptions as it does:
    :meth:`_send` writes one framed message, :meth:`_receive` reads one reply up to and
    including the read terminator (or raises :class:`InstrumentTimeout`),
    :meth:`_prepare_query` drops stale input before a query, :meth:`_apply_timeout` passes
    a new :attr:`timeout_s` on and :meth:`_release` frees the connection. Calls are
    serialised by one lock, so ``safe_state()`` from another thread cannot interleave its
    messages with a query in flight.
    """

    not_ascii_hint = ""
    """Appended to the error for a reply that is not ASCII (a likely cause, if any)."""

    def __init__(
        self,
        resource: str,
        *,
        timeout_s: float,
        read_termination: str,
        write_termination: str,
        tracer: Tracer | None,
    ) -> None:
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
        if not read_termination or not write_termination:
            raise ValueError("read_termination and write_termination must not be empty")
        self.resource = resource
        self._tracer = tracer
        self._read_termination = read_termination
        self._read_term = read_termination.encode("ascii")
        # A terminator made of CR/LF goes with the rstrip below; only another needs its own.
        self._strip_term_first = bool(read_termination.strip("\r\n"))
        self._write_termination = write_termination
        self._lock = threading.RLock()
        self._closed = False
        self._timeout_s = float(timeout_s)
        self._pump: loopback.Pump | None = None
        """Set by a subclass whose peer answers on this thread (:mod:`drivers.loopback`)."""

    @property
    def timeout_s(self) -> float:
        """Control the I/O timeout in s (> 0)."""
        return self._timeout_s

    @timeout_s.setter
    def timeout_s(self, value: float) -> None:
        if not value > 0:
            raise ValueError(f"timeout_s must be > 0, got {value!r}")
        with self._lock:
            self._timeout_s = float(value)
            if not self._closed:
                self._apply_timeout()

    def write(self, message: str) -> None:
        """Send one message; the write terminator is added here."""
        with self._lock:
            self._write(message)

    def read(self) -> str:
        """Read one reply, without its terminator."""
        with self._lock:
            return self._read("<read>")

    def query(self, message: str) -> str:
        """Discard stale input, send one message and read its reply, with nothing in between."""
        with self._lock:
            if self._closed:
                raise self._closed_error(message)
            self._prepare_query(message)
            self._write(message)
            return self._read(message)

    def close(self) -> None:
        """Release the connection; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what a subclass gives --------------------------------------------------------

    @abstractmethod
    def _send(self, data: bytes, message: str) -> None: ...

    @abstractmethod
    def _receive(self, command: str) -> bytes: ...

    def _prepare_query(self, message: str) -> None:  # noqa: B027 - optional hook
        """Drop input left over from an earlier timed-out reply (none by default)."""

    @abstractmethod
    def _apply_timeout(self) -> None: ...

    @abstractmethod
    def _release(self) -> None: ...

    # -- built on it --------------------------------------------------------------------

    def _write(self, message: str) -> None:
        if self._write_termination in message:
            raise ValueError(f"message {message!r} contains the write terminator")
        data = (message + self._write_termination).encode("ascii")
        if self._closed:
            raise self._closed_error(message)
        if self._tracer is not None:
            self._tracer(self.resource, ">", message)
        self._send(data, message)
        if self._pump is not None:
            self._pump(len(data))

    def _read(self, command: str) -> str:
        if self._closed:
            raise self._closed_error(command)
        raw = self._receive(command)
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError as err:
            raise InstrumentProtocolError(
                f"reply to {command!r} is not ASCII: {raw!r}{self.not_ascii_hint}",
                resource=self.resource,
            ) from err
        if self._strip_term_first and text.endswith(self._read_termination):
            text = text[: -len(self._read_termination)]
        # Instruments that end lines with CRLF while the terminator is LF leave a CR.
        text = text.rstrip("\r\n")
        if self._tracer is not None:
            self._tracer(self.resource, "<", text)
        return text

    # The open check is inlined on the message path: a write-then-query on loopback costs
    # about 10 µs, so each extra Python call there is a visible share of it.
    def _closed_error(self, command: str) -> InstrumentConnectionError:
        return InstrumentConnectionError(
            f"transport is closed; cannot send {command!r}", resource=self.resource
        )
