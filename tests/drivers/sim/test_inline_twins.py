"""Twins served inline: answered on the client's thread, through the real drivers.

On the lockstep bench no twin has a thread: each driver pumps its twin after writing
(drivers/loopback.py). The bytes still cross a real loopback TCP socket both ways.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence

import pytest
import serial
import serial.urlhandler.protocol_socket as pyserial_socket

from drivers import loopback
from drivers.errors import InstrumentConnectionError, InstrumentTimeout
from drivers.labels.zpl_printer import ZplPrinter
from drivers.modbus.rtu_io import ModbusRtuInterlocks, with_crc
from drivers.registry import open_instrument
from drivers.scpi.serial import port_socket
from drivers.scpi.visa import VisaTransport
from drivers.sim.bench import VirtualBench
from drivers.sim.instruments.label_printer import ZplPrinterTwin
from drivers.sim.instruments.modbus_io import LAMP_COIL, ModbusIoTwin
from drivers.sim.scpi_server import Call, CommandFn, ScpiDevice, ScpiServer
from drivers.sim.tcp_server import TwinServer
from station.clock import VirtualClock


class Recorder(ScpiDevice):
    """Remembers the level set and the thread each command ran on."""

    idn = "ACME,Recorder,SN1,1.0"

    def __init__(self) -> None:
        self.level = 0.0
        self.threads: list[int] = []

    def reset(self) -> None:
        self.level = 0.0

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        return [("VOLTage", self._set), ("VOLTage?", self._get)]

    def _set(self, call: Call) -> None:
        self.threads.append(threading.get_ident())
        self.level = call.number(low=0.0, high=10.0)

    def _get(self, call: Call) -> str:
        self.threads.append(threading.get_ident())
        return f"{self.level:g}"


@pytest.fixture
def inline_server() -> Iterator[ScpiServer]:
    with ScpiServer(Recorder()).start(inline=True) as server:
        yield server


def twin_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("scpi-", "modbus"))]


def test_a_query_is_answered_on_the_clients_thread_with_no_twin_thread(
    inline_server: ScpiServer,
) -> None:
    device = inline_server.handler
    assert isinstance(device, Recorder)
    with VisaTransport(inline_server.resource, timeout_s=1.0) as link:
        assert link.query("*IDN?") == Recorder.idn
        # A setting has no reply, yet it has run when write() returns: nothing to wait for.
        link.write("VOLT 2.5")
        assert device.level == 2.5
        assert link.query("VOLT?") == "2.5"
    assert device.threads == [threading.get_ident()] * 2
    assert f"scpi-Recorder-{inline_server.port}" not in twin_threads()


def test_the_same_twin_started_threaded_answers_on_its_own_thread() -> None:
    device = Recorder()
    with ScpiServer(device).start() as server, VisaTransport(server.resource) as link:
        assert link.query("VOLT?") == "0"
    assert device.threads and device.threads[0] != threading.get_ident()


def test_a_client_that_does_not_pump_gets_no_answer(inline_server: ScpiServer) -> None:
    with socket.create_connection(("127.0.0.1", inline_server.port), timeout=0.2) as raw:
        raw.sendall(b"*IDN?\n")
        with pytest.raises(TimeoutError):
            raw.recv(64)


def test_link_faults_act_on_a_pumped_link(inline_server: ScpiServer) -> None:
    with VisaTransport(inline_server.resource, timeout_s=0.2) as link:
        inline_server.not_answering = True
        with pytest.raises(InstrumentTimeout):
            link.query("VOLT?")
        inline_server.not_answering = False
    with VisaTransport(inline_server.resource, timeout_s=0.5) as link:
        assert link.query("VOLT?") == "0"
        inline_server.drop_connections()
        with pytest.raises(InstrumentConnectionError):
            link.query("VOLT?")
    with VisaTransport(inline_server.resource, timeout_s=0.5) as link:
        inline_server.drop_connection = True
        with pytest.raises(InstrumentConnectionError):
            link.query("VOLT?")


def test_two_clients_of_one_pumped_twin_each_get_their_own_answers(
    inline_server: ScpiServer,
) -> None:
    with (
        VisaTransport(inline_server.resource) as first,
        VisaTransport(inline_server.resource) as second,
    ):
        first.write("VOLT 1")
        assert second.query("VOLT?") == "1"
        second.write("VOLT 3")
        assert first.query("VOLT?") == "3"


def test_closing_a_pumped_twin_unregisters_it() -> None:
    server = ScpiServer(Recorder()).start(inline=True)
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        assert loopback.pump_for(client) is not None
        server.close()
        assert loopback.pump_for(client) is None
    server.close()  # twice is fine


def test_the_modbus_twin_pumped_through_its_driver() -> None:
    with ModbusIoTwin().start(inline=True) as twin:
        driver = open_instrument(
            "modbus.rtu_io", twin.resource, timeout_s=0.2, options=twin.driver_options()
        )
        assert isinstance(driver, ModbusRtuInterlocks)
        try:
            driver.connect()
            assert driver.read().safe_for_hv
            driver.set_hv_lamp(True)
            assert twin.coil(LAMP_COIL)  # switched when the write returned
            assert driver.hv_lamp_on()
            twin.not_answering = True
            with pytest.raises(InstrumentTimeout):
                driver.read()
        finally:
            driver.close()
        assert not twin.internal_errors


def test_a_modbus_frame_only_silence_delimits_is_answered_when_pumped() -> None:
    with ModbusIoTwin().start(inline=True) as twin:
        client = socket.create_connection(("127.0.0.1", twin.port), timeout=1.0)
        with client:
            pump = loopback.pump_for(client)
            assert pump is not None
            request = with_crc(bytes.fromhex("01 2B 0E 01 00"))  # no length in the frame
            client.sendall(request)
            pump(len(request))
            assert client.recv(16) == with_crc(bytes.fromhex("01 AB 01"))


def test_the_label_printer_pumped_through_its_driver() -> None:
    label = "^XA^FO50,50^FDSN 0001^FS^XZ"
    with ZplPrinterTwin().start(inline=True) as twin, ZplPrinter(twin.resource) as zpl:
        zpl.connect()
        assert zpl.identity().serial == "SIM-LABEL-0001"
        zpl.print_label(label)
        assert twin.received() == [label]


def test_the_lockstep_bench_serves_every_twin_inline_and_a_real_time_one_threaded() -> None:
    with VirtualBench("nmc96s", seed=1, scheduler=VirtualClock()) as lockstep:
        twins: list[object] = [*lockstep.servers.values(), *lockstep.served.values()]
        assert twins
        assert all(isinstance(t, TwinServer) and t.inline for t in twins)
    with VirtualBench("nmc96s", seed=1) as real_time:
        twins = [*real_time.servers.values(), *real_time.served.values()]
        assert all(isinstance(t, TwinServer) and not t.inline for t in twins)


def test_closing_a_pumped_modbus_link_closes_its_port_without_pyserials_reconnect_sleep(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pyserial's socket:// close() sleeps 0.3 s for a device server's sake; a twin on this
    # thread needs none, and every virtual bench's teardown would wait for it.
    slept: list[float] = []
    monkeypatch.setattr(pyserial_socket.time, "sleep", slept.append)
    with ModbusIoTwin().start(inline=True) as twin:
        driver = open_instrument(
            "modbus.rtu_io", twin.resource, timeout_s=0.2, options=twin.driver_options()
        )
        assert isinstance(driver, ModbusRtuInterlocks)
        driver.connect()
        assert driver.read().safe_for_hv
        port = driver.link.port
        assert isinstance(port, serial.SerialBase)
        sock = port_socket(port)
        assert sock is not None
        driver.close()
        assert slept == []
        assert not port.is_open
        assert sock.fileno() == -1  # the socket itself is closed
        with pytest.raises(InstrumentConnectionError, match="closed"):
            driver.read()
        assert not twin.internal_errors
