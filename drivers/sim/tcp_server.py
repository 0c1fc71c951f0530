"""The threaded loopback TCP server every socket twin is served by.

A twin's protocol (SCPI lines in :mod:`drivers.sim.scpi_server`, Modbus RTU frames in
:mod:`drivers.sim.instruments.modbus_io`) is one method, :meth:`TwinServer._converse`: the
exchange on one open connection. Everything else is here, once: binding a port (0 = any
free), a thread per connection, a clean stop that joins every thread, and the link faults
both protocols offer — :attr:`~TwinServer.not_answering`, :attr:`~TwinServer.drop_connection`
and :meth:`~TwinServer.drop_connections`.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from abc import ABC, abstractmethod
from typing import Self


class TwinServer(ABC):
    """Serve connections on ``host``:``port`` (0 = any free) in background threads.

    :meth:`start` binds and starts serving; :meth:`close` stops every thread and closes
    every socket (safe twice). ``name`` prefixes the serving thread's name.

    Fault hooks: :attr:`not_answering` (the subclass reads but never replies),
    :attr:`drop_connection` (a connection closes when it next receives anything) and
    :meth:`drop_connections` (every connection closes now).
    """

    def __init__(self, *, host: str, port: int, name: str) -> None:
        self.host = host
        self.not_answering = False
        self.drop_connection = False
        self.internal_errors: list[Exception] = []
        """Exceptions raised by the twin's own code (a bug in the twin), kept for tests."""
        self._requested_port = port
        self._name = name
        self._connections_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._closing = False
        self._tcp: _TcpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Bind and start serving in a background thread; return self."""
        if self._tcp is not None or self._closing:
            raise RuntimeError("a server can be started only once")
        self._tcp = _TcpServer((self.host, self._requested_port), _Connection)
        self._tcp.owner = self
        self._thread = threading.Thread(target=self._accept, name=f"{self._name}-{self.port}")
        self._thread.start()
        return self

    def _accept(self) -> None:
        """Accept connections until :meth:`close`, each served on a thread of its own.

        The accepting thread blocks in ``accept()`` rather than polling for a stop
        (``serve_forever`` wakes every poll interval): a bench has half a dozen twins, and
        a thread waking 50 times a second each takes the GIL from whoever computes.
        :meth:`close` wakes it with a connection of its own.
        """
        assert self._tcp is not None
        listening = self._tcp.socket
        while True:
            try:
                sock, address = listening.accept()
            except OSError:
                return  # the listening socket is closed
            if self._closing:
                sock.close()
                return
            self._tcp.process_request(sock, address)

    def close(self) -> None:
        """Stop serving, drop every connection and join every thread; safe to call twice."""
        with self._connections_lock:
            if self._closing:
                return
            self._closing = True
        if self._tcp is None:
            return
        if self._thread is not None:
            self._wake_accept()
            self._thread.join()
        self.drop_connections()
        self._tcp.server_close()  # joins the connection threads

    def _wake_accept(self) -> None:
        """Connect to the listening socket so that the blocked ``accept()`` returns."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        try:
            with socket.create_connection((host, self.port), timeout=1.0):
                pass
        except OSError:
            # Unreachable from here: close the listening socket instead (accept() fails).
            with contextlib.suppress(OSError):
                assert self._tcp is not None
                self._tcp.socket.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Self:
        return self.start() if self._tcp is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        """Get the TCP port being served (known after :meth:`start`)."""
        if self._tcp is None:
            raise RuntimeError("server not started")
        return int(self._tcp.server_address[1])

    def drop_connections(self) -> None:
        """Close every open connection now (the client sees the link drop)."""
        with self._connections_lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):  # already gone
                sock.shutdown(socket.SHUT_RDWR)

    @abstractmethod
    def _converse(self, sock: socket.socket) -> None:
        """Exchange messages on ``sock`` until the peer leaves (returning closes it)."""

    def _serve(self, sock: socket.socket) -> None:
        with self._connections_lock:
            if self._closing:
                return
            self._connections.add(sock)
        try:
            self._converse(sock)
        except OSError:
            return  # the link dropped or the server is closing
        finally:
            with self._connections_lock:
                self._connections.discard(sock)


class _TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True
    owner: TwinServer


class _Connection(socketserver.BaseRequestHandler):
    server: _TcpServer
    request: socket.socket

    def handle(self) -> None:
        self.server.owner._serve(self.request)
