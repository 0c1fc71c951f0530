"""A barcode scanner in serial (RS-232 or USB-CDC "virtual COM") mode.

Scanners in this mode send each decoded code followed by a configurable suffix, usually
CR. Nothing is sent to the scanner; it only talks.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from drivers.errors import InstrumentConnectionError, InstrumentProtocolError
from drivers.scpi.serial import close_port, open_serial
from drivers.scpi.transport import Tracer

_POLL_S = 0.05
"""How long one port read may block, so a wait can end at its own deadline."""

_WHITESPACE = b" \t\r\n"


class BytePort(Protocol):
    """The part of ``serial.Serial`` the scanner uses (tests inject their own)."""

    timeout: float | None

    def read(self, size: int = 1) -> bytes: ...

    def close(self) -> None: ...


class SerialScanner:
    """A serial barcode scanner: :meth:`read_code` returns the next scanned code.

    ``port`` is any serial resource (``ASRL/dev/ttyACM0::INSTR``, ``/dev/ttyACM0``,
    ``COM4``, a pyserial URL). ``terminator`` is the scanner's suffix (CR by default;
    a CR LF suffix works too, the LF is stripped as whitespace). ``timeout_s`` is the
    default wait of :meth:`read_code`. ``char_gap_s`` is how long a started code may
    pause between characters before it counts as incomplete. ``serial_port`` injects an
    already open ``serial.Serial``-like object (tests); ``port`` then only names it.

    Codes must be printable ASCII; anything else (line noise, a wrong baud rate, GS1
    group separators) raises :class:`InstrumentProtocolError` quoting the bytes.
    """

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: float = 1,
        terminator: str = "\r",
        timeout_s: float = 2.0,
        char_gap_s: float = 0.2,
        tracer: Tracer | None = None,
        serial_port: BytePort | None = None,
    ) -> None:
        if not terminator:
            raise ValueError("terminator must not be empty")
        if not timeout_s > 0 or not char_gap_s > 0:
            raise ValueError(f"timeouts must be > 0, got {timeout_s!r}, {char_gap_s!r}")
        self.resource = port
        self.timeout_s = float(timeout_s)
        self.char_gap_s = float(char_gap_s)
        self._terminator = terminator.encode("ascii")
        self._tracer = tracer
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._closed = False
        if serial_port is None:
            serial_port = open_serial(
                port,
                what="scanner port",
                advice="check the port name, that the scanner is in serial/virtual-COM mode "
                "and no other program holds it",
                baudrate=baudrate,
                bytesize=bytesize,
                parity=parity,
                stopbits=stopbits,
                timeout=_POLL_S,
            )
        self._port: BytePort = serial_port
        self._port.timeout = _POLL_S

    @classmethod
    def from_resource(
        cls, resource: str, *, timeout_s: float = 2.0, tracer: Tracer | None = None, **options: Any
    ) -> SerialScanner:
        """Open the scanner on ``resource`` (the registry's way in)."""
        return cls(resource, timeout_s=timeout_s, tracer=tracer, **options)

    def connect(self) -> None:
        """Do nothing: a scanner only talks, so there is no remote mode to take."""

    def read_code(self, timeout_s: float | None = None) -> str | None:
        """Wait up to ``timeout_s`` (default: the constructor's) for one code.

        Return the code without its terminator and surrounding whitespace, or None when
        nothing was scanned in time. A code still arriving at the deadline is waited for
        while characters keep coming (at most ``char_gap_s`` apart).
        """
        wait_s = self.timeout_s if timeout_s is None else timeout_s
        if not wait_s >= 0:
            raise ValueError(f"timeout_s must be ≥ 0, got {timeout_s!r}")
        with self._lock:
            if self._closed:
                raise InstrumentConnectionError("scanner port is closed", resource=self.resource)
            deadline = time.monotonic() + wait_s
            last_byte_at = time.monotonic()
            while True:
                code = self._take_code()
                if code is not None:
                    return code
                chunk = self._read_chunk()  # at least one read, even with timeout_s=0
                now = time.monotonic()
                if chunk:
                    self._buffer += chunk
                    last_byte_at = now
                    continue
                if now >= deadline and (
                    not self._buffer.strip(_WHITESPACE) or now - last_byte_at >= self.char_gap_s
                ):
                    break
            partial = bytes(self._buffer).strip(_WHITESPACE)
            self._buffer.clear()
            if partial:
                raise InstrumentProtocolError(
                    f"incomplete code {partial!r}: no terminator {self._terminator!r} "
                    "arrived; check the scanner's suffix setting",
                    resource=self.resource,
                )
            return None

    def close(self) -> None:
        """Close the port; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            close_port(self._port)

    def __enter__(self) -> SerialScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_chunk(self) -> bytes:
        waiting = getattr(self._port, "in_waiting", 0)
        try:
            return bytes(self._port.read(max(1, int(waiting))))
        except OSError as err:  # serial.SerialException is an OSError
            raise InstrumentConnectionError(
                f"reading the scanner failed: {err}; check the cable", resource=self.resource
            ) from err

    def _take_code(self) -> str | None:
        """Pop complete codes off the buffer; return the first non-empty one."""
        while True:
            index = self._buffer.find(self._terminator)
            if index < 0:
                return None
            raw = bytes(self._buffer[:index])
            del self._buffer[: index + len(self._terminator)]
            code = raw.strip(_WHITESPACE)
            if not code:
                continue  # a bare terminator or the LF of a CR LF suffix
            if any(not 0x20 <= byte <= 0x7E for byte in code):
                raise InstrumentProtocolError(
                    f"scanned code {raw!r} has non-printable bytes; check the baud rate "
                    "and that the scanner sends plain ASCII",
                    resource=self.resource,
                )
            text = code.decode("ascii")
            if self._tracer is not None:
                self._tracer(self.resource, "<", text)
            return text
