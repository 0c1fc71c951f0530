"""`station sim`: the virtual bench standalone, reached by plain clients with no project code.

A plain pyvisa client gets *IDN? and a measurement from every SCPI instrument, a plain
pyserial client reads the interlock inputs over Modbus RTU, and a plain python-can client on
udp_multicast receives BMS frames that cantools decodes with the reference DBC.
"""

from __future__ import annotations

import os
import re
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import can
import cantools
import pyvisa
import serial

ROOT = Path(__file__).resolve().parent.parent
QUERIES = {
    "supply": "MEAS:VOLT?",
    "load": "MEAS:VOLT?",
    "dmm": "MEAS:VOLT:DC?",
    "insulation_tester": "SAFE:STAT?",
}


def crc16(frame: bytes) -> bytes:
    crc = 0xFFFF
    for byte in frame:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return struct.pack("<H", crc)


def test_station_sim_serves_plain_clients(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "station.cli", "sim", "--pack", "lfp16s"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    lines: list[str] = []
    try:
        for line in child.stdout:
            lines.append(line)
            if line.startswith("running"):
                break
        resources = {
            m.group(1): (m.group(2), m.group(3))
            for m in (re.match(r"\s+(\w+)\s+(\S+)\s+(\S+)$", x) for x in lines)
            if m and m.group(1) != "BMS"
        }
        assert set(QUERIES) | {"interlocks"} <= set(resources), lines
        rm = pyvisa.ResourceManager("@py")
        for role, query in QUERIES.items():
            inst = rm.open_resource(resources[role][1], read_termination="\n")
            inst.write_termination = "\n"
            inst.timeout = 2000
            try:
                assert inst.query("*IDN?").count(",") >= 3, role
                reply = inst.query(query)
                assert reply.strip(), role
            finally:
                inst.close()
        # (the manager is shared within pyvisa; the station's transports cope if it closes)
        rm.close()
        # Modbus RTU: read the three safety inputs (function 0x02) of unit 1.
        request = bytes([1, 0x02, 0, 0, 0, 3])
        with serial.serial_for_url(resources["interlocks"][1], timeout=2) as port:
            port.write(request + crc16(request))
            reply = port.read(6)
        assert reply[:3] == bytes([1, 0x02, 1]) and reply[4:] == crc16(reply[:4])
        assert reply[3] & 0b111 == 0b111  # door closed, e-stop released, fixture clamped
        # CAN: the BMS frames on udp_multicast decode with the reference DBC.
        channel = re.search(r"channel=(\S+)", "".join(lines))
        assert channel is not None
        db = cantools.database.load_file(ROOT / "sequences" / "bms" / "eol_reference.dbc")
        seen: dict[str, dict[str, object]] = {}
        with can.Bus(interface="udp_multicast", channel=channel.group(1)) as bus:
            end = time.monotonic() + 10
            while time.monotonic() < end and "BMS_PackStatus" not in seen:
                frame = bus.recv(timeout=1.0)
                if frame is not None and frame.arbitration_id in (0x100, 0x101):
                    message = db.get_message_by_frame_id(frame.arbitration_id)
                    seen[message.name] = message.decode(frame.data)
        assert "BMS_PackStatus" in seen
        assert 45 < float(seen["BMS_PackStatus"]["PackVoltage"]) < 60  # the 16S LFP pack
    finally:
        child.send_signal(signal.SIGINT)
        rest = child.communicate(timeout=30)[0]
    assert "virtual bench stopped" in rest
    assert child.returncode == 0


def test_station_sim_puts_the_typed_serials_pack_on_the_fixture() -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "station.cli",
            "sim",
            "--pack",
            "lfp16s",
            "--can-interface",
            "virtual",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        for line in child.stdout:
            if line.startswith("running"):
                break
        fixture = []
        for serial in ("LF16A0000001", "LF16A0000002", "LF16A0000001"):
            child.stdin.write(serial + "\n")
            child.stdin.flush()
            fixture.append(child.stdout.readline())
        first, second, again = fixture
        assert first.startswith("fixture: pack LF16A0000001 (BMS LF16-A, serial BMS24A")
        assert second.startswith("fixture: pack LF16A0000002")
        bms_serials = [re.findall(r"serial (BMS24A\d{7})", x) for x in (first, second)]
        assert bms_serials[0] and bms_serials[1] and bms_serials[0] != bms_serials[1]
        assert again.split(", serial")[1] == first.split(", serial")[1]  # its own pack back
    finally:
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=30)
    assert child.returncode == 0
