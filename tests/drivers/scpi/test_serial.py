"""SerialTransport over pyserial's loop:// and socket:// URLs (no hardware needed)."""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
from collections.abc import Iterator

import pytest

from drivers.errors import InstrumentConnectionError, InstrumentProtocolError, InstrumentTimeout
from drivers.generic.scpi_supply import GenericScpiSupply
from drivers.roles import PowerSupply
from drivers.scpi.open import open_transport
from drivers.scpi.serial import SerialTransport, is_serial_resource, port_from_resource


class SupplyHandler(socketserver.StreamRequestHandler):
    """A tiny RS-232 SCPI supply behind a serial device server (socket://)."""

    def handle(self) -> None:
        state = {"VOLT": "0.0000", "CURR": "0.0000", "OUTP": "0"}
        for raw in self.rfile:
            command = raw.decode("ascii").strip()
            header, _, arg = command.partition(" ")
            if command == "*IDN?":
                self.wfile.write(b"ACME,RS232-PSU,7,2.1\n")
            elif header in ("VOLT", "CURR") and arg:
                state[header] = arg
            elif header == "OUTP" and arg:
                state["OUTP"] = "1" if arg == "ON" else "0"
            elif command in ("VOLT?", "CURR?", "OUTP?"):
                self.wfile.write(f"{state[command[:-1]]}\n".encode())
            elif command == "MEAS:VOLT?":
                volts = state["VOLT"] if state["OUTP"] == "1" else "0"
                self.wfile.write(f"{volts}\n".encode())
            elif command == "SYST:ERR?":
                self.wfile.write(b'+0,"No error"\n')
            elif command == "GARBAGE?":
                self.wfile.write(b"\xff\xfe\n")
            elif command == "BYE":
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def server_port() -> Iterator[int]:
    server = Server(("127.0.0.1", 0), SupplyHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def loop() -> Iterator[SerialTransport]:
    t = SerialTransport("loop://", timeout_s=0.2)
    yield t
    t.close()


@pytest.mark.parametrize(
    ("resource", "port"),
    [
        ("ASRL/dev/ttyUSB0::INSTR", "/dev/ttyUSB0"),
        ("asrl/dev/ttyS1::INSTR", "/dev/ttyS1"),
        ("ASRL/dev/ttyACM0", "/dev/ttyACM0"),
        ("/dev/ttyUSB0", "/dev/ttyUSB0"),
        ("COM3", "COM3"),
        ("loop://", "loop://"),
        ("socket://127.0.0.1:4001", "socket://127.0.0.1:4001"),
        ("rfc2217://10.0.0.9:4001", "rfc2217://10.0.0.9:4001"),
    ],
)
def test_port_from_resource(resource: str, port: str) -> None:
    assert is_serial_resource(resource)
    assert port_from_resource(resource) == port


@pytest.mark.skipif(sys.platform == "win32", reason="COM numbering is valid on Windows")
def test_numbered_asrl_on_posix_asks_for_a_device_path() -> None:
    with pytest.raises(ValueError, match="ASRL/dev/ttyS2::INSTR"):
        port_from_resource("ASRL3::INSTR")


@pytest.mark.parametrize(
    "resource", ["TCPIP0::10.0.0.5::5025::SOCKET", "USB0::0x1698::0x0837::X::INSTR", "GPIB0::5"]
)
def test_non_serial_resources_are_refused(resource: str) -> None:
    assert not is_serial_resource(resource)
    with pytest.raises(ValueError, match="not a serial resource"):
        port_from_resource(resource)


def test_loop_query_reads_back_the_echo(loop: SerialTransport) -> None:
    assert loop.query("*IDN?") == "*IDN?"


def test_query_discards_stale_input(loop: SerialTransport) -> None:
    loop.write("LATE REPLY")  # loop:// echoes it into the input buffer
    assert loop.query("VOLT?") == "VOLT?"


def test_read_without_terminator_times_out_quoting_partial_bytes() -> None:
    with SerialTransport("loop://", timeout_s=0.1, read_termination="\r") as t:
        t.write("12.5")  # sent as b"12.5\n"; the reader waits for \r
        with pytest.raises(InstrumentTimeout) as info:
            t.read()
    assert "b'12.5\\n'" in str(info.value)
    assert info.value.resource == "loop://"


def test_read_with_nothing_times_out(loop: SerialTransport) -> None:
    with pytest.raises(InstrumentTimeout, match="no complete reply"):
        loop.read()


def test_tracer_sees_both_directions() -> None:
    seen: list[tuple[str, str, str]] = []
    with SerialTransport("loop://", timeout_s=0.2, tracer=lambda *a: seen.append(a)) as t:
        t.query("MEAS:VOLT?")
    assert seen == [("loop://", ">", "MEAS:VOLT?"), ("loop://", "<", "MEAS:VOLT?")]


def test_close_is_idempotent_and_later_io_fails(loop: SerialTransport) -> None:
    loop.close()
    loop.close()
    with pytest.raises(InstrumentConnectionError, match="closed"):
        loop.write("OUTP OFF")


def test_missing_device_raises_connection_error() -> None:
    with pytest.raises(InstrumentConnectionError, match="/dev/eol-no-such-tty"):
        SerialTransport("ASRL/dev/eol-no-such-tty::INSTR")


def test_refused_device_server_raises_connection_error() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        port = blocker.getsockname()[1]
        with pytest.raises(InstrumentConnectionError, match="cannot open serial port"):
            SerialTransport(f"socket://127.0.0.1:{port}", timeout_s=0.5)


def test_invalid_settings_raise_connection_error() -> None:
    with pytest.raises(InstrumentConnectionError, match="9600 7X1"):
        SerialTransport("loop://", bytesize=7, parity="X")


def test_timeout_can_be_changed(loop: SerialTransport) -> None:
    loop.timeout_s = 0.05
    assert loop.timeout_s == 0.05
    with pytest.raises(ValueError):
        loop.timeout_s = -1


def test_generic_supply_over_a_serial_device_server(server_port: int) -> None:
    transport = open_transport(f"socket://127.0.0.1:{server_port}", timeout_s=1.0, baudrate=9600)
    assert isinstance(transport, SerialTransport)
    psu = GenericScpiSupply(transport, max_voltage_v=60, max_current_a=5)
    try:
        assert isinstance(psu, PowerSupply)
        assert psu.identity().model == "RS232-PSU"
        psu.set_voltage(12.0)
        psu.set_current(1.5)
        psu.set_output(True)
        assert psu.output_enabled() is True
        assert psu.measure_voltage() == 12.0
        assert psu.current_setpoint == 1.5
        psu.safe_state()
        assert psu.is_safe() is True
    finally:
        psu.close()


def test_socket_url_has_nodelay(server_port: int) -> None:
    with SerialTransport(f"socket://127.0.0.1:{server_port}") as t:
        sock = t._serial._socket
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_non_ascii_reply_raises_protocol_error(server_port: int) -> None:
    with (
        SerialTransport(f"socket://127.0.0.1:{server_port}", timeout_s=0.5) as t,
        pytest.raises(InstrumentProtocolError, match=r"b'\\xff\\xfe\\n'"),
    ):
        t.query("GARBAGE?")


def test_device_server_dropping_the_link_raises_connection_error(server_port: int) -> None:
    with SerialTransport(f"socket://127.0.0.1:{server_port}", timeout_s=0.5) as t:
        t.write("BYE")
        with pytest.raises(InstrumentConnectionError, match="VOLT"):
            t.query("VOLT?")
