"""The threaded loopback TCP server every socket twin is served by.

A twin's protocol (SCPI lines in :mod:`drivers.sim.scpi_server`, Modbus RTU frames in
:mod:`drivers.sim.instruments.modbus_io`) is one :class:`Session` per open connection: the
bytes that arrived go in, the bytes to answer come out. Everything else is here, once:
binding a port (0 = any free), a thread per connection, a clean stop that joins every
thread, and the link faults both protocols offer — :attr:`~TwinServer.not_answering`,
:attr:`~TwinServer.drop_connection` and :meth:`~TwinServer.drop_connections`.

Started ``inline`` (the lockstep bench), a server has no thread at all: its clients pump it
(:mod:`drivers.loopback`), and it answers on their thread.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from abc import ABC, abstractmethod
from typing import Protocol, Self

from drivers import loopback
from drivers.scpi.visa import set_io_timeout

_INLINE_READ_TIMEOUT_S = 5.0
"""How long a pumped server waits for bytes its client says it wrote (on loopback they are
there when the write returns; this only bounds a broken client)."""


class Session(Protocol):
    """One connection's protocol state."""

    def feed(self, data: bytes) -> bytes | None:
        """Take bytes that arrived; return the bytes to send back (None: drop the link)."""
        ...

    def quiet(self) -> bytes:
        """The line went quiet: return what to send for input still held (maybe b"")."""
        ...


class TwinServer(ABC):
    """Serve connections on ``host``:``port`` (0 = any free), in background threads or inline.

    :meth:`start` binds and starts serving (``inline``: answering on the client's thread
    when it pumps, see :mod:`drivers.loopback`); :meth:`close` stops every thread and closes
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
        self.inline = False
        # Pumped connections by client address (inline only), under the pump's lock.
        self._pumped: dict[loopback.Address, tuple[socket.socket, Session]] = {}
        self._closed_clients: set[loopback.Address] = set()
        self._pump_lock = threading.Lock()

    def start(self, *, inline: bool = False) -> Self:
        """Bind and start serving; return self.

        By default connections are served in background threads. ``inline``: no thread;
        each client pumps the server after writing (:mod:`drivers.loopback`) and it answers
        on that client's thread, so a client that does not pump gets no answer.
        """
        if self._tcp is not None or self._closing:
            raise RuntimeError("a server can be started only once")
        self._tcp = _TcpServer((self.host, self._requested_port), _Connection)
        self._tcp.owner = self
        self.inline = inline
        if inline:
            address = self._tcp.server_address
            loopback.register((str(address[0]), int(address[1])), self)
            return self
        self._thread = threading.Thread(target=self._accept, name=f"{self._name}-{self.port}")
        self._thread.start()
        return self

    def serve_inline(self, client: loopback.Address, written: int) -> None:
        """Read the ``written`` bytes the client at ``client`` sent and answer them, here.

        Called by the client's transport right after its write (:mod:`drivers.loopback`).
        A link that fails, or a fault that drops it, closes the connection: the client
        sees it closed, as from a served thread.
        """
        with self._pump_lock:
            if self._closing or self._tcp is None:
                return
            entry = self._pumped.get(client) or self._accept_pumped(client)
            if entry is None:
                return
            sock, session = entry
            try:
                data = b""
                while len(data) < written:
                    chunk = sock.recv(written - len(data))
                    if not chunk:
                        raise ConnectionError("the client closed the connection")
                    data += chunk
                reply = session.feed(data)
                if reply is None:
                    raise ConnectionAbortedError("the twin drops the connection")
                reply += session.quiet()
                if reply:
                    sock.sendall(reply)
            except OSError:
                self._close_pumped(client)
            except Exception as err:  # a bug in the twin: as its thread would, drop the link
                self.internal_errors.append(err)
                self._close_pumped(client)

    def _accept_pumped(self, client: loopback.Address) -> tuple[socket.socket, Session] | None:
        """Accept connections until the one from ``client`` (None if it never comes).

        A link this server closed (a fault) has no connection left: its client's next
        write finds none and gets no answer at once, rather than after a timeout.
        """
        assert self._tcp is not None
        listening = self._tcp.socket
        listening.settimeout(0.0 if client in self._closed_clients else _INLINE_READ_TIMEOUT_S)
        while client not in self._pumped:
            try:
                sock, address = listening.accept()
            except OSError:
                return None
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Bounded by the kernel: Python's own timeout would poll before every call.
            set_io_timeout(sock, _INLINE_READ_TIMEOUT_S)
            peer = (str(address[0]), int(address[1]))
            self._closed_clients.discard(peer)  # a new connection from a reused port
            self._pumped[peer] = (sock, self._session())
        return self._pumped[client]

    def _close_pumped(self, client: loopback.Address) -> None:
        sock, _ = self._pumped.pop(client)
        self._closed_clients.add(client)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

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
        if self.inline:
            address = self._tcp.server_address
            loopback.unregister((str(address[0]), int(address[1])))
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
        with self._pump_lock:
            for client in list(self._pumped):
                self._close_pumped(client)
        with self._connections_lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):  # already gone
                sock.shutdown(socket.SHUT_RDWR)

    @abstractmethod
    def _session(self) -> Session:
        """Start the protocol state of a new connection."""

    def _converse(self, sock: socket.socket) -> None:
        """Exchange messages on ``sock`` until the peer leaves (returning closes it).

        A protocol whose requests end only in silence (Modbus RTU) overrides this to time
        the silence; here every request ends in the bytes themselves.
        """
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        session = self._session()
        while chunk := sock.recv(4096):
            reply = session.feed(chunk)
            if reply is None:
                return
            if reply:
                sock.sendall(reply)

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
