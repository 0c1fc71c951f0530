"""Interlock inputs read from a Modbus RTU digital-I/O module over RS-485.

Modbus RTU is binary, so this driver has its own byte link instead of a SCPI transport.
Framing, function codes and the CRC-16 follow the public Modbus specifications
("MODBUS Application Protocol Specification V1.1b3" for 0x01 Read Coils, 0x02 Read
Discrete Inputs, 0x05 Write Single Coil and exception replies; "MODBUS over Serial Line
V1.02" for the RTU frame, CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF, low byte
first) and the 3.5-character silence between frames).
"""

from __future__ import annotations

import threading
import time
from typing import Any, NoReturn, Protocol

from drivers.errors import (
    InstrumentConnectionError,
    InstrumentError,
    InstrumentProtocolError,
    InstrumentReportedError,
    InstrumentTimeout,
)
from drivers.roles import HvPole, Identity, InterlockState
from drivers.scpi.serial import close_port, open_serial, port_pump
from drivers.scpi.transport import Tracer

READ_COILS = 0x01
READ_DISCRETE_INPUTS = 0x02
WRITE_SINGLE_COIL = 0x05

EXCEPTIONS = {
    0x01: "illegal function",
    0x02: "illegal data address",
    0x03: "illegal data value",
    0x04: "server device failure",
    0x05: "acknowledge",
    0x06: "server device busy",
    0x08: "memory parity error",
    0x0A: "gateway path unavailable",
    0x0B: "gateway target device failed to respond",
}
"""Modbus exception codes (Application Protocol V1.1b3 §7)."""


def _crc_table() -> tuple[int, ...]:
    """The CRC-16 of each byte value alone, from a zero register (the bitwise algorithm)."""
    table = []
    for value in range(256):
        crc = value
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """Return the Modbus RTU CRC-16 of ``data`` (send it low byte first).

    A byte at a time through a 256-entry table, the usual table-driven form of the same
    CRC: bit by bit it costs ~10 µs of Python per frame, and an interlock check computes
    four (two requests, two replies).
    """
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def with_crc(body: bytes) -> bytes:
    """Return ``body`` followed by its CRC-16, low byte first."""
    return body + crc16(body).to_bytes(2, "little")


class BytePort(Protocol):
    """The part of ``serial.Serial`` the link uses (tests inject a scripted one)."""

    timeout: float | None

    def write(self, data: bytes) -> int | None: ...

    def read(self, size: int = 1) -> bytes: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


def _hex(data: bytes) -> str:
    return data.hex(" ").upper() if data else "(nothing)"


class ModbusRtuLink:
    """Modbus RTU request/reply over one serial port (the station is the only client).

    ``port`` is an open ``serial.Serial``-like object; ``baudrate`` sets the
    3.5-character silence kept before each request, unless ``frame_gap_s`` states it (0 for
    a link with no RS-485 line to turn around, such as the virtual bench's twin, which
    reads whole frames from a TCP stream); ``timeout_s`` bounds each reply.
    ``tracer`` sees every frame as hex (``>`` request, ``<`` reply).
    """

    def __init__(
        self,
        port: BytePort,
        *,
        resource: str,
        baudrate: int = 9600,
        timeout_s: float = 0.5,
        tracer: Tracer | None = None,
        frame_gap_s: float | None = None,
    ) -> None:
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
        if frame_gap_s is not None and not 0 <= frame_gap_s <= 1:
            raise ValueError(f"frame_gap_s must be 0 … 1 s, got {frame_gap_s!r}")
        self.port = port
        self.resource = resource
        self.timeout_s = float(timeout_s)
        self.port.timeout = self.timeout_s
        # Spec: 3.5 character times of 11 bits; fixed 1.75 ms above 19200 baud.
        spec_gap_s = 3.5 * 11 / baudrate if baudrate <= 19200 else 0.00175
        self._silence_s = spec_gap_s if frame_gap_s is None else float(frame_gap_s)
        self._quiet_at = 0.0
        self._tracer = tracer
        self._lock = threading.Lock()
        self._closed = False
        self._pump = port_pump(port)  # a server answering on this thread (drivers.loopback)

    def transact(self, unit: int, pdu: bytes) -> bytes:
        """Send ``pdu`` to ``unit`` and return the reply's PDU (function code onwards).

        No reply raises InstrumentTimeout; a short, corrupt or mismatched reply raises
        InstrumentProtocolError quoting the bytes; a Modbus exception reply raises
        InstrumentReportedError with the exception code.
        """
        request = with_crc(bytes([unit]) + pdu)
        with self._lock:
            if self._closed:
                raise InstrumentConnectionError(
                    f"link is closed; cannot send {_hex(request)}", resource=self.resource
                )
            delay = self._quiet_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                self.port.reset_input_buffer()
                if self._tracer is not None:
                    self._tracer(self.resource, ">", _hex(request))
                self.port.write(request)
                if self._pump is not None:
                    self._pump(len(request))
                reply = self._read_reply(unit, pdu, request)
            except OSError as err:  # serial.SerialException is an OSError
                raise InstrumentConnectionError(
                    f"serial I/O failed for request {_hex(request)}: {err}; "
                    "check the RS-485 adapter and cable",
                    resource=self.resource,
                ) from err
            finally:
                self._quiet_at = time.monotonic() + self._silence_s
        return reply

    def close(self) -> None:
        """Close the serial port; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            close_port(self.port)

    def _read_reply(self, unit: int, pdu: bytes, request: bytes) -> bytes:
        function = pdu[0]
        head = self.port.read(3)
        if not head:
            raise InstrumentTimeout(
                f"no reply from unit {unit} within {self.timeout_s:g} s to {_hex(request)}; "
                "check the unit address, baud rate and RS-485 A/B wiring",
                resource=self.resource,
            )
        if len(head) < 3:
            self._trace_reply(head)
            self._bad(head, request, "reply too short")
        if head[1] == function | 0x80:
            total = 5
        elif head[1] != function:
            self._trace_reply(head)
            self._bad(head, request, f"function code 0x{head[1]:02X}, expected 0x{function:02X}")
        elif function in (READ_COILS, READ_DISCRETE_INPUTS):
            total = 3 + head[2] + 2
        else:  # write single coil: the reply echoes the request
            total = 8
        frame = head + self.port.read(total - 3)
        self._trace_reply(frame)
        if len(frame) < total:
            self._bad(frame, request, f"reply too short ({len(frame)} of {total} bytes)")
        if crc16(frame[:-2]).to_bytes(2, "little") != frame[-2:]:
            self._bad(frame, request, "CRC mismatch")
        if frame[0] != unit:
            self._bad(frame, request, f"reply from unit {frame[0]}, expected {unit}")
        if frame[1] == function | 0x80:
            code = frame[2]
            name = EXCEPTIONS.get(code, "unknown exception")
            raise InstrumentReportedError(
                f"unit {unit} answered {_hex(request)} with Modbus exception {code} ({name})",
                code=code,
                resource=self.resource,
            )
        if function == WRITE_SINGLE_COIL and frame != request:
            self._bad(frame, request, "a write-coil reply must echo the request")
        if function in (READ_COILS, READ_DISCRETE_INPUTS):
            expected = (int.from_bytes(pdu[3:5], "big") + 7) // 8
            if frame[2] != expected:
                self._bad(frame, request, f"should carry {expected} data byte(s)")
        return frame[1:-2]

    def _trace_reply(self, frame: bytes) -> None:
        if self._tracer is not None:
            self._tracer(self.resource, "<", _hex(frame))

    def _bad(self, frame: bytes, request: bytes, why: str) -> NoReturn:
        raise InstrumentProtocolError(
            f"bad reply {_hex(frame)} to {_hex(request)}: {why}", resource=self.resource
        )


class ModbusRtuInterlocks:
    """Door, e-stop and fixture-clamp inputs plus the HV-present lamp on a Modbus RTU
    digital-I/O module; plays the Interlocks role.

    Written against the Waveshare "Modbus RTU IO 8CH" (8 DI / 8 DO, RS-485, 9600 8N1,
    unit 1 by default, per the Waveshare wiki), but any module that maps its inputs to
    discrete inputs (0x02) and its outputs to coils (0x01/0x05) works: every address is
    an option. The defaults take DI1..DI3 as discrete inputs 0..2 and DO1 as coil 0;
    that mapping is NOT confirmed from a public register table for the Waveshare module,
    so check it on the bench (``read_discrete_inputs(0, 8)`` while operating each
    switch) before trusting it.

    Options: ``unit_id`` (1–247); ``door_input``, ``estop_input``, ``clamp_input``
    (discrete-input addresses, distinct); ``door_closed_level``,
    ``estop_released_level``, ``clamp_closed_level`` (the input level, 0 or 1, that means
    safe; default 1 so a broken wire reads unsafe); ``lamp_coil``; the fixture relays
    ``pole_plus_coil`` / ``pole_minus_coil`` (K1/K2: changeover relays that at rest tie
    HV+ and HV− together to the tester's HI; K1 alone selects HV+, K2 alone HV−) and
    ``hvil_break_coil`` (opens the pack's HVIL loop in the fixture); ``imd_test_coil``
    (switches the fixture's insulation-monitor test resistor, HV− to chassis at the
    connector, for the IMD functional test); ``dmm_proof_coil`` (the DMM proof relay: a
    changeover at the fixture end of the DMM's leads that puts the fixture's reference
    voltage on them instead of the HV probe points, so the HV steps prove the DMM's whole
    path on a known source before they trust it to read the terminals dead);
    ``dmm_proof_v`` and ``dmm_proof_tolerance_v`` (that reference, e.g. the fixture's
    24 V auxiliary supply, and how far the DMM may read from it; the driver only carries
    them for the step); ``matrix_coil`` (on a station with parallel nests: this nest's
    relay of the relay matrix that switches a tester the nests share onto this fixture,
    see :meth:`connect_shared`; None: no such relay); ``model`` (a label for
    ``identity()``, since Modbus RTU I/O modules have no identity query).

    The software is not the safety function: a failed read raises, and the caller must
    treat that as unsafe.
    """

    def __init__(
        self,
        link: ModbusRtuLink,
        *,
        unit_id: int = 1,
        door_input: int = 0,
        estop_input: int = 1,
        clamp_input: int = 2,
        door_closed_level: int = 1,
        estop_released_level: int = 1,
        clamp_closed_level: int = 1,
        lamp_coil: int = 0,
        pole_plus_coil: int = 1,
        pole_minus_coil: int = 2,
        hvil_break_coil: int = 3,
        imd_test_coil: int = 4,
        dmm_proof_coil: int = 5,
        dmm_proof_v: float = 24.0,
        dmm_proof_tolerance_v: float = 2.4,
        matrix_coil: int | None = None,
        model: str = "Modbus RTU IO 8CH",
    ) -> None:
        _check_int("unit_id", unit_id, 1, 247)
        inputs = {"door_input": door_input, "estop_input": estop_input}
        inputs["clamp_input"] = clamp_input
        for name, value in inputs.items():
            _check_int(name, value, 0, 0xFFFF)
        if len(set(inputs.values())) != len(inputs):
            raise ValueError(f"door, e-stop and clamp need distinct inputs, got {inputs}")
        levels = {
            "door_closed_level": door_closed_level,
            "estop_released_level": estop_released_level,
            "clamp_closed_level": clamp_closed_level,
        }
        for name, value in levels.items():
            _check_int(name, value, 0, 1)
        coils = {
            "lamp_coil": lamp_coil,
            "pole_plus_coil": pole_plus_coil,
            "pole_minus_coil": pole_minus_coil,
            "hvil_break_coil": hvil_break_coil,
            "imd_test_coil": imd_test_coil,
            "dmm_proof_coil": dmm_proof_coil,
        }
        if matrix_coil is not None:
            coils["matrix_coil"] = matrix_coil
        for name, value in coils.items():
            _check_int(name, value, 0, 0xFFFF)
        if len(set(coils.values())) != len(coils):
            raise ValueError(
                f"the lamp and fixture relays need distinct coils, got {coils}; give each "
                "its own coil in the interlocks' options"
            )
        for name, volts in (
            ("dmm_proof_v", dmm_proof_v),
            ("dmm_proof_tolerance_v", dmm_proof_tolerance_v),
        ):
            if isinstance(volts, bool) or not isinstance(volts, int | float):
                raise TypeError(f"{name} must be a number in V, got {volts!r}")
        if not 0 < dmm_proof_tolerance_v < dmm_proof_v <= 1000:
            raise ValueError(
                f"dmm_proof_v ({dmm_proof_v!r}) must be > dmm_proof_tolerance_v "
                f"({dmm_proof_tolerance_v!r}) > 0 and at most 1000 V"
            )
        self.link = link
        self.unit_id = unit_id
        self.door_input = door_input
        self.estop_input = estop_input
        self.clamp_input = clamp_input
        self.door_closed_level = door_closed_level
        self.estop_released_level = estop_released_level
        self.clamp_closed_level = clamp_closed_level
        self.lamp_coil = lamp_coil
        self.pole_plus_coil = pole_plus_coil
        self.pole_minus_coil = pole_minus_coil
        self.hvil_break_coil = hvil_break_coil
        self.imd_test_coil = imd_test_coil
        self.dmm_proof_coil = dmm_proof_coil
        self.dmm_proof_v = float(dmm_proof_v)
        self.dmm_proof_tolerance_v = float(dmm_proof_tolerance_v)
        self.matrix_coil = matrix_coil
        self.model = model

    @classmethod
    def from_resource(
        cls,
        resource: str,
        *,
        timeout_s: float = 0.5,
        tracer: Tracer | None = None,
        baudrate: int = 9600,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: float = 1,
        frame_gap_s: float | None = None,
        **options: Any,
    ) -> ModbusRtuInterlocks:
        """Open the serial port named by ``resource`` and return the driver on it."""
        port = open_serial(
            resource,
            what="serial port",
            advice="check the port name and that no other program holds it",
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            timeout=timeout_s,
        )
        link = ModbusRtuLink(
            port,
            resource=resource,
            baudrate=baudrate,
            timeout_s=timeout_s,
            tracer=tracer,
            frame_gap_s=frame_gap_s,
        )
        try:
            return cls(link, **options)
        except BaseException:
            link.close()
            raise

    @property
    def resource(self) -> str:
        """The serial resource the module is on."""
        return self.link.resource

    def connect(self) -> None:
        """Do nothing: a Modbus RTU I/O module has no remote/local mode to switch."""

    def read_discrete_inputs(self, address: int, count: int) -> list[bool]:
        """Read ``count`` discrete inputs from ``address`` (function 0x02)."""
        return self._read_bits(READ_DISCRETE_INPUTS, address, count)

    def read_coils(self, address: int, count: int) -> list[bool]:
        """Read ``count`` coils (outputs) from ``address`` (function 0x01)."""
        return self._read_bits(READ_COILS, address, count)

    def write_coil(self, address: int, on: bool) -> None:
        """Switch one coil (output) on or off (function 0x05); the reply must echo it."""
        _check_int("address", address, 0, 0xFFFF)
        if not isinstance(on, bool):
            raise TypeError(f"expected a bool, got {on!r}")
        pdu = bytes([WRITE_SINGLE_COIL]) + address.to_bytes(2, "big")
        pdu += b"\xff\x00" if on else b"\x00\x00"
        self.link.transact(self.unit_id, pdu)  # the link checks the echo

    def read(self) -> InterlockState:
        """Read the three safety inputs, in one request.

        The lamp is an output, not a safety input: the guard reads the inputs at every HV
        poll (~600 times a reference run), so the lamp's coil is read only on request
        (:meth:`hv_lamp_on`).
        """
        addresses = (self.door_input, self.estop_input, self.clamp_input)
        start = min(addresses)
        bits = self.read_discrete_inputs(start, max(addresses) - start + 1)
        return InterlockState(
            door_closed=bits[self.door_input - start] == bool(self.door_closed_level),
            estop_released=bits[self.estop_input - start] == bool(self.estop_released_level),
            fixture_clamped=bits[self.clamp_input - start] == bool(self.clamp_closed_level),
        )

    def hv_lamp_on(self) -> bool:
        """Read back whether the red HV-present lamp's coil is on."""
        return self.read_coils(self.lamp_coil, 1)[0]

    def set_hv_lamp(self, on: bool) -> None:
        """Switch the red HV-present lamp (the lamp coil)."""
        self.write_coil(self.lamp_coil, on)

    def select_hv_pole(self, pole: HvPole) -> None:
        """Route the tester's HI to HV+ ("plus"), HV− ("minus") or both poles ("both")."""
        if pole not in ("plus", "minus", "both"):
            raise ValueError(f"pole must be 'plus', 'minus' or 'both', got {pole!r}")
        # Release before selecting, so the two relays never select both poles separately.
        self.write_coil(self.pole_minus_coil if pole == "plus" else self.pole_plus_coil, False)
        self.write_coil(self.pole_plus_coil, pole == "plus")
        self.write_coil(self.pole_minus_coil, pole == "minus")

    def set_hvil_break(self, open_loop: bool) -> None:
        """Open (True) or close the pack's HVIL loop with the fixture relay."""
        self.write_coil(self.hvil_break_coil, open_loop)

    def set_imd_test_resistor(self, on: bool) -> None:
        """Switch the fixture's insulation-monitor test resistor on or off (its coil)."""
        self.write_coil(self.imd_test_coil, on)

    def set_dmm_proof(self, on: bool) -> None:
        """Switch the DMM proof relay: on puts ``dmm_proof_v`` on the DMM's leads."""
        self.write_coil(self.dmm_proof_coil, on)

    def connect_shared(self, on: bool) -> None:
        """Close (True) or open this fixture's relay of the relay matrix: the instruments
        the nests share (an insulation tester) reach this nest's pack while it is closed."""
        if self.matrix_coil is None:
            raise InstrumentError(
                f"the fixture I/O at {self.resource} has no relay-matrix relay: set "
                "options.matrix_coil of this nest's interlocks to the coil that connects the "
                "shared tester"
            )
        self.write_coil(self.matrix_coil, on)

    def identity(self) -> Identity:
        """Check that the module answers, then describe it from the configuration.

        Modbus RTU I/O modules have no standard identity query, so serial and firmware
        cannot be read; the serial field names the unit address instead.
        """
        self.read_discrete_inputs(min(self.door_input, self.estop_input, self.clamp_input), 1)
        return Identity("Modbus RTU", self.model, f"unit {self.unit_id}", "unknown")

    def close(self) -> None:
        """Close the serial port."""
        self.link.close()

    def _read_bits(self, function: int, address: int, count: int) -> list[bool]:
        _check_int("address", address, 0, 0xFFFF)
        _check_int("count", count, 1, 2000)
        if address + count > 0x10000:
            raise ValueError(f"addresses {address}…{address + count - 1} exceed 65535")
        pdu = bytes([function]) + address.to_bytes(2, "big") + count.to_bytes(2, "big")
        data = self.link.transact(self.unit_id, pdu)[2:]  # the link checked the byte count
        packed = int.from_bytes(data, "little")  # the first bit is the first byte's lowest
        return [bool(packed >> i & 1) for i in range(count)]


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} {value!r} is outside {low} … {high}")
