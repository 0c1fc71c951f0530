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
from typing import Any

import serial

from drivers import loopback
from drivers.errors import InstrumentConnectionError, InstrumentTimeout
from drivers.scpi.transport import LineTransport, Tracer

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


def open_serial(
    resource: str,
    *,
    what: str,
    advice: str,
    baudrate: int,
    bytesize: int,
    parity: str,
    stopbits: float,
    timeout: float,
    write_timeout: float | None = None,
) -> Any:
    """Open the serial port named by ``resource`` (any form :func:`port_from_resource` takes).

    A failure raises :class:`InstrumentConnectionError`: ``cannot open <what>`` with the
    port, its settings, pyserial's reason and ``advice`` (what to check).

    A serial device server reached through ``socket://`` gets ``TCP_NODELAY``: it has the
    same Nagle problem as a LAN instrument (see drivers/scpi/visa.py).
    """
    name = port_from_resource(resource)
    try:
        port = serial.serial_for_url(
            name,
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            timeout=timeout,
            write_timeout=write_timeout,
        )
    except (ValueError, OSError) as err:  # serial.SerialException is an OSError
        raise InstrumentConnectionError(
            f"cannot open {what} {name!r} ({baudrate} {bytesize}{parity}{stopbits}): {err}; "
            f"{advice}",
            resource=resource,
        ) from err
    sock = port_socket(port)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return port


def port_socket(port: Any) -> socket.socket | None:
    """Get the TCP socket under a pyserial ``socket://`` port (None for any other port)."""
    sock = getattr(port, "_socket", None)
    return sock if isinstance(sock, socket.socket) else None


def port_pump(port: Any) -> loopback.Pump | None:
    """Get the pump of a ``socket://`` port whose server answers on this thread, or None."""
    sock = port_socket(port)
    return None if sock is None else loopback.pump_for(sock)


def close_port(port: Any) -> None:
    """Close a pyserial port, ignoring errors (the port is gone either way).

    pyserial's ``socket://`` close() skips closing its socket when ``shutdown()`` fails,
    which it does once the device server has dropped the link; close that socket too. It
    also sleeps 0.3 s after closing, to give a device server time before a quick
    reconnect. A twin that answers on this thread (:func:`port_pump`) needs no such time:
    its port is closed here as pyserial closes it, without the sleep (every virtual bench
    that closes would otherwise wait for it).
    """
    sock = port_socket(port)
    if sock is not None and loopback.pump_for(sock) is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        port._socket = None  # what pyserial's close() leaves: the port knows it is closed
        port.is_open = False
        return
    with contextlib.suppress(OSError):  # serial.SerialException is an OSError
        port.close()
    if sock is not None:
        sock.close()


class SerialTransport(LineTransport):
    """Line-oriented SCPI I/O over a serial port.

    ``port`` is any form accepted by :func:`port_from_resource`; the serial settings
    (``baudrate``, ``bytesize``, ``parity`` N/E/O/M/S, ``stopbits`` 1/1.5/2) are given
    explicitly because a serial port cannot discover them. ``timeout_s`` bounds each
    read; a read that ends without the terminator raises :class:`InstrumentTimeout`
    quoting whatever partial bytes arrived.

    Before each query, input left over from an earlier timed-out reply is discarded so a
    late answer can never be taken for the reply to the next question.
    """

    not_ascii_hint = " (wrong baud rate or parity?)"

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
        super().__init__(
            port,
            timeout_s=timeout_s,
            read_termination=read_termination,
            write_termination=write_termination,
            tracer=tracer,
        )
        self._serial: Any = open_serial(
            port,
            what="serial port",
            advice="check the port name, that no other program holds it, and the cable",
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            timeout=self._timeout_s,
            write_timeout=self._timeout_s,
        )
        self._pump = port_pump(self._serial)

    def __repr__(self) -> str:
        return f"SerialTransport({self.resource!r})"

    def _apply_timeout(self) -> None:
        self._serial.timeout = self._timeout_s
        self._serial.write_timeout = self._timeout_s

    def _release(self) -> None:
        close_port(self._serial)

    def _prepare_query(self, message: str) -> None:
        try:
            self._serial.reset_input_buffer()
        except (serial.SerialException, OSError) as err:
            raise self._lost(err, f"clearing input before {message!r}") from err

    def _send(self, data: bytes, message: str) -> None:
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

    def _receive(self, command: str) -> bytes:
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
        return raw

    def _lost(self, err: BaseException, doing: str) -> InstrumentConnectionError:
        return InstrumentConnectionError(
            f"{doing} failed: {err}; check the cable and the port", resource=self.resource
        )
