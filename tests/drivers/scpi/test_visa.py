"""VisaTransport against a real loopback SCPI server (pyvisa-py, TCPIP SOCKET)."""

from __future__ import annotations

import socket
import socketserver
import statistics
import threading
import time
from collections.abc import Iterator

import pytest

from drivers.errors import InstrumentConnectionError, InstrumentTimeout
from drivers.generic.scpi_supply import GenericScpiSupply
from drivers.scpi.open import open_transport
from drivers.scpi.visa import VisaTransport


class ScpiHandler(socketserver.StreamRequestHandler):
    """Answers *IDN?, VOLT <x> (no reply), VOLT?, SYST:ERR?; ignores unknown commands.

    Test extras: CRLF? (CRLF-terminated reply), TWICE? (two lines), SPLIT? (a reply in two
    segments), LATE? (replies only when the test says so), BYE (closes the link).
    The server's socket keeps Nagle on, like many instruments: the client alone must
    make write-then-query fast.
    """

    release_late = threading.Event()
    late_sent = threading.Event()

    def handle(self) -> None:
        volts = "0"
        for raw in self.rfile:
            command = raw.decode("ascii").strip()
            if command == "LATE?":
                self.release_late.wait(timeout=5)
                self.wfile.write(b"late\n")
                self.late_sent.set()
            elif command == "TWICE?":
                self.wfile.write(b"1\n2\n")
            elif command == "SPLIT?":
                self.wfile.write(b"12")
                self.wfile.write(b"34\n")
            elif command == "*IDN?":
                self.wfile.write(b"ACME,PSU-1,SN42,1.0\n")
            elif command.startswith("VOLT "):
                volts = command.split(" ", 1)[1]
            elif command == "VOLT?":
                self.wfile.write(f"{volts}\n".encode())
            elif command == "SYST:ERR?":
                self.wfile.write(b'+0,"No error"\n')
            elif command == "CRLF?":
                self.wfile.write(b"42\r\n")
            elif command == "BYE":
                return


class ScpiServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def server_port() -> Iterator[int]:
    server = ScpiServer(("127.0.0.1", 0), ScpiHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(params=[True, False], ids=["direct-socket", "through-pyvisa"])
def direct(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def transport(server_port: int, direct: bool) -> Iterator[VisaTransport]:
    resource = f"TCPIP0::127.0.0.1::{server_port}::SOCKET"
    t = VisaTransport(resource, timeout_s=0.3, direct_socket_io=direct)
    assert t.direct_socket_io is direct
    yield t
    t.close()


def test_query_returns_reply_without_terminator(transport: VisaTransport) -> None:
    assert transport.query("*IDN?") == "ACME,PSU-1,SN42,1.0"


def test_crlf_reply_is_stripped(transport: VisaTransport) -> None:
    assert transport.query("CRLF?") == "42"


def test_write_then_read(transport: VisaTransport) -> None:
    transport.write("VOLT 12.5")
    transport.write("VOLT?")
    assert transport.read() == "12.5"


def test_tcp_nodelay_is_on(transport: VisaTransport) -> None:
    assert transport.nodelay_enabled() is True
    session = transport._res.visalib.sessions[transport._res.session]
    assert session.interface.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_write_then_query_is_not_delayed_by_nagle(transport: VisaTransport) -> None:
    # With Nagle on, each pair waits for the server's delayed ACK (~40 ms).
    durations = []
    for i in range(50):
        start = time.perf_counter()
        transport.write(f"VOLT {i}")
        assert transport.query("VOLT?") == str(i)
        durations.append(time.perf_counter() - start)
    assert statistics.median(durations) < 0.010


def test_timeout_raises_instrument_timeout_naming_resource(transport: VisaTransport) -> None:
    with pytest.raises(InstrumentTimeout) as info:
        transport.query("NOREPLY?")
    assert transport.resource in str(info.value)
    assert "NOREPLY?" in str(info.value)
    assert info.value.resource == transport.resource


def test_connection_refused_raises_connection_error() -> None:
    # A bound but not listening socket refuses every connection, deterministically.
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        port = blocker.getsockname()[1]
        resource = f"TCPIP0::127.0.0.1::{port}::SOCKET"
        with pytest.raises(InstrumentConnectionError) as info:
            VisaTransport(resource, timeout_s=0.5)
    assert resource in str(info.value)
    assert "refused" in str(info.value)


def test_invalid_resource_name_raises_connection_error() -> None:
    with pytest.raises(InstrumentConnectionError, match="BOGUS::1"):
        VisaTransport("BOGUS::1", timeout_s=0.5)


def test_peer_closing_the_link_raises_connection_error(transport: VisaTransport) -> None:
    transport.write("BYE")
    with pytest.raises(InstrumentConnectionError, match="closed the connection"):
        transport.query("VOLT?")


def test_tracer_sees_both_directions(server_port: int, direct: bool) -> None:
    seen: list[tuple[str, str, str]] = []
    resource = f"TCPIP0::127.0.0.1::{server_port}::SOCKET"
    tracer = lambda *a: seen.append(a)  # noqa: E731
    with VisaTransport(resource, timeout_s=0.3, tracer=tracer, direct_socket_io=direct) as t:
        t.write("VOLT 3")
        assert t.query("VOLT?") == "3"
    assert seen == [(resource, ">", "VOLT 3"), (resource, ">", "VOLT?"), (resource, "<", "3")]


def test_reply_in_several_segments_is_joined(transport: VisaTransport) -> None:
    assert transport.query("SPLIT?") == "1234"


def test_late_reply_cannot_answer_the_next_query(transport: VisaTransport) -> None:
    ScpiHandler.release_late.clear()
    ScpiHandler.late_sent.clear()
    with pytest.raises(InstrumentTimeout):
        transport.query("LATE?")
    ScpiHandler.release_late.set()
    assert ScpiHandler.late_sent.wait(timeout=5)
    transport.write("VOLT 7")
    assert transport.query("VOLT?") == "7"


@pytest.fixture
def without_msg_dontwait(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on Windows: the socket module has no MSG_DONTWAIT."""
    monkeypatch.delattr(socket, "MSG_DONTWAIT", raising=False)
    assert not hasattr(socket, "MSG_DONTWAIT")


@pytest.mark.usefixtures("without_msg_dontwait")
def test_timeout_recovery_works_without_msg_dontwait(transport: VisaTransport) -> None:
    test_late_reply_cannot_answer_the_next_query(transport)
    assert transport.query("*IDN?") == "ACME,PSU-1,SN42,1.0"


@pytest.mark.usefixtures("without_msg_dontwait")
def test_a_closed_link_is_seen_without_msg_dontwait(transport: VisaTransport) -> None:
    test_peer_closing_the_link_raises_connection_error(transport)


def test_recv_now_does_not_wait_and_keeps_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from drivers.scpi.visa import recv_now

    monkeypatch.delattr(socket, "MSG_DONTWAIT", raising=False)
    a, b = socket.socketpair()
    with a, b:
        a.settimeout(2.5)
        started = time.monotonic()
        with pytest.raises(BlockingIOError):
            recv_now(a, 10)
        assert time.monotonic() - started < 1.0
        assert a.gettimeout() == 2.5
        b.sendall(b"xy")
        assert recv_now(a, 1, socket.MSG_PEEK) == b"x"
        assert recv_now(a, 10) == b"xy"
        assert a.gettimeout() == 2.5


def test_extra_reply_lines_are_dropped_before_the_next_query(server_port: int) -> None:
    with VisaTransport(f"TCPIP0::127.0.0.1::{server_port}::SOCKET", timeout_s=0.3) as t:
        assert t.query("TWICE?") == "1"
        assert t.query("*IDN?") == "ACME,PSU-1,SN42,1.0"


def test_close_is_idempotent_and_later_io_fails(transport: VisaTransport) -> None:
    transport.close()
    transport.close()
    assert transport.nodelay_enabled() is False
    with pytest.raises(InstrumentConnectionError, match="closed"):
        transport.query("*IDN?")


def test_embedded_terminator_is_refused_before_io(transport: VisaTransport) -> None:
    with pytest.raises(ValueError, match="terminator"):
        transport.write("VOLT 1\nOUTP ON")


def test_timeout_can_be_changed(transport: VisaTransport) -> None:
    transport.timeout_s = 0.1
    assert transport.timeout_s == 0.1
    assert transport._res.timeout == 100
    with pytest.raises(InstrumentTimeout, match=r"0\.1 s"):
        transport.query("NOREPLY?")
    with pytest.raises(ValueError):
        transport.timeout_s = 0


def test_open_transport_picks_visa_and_a_driver_works_over_it(server_port: int) -> None:
    t = open_transport(f"TCPIP0::127.0.0.1::{server_port}::SOCKET", timeout_s=0.3)
    assert isinstance(t, VisaTransport)
    assert t.direct_socket_io is True
    psu = GenericScpiSupply(t, max_voltage_v=60, max_current_a=10)
    try:
        psu.set_voltage(24.0)
        assert psu.voltage_setpoint == 24.0
        assert psu.identity().model == "PSU-1"
    finally:
        psu.close()


def test_open_transport_refuses_serial_options_for_lan() -> None:
    with pytest.raises(TypeError, match="baudrate"):
        open_transport("TCPIP0::127.0.0.1::5025::SOCKET", baudrate=9600)


def test_open_transport_refuses_unknown_options() -> None:
    with pytest.raises(TypeError, match="flow"):
        open_transport("TCPIP0::127.0.0.1::5025::SOCKET", flow="rtscts")


def test_a_manager_closed_by_someone_else_is_replaced(server_port: int) -> None:
    # Another pyvisa user in the process closing "its" manager closes ours too (pyvisa
    # shares them); the next transport must still open.
    resource = f"TCPIP0::127.0.0.1::{server_port}::SOCKET"
    VisaTransport(resource, timeout_s=1.0).close()  # caches a manager
    import pyvisa

    pyvisa.ResourceManager("@py").close()
    transport = VisaTransport(resource, timeout_s=1.0)
    try:
        assert transport.query("*IDN?") == "ACME,PSU-1,SN42,1.0"
    finally:
        transport.close()


def test_io_timeout_bounds_a_read_on_a_blocking_socket() -> None:
    from drivers.scpi.visa import set_io_timeout

    a, b = socket.socketpair()
    with a, b:
        set_io_timeout(a, 0.05)
        assert a.gettimeout() is None  # no poll before each call: the kernel bounds it
        started = time.monotonic()
        with pytest.raises((BlockingIOError, TimeoutError)):
            a.recv(10)
        assert time.monotonic() - started < 1.0
        b.sendall(b"ok\n")
        assert a.recv(10) == b"ok\n"
