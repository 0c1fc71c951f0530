"""The ZPL label printer driver: exact bytes on the wire, and against the bench's twin."""

from __future__ import annotations

import re

import pytest

from drivers.errors import InstrumentConnectionError, InstrumentProtocolError, InstrumentTimeout
from drivers.labels.zpl_printer import ZplPrinter, parse_host_address
from drivers.sim.instruments.label_printer import ZplPrinterTwin

HI = b"\x02ZD421-203dpi,V93.21.26Z,8,8192KB\x03\r\n"
READY = (
    b"\x02030,0,0,0406,000,0,0,0,000,0,0,0\x03\r\n"
    b"\x02001,0,0,0,0,2,6,0,00000000,1,000\x03\r\n"
    b"\x021234,0\x03\r\n"
)
LABEL = "^XA^FO30,30^A0N,44,44^FDS/N NM96A0000001^FS^XZ"


class ScriptedSocket:
    """Checks every byte sent against a script of (sent, replies) — a protocol test only."""

    def __init__(self, script: list[tuple[bytes, list[bytes]]]) -> None:
        self.script = list(script)
        self.pending: list[bytes] = []
        self.sent: list[bytes] = []
        self.closed = False

    def sendall(self, data: bytes, /) -> None:
        assert self.script, f"unexpected {data!r}: script exhausted"
        expected, replies = self.script.pop(0)
        assert data == expected, f"expected {expected!r}, got {data!r}"
        self.sent.append(data)
        self.pending += replies

    def recv(self, size: int, /) -> bytes:
        if not self.pending:
            raise TimeoutError
        return self.pending.pop(0)

    def settimeout(self, value: float | None, /) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def printer(script: list[tuple[bytes, list[bytes]]]) -> tuple[ZplPrinter, ScriptedSocket]:
    sock = ScriptedSocket(script)
    return ZplPrinter("TCPIP0::10.0.0.9::9100::SOCKET", sock=sock), sock


def test_identity_is_hi_then_the_unique_id_getvar() -> None:
    zpl, sock = printer([
        (b"~HI", [HI[:10], HI[10:]]),  # the answer may arrive in pieces
        (b'! U1 getvar "device.unique_id"\r\n', [b'"XXZKJ2', b'10093"']),
    ])  # fmt: skip
    identity = zpl.identity()
    assert (identity.maker, identity.model, identity.serial, identity.firmware) == (
        "Zebra", "ZD421-203dpi", "XXZKJ210093", "V93.21.26Z",
    )  # fmt: skip
    assert sock.script == []


def test_a_label_is_sent_only_after_the_status_says_ready() -> None:
    zpl, sock = printer([(b"~HS", [READY]), (LABEL.encode(), [])])
    zpl.print_label(LABEL)
    assert sock.sent == [b"~HS", LABEL.encode()]


@pytest.mark.parametrize(
    ("status", "problem"),
    [
        (READY.replace(b"030,0,0", b"030,1,0"), "out of labels (load labels)"),
        (READY.replace(b"030,0,0", b"030,0,1"), "paused (press PAUSE to resume)"),
        (READY.replace(b"001,0,0,0", b"001,0,1,0"), "print head open (close it)"),
        (READY.replace(b"001,0,0,0", b"001,0,0,1"), "out of ribbon (load ribbon)"),
    ],
)
def test_a_printer_that_cannot_print_gets_no_label(status: bytes, problem: str) -> None:
    zpl, sock = printer([(b"~HS", [status])])
    with pytest.raises(InstrumentConnectionError, match=re.escape(f"cannot print: {problem}")):
        zpl.print_label(LABEL)
    assert sock.sent == [b"~HS"]  # the label was never sent


def test_bad_answers_and_silence_are_named() -> None:
    zpl, _ = printer([(b"~HI", [b"ZD421\x03"])])
    with pytest.raises(InstrumentProtocolError, match="not STX…ETX framed"):
        zpl.identity()
    zpl, _ = printer([(b"~HS", [READY[:20]])])
    with pytest.raises(InstrumentTimeout, match="did not answer within 2 s"):
        zpl.status()
    zpl, _ = printer([])
    with pytest.raises(ValueError, match="must start with \\^XA and end with \\^XZ"):
        zpl.print_label("^FDno format^FS")


def test_resources() -> None:
    assert parse_host_address("TCPIP0::10.0.0.9::9100::SOCKET") == ("10.0.0.9", 9100)
    assert parse_host_address("printer.line3:6101") == ("printer.line3", 6101)
    assert parse_host_address("10.0.0.9") == ("10.0.0.9", 9100)
    with pytest.raises(ValueError, match="expected TCPIP0::HOST::PORT::SOCKET"):
        parse_host_address("TCPIP0::10.0.0.9::INSTR")


def test_against_the_twin_over_tcp() -> None:
    with ZplPrinterTwin() as twin, ZplPrinter(twin.resource, timeout_s=1.0) as zpl:
        zpl.connect()
        assert zpl.identity().serial == "SIM-LABEL-0001"
        zpl.print_label(LABEL)
        zpl.print_label(LABEL.replace("0001", "0002"))
        twin.head_open = True
        with pytest.raises(InstrumentConnectionError, match="print head open"):
            zpl.print_label(LABEL)
        assert twin.received() == [LABEL, LABEL.replace("0001", "0002")]


def test_an_unreachable_printer_is_one_sentence() -> None:
    with ZplPrinterTwin() as twin:
        resource = twin.resource
    with pytest.raises(InstrumentConnectionError, match="cannot reach the label printer"):
        ZplPrinter(resource, timeout_s=0.5).connect()
