"""VISA transport: pyvisa (pyvisa-py by default) with Nagle switched off on every socket.

pyvisa-py leaves Nagle's algorithm on for ``TCPIP::…::SOCKET`` resources, so a write
followed by a query waits for the instrument's delayed ACK: ~44 ms instead of ~0.13 ms
(docs/drivers.md has the figures). ``set_visa_attribute(VI_ATTR_TCPIP_NODELAY, True)``
raises ``UnknownAttribute`` in pyvisa-py 0.8.1, so this transport sets ``TCP_NODELAY`` on
the session's own socket: ``visalib.sessions[session].interface`` for a SOCKET session,
``.interface.sock`` for a VXI-11 ``INSTR`` session (HiSLIP already sets it itself). With
a vendor VISA it asks for ``VI_ATTR_TCPIP_NODELAY`` instead.

For a pyvisa-py SOCKET session, messages then go straight to that socket: pyvisa opens
and closes the session, but its per-call overhead (~70 µs of Python per exchange) would
otherwise be twice the loopback round trip. Every other session (VXI-11, HiSLIP, USB,
GPIB, any vendor VISA) does its I/O through pyvisa.

Every pyvisa or socket exception is translated here, once, into ``drivers.errors``:
a timeout becomes :class:`InstrumentTimeout`; everything else (resource not found,
refused, link closed, any other VISA error) becomes :class:`InstrumentConnectionError`
with pyvisa's text; a reply that is not ASCII becomes :class:`InstrumentProtocolError`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import struct
import threading
import time
from typing import Any

import pyvisa
from pyvisa import constants

from drivers import loopback
from drivers.errors import InstrumentConnectionError, InstrumentError, InstrumentTimeout
from drivers.scpi.transport import LineTransport, Tracer

_MANAGERS: dict[str, Any] = {}
_MANAGERS_LOCK = threading.Lock()


def _resource_manager(backend: str) -> Any:
    """Return one shared ResourceManager per backend (closing one must not close others).

    Another user of pyvisa in the same process may close a manager we cached (pyvisa hands
    out managers that share one library session); a closed one is replaced, not reused.
    """
    with _MANAGERS_LOCK:
        manager = _MANAGERS.get(backend)
        if manager is not None:
            try:
                manager.session  # noqa: B018 - raises InvalidSession once closed
            except pyvisa.errors.InvalidSession:
                manager = None
        if manager is None:
            manager = pyvisa.ResourceManager(backend)
            _MANAGERS[backend] = manager
        return manager


class VisaTransport(LineTransport):
    """Line-oriented SCPI I/O over one pyvisa resource.

    ``resource`` is a VISA resource string (``TCPIP0::10.0.0.5::5025::SOCKET``,
    ``TCPIP0::10.0.0.6::inst0::INSTR``, ``USB0::0x1698::0x0837::…::INSTR``).
    ``backend`` is ``"@py"`` (pyvisa-py, default), ``"@ivi"`` or a VISA library path for
    a vendor VISA. ``timeout_s`` bounds every read and the connection attempt. ``tracer``
    is called as ``tracer(resource, ">" or "<", text)`` for every message.
    ``direct_socket_io`` (default on) lets a pyvisa-py SOCKET session do its I/O on the
    socket itself; turn it off to send everything through pyvisa.

    Calls are serialised by a lock, so ``safe_state()`` from another thread cannot
    interleave its messages with a query in flight (it waits at most one timeout).
    """

    def __init__(
        self,
        resource: str,
        *,
        timeout_s: float = 2.0,
        backend: str = "@py",
        tracer: Tracer | None = None,
        read_termination: str = "\n",
        write_termination: str = "\n",
        direct_socket_io: bool = True,
    ) -> None:
        super().__init__(
            resource,
            timeout_s=timeout_s,
            read_termination=read_termination,
            write_termination=write_termination,
            tracer=tracer,
        )
        self.backend = backend
        self._res: Any = None
        self._sock: socket.socket | None = None  # set when I/O goes straight to the socket
        self._buffer = bytearray()
        self._stale = False
        try:
            manager = _resource_manager(backend)
            self._res = manager.open_resource(
                resource, open_timeout=max(1, round(self._timeout_s * 1000))
            )
            self._res.timeout = max(1, round(self._timeout_s * 1000))
            # Sets VI_ATTR_TERMCHAR(+_EN) so a read stops at the terminator; the
            # decoding and stripping are done here, without pyvisa's warnings.
            self._res.read_termination = read_termination
        except Exception as err:  # pyvisa-py raises bare Exception for "could not connect"
            self._discard()
            raise InstrumentConnectionError(
                f"cannot open with VISA backend {backend!r}: {_describe(err)}; "
                "check the address, the cable and that the instrument is on",
                resource=resource,
            ) from err
        self._check_connected()
        sockets = self._sockets()
        for sock in sockets:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not sockets and resource.upper().startswith("TCPIP"):
            # A vendor VISA keeps its sockets to itself but may honour the attribute.
            with contextlib.suppress(Exception):
                self._res.set_visa_attribute(constants.VI_ATTR_TCPIP_NODELAY, True)
        if direct_socket_io and self._session_is_plain_socket():
            self._sock = sockets[0]
            set_io_timeout(self._sock, self._timeout_s)
        if sockets:
            self._pump = loopback.pump_for(sockets[0])

    # -- extras -----------------------------------------------------------------------

    def nodelay_enabled(self) -> bool:
        """Return whether TCP_NODELAY is on (False when the session has no socket)."""
        with self._lock:
            sockets = self._sockets()
            return bool(sockets) and all(
                s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0 for s in sockets
            )

    @property
    def direct_socket_io(self) -> bool:
        """Whether messages go straight to the session's socket (pyvisa-py SOCKET)."""
        return self._sock is not None

    def __repr__(self) -> str:
        return f"VisaTransport({self.resource!r}, backend={self.backend!r})"

    # -- internals --------------------------------------------------------------------

    def _apply_timeout(self) -> None:
        if self._res is not None:
            self._res.timeout = max(1, round(self._timeout_s * 1000))
            if self._sock is not None:
                set_io_timeout(self._sock, self._timeout_s)

    def _release(self) -> None:
        self._sock = None
        self._pump = None
        self._discard()

    def _prepare_query(self, message: str) -> None:
        if self._stale or self._buffer:
            self._discard_stale_input()

    def _send(self, data: bytes, message: str) -> None:
        try:
            if self._sock is not None:
                self._sock.sendall(data)
            else:
                self._res.write_raw(data)
        except (TimeoutError, BlockingIOError) as err:  # BlockingIOError: SO_SNDTIMEO
            raise InstrumentTimeout(
                f"writing {message!r} did not finish within {self._timeout_s:g} s "
                "(the instrument is not reading its input)",
                resource=self.resource,
            ) from err
        except Exception as err:
            raise self._translate(err, f"writing {message!r}") from err

    def _receive(self, command: str) -> bytes:
        sock = self._sock
        if sock is None:
            try:
                return bytes(self._res.read_raw())
            except Exception as err:
                raise self._translate(err, f"reading the reply to {command!r}") from err
        deadline = time.monotonic() + self._timeout_s
        if not self._buffer:
            # The usual case, one whole reply in one segment, returns here: a loopback
            # write-then-query costs ~10 µs, so every Python call on this path shows.
            try:
                chunk = sock.recv(65536)
            except OSError as err:
                raise self._receive_failed(err, command) from err
            term = self._read_term
            if chunk.endswith(term) and chunk.find(term) == len(chunk) - len(term):
                return chunk
            if not chunk:
                raise self._closed_while_reading(command)
            self._buffer += chunk
        return self._read_socket(sock, command, deadline)

    def _read_socket(self, sock: socket.socket, command: str, deadline: float) -> bytes:
        """Read up to and including the terminator from the socket, by ``deadline``."""
        term = self._read_term
        buffer = self._buffer
        shortened = False  # the socket's timeout is timeout_s unless a reply comes in parts
        try:
            while True:
                end = buffer.find(term)
                if end >= 0:
                    end += len(term)
                    raw = bytes(buffer[:end])
                    del buffer[:end]
                    return raw
                try:
                    if buffer:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            raise TimeoutError
                        set_io_timeout(sock, remaining)
                        shortened = True
                    chunk = sock.recv(65536)
                except OSError as err:
                    raise self._receive_failed(err, command) from err
                if not chunk:
                    raise self._closed_while_reading(command)
                buffer += chunk
        finally:
            if shortened:
                set_io_timeout(sock, self._timeout_s)

    def _receive_failed(self, err: OSError, command: str) -> InstrumentError:
        """The error for a failed socket read; a timeout keeps the partial reply's text."""
        if not isinstance(err, TimeoutError | BlockingIOError):  # BlockingIOError: SO_RCVTIMEO
            return self._translate(err, f"reading the reply to {command!r}")
        partial, self._buffer = bytes(self._buffer), bytearray()
        self._stale = True
        detail = f"; partial reply {partial!r}" if partial else ""
        return InstrumentTimeout(
            f"no reply within {self._timeout_s:g} s while reading the reply to {command!r}{detail}",
            resource=self.resource,
        )

    def _closed_while_reading(self, command: str) -> InstrumentConnectionError:
        return InstrumentConnectionError(
            f"the instrument closed the connection while reading the reply to {command!r}",
            resource=self.resource,
        )

    def _discard_stale_input(self) -> None:
        """Drop input left over from a reply that timed out, so it cannot answer this query.

        Direct socket I/O drains what has arrived; through pyvisa, after a timeout, a VISA
        device clear does it (the usual SCPI recovery; for a pyvisa-py SOCKET it costs
        0.1 s, once).
        """
        self._buffer.clear()
        self._stale = False
        if self._sock is None:
            with contextlib.suppress(Exception):  # a dead link shows on the next write
                self._res.clear()
            return
        with contextlib.suppress(OSError):
            while select.select([self._sock], [], [], 0)[0]:
                if not recv_now(self._sock, 65536):
                    break  # EOF: the next read reports the closed link

    def _translate(self, err: Exception, doing: str) -> InstrumentError:
        is_timeout = (
            isinstance(err, pyvisa.errors.VisaIOError)
            and err.error_code == constants.StatusCode.error_timeout
        )
        if is_timeout and self._peer_closed():
            return InstrumentConnectionError(
                f"the instrument closed the connection while {doing}", resource=self.resource
            )
        if is_timeout:
            self._stale = True
            return InstrumentTimeout(
                f"no reply within {self._timeout_s:g} s while {doing}", resource=self.resource
            )
        return InstrumentConnectionError(
            f"{doing} failed: {_describe(err)}", resource=self.resource
        )

    def _session(self) -> Any:
        if self._res is None or self._closed:
            return None
        try:
            return self._res.visalib.sessions[self._res.session]
        except (AttributeError, KeyError, TypeError, pyvisa.errors.Error):
            return None

    def _session_is_plain_socket(self) -> bool:
        """Whether this is a pyvisa-py SOCKET session (its interface is the TCP socket)."""
        session = self._session()
        return type(session).__name__ == "TCPIPSocketSession" and isinstance(
            getattr(session, "interface", None), socket.socket
        )

    def _sockets(self) -> list[socket.socket]:
        """Return the TCP sockets behind this session (empty for USB, GPIB, vendor VISA)."""
        interface = getattr(self._session(), "interface", None)
        found = []
        for candidate in (
            interface,
            getattr(interface, "sock", None),  # VXI-11 (RPC client)
            getattr(interface, "_sync", None),  # HiSLIP synchronous channel
        ):
            if isinstance(candidate, socket.socket) and candidate.type == socket.SOCK_STREAM:
                found.append(candidate)
        return found

    def _check_connected(self) -> None:
        """Fail now if a socket session's non-blocking connect was refused.

        pyvisa-py opens SOCKET resources with a non-blocking connect and reports success
        even when the peer refused; the refusal would only surface at the first write.
        """
        for sock in self._sockets():
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                self.close()
                raise InstrumentConnectionError(
                    f"cannot connect: {os.strerror(code)}; check the address and port and "
                    "that the instrument's LAN interface is enabled",
                    resource=self.resource,
                )

    def _peer_closed(self) -> bool:
        """Return whether a socket session's peer has closed (EOF is readable)."""
        for sock in self._sockets():
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                continue
            try:
                if recv_now(sock, 1, socket.MSG_PEEK) == b"":
                    return True
            except BlockingIOError:
                continue
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return True
        return False

    def _discard(self) -> None:
        res, self._res = self._res, None
        if res is not None:
            # Closing a broken session must not mask the error that got us here.
            with contextlib.suppress(Exception):
                res.close()


_KERNEL_TIMEOUTS = hasattr(socket, "SO_RCVTIMEO") and os.name == "posix"


def set_io_timeout(sock: socket.socket, seconds: float) -> None:
    """Bound every send and receive on ``sock`` by ``seconds``, at the lowest cost per call.

    Python's own socket timeout puts the socket in non-blocking mode and polls before
    every send and receive: two extra system calls per message, about a third of a
    loopback write-then-query. On POSIX the socket stays blocking and the kernel enforces
    the bound (``SO_RCVTIMEO``/``SO_SNDTIMEO``); a call that runs out of time raises
    ``BlockingIOError`` instead of ``TimeoutError``. Elsewhere Python's timeout is used.
    """
    if not _KERNEL_TIMEOUTS:
        sock.settimeout(seconds)
        return
    whole = int(seconds)
    micros = max(1, int((seconds - whole) * 1e6)) if whole == 0 else int((seconds - whole) * 1e6)
    timeval = struct.pack("ll", whole, micros)  # a zero timeval would mean "wait forever"
    sock.settimeout(None)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


def recv_now(sock: socket.socket, size: int, flags: int = 0) -> bytes:
    """``sock.recv`` that never waits: raises BlockingIOError when nothing has arrived.

    ``MSG_DONTWAIT`` is POSIX-only (Windows has no such flag), so without it the socket is
    made non-blocking for this one call and its timeout restored afterwards.
    """
    dontwait = getattr(socket, "MSG_DONTWAIT", None)
    if dontwait is not None:
        return sock.recv(size, flags | dontwait)
    previous = sock.gettimeout()
    sock.setblocking(False)
    try:
        return sock.recv(size, flags)
    finally:
        sock.settimeout(previous)


def _describe(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
