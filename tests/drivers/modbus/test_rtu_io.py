"""Exact-byte tests for the Modbus RTU interlock module (scripted serial port)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from drivers.errors import (
    InstrumentConnectionError,
    InstrumentError,
    InstrumentProtocolError,
    InstrumentReportedError,
    InstrumentTimeout,
)
from drivers.modbus.rtu_io import ModbusRtuInterlocks, ModbusRtuLink, crc16, with_crc
from drivers.roles import Identity, Interlocks, InterlockState


class ScriptedSerial:
    """A serial port that expects exact request frames and answers with scripted bytes.

    A reply shorter than the reader asks for behaves like a pyserial read timing out.
    """

    def __init__(self, script: Sequence[tuple[bytes, bytes]]) -> None:
        self.script = list(script)
        self.timeout: float | None = None
        self.pending = b""
        self.closed = False
        self.resets = 0

    def reset_input_buffer(self) -> None:
        self.resets += 1
        self.pending = b""

    def write(self, data: bytes) -> int:
        assert self.script, f"unexpected request {data.hex(' ')}"
        expected, reply = self.script.pop(0)
        assert data == expected, f"expected {expected.hex(' ')}, got {data.hex(' ')}"
        self.pending = reply
        return len(data)

    def read(self, size: int = 1) -> bytes:
        out, self.pending = self.pending[:size], self.pending[size:]
        return out

    def close(self) -> None:
        self.closed = True


def frame(hex_text: str) -> bytes:
    """Return the bytes of ``hex_text`` with their CRC appended."""
    return with_crc(bytes.fromhex(hex_text))


@contextmanager
def module(script: Sequence[tuple[bytes, bytes]], **options: Any) -> Iterator[ModbusRtuInterlocks]:
    port = ScriptedSerial(script)
    # 115200 baud keeps the inter-frame silence at 1.75 ms.
    link = ModbusRtuLink(port, resource="ASRL/dev/ttyUSB1::INSTR", baudrate=115200, timeout_s=0.1)
    yield ModbusRtuInterlocks(link, **options)
    assert not port.script, f"unused exchanges: {port.script!r}"


READ_DI_0_3 = frame("01 02 0000 0003")
READ_COIL_0 = frame("01 01 0000 0001")


def test_crc_matches_published_vectors() -> None:
    assert crc16(b"123456789") == 0x4B37  # CRC-16/MODBUS check value
    # Beckhoff BK/KL Modbus examples: read 10 inputs of unit 11, and its reply.
    assert frame("0B 02 0000 000A") == bytes.fromhex("0B 02 00 00 00 0A F8 A7")
    assert frame("0B 02 02 01 00") == bytes.fromhex("0B 02 02 01 00 20 29")
    # Matrix PEL-8000 manual: read coil 0x0510 of unit 1, and its reply.
    assert frame("01 01 0510 0001") == bytes.fromhex("01 01 05 10 00 01 FC C3")
    assert frame("01 01 01 48") == bytes.fromhex("01 01 01 48 51 BE")


def bitwise_crc16(data: bytes) -> int:
    """The CRC-16/MODBUS bit by bit, as the serial-line spec describes it."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_crc_table_gives_the_bitwise_crc() -> None:
    rng = random.Random(14)
    samples = [b"", bytes(range(256)), bytes(255 - i for i in range(256))]
    samples += [rng.randbytes(rng.randrange(1, 40)) for _ in range(2000)]
    for data in samples:
        assert crc16(data) == bitwise_crc16(data), data.hex()


def test_plays_the_interlocks_role() -> None:
    with module([]) as io:
        assert isinstance(io, Interlocks)
        assert io.resource == "ASRL/dev/ttyUSB1::INSTR"


def test_connect_sends_nothing() -> None:
    with module([]) as io:
        io.connect()


def test_read_all_safe() -> None:
    with module([(READ_DI_0_3, frame("01 02 01 07"))]) as io:  # one request: the inputs
        assert io.read() == InterlockState(True, True, True)


@pytest.mark.parametrize(("reply", "on"), [("01 01 01 00", False), ("01 01 01 01", True)])
def test_hv_lamp_on_reads_the_lamp_coil(reply: str, on: bool) -> None:
    with module([(READ_COIL_0, frame(reply))]) as io:
        assert io.hv_lamp_on() is on


def test_read_names_each_unsafe_input() -> None:
    with module([(READ_DI_0_3, frame("01 02 01 02"))]) as io:
        state = io.read()
    assert state == InterlockState(False, True, False)
    assert state.reasons() == ["door open", "fixture not clamped"]
    assert not state.safe_for_hv


def test_read_with_custom_mapping_and_active_low_estop() -> None:
    # Door on DI5 (address 4), e-stop on DI7 (6, reads 0 when released), clamp on DI8 (7).
    options = {"door_input": 4, "estop_input": 6, "clamp_input": 7, "estop_released_level": 0}
    options |= {"unit_id": 3, "lamp_coil": 5, "dmm_proof_coil": 6}
    script = [
        (frame("03 02 0004 0004"), frame("03 02 01 09")),  # bits 4..7 = 1,0,0,1
        (frame("03 01 0005 0001"), frame("03 01 01 01")),
    ]
    with module(script, **options) as io:
        assert io.read() == InterlockState(True, True, True)
        assert io.hv_lamp_on() is True


@pytest.mark.parametrize(("on", "value"), [(True, "FF00"), (False, "0000")])
def test_set_hv_lamp(on: bool, value: str) -> None:
    request = frame(f"01 05 0000 {value}")
    with module([(request, request)]) as io:
        io.set_hv_lamp(on)


@pytest.mark.parametrize(
    ("pole", "coils"),
    [
        # release first, then K1 (coil 1) and K2 (coil 2) as the pole needs
        ("plus", [(2, False), (1, True), (2, False)]),
        ("minus", [(1, False), (1, False), (2, True)]),
        ("both", [(1, False), (1, False), (2, False)]),
    ],
)
def test_select_hv_pole(pole: str, coils: list[tuple[int, bool]]) -> None:
    script = []
    for address, on in coils:
        request = frame(f"01 05 {address:04X} {'FF00' if on else '0000'}")
        script.append((request, request))
    with module(script) as io:
        io.select_hv_pole(pole)  # type: ignore[arg-type]


def test_select_hv_pole_refuses_an_unknown_pole_and_sends_nothing() -> None:
    with module([]) as io, pytest.raises(ValueError, match="pole"):
        io.select_hv_pole("chassis")  # type: ignore[arg-type]


@pytest.mark.parametrize(("open_loop", "value"), [(True, "FF00"), (False, "0000")])
def test_set_hvil_break(open_loop: bool, value: str) -> None:
    request = frame(f"01 05 0003 {value}")
    with module([(request, request)]) as io:
        io.set_hvil_break(open_loop)


@pytest.mark.parametrize(("on", "value"), [(True, "FF00"), (False, "0000")])
def test_set_imd_test_resistor(on: bool, value: str) -> None:
    request = frame(f"01 05 0004 {value}")
    with module([(request, request)]) as io:
        io.set_imd_test_resistor(on)


@pytest.mark.parametrize(("on", "value"), [(True, "FF00"), (False, "0000")])
def test_set_dmm_proof_switches_the_next_free_coil(on: bool, value: str) -> None:
    request = frame(f"01 05 0005 {value}")
    with module([(request, request)]) as io:
        io.set_dmm_proof(on)
        assert (io.dmm_proof_v, io.dmm_proof_tolerance_v) == (24.0, 2.4)


def test_the_dmm_proof_relay_and_reference_are_options() -> None:
    request = frame("01 05 0007 FF00")
    with module(
        [(request, request)], dmm_proof_coil=7, dmm_proof_v=12, dmm_proof_tolerance_v=1
    ) as io:
        io.set_dmm_proof(True)
        assert (io.dmm_proof_v, io.dmm_proof_tolerance_v) == (12.0, 1.0)


def test_write_coil() -> None:
    request = frame("01 05 0007 FF00")
    with module([(request, request)]) as io:
        io.write_coil(7, True)


def test_read_discrete_inputs_spanning_two_bytes() -> None:
    script = [(frame("01 02 0000 000A"), frame("01 02 02 01 02"))]
    with module(script) as io:
        bits = io.read_discrete_inputs(0, 10)
    assert bits == [True] + [False] * 8 + [True]


def test_read_coils() -> None:
    with module([(frame("01 01 0002 0003"), frame("01 01 01 05"))]) as io:
        assert io.read_coils(2, 3) == [True, False, True]


def test_identity_checks_the_module_answers() -> None:
    with module([(frame("01 02 0000 0001"), frame("01 02 01 00"))], model="IO 8CH") as io:
        assert io.identity() == Identity("Modbus RTU", "IO 8CH", "unit 1", "unknown")


def test_exception_reply_raises_reported_error() -> None:
    script = [(READ_DI_0_3, frame("01 82 02"))]
    with module(script) as io, pytest.raises(InstrumentReportedError, match="data address") as info:
        io.read()
    assert info.value.code == 2


def test_no_reply_raises_timeout() -> None:
    with module([(READ_DI_0_3, b"")]) as io, pytest.raises(InstrumentTimeout, match="unit 1"):
        io.read()


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (b"\x01\x02", "too short"),
        (frame("01 02 01 07")[:-1], "too short"),
        (bytes.fromhex("01 02 01 07 00 00"), "CRC mismatch"),
        (frame("02 02 01 07"), "from unit 2"),
        (frame("01 03 01 07"), "function code 0x03"),
        (frame("01 02 02 07 00"), "data byte"),
        (frame("01 82 02")[:-1], "too short"),
    ],
)
def test_bad_replies_raise_protocol_error_quoting_bytes(reply: bytes, why: str) -> None:
    with module([(READ_DI_0_3, reply)]) as io, pytest.raises(InstrumentProtocolError) as info:
        io.read()
    assert why in str(info.value)
    assert reply[:2].hex(" ").upper() in str(info.value)


def test_coil_reply_must_echo_the_request() -> None:
    request = frame("01 05 0000 FF00")
    script = [(request, frame("01 05 0000 0000"))]
    with module(script) as io, pytest.raises(InstrumentProtocolError, match="echo"):
        io.set_hv_lamp(True)


def test_tracer_sees_frames_as_hex() -> None:
    seen: list[tuple[str, str, str]] = []
    request = frame("01 05 0000 0000")
    link = ModbusRtuLink(
        ScriptedSerial([(request, request)]),
        resource="loop",
        baudrate=115200,
        tracer=lambda *a: seen.append(a),
    )
    ModbusRtuInterlocks(link).set_hv_lamp(False)
    assert seen == [
        ("loop", ">", "01 05 00 00 00 00 CD CA"),
        ("loop", "<", "01 05 00 00 00 00 CD CA"),
    ]


def test_stale_input_is_discarded_before_each_request() -> None:
    port = ScriptedSerial(
        [(READ_DI_0_3, frame("01 02 01 07")), (READ_COIL_0, frame("01 01 01 00"))]
    )
    port.pending = b"\x00\xff stale"
    link = ModbusRtuLink(port, resource="r", baudrate=115200)
    io = ModbusRtuInterlocks(link)
    io.read()
    io.hv_lamp_on()
    assert port.resets == 2


def test_close_closes_the_port_and_later_io_fails() -> None:
    port = ScriptedSerial([])
    io = ModbusRtuInterlocks(ModbusRtuLink(port, resource="r"))
    io.close()
    io.close()
    assert port.closed
    with pytest.raises(InstrumentConnectionError, match="closed"):
        io.set_hv_lamp(False)


def test_serial_failure_raises_connection_error() -> None:
    class Unplugged(ScriptedSerial):
        def write(self, data: bytes) -> int:
            raise OSError(5, "Input/output error")

    io = ModbusRtuInterlocks(ModbusRtuLink(Unplugged([]), resource="r"))
    with pytest.raises(InstrumentConnectionError, match="Input/output error"):
        io.read()


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"unit_id": 0}, ValueError),
        ({"unit_id": 248}, ValueError),
        ({"door_input": 1}, ValueError),  # same as the e-stop input
        ({"clamp_input": -1}, ValueError),
        ({"door_closed_level": 2}, ValueError),
        ({"estop_released_level": True}, TypeError),
        ({"lamp_coil": 70000}, ValueError),
        ({"hvil_break_coil": 1}, ValueError),
        ({"imd_test_coil": 3}, ValueError),
        ({"dmm_proof_coil": 4}, ValueError),  # same as the IMD test resistor
        ({"dmm_proof_v": 0}, ValueError),
        ({"dmm_proof_tolerance_v": 24}, ValueError),  # would accept 0 V: no proof
        ({"dmm_proof_v": "24"}, TypeError),
        ({"door_input": "0"}, TypeError),
    ],
)
def test_options_are_validated(options: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error), module([], **options):
        pass


@pytest.mark.parametrize(("address", "count"), [(-1, 1), (0, 0), (0, 2001), (65535, 2)])
def test_bad_addresses_send_nothing(address: int, count: int) -> None:
    with module([]) as io, pytest.raises(ValueError):
        io.read_discrete_inputs(address, count)


def test_coil_needs_a_bool() -> None:
    with module([]) as io, pytest.raises(TypeError):
        io.write_coil(0, 1)  # type: ignore[arg-type]


def test_from_resource_over_pyserial_loop() -> None:
    # loop:// echoes the request, which is exactly a valid write-single-coil reply.
    seen: list[tuple[str, str, str]] = []
    io = ModbusRtuInterlocks.from_resource(
        "loop://", timeout_s=0.2, baudrate=115200, tracer=lambda *a: seen.append(a), unit_id=9
    )
    try:
        io.set_hv_lamp(True)
    finally:
        io.close()
    assert [direction for _, direction, _ in seen] == [">", "<"]
    assert seen[0][2].startswith("09 05 00 00 FF 00")


def test_from_resource_missing_port_raises_connection_error() -> None:
    with pytest.raises(InstrumentConnectionError, match="/dev/eol-no-such-rs485"):
        ModbusRtuInterlocks.from_resource("/dev/eol-no-such-rs485")


def test_from_resource_closes_the_port_when_options_are_bad() -> None:
    with pytest.raises(ValueError, match="unit_id"):
        ModbusRtuInterlocks.from_resource("loop://", unit_id=0)


@pytest.mark.parametrize(("on", "value"), [(True, "FF00"), (False, "0000")])
def test_connect_shared_switches_the_relay_matrix_coil(on: bool, value: str) -> None:
    request = frame(f"01 05 0006 {value}")
    with module([(request, request)], matrix_coil=6) as io:
        io.connect_shared(on)


def test_connect_shared_without_a_matrix_coil_says_which_option_to_set() -> None:
    with module([]) as io, pytest.raises(InstrumentError, match=r"set options\.matrix_coil"):
        io.connect_shared(True)


def _sleeps_between_two_reads(monkeypatch: Any, **link_options: Any) -> list[float]:
    """The waits the link makes before a second request sent right after a first."""
    import drivers.modbus.rtu_io as rtu_io

    slept: list[float] = []
    monkeypatch.setattr(rtu_io.time, "sleep", slept.append)
    script = [(READ_COIL_0, frame("01 01 01 00"))] * 2
    port = ScriptedSerial(script)
    link = ModbusRtuLink(port, resource="ASRL/dev/ttyUSB1::INSTR", timeout_s=0.1, **link_options)
    io = ModbusRtuInterlocks(link)
    assert io.read_coils(0, 1) == io.read_coils(0, 1) == [False]
    return slept


def test_the_spec_silence_is_kept_between_frames_unless_the_link_states_its_gap(
    monkeypatch: Any,
) -> None:
    at_9600 = _sleeps_between_two_reads(monkeypatch, baudrate=9600)
    assert len(at_9600) == 1 and 0 < at_9600[0] <= 3.5 * 11 / 9600
    # A twin over a TCP stream (the virtual bench) has no RS-485 line to turn around.
    assert _sleeps_between_two_reads(monkeypatch, baudrate=9600, frame_gap_s=0.0) == []
    with pytest.raises(ValueError, match="frame_gap_s"):
        ModbusRtuLink(ScriptedSerial([]), resource="x", frame_gap_s=-1.0)
