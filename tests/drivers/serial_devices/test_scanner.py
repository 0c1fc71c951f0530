"""SerialScanner over pyserial's loop:// port: what is written is what the scanner 'sends'."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import serial

from drivers.errors import InstrumentConnectionError, InstrumentProtocolError
from drivers.serial_devices.scanner import SerialScanner


@pytest.fixture
def port() -> Iterator[Any]:
    loop = serial.serial_for_url("loop://", timeout=0.05)
    yield loop
    loop.close()


@pytest.fixture
def scanner(port: Any) -> SerialScanner:
    return SerialScanner("loop://", timeout_s=0.1, char_gap_s=0.05, serial_port=port)


def test_reads_one_code_without_terminator(port: Any, scanner: SerialScanner) -> None:
    port.write(b"PACK-2024-000123\r")
    assert scanner.read_code() == "PACK-2024-000123"


def test_crlf_suffix_and_whitespace_are_stripped(port: Any, scanner: SerialScanner) -> None:
    port.write(b"  SN42 \r\n")
    assert scanner.read_code() == "SN42"


def test_codes_come_out_one_at_a_time(port: Any, scanner: SerialScanner) -> None:
    port.write(b"A1\rB2\r\rC3\r")
    assert [scanner.read_code() for _ in range(4)] == ["A1", "B2", "C3", None]


def test_nothing_scanned_returns_none(scanner: SerialScanner) -> None:
    assert scanner.read_code(timeout_s=0.05) is None


def test_custom_terminator(port: Any) -> None:
    scanner = SerialScanner("loop://", terminator="\n", timeout_s=0.1, serial_port=port)
    port.write(b"XYZ\n")
    assert scanner.read_code() == "XYZ"


def test_non_printable_garbage_is_rejected(port: Any, scanner: SerialScanner) -> None:
    port.write(b"\xf0\x0f\x80AB\r")
    with pytest.raises(InstrumentProtocolError, match=r"\\xf0\\x0f\\x80AB"):
        scanner.read_code()


def test_control_character_inside_a_code_is_rejected(port: Any, scanner: SerialScanner) -> None:
    port.write(b"01\x1d234\r")
    with pytest.raises(InstrumentProtocolError, match="non-printable"):
        scanner.read_code()


def test_code_without_terminator_is_reported_incomplete(port: Any, scanner: SerialScanner) -> None:
    port.write(b"HALF-A-CO")
    with pytest.raises(InstrumentProtocolError, match="incomplete code b'HALF-A-CO'"):
        scanner.read_code()
    port.write(b"NEXT\r")
    assert scanner.read_code() == "NEXT"  # the fragment was dropped


def test_code_arriving_at_the_deadline_is_waited_for() -> None:
    class Trickle:
        """Delivers a code in pieces, with an empty poll in between."""

        timeout: float | None = None

        def __init__(self) -> None:
            self.chunks = [b"AB", b"", b"C\r"]

        def read(self, size: int = 1) -> bytes:
            return self.chunks.pop(0) if self.chunks else b""

        def close(self) -> None:
            pass

    scanner = SerialScanner("loop://", char_gap_s=5.0, serial_port=Trickle())
    assert scanner.read_code(timeout_s=0) == "ABC"


def test_waiting_code_is_read_even_with_zero_timeout(port: Any, scanner: SerialScanner) -> None:
    port.write(b"NOW\r")
    assert scanner.read_code(timeout_s=0) == "NOW"


def test_tracer_sees_each_code(port: Any) -> None:
    seen: list[tuple[str, str, str]] = []
    scanner = SerialScanner(
        "loop://", timeout_s=0.1, tracer=lambda *a: seen.append(a), serial_port=port
    )
    port.write(b"SN1\r")
    scanner.read_code()
    assert seen == [("loop://", "<", "SN1")]


def test_opens_a_pyserial_url_itself() -> None:
    with SerialScanner("loop://", timeout_s=0.05) as scanner:
        assert scanner.read_code() is None


def test_from_resource_passes_options() -> None:
    scanner = SerialScanner.from_resource("loop://", timeout_s=0.05, baudrate=115200)
    try:
        assert scanner.timeout_s == 0.05
        assert scanner.read_code() is None
    finally:
        scanner.close()


def test_close_is_idempotent_and_later_reads_fail(port: Any, scanner: SerialScanner) -> None:
    scanner.close()
    scanner.close()
    assert not port.is_open
    with pytest.raises(InstrumentConnectionError, match="closed"):
        scanner.read_code()


def test_missing_port_raises_connection_error() -> None:
    with pytest.raises(InstrumentConnectionError, match="/dev/eol-no-such-scanner"):
        SerialScanner("ASRL/dev/eol-no-such-scanner::INSTR")


def test_unplugged_scanner_raises_connection_error(port: Any) -> None:
    class Unplugged:
        timeout: float | None = None

        def read(self, size: int = 1) -> bytes:
            raise serial.SerialException("device reports readiness to read but returned no data")

        def close(self) -> None:
            pass

    scanner = SerialScanner("ASRL/dev/ttyACM0::INSTR", timeout_s=0.05, serial_port=Unplugged())
    with pytest.raises(InstrumentConnectionError, match="returned no data"):
        scanner.read_code()


@pytest.mark.parametrize("options", [{"terminator": ""}, {"timeout_s": 0}, {"char_gap_s": -1.0}])
def test_bad_options(port: Any, options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SerialScanner("loop://", serial_port=port, **options)


def test_negative_wait_is_refused(scanner: SerialScanner) -> None:
    with pytest.raises(ValueError):
        scanner.read_code(timeout_s=-1)
