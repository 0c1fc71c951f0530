"""Serial transport: SCPI over RS-232/USB-CDC with pyserial, settings stated explicitly.

Accepts a VISA-style ``ASRL/dev/ttyUSB0::INSTR``, a plain ``/dev/ttyUSB0`` or ``COM3``,
or any pyserial URL (``loop://``, ``socket://host:port`` for a serial device server,
``rfc2217://…``). pyserial exceptions are translated here, once, into ``drivers.errors``.
"""

from __future__ import annotations

import contextlib
import re
import socket
import sys
import threading
from typing import Any

import serial

from drivers.errors import (
    InstrumentConnectionError,
    InstrumentProtocolError,
    InstrumentTimeout,
)
from drivers.scpi.transport import Tracer

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_ASRL = re.compile(r"^ASRL(?P<board>.+?)(?:::INSTR)?$", re.IGNORECASE)


def is_serial_resource(resource: str) -> bool:
    """Return whether ``resource`` names a serial port (ASRL, device path, COMn, URL)."""
    text = resource.strip()
    return bool(
        _ASRL.match(text)
        or text.startswith("/dev/")
        or re.fullmatch(r"COM\d+", text, re.IGNORECASE)
        or _URL.match(text)
    )


def port_from_resource(resource: str) -> str:
    """Turn a serial resource into the name pyserial opens.

    ``ASRL/dev/ttyUSB0::INSTR`` → ``/dev/ttyUSB0``; ``ASRL3::INSTR`` → ``COM3`` on
    Windows; ``/dev/…``, ``COMn`` and pyserial URLs are returned unchanged.
    """
    text = resource.strip()
    match = _ASRL.match(text)
    if match is None:
        if not is_serial_resource(text):
            raise ValueError(
                f"{resource!r} is not a serial resource "
                "(expected ASRL…::INSTR, /dev/…, COMn or a pyserial URL such as loop://)"
            )
        return text
    board = match.group("board")
    if board.isdigit():
        if sys.platform == "win32":
            return f"COM{board}"
        raise ValueError(
            f"{resource!r} names port number {board}; on this system give the device "
            f"path instead, e.g. ASRL/dev/ttyS{max(int(board) - 1, 0)}::INSTR"
        )
    return board


def close_port(port: Any) -> None:
    """Close a pyserial port, ignoring errors (the port is gone either way).

    pyserial's ``socket://`` close() skips closing its socket when ``shutdown()`` fails,
    which it does once the device server has dropped the link; close that socket too.
    """
    sock = getattr(port, "_socket", None)
    with contextlib.suppress(OSError):  # serial.SerialException is an OSError
        port.close()
    if isinstance(sock, socket.socket):
        sock.close()


class SerialTransport:
    """Line-oriented SCPI I/O over a serial port.

    ``port`` is any form accepted by :func:`port_from_resource`; the serial settings
    (``baudrate``, ``bytesize``, ``parity`` N/E/O/M/S, ``stopbits`` 1/1.5/2) are given
    explicitly because a serial port cannot discover them. ``timeout_s`` bounds each
    read; a read that ends without the terminator raises :class:`InstrumentTimeout`
    quoting whatever partial bytes arrived.

    Before each query, input left over from an earlier timed-out reply is discarded so a
    late answer can never be taken for the reply to the next question.
    """

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: float = 1,
        timeout_s: float = 2.0,
        read_termination: str = "\n",
        write_termination: str = "\n",
        tracer: Tracer | None = None,
    ) -> None:
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
        if not read_termination or not write_termination:
            raise ValueError("read_termination and write_termination must not be empty")
        self.resource = port
        self._tracer = tracer
        self._read_term = read_termination.encode("ascii")
        self._write_termination = write_termination
        self._lock = threading.RLock()
        self._closed = False
        self._timeout_s = float(timeout_s)
        name = port_from_resource(port)
        try:
            self._serial: Any = serial.serial_for_url(
                name,
                baudrate=baudrate,
                bytesize=bytesize,
                parity=parity,
                stopbits=stopbits,
                timeout=self._timeout_s,
                write_timeout=self._timeout_s,
            )
        except (ValueError, serial.SerialException, OSError) as err:
            raise InstrumentConnectionError(
                f"cannot open serial port {name!r} ({baudrate} {bytesize}{parity}{stopbits}): "
                f"{err}; check the port name, that no other program holds it, and the cable",
                resource=port,
            ) from err
        # A serial device server reached through socket:// has the same Nagle problem
        # as a LAN instrument (see drivers/scpi/visa.py).
        sock = getattr(self._serial, "_socket", None)
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def timeout_s(self) -> float:
        """Control the read timeout in s (> 0)."""
        return self._timeout_s

    @timeout_s.setter
    def timeout_s(self, value: float) -> None:
        if not value > 0:
            raise ValueError(f"timeout_s must be > 0, got {value!r}")
        with self._lock:
            self._timeout_s = float(value)
            if not self._closed:
                self._serial.timeout = self._timeout_s
                self._serial.write_timeout = self._timeout_s

    def write(self, message: str) -> None:
        """Send one message; the write terminator is added here."""
        with self._lock:
            self._write(message)

    def read(self) -> str:
        """Read one reply, without its terminator."""
        with self._lock:
            return self._read("<read>")

    def query(self, message: str) -> str:
        """Discard stale input, send one message and read its reply."""
        with self._lock:
            self._ensure_open(message)
            try:
                self._serial.reset_input_buffer()
            except (serial.SerialException, OSError) as err:
                raise self._lost(err, f"clearing input before {message!r}") from err
            self._write(message)
            return self._read(message)

    def close(self) -> None:
        """Close the port; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            close_port(self._serial)

    def __enter__(self) -> SerialTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SerialTransport({self.resource!r})"

    def _write(self, message: str) -> None:
        if self._write_termination in message:
            raise ValueError(f"message {message!r} contains the write terminator")
        data = (message + self._write_termination).encode("ascii")
        self._ensure_open(message)
        if self._tracer is not None:
            self._tracer(self.resource, ">", message)
        try:
            self._serial.write(data)
        except serial.SerialTimeoutException as err:
            raise InstrumentTimeout(
                f"writing {message!r} did not finish within {self._timeout_s:g} s "
                "(hardware flow control holding the line?)",
                resource=self.resource,
            ) from err
        except (serial.SerialException, OSError) as err:
            raise self._lost(err, f"writing {message!r}") from err

    def _read(self, command: str) -> str:
        self._ensure_open(command)
        try:
            raw = bytes(self._serial.read_until(self._read_term))
        except (serial.SerialException, OSError) as err:
            raise self._lost(err, f"reading the reply to {command!r}") from err
        if not raw.endswith(self._read_term):
            detail = f"; partial reply {raw!r}" if raw else ""
            raise InstrumentTimeout(
                f"no complete reply to {command!r} within {self._timeout_s:g} s{detail}",
                resource=self.resource,
            )
        try:
            text = raw[: -len(self._read_term)].decode("ascii")
        except UnicodeDecodeError as err:
            raise InstrumentProtocolError(
                f"reply to {command!r} is not ASCII: {raw!r} (wrong baud rate or parity?)",
                resource=self.resource,
            ) from err
        text = text.rstrip("\r\n")
        if self._tracer is not None:
            self._tracer(self.resource, "<", text)
        return text

    def _ensure_open(self, command: str) -> None:
        if self._closed:
            raise InstrumentConnectionError(
                f"transport is closed; cannot send {command!r}", resource=self.resource
            )

    def _lost(self, err: BaseException, doing: str) -> InstrumentConnectionError:
        return InstrumentConnectionError(
            f"{doing} failed: {err}; check the cable and the port", resource=self.resource
        )
