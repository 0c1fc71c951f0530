"""A network label printer speaking ZPL II over raw TCP (port 9100, "JetDirect").

The station sends whole label formats (``^XA … ^XZ``) and three host commands:

* ``~HI`` (host identification) answers ``<STX>model,firmware,dots/mm,memory<ETX>``;
* ``! U1 getvar "device.unique_id"`` (Set-Get-Do) answers the serial number in quotes;
* ``~HS`` (host status) answers three ``<STX>…<ETX><CR><LF>`` strings; the station reads
  the paper-out and pause flags (string 1, fields 2 and 3) and the head-up and ribbon-out
  flags (string 2, fields 3 and 4), and refuses to print onto a printer that cannot.

Raw port 9100 has no reply to a format: a label sent to a ready printer is printed.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from drivers import loopback
from drivers.errors import InstrumentConnectionError, InstrumentProtocolError, InstrumentTimeout
from drivers.roles import Identity
from drivers.scpi.transport import Tracer

STX, ETX = b"\x02", b"\x03"
DEFAULT_PORT = 9100


class ByteSocket(Protocol):
    """The part of ``socket.socket`` the driver uses (protocol tests inject their own)."""

    def sendall(self, data: bytes, /) -> None: ...

    def recv(self, size: int, /) -> bytes: ...

    def settimeout(self, value: float | None, /) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class PrinterStatus:
    paper_out: bool
    paused: bool
    head_open: bool
    ribbon_out: bool

    def problems(self) -> list[str]:
        """What stops printing, in words an operator acts on."""
        found = []
        if self.paper_out:
            found.append("out of labels (load labels)")
        if self.head_open:
            found.append("print head open (close it)")
        if self.ribbon_out:
            found.append("out of ribbon (load ribbon)")
        if self.paused:
            found.append("paused (press PAUSE to resume)")
        return found


def parse_host_address(resource: str) -> tuple[str, int]:
    """``TCPIP0::10.0.0.9::9100::SOCKET``, ``10.0.0.9:9100`` or ``10.0.0.9`` → host, port."""
    text = resource.strip()
    if text.upper().startswith("TCPIP"):
        parts = text.split("::")
        if len(parts) == 4 and parts[3].upper() == "SOCKET" and parts[2].isdigit():
            return parts[1], int(parts[2])
        raise ValueError(
            f"label printer resource {resource!r}: expected TCPIP0::HOST::PORT::SOCKET"
        )
    host, _, port = text.rpartition(":")
    if host and port.isdigit():
        return host, int(port)
    if text and ":" not in text:
        return text, DEFAULT_PORT
    raise ValueError(f"label printer resource {resource!r}: expected HOST[:PORT]")


class ZplPrinter:
    """A ZPL label printer on ``resource`` (raw TCP; see the module docstring)."""

    def __init__(
        self,
        resource: str,
        *,
        timeout_s: float = 2.0,
        tracer: Tracer | None = None,
        sock: ByteSocket | None = None,
    ) -> None:
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
        self.resource = resource
        self.timeout_s = float(timeout_s)
        self._address = parse_host_address(resource)
        self._tracer = tracer
        self._sock: ByteSocket | None = sock
        self._pump: loopback.Pump | None = None  # a printer answering on this thread
        self._lock = threading.Lock()

    @classmethod
    def from_resource(
        cls, resource: str, *, timeout_s: float = 2.0, tracer: Tracer | None = None, **options: Any
    ) -> ZplPrinter:
        """Open the printer on ``resource`` (the registry's way in)."""
        return cls(resource, timeout_s=timeout_s, tracer=tracer, **options)

    # -- the link ----------------------------------------------------------------------
    def connect(self) -> None:
        """Open the TCP connection (nothing is sent)."""
        with self._lock:
            if self._sock is not None:
                return
            try:
                sock = socket.create_connection(self._address, timeout=self.timeout_s)
            except OSError as err:
                raise InstrumentConnectionError(
                    f"cannot reach the label printer ({err}); check it is on, its IP "
                    "address and that raw printing on port 9100 is enabled",
                    resource=self.resource,
                ) from err
            self._sock = sock
            self._pump = loopback.pump_for(sock)

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
                self._pump = None

    def _send(self, data: bytes) -> None:
        if self._sock is None:
            raise InstrumentConnectionError(
                "the label printer is not connected", resource=self.resource
            )
        if self._tracer is not None:
            self._tracer(self.resource, ">", data.decode("ascii", "replace"))
        try:
            self._sock.sendall(data)
        except OSError as err:
            raise InstrumentConnectionError(
                f"sending to the label printer failed ({err}); check the network",
                resource=self.resource,
            ) from err
        if self._pump is not None:
            self._pump(len(data))

    def _read_until(self, end: bytes, count: int = 1) -> bytes:
        """Read until ``end`` has arrived ``count`` times; return what came."""
        assert self._sock is not None
        self._sock.settimeout(self.timeout_s)
        data = b""
        while data.count(end) < count:
            try:
                chunk = self._sock.recv(4096)
            except TimeoutError as err:
                raise InstrumentTimeout(
                    f"the label printer did not answer within {self.timeout_s:g} s (got {data!r})",
                    resource=self.resource,
                ) from err
            except OSError as err:
                raise InstrumentConnectionError(
                    f"reading the label printer failed ({err})", resource=self.resource
                ) from err
            if not chunk:
                raise InstrumentConnectionError(
                    f"the label printer closed the connection (got {data!r})",
                    resource=self.resource,
                )
            data += chunk
        if self._tracer is not None:
            self._tracer(self.resource, "<", data.decode("ascii", "replace"))
        return data

    def _query(self, command: bytes, end: bytes, count: int = 1) -> bytes:
        with self._lock:
            self._send(command)
            return self._read_until(end, count)

    # -- what the station asks -----------------------------------------------------------
    def identity(self) -> Identity:
        """Model and firmware (``~HI``) and serial number (``device.unique_id``)."""
        reply = self._query(b"~HI", ETX)
        fields = _framed(reply, self.resource)[0].split(",")
        if len(fields) < 2:
            raise InstrumentProtocolError(
                f"~HI answer {reply!r} is not model,firmware,…", resource=self.resource
            )
        answer = self._query(b'! U1 getvar "device.unique_id"\r\n', b'"', 2)
        serial = answer.strip().strip(b'"').decode("ascii", "replace")
        return Identity("Zebra", fields[0], serial, fields[1])

    def status(self) -> PrinterStatus:
        """The printer's flags from ``~HS``."""
        reply = self._query(b"~HS", ETX, 3)
        strings = _framed(reply, self.resource)
        try:
            one, two = strings[0].split(","), strings[1].split(",")
            return PrinterStatus(
                paper_out=one[1] == "1",
                paused=one[2] == "1",
                head_open=two[2] == "1",
                ribbon_out=two[3] == "1",
            )
        except IndexError:
            raise InstrumentProtocolError(
                f"~HS answer {reply!r} has too few fields", resource=self.resource
            ) from None

    def print_label(self, zpl: str) -> None:
        """Check the printer can print, then send one label format (``^XA … ^XZ``)."""
        if not zpl.startswith("^XA") or not zpl.rstrip().endswith("^XZ"):
            raise ValueError("a label format must start with ^XA and end with ^XZ")
        problems = self.status().problems()
        if problems:
            raise InstrumentConnectionError(
                f"the label printer cannot print: {', '.join(problems)}", resource=self.resource
            )
        with self._lock:
            self._send(zpl.encode("ascii"))

    def __enter__(self) -> ZplPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _framed(reply: bytes, resource: str) -> list[str]:
    """The texts between STX and ETX in ``reply``."""
    out = []
    for part in reply.split(ETX)[:-1]:
        start = part.find(STX)
        if start < 0:
            raise InstrumentProtocolError(
                f"answer {reply!r} is not STX…ETX framed", resource=resource
            )
        out.append(part[start + 1 :].decode("ascii", "replace"))
    return out
