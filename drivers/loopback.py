"""Servers in this process that answer on their client's thread: the lockstep bench's twins.

A simulated instrument is reached over a real TCP socket, as hardware is. Served from a
thread of its own, every exchange is two thread wake-ups (the server's, then the client's
again): on a 2-core VM that is 0.2–0.3 ms of wall time per exchange in which nothing is
computed, about a sixth of a reference run on the virtual bench.

A server registered here is *pumped* instead: after writing to it, a client transport calls
:func:`pump` with the number of bytes it wrote, and the server reads those bytes from its end
of the socket and answers them on the calling thread, before that thread reads the reply.
The bytes still cross the kernel's loopback both ways; only who runs the server's code
changes. A client that does not pump (a raw socket, another process) gets no answer, so a
server is registered only by a bench whose every client is a pumping transport
(:class:`drivers.scpi.visa.VisaTransport`, :class:`drivers.modbus.rtu_io.ModbusRtuLink`
over ``socket://``).
"""

from __future__ import annotations

import socket
import threading
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


class Pump:
    """What a client transport calls after each write on one connected socket."""

    __slots__ = ("_client", "_peer")

    def __init__(self, peer: InlinePeer, client: Address) -> None:
        self._peer = peer
        self._client = client

    def __call__(self, written: int) -> None:
        self._peer.serve_inline(self._client, written)


def pump_for(sock: socket.socket) -> Pump | None:
    """Get the pump for a client's connected ``sock``; None if its server is not inline."""
    try:
        server, client = sock.getpeername(), sock.getsockname()
    except OSError:  # not connected
        return None
    with _LOCK:
        peer = _PEERS.get((server[0], server[1]))
    return None if peer is None else Pump(peer, (client[0], client[1]))
