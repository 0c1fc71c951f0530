"""The virtual bench's ZPL label printer: raw TCP, keeps every label it is sent.

It answers the three host commands the station's driver uses (``~HI``, ``~HS`` and the
``device.unique_id`` getvar) and keeps every ``^XA … ^XZ`` format in :attr:`labels`, in
the order received. :attr:`paper_out` and :attr:`head_open` set the ``~HS`` flags, so a
test can see a print refused.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from drivers.sim.tcp_server import TwinServer

MODEL = "ZD421-203dpi"
FIRMWARE = "V93.21.26Z"
SERIAL = "SIM-LABEL-0001"
_GETVAR = re.compile(rb'^! U1 getvar "([a-z_.]+)"\r?\n')


class ZplPrinterTwin(TwinServer):
    """A label printer on ``host``:``port`` (0 = any free)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port, name="zpl-printer")
        self.labels: list[str] = []
        self.paper_out = False
        self.head_open = False
        self._labels_lock = threading.Lock()

    @property
    def resource(self) -> str:
        """The resource string for the driver, ``TCPIP0::<host>::<port>::SOCKET``."""
        return f"TCPIP0::{self.host}::{self.port}::SOCKET"

    def driver_options(self) -> dict[str, Any]:
        return {}

    def received(self) -> list[str]:
        """A copy of the labels printed so far."""
        with self._labels_lock:
            return list(self.labels)

    def _session(self) -> _ZplSession:
        return _ZplSession(self)

    def _consume(self, buffer: bytes) -> tuple[bytes, bytes]:
        """Act on the whole commands at the start of ``buffer``; return (the rest, replies)."""
        replies = b""
        while True:
            buffer = buffer.lstrip(b"\r\n")
            if buffer.startswith(b"~HI"):
                replies += f"\x02{MODEL},{FIRMWARE},8,8192KB\x03\r\n".encode()
                buffer = buffer[3:]
            elif buffer.startswith(b"~HS"):
                paper, head = int(self.paper_out), int(self.head_open)
                replies += (
                    f"\x02030,{paper},0,0406,000,0,0,0,000,0,0,0\x03\r\n"
                    f"\x02001,0,{head},0,0,2,6,0,00000000,1,000\x03\r\n"
                    "\x021234,0\x03\r\n".encode()
                )
                buffer = buffer[3:]
            elif buffer.startswith(b"!"):
                match = _GETVAR.match(buffer)
                if match is None:
                    break  # the rest of the line has not arrived
                value = SERIAL if match.group(1) == b"device.unique_id" else "?"
                replies += f'"{value}"'.encode()
                buffer = buffer[match.end() :]
            elif buffer.startswith(b"^XA"):
                end = buffer.find(b"^XZ")
                if end < 0:
                    break
                with self._labels_lock:
                    self.labels.append(buffer[: end + 3].decode("ascii", "replace"))
                buffer = buffer[end + 3 :]
            elif buffer and len(buffer) >= 3:
                buffer = buffer[1:]  # not a command this twin knows: skip it
            else:
                break
        return buffer, b"" if self.not_answering else replies


class _ZplSession:
    """One connection to the printer: ZPL commands in, status replies out."""

    __slots__ = ("_buffer", "_twin")

    def __init__(self, twin: ZplPrinterTwin) -> None:
        self._twin = twin
        self._buffer = b""

    def feed(self, data: bytes) -> bytes | None:
        if self._twin.drop_connection:
            return None
        self._buffer, replies = self._twin._consume(self._buffer + data)
        return replies

    def quiet(self) -> bytes:
        return b""
