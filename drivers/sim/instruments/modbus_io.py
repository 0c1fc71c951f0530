"""Twin of a Modbus RTU digital-I/O module (driver: ``drivers.modbus.rtu_io``), on a TCP port.

The module is an 8 DI / 8 DO slave like the Waveshare "Modbus RTU IO 8CH" the driver is
written against. It speaks raw RTU frames (address, PDU, CRC-16 low byte first) over a TCP
socket, as a serial device server would, so the real driver reaches it through pyserial's
``socket://127.0.0.1:<port>`` URL (:attr:`ModbusIoTwin.resource`).

**Inputs** (discrete inputs, function 0x02), at the driver's default options, level 1 = safe:
DI0 door closed, DI1 e-stop released, DI2 fixture clamped; the cell starts safe.
**Coils** (functions 0x01, 0x05, 0x0F): DO0 the red HV-present lamp (the driver's
``lamp_coil``), DO1 fixture relay K1 (connects HV+ to the tester), DO2 fixture relay K2
(connects HV−) — see :class:`~drivers.sim.instruments.hv_twins.SafetyCircuit` for what the
relays and the door/e-stop inputs do to the HV testers; DO5 the DMM proof relay (the
driver's ``dmm_proof_coil``), which puts the fixture's :data:`DMM_PROOF_V` reference on the
DMM's leads (the virtual bench wires it to the DMM twin).

**Like a real slave** (Modbus Application Protocol V1.1b3 §6–7, Modbus over Serial Line
V1.02 §2.4): a frame with a bad CRC or for another unit is discarded without a reply; a
broadcast (unit 0) write is executed without a reply; an unknown function answers exception
01, an address past the 8 channels 02, a bad quantity or coil value 03. Frames are
delimited by their length for the fixed-size functions, else by a silence of
:data:`SILENCE_S` (the RTU 3.5-character gap).

Faults: :meth:`ModbusIoTwin.open_door`, :meth:`~ModbusIoTwin.press_estop`,
:meth:`~ModbusIoTwin.unclamp_fixture` (and their reverses) set the inputs and tell the
listeners (the safety circuit opens the testers' interlock inputs); :attr:`not_answering`,
:attr:`drop_connection` and :meth:`drop_connections` act like the SCPI server's hooks.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from drivers.sim.tcp_server import TwinServer

DOOR_INPUT, ESTOP_INPUT, CLAMP_INPUT = 0, 1, 2
LAMP_COIL, K1_COIL, K2_COIL = 0, 1, 2
DMM_PROOF_COIL = 5
DMM_PROOF_V = 24.0
"""The virtual fixture's reference for the DMM proof: its 24 V auxiliary supply."""
DMM_PROOF_TOLERANCE_V = 2.4
MATRIX_COIL = 6
"""On a virtual line, the coil of this nest's relay-matrix relay (drivers.sim.line)."""
CHANNELS = 8
SILENCE_S = 0.005
"""Quiet time that ends a frame whose length the function code does not give."""

READ_COILS, READ_DISCRETE_INPUTS, WRITE_SINGLE_COIL, WRITE_MULTIPLE_COILS = 0x01, 0x02, 0x05, 0x0F
ILLEGAL_FUNCTION, ILLEGAL_DATA_ADDRESS, ILLEGAL_DATA_VALUE = 0x01, 0x02, 0x03
_FIXED_LENGTH = {0x01: 8, 0x02: 8, 0x03: 8, 0x04: 8, 0x05: 8, 0x06: 8}


def _byte_crcs() -> list[int]:
    crcs = []
    for value in range(256):
        crc = value
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        crcs.append(crc)
    return crcs


_BYTE_CRCS = _byte_crcs()


def _crc16(data: bytes) -> int:
    """Return the Modbus CRC-16 (reflected 0xA001, initial 0xFFFF) of ``data``.

    Written here rather than imported from the driver, so a wrong CRC in the driver
    cannot agree with itself. A byte at a time through a table of each byte's CRC: bit by
    bit it costs ~10 µs of Python per frame, twice per request.
    """
    crc = 0xFFFF
    for byte in data:
        crc = _BYTE_CRCS[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def _framed(body: bytes) -> bytes:
    return body + _crc16(body).to_bytes(2, "little")


def _frame_length(buffer: bytes) -> int | None:
    """Return the length of the request starting ``buffer``, or None if only silence tells."""
    if len(buffer) < 2:
        return None
    if buffer[1] in _FIXED_LENGTH:
        return _FIXED_LENGTH[buffer[1]]
    if buffer[1] in (0x0F, 0x10) and len(buffer) >= 7:
        return 9 + buffer[6]
    return None


class _Exception(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class ModbusIoTwin(TwinServer):
    """A Modbus RTU 8 DI / 8 DO module answering as unit ``unit_id`` on ``host``:``port``.

    ``port`` 0 picks a free one. :meth:`start` serves in a background thread, :meth:`close`
    stops every thread and socket (safe twice). ``listeners`` added with
    :meth:`add_listener` are called (no lock held) after any input or coil change.
    """

    def __init__(self, *, unit_id: int = 1, host: str = "127.0.0.1", port: int = 0) -> None:
        if not 1 <= unit_id <= 247:
            raise ValueError(f"unit_id must be 1…247, got {unit_id!r}")
        super().__init__(host=host, port=port, name="modbus-io")
        self.unit_id = unit_id
        self._inputs = [False] * CHANNELS
        self._coils = [False] * CHANNELS
        for address in (DOOR_INPUT, ESTOP_INPUT, CLAMP_INPUT):
            self._inputs[address] = True
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    # --- the cell's switches (inputs) ------------------------------------------------------

    def input(self, address: int) -> bool:
        """Get the level of discrete input ``address``."""
        with self._lock:
            return self._inputs[address]

    def set_input(self, address: int, level: bool) -> None:
        """Set discrete input ``address`` to ``level`` (a switch in the cell changed)."""
        if not 0 <= address < CHANNELS:
            raise ValueError(f"input address must be 0…{CHANNELS - 1}, got {address!r}")
        with self._lock:
            self._inputs[address] = bool(level)
        self._notify()

    @property
    def door_closed(self) -> bool:
        """Get whether the door switch reads closed."""
        return self.input(DOOR_INPUT)

    @property
    def estop_released(self) -> bool:
        """Get whether the e-stop reads released."""
        return self.input(ESTOP_INPUT)

    @property
    def fixture_clamped(self) -> bool:
        """Get whether the fixture clamp reads closed."""
        return self.input(CLAMP_INPUT)

    def open_door(self) -> None:
        """Open the cell door (fault: door opened, e.g. mid-test)."""
        self.set_input(DOOR_INPUT, False)

    def close_door(self) -> None:
        """Close the cell door."""
        self.set_input(DOOR_INPUT, True)

    def press_estop(self) -> None:
        """Press the e-stop."""
        self.set_input(ESTOP_INPUT, False)

    def release_estop(self) -> None:
        """Release the e-stop."""
        self.set_input(ESTOP_INPUT, True)

    def unclamp_fixture(self) -> None:
        """Open the fixture clamp."""
        self.set_input(CLAMP_INPUT, False)

    def clamp_fixture(self) -> None:
        """Close the fixture clamp."""
        self.set_input(CLAMP_INPUT, True)

    # --- outputs ---------------------------------------------------------------------------

    def coil(self, address: int) -> bool:
        """Get the state of coil (output) ``address``."""
        with self._lock:
            return self._coils[address]

    @property
    def hv_lamp(self) -> bool:
        """Get whether the red HV-present lamp is on."""
        return self.coil(LAMP_COIL)

    @property
    def k1(self) -> bool:
        """Get whether fixture relay K1 (HV+ to the tester) is energised."""
        return self.coil(K1_COIL)

    @property
    def k2(self) -> bool:
        """Get whether fixture relay K2 (HV− to the tester) is energised."""
        return self.coil(K2_COIL)

    @property
    def dmm_proof(self) -> bool:
        """Get whether the DMM proof relay (the reference on the DMM's leads) is energised."""
        return self.coil(DMM_PROOF_COIL)

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every input or coil change."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener`` (ValueError if it was not added)."""
        self._listeners.remove(listener)

    def driver_options(self) -> dict[str, Any]:
        """Return the options for ``ModbusRtuInterlocks`` (its defaults, stated explicitly).

        The twin plays a module set to 115200 baud, reached over a TCP stream that carries
        whole frames: there is no RS-485 line to turn around, so the driver keeps no
        silence between frames (``frame_gap_s=0``) instead of the spec's 1.75 ms of wall
        time, which the interlock checks and relay switching paid about 600 times a
        reference run (~1.5 s of its wall time, and never virtual time).
        """
        return {
            "baudrate": 115200,
            "frame_gap_s": 0.0,
            "unit_id": self.unit_id,
            "door_input": DOOR_INPUT,
            "estop_input": ESTOP_INPUT,
            "clamp_input": CLAMP_INPUT,
            "lamp_coil": LAMP_COIL,
            "dmm_proof_coil": DMM_PROOF_COIL,
            "dmm_proof_v": DMM_PROOF_V,
            "dmm_proof_tolerance_v": DMM_PROOF_TOLERANCE_V,
            "matrix_coil": MATRIX_COIL,
        }

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    # --- protocol --------------------------------------------------------------------------

    def handle(self, frame: bytes) -> bytes | None:
        """Execute one RTU request frame; return the reply frame, or None when none is due."""
        if len(frame) < 4 or _crc16(frame[:-2]).to_bytes(2, "little") != frame[-2:]:
            return None  # a corrupt frame is discarded silently
        unit, pdu = frame[0], frame[1:-2]
        if unit not in (0, self.unit_id):
            return None
        try:
            reply, changed = self._execute(pdu)
        except _Exception as err:
            reply, changed = bytes([pdu[0] | 0x80, err.code]), False
        if changed:
            self._notify()
        return None if unit == 0 else _framed(bytes([unit]) + reply)

    def _execute(self, pdu: bytes) -> tuple[bytes, bool]:
        function = pdu[0]
        if function not in (
            READ_COILS,
            READ_DISCRETE_INPUTS,
            WRITE_SINGLE_COIL,
            WRITE_MULTIPLE_COILS,
        ):
            raise _Exception(ILLEGAL_FUNCTION)
        if len(pdu) < 5:
            raise _Exception(ILLEGAL_DATA_VALUE)
        address, value = int.from_bytes(pdu[1:3], "big"), int.from_bytes(pdu[3:5], "big")
        with self._lock:
            if function in (READ_COILS, READ_DISCRETE_INPUTS):
                if len(pdu) != 5 or not 1 <= value <= 2000:
                    raise _Exception(ILLEGAL_DATA_VALUE)
                self._check_range(address, value)
                table = self._coils if function == READ_COILS else self._inputs
                packed = 0  # the first bit in the lowest bit of the first byte
                for i, bit in enumerate(table[address : address + value]):
                    if bit:
                        packed |= 1 << i
                data = packed.to_bytes((value + 7) // 8, "little")
                return bytes([function, len(data)]) + data, False
            if function == WRITE_SINGLE_COIL:
                if len(pdu) != 5 or value not in (0xFF00, 0x0000):
                    raise _Exception(ILLEGAL_DATA_VALUE)
                self._check_range(address, 1)
                changed = self._coils[address] != (value == 0xFF00)
                self._coils[address] = value == 0xFF00
                return pdu, changed
            # write multiple coils
            data = pdu[6:]
            if not 1 <= value <= 0x7B0 or len(pdu) < 6 or pdu[5] != (value + 7) // 8:
                raise _Exception(ILLEGAL_DATA_VALUE)
            if len(data) != pdu[5]:
                raise _Exception(ILLEGAL_DATA_VALUE)
            self._check_range(address, value)
            before = list(self._coils)
            for i in range(value):
                self._coils[address + i] = bool(data[i // 8] >> (i % 8) & 1)
            return pdu[:5], before != self._coils

    @staticmethod
    def _check_range(address: int, count: int) -> None:
        if address + count > CHANNELS:
            raise _Exception(ILLEGAL_DATA_ADDRESS)

    # --- serving ---------------------------------------------------------------------------

    @property
    def resource(self) -> str:
        """Get the resource string for the driver, ``socket://<host>:<port>``."""
        return f"socket://{self.host}:{self.port}"

    def _session(self) -> _RtuSession:
        return _RtuSession(self)

    def _converse(self, sock: socket.socket) -> None:
        # A reply is one small segment: Nagle's algorithm must never hold it back waiting
        # for the client's ACK of the last one (see drivers/scpi/visa.py).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        session = self._session()
        waiting_for_silence = False
        while True:
            if waiting_for_silence != session.holding:  # a system call: only on a change
                waiting_for_silence = session.holding
                sock.settimeout(SILENCE_S if waiting_for_silence else None)
            try:
                chunk = sock.recv(256)
            except TimeoutError:  # the line went quiet: whatever arrived is one frame
                reply: bytes | None = session.quiet()
            else:
                if not chunk:
                    return
                reply = session.feed(chunk)
                if reply is None:
                    return
            if reply:
                sock.sendall(reply)

    def _answer(self, frame: bytes) -> bytes:
        """The bytes to send back for one request frame (b"" for none)."""
        if self.not_answering:
            return b""
        try:
            reply = self.handle(frame)
        except Exception as err:  # a twin bug must not kill the connection thread
            self.internal_errors.append(err)
            return b""
        return reply or b""


class _RtuSession:
    """One connection to the Modbus twin: a frame ends at its length, or in silence."""

    __slots__ = ("_buffer", "_twin")

    def __init__(self, twin: ModbusIoTwin) -> None:
        self._twin = twin
        self._buffer = b""

    @property
    def holding(self) -> bool:
        """Whether part of a request is held (only silence can end it)."""
        return bool(self._buffer)

    def feed(self, data: bytes) -> bytes | None:
        if self._twin.drop_connection:
            return None
        buffer = self._buffer + data
        replies = b""
        while (size := _frame_length(buffer)) is not None and len(buffer) >= size:
            replies += self._twin._answer(buffer[:size])
            buffer = buffer[size:]
        self._buffer = buffer
        return replies

    def quiet(self) -> bytes:
        frame, self._buffer = self._buffer, b""
        return self._twin._answer(frame) if frame else b""
