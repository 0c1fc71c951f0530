"""Servers in this process that answer on their client's thread: the lockstep bench's twins.

A simulated instrument is reached over a real TCP socket, as hardware is. Served from a
thread of its own, every exchange costs two thread wake-ups (the server's, then the
client's again) in which nothing is computed: a power sample took 150–183 µs that way on
the 2-core VM, 36–40 µs answered inline (``bench/scpi_roundtrip.py`` (g)/(h)).

A server registered here is *pumped* instead: a client transport gets its connection's
:data:`Pump` from :func:`pump_for` and, after each write, calls it with the number of bytes
written; the server reads those bytes from its end of the socket and answers them on the
calling thread, before that thread reads the reply. The bytes still cross the kernel's
loopback both ways; only who runs the server's code changes. A client that does not pump
(a raw socket, another process) gets no answer, so a server is registered only by a bench
whose every client pumps: :class:`drivers.scpi.transport.LineTransport` (VISA and serial),
:class:`drivers.modbus.rtu_io.ModbusRtuLink` over ``socket://`` and
:class:`drivers.labels.zpl_printer.ZplPrinter`.
"""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Callable
from typing import Protocol

Address = tuple[str, int]


class InlinePeer(Protocol):
    """A server that answers what a client at ``client`` has just written, when pumped."""

    def serve_inline(self, client: Address, written: int) -> None:
        """Read the ``written`` bytes the client at ``client`` sent and answer them."""
        ...


_PEERS: dict[Address, InlinePeer] = {}
_LOCK = threading.Lock()


def register(address: Address, peer: InlinePeer) -> None:
    """Let clients of the server listening on ``address`` pump it."""
    with _LOCK:
        _PEERS[address] = peer


def unregister(address: Address) -> None:
    """Forget the server on ``address``; no error if it is not registered."""
    with _LOCK:
        _PEERS.pop(address, None)


Pump = Callable[[int], None]
"""What a client transport calls after each write on one connected socket, with the number
of bytes written: its server's :meth:`~InlinePeer.serve_inline` for that client, bound in
C (:func:`functools.partial`), as it runs on every exchange."""


def pump_for(sock: socket.socket) -> Pump | None:
    """Get the pump for a client's connected ``sock``; None if its server is not inline."""
    try:
        server, client = sock.getpeername(), sock.getsockname()
    except OSError:  # not connected
        return None
    with _LOCK:
        peer = _PEERS.get((server[0], server[1]))
    return None if peer is None else functools.partial(peer.serve_inline, (client[0], client[1]))
