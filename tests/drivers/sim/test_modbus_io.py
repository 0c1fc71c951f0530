"""The Modbus RTU I/O twin through the real driver (pyserial ``socket://``) and raw frames.

pyserial's ``socket://`` close waits 0.3 s, so most tests share one driver (module scope)
on one twin, and a fixture puts the twin back to its safe state before each test.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from drivers.errors import InstrumentConnectionError, InstrumentReportedError, InstrumentTimeout
from drivers.modbus.rtu_io import ModbusRtuInterlocks, crc16, with_crc
from drivers.registry import open_instrument
from drivers.sim.clock import ManualTime
from drivers.sim.electrical import PackCircuit
from drivers.sim.instruments.hv_twins import HvOutput, SafetyCircuit
from drivers.sim.instruments.modbus_io import (
    CHANNELS,
    K1_COIL,
    K2_COIL,
    LAMP_COIL,
    ModbusIoTwin,
    _crc16,
)
from drivers.sim.pack import Pack
from drivers.sim.packs import get_pack_spec


def frame(hex_text: str) -> bytes:
    return with_crc(bytes.fromhex(hex_text))


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[ModbusIoTwin, ModbusRtuInterlocks]]:
    with ModbusIoTwin() as twin:
        driver = open_instrument("modbus.rtu_io", twin.resource, options=twin.driver_options())
        try:
            driver.connect()
            yield twin, driver
        finally:
            driver.close()


@pytest.fixture
def io(shared: tuple[ModbusIoTwin, ModbusRtuInterlocks]) -> Iterator[ModbusIoTwin]:
    twin = shared[0]
    yield twin
    for address in range(CHANNELS):
        twin.set_input(address, address < 3)
        twin.handle(frame(f"01 05 {address:04X} 0000"))
    assert not twin.internal_errors


@pytest.fixture
def il(shared: tuple[ModbusIoTwin, ModbusRtuInterlocks], io: ModbusIoTwin) -> ModbusRtuInterlocks:
    return shared[1]


def test_twin_crc_agrees_with_the_check_value_and_the_driver() -> None:
    assert _crc16(b"123456789") == 0x4B37  # CRC-16/MODBUS check value
    for size in range(64):
        data = bytes((37 * i + size) % 256 for i in range(size))
        assert _crc16(data) == crc16(data)


def test_both_ends_of_the_link_send_without_nagle(
    shared: tuple[ModbusIoTwin, ModbusRtuInterlocks], il: ModbusRtuInterlocks
) -> None:
    twin = shared[0]
    il.read()  # the connection is being served
    client = il.link.port._socket
    assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    served = list(twin._connections)
    assert served
    assert all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0 for s in served)


def test_reads_a_safe_cell_and_switches_the_lamp(io: ModbusIoTwin, il: ModbusRtuInterlocks) -> None:
    assert io.resource.startswith("socket://127.0.0.1:")
    state = il.read()
    assert state.safe_for_hv and not il.hv_lamp_on()
    il.set_hv_lamp(True)
    assert io.hv_lamp and il.hv_lamp_on()
    il.set_hv_lamp(False)
    assert not io.hv_lamp
    assert il.identity().serial == "unit 1"


def test_door_estop_and_clamp_read_unsafe(io: ModbusIoTwin, il: ModbusRtuInterlocks) -> None:
    io.open_door()
    io.press_estop()
    io.unclamp_fixture()
    state = il.read()
    assert state.reasons() == ["door open", "e-stop pressed", "fixture not clamped"]
    io.close_door()
    io.release_estop()
    io.clamp_fixture()
    assert il.read().safe_for_hv


def test_fixture_relays_select_the_tested_pole(io: ModbusIoTwin, il: ModbusRtuInterlocks) -> None:
    circuit = PackCircuit(Pack(get_pack_spec("nmc96s")), ManualTime())
    output = HvOutput(circuit)
    safety = SafetyCircuit(io, [output])
    poles = []
    for k1, k2 in ((True, False), (False, True), (True, True), (False, False)):
        il.write_coil(K1_COIL, k1)
        il.write_coil(K2_COIL, k2)
        poles.append(output.pole)
    assert poles == ["plus", "minus", "both", "both"]
    assert il.read_coils(LAMP_COIL, 3) == [False, False, False]
    io.press_estop()
    assert not output.interlock_closed and not safety.interlock_closed
    io.release_estop()
    assert output.interlock_closed
    io.remove_listener(safety.update)  # the twin outlives this test


def test_exception_replies_like_a_real_slave(il: ModbusRtuInterlocks) -> None:
    cases = [
        (bytes.fromhex("03 0000 0001"), 1),  # read holding registers: not supported
        (bytes.fromhex("02 0006 0004"), 2),  # inputs 6…9: past the 8 channels
        (bytes.fromhex("05 0008 FF00"), 2),  # coil 8 does not exist
        (bytes.fromhex("02 0000 0000"), 3),  # quantity 0
        (bytes.fromhex("05 0000 1234"), 3),  # a coil value other than FF00/0000
    ]
    codes = []
    for pdu, _ in cases:
        with pytest.raises(InstrumentReportedError) as caught:
            il.link.transact(1, pdu)
        codes.append(caught.value.code)
    assert codes == [code for _, code in cases]
    assert il.read().safe_for_hv  # the link is still in step


def test_write_multiple_coils_echoes_and_sets_them(
    io: ModbusIoTwin, il: ModbusRtuInterlocks
) -> None:
    assert il.link.transact(1, bytes.fromhex("0F 0000 0003 01 06")) == bytes.fromhex("0F00000003")
    assert (io.hv_lamp, io.k1, io.k2) == (False, True, True)


def test_every_read_packs_its_bits_as_the_spec_and_the_driver_unpacks_them(
    io: ModbusIoTwin, il: ModbusRtuInterlocks
) -> None:
    # Modbus Application Protocol V1.1b3 §6.1-6.2: the first bit asked for is the lowest
    # bit of the first data byte, eight to a byte, the last byte padded with zeros.
    for pattern in (0b10110101, 0b01001010, 0b11111111):
        levels = [bool(pattern >> i & 1) for i in range(CHANNELS)]
        for address, level in enumerate(levels):
            io.set_input(address, level)
            io.handle(frame(f"01 05 {address:04X} {'FF00' if level else '0000'}"))
        for address in range(CHANNELS):
            for count in range(1, CHANNELS - address + 1):
                bits = levels[address : address + count]
                data = bytes(
                    sum(bit << i for i, bit in enumerate(bits[k : k + 8]))
                    for k in range(0, count, 8)
                )
                for function in ("01", "02"):
                    request = frame(f"01 {function} {address:04X} {count:04X}")
                    reply = frame(f"01 {function} {len(data):02X} {data.hex()}")
                    assert io.handle(request) == reply
                assert il.read_coils(address, count) == bits
                assert il.read_discrete_inputs(address, count) == bits


def test_corrupt_or_foreign_frames_get_no_reply(io: ModbusIoTwin) -> None:
    good = frame("01 02 0000 0003")
    assert io.handle(good) == frame("01 02 01 07")
    with socket.create_connection(("127.0.0.1", io.port), timeout=0.1) as raw:
        for request in (good[:-1] + bytes([good[-1] ^ 0xFF]), frame("02 02 0000 0003")):
            raw.sendall(request)
            with pytest.raises(TimeoutError):
                raw.recv(16)
        raw.sendall(frame("00 05 0000 FF00"))  # broadcast: executed, never answered
        with pytest.raises(TimeoutError):
            raw.recv(16)
        assert io.hv_lamp
        raw.sendall(good)  # still in step after the silences
        assert raw.recv(16) == frame("01 02 01 07")


def test_an_unknown_function_is_delimited_by_silence(io: ModbusIoTwin) -> None:
    with socket.create_connection(("127.0.0.1", io.port), timeout=1.0) as raw:
        raw.sendall(frame("01 2B 0E 01 00"))  # read device identification: not supported
        assert raw.recv(16) == frame("01 AB 01")


def test_other_unit_times_out(io: ModbusIoTwin) -> None:
    with ExitStack() as stack:
        driver = open_instrument(
            "modbus.rtu_io", io.resource, timeout_s=0.1, options={"unit_id": 2}
        )
        stack.callback(driver.close)
        with pytest.raises(InstrumentTimeout):
            driver.read()


def test_not_answering_and_dropped_link_faults() -> None:
    with ModbusIoTwin() as twin, ExitStack() as stack:
        driver = open_instrument("modbus.rtu_io", twin.resource, timeout_s=0.1)
        stack.callback(driver.close)
        twin.not_answering = True
        with pytest.raises(InstrumentTimeout):
            driver.read()
        twin.not_answering = False
        assert driver.read().safe_for_hv
        twin.drop_connection = True
        with pytest.raises(InstrumentConnectionError):
            driver.read()
    twin.close()  # twice is fine


def test_unit_id_is_checked() -> None:
    with pytest.raises(ValueError):
        ModbusIoTwin(unit_id=0)
