"""The BMS client on frames encoded from the real foxBMS 2 DBC, through the shipped description.

foxBMS's DBC is the hard case: big-endian signals, an 8-bit multiplexer at bit 7, cell
names that carry the global cell number, "invalidFlag" bits that are really valid flags,
32-character truncated names, a mixed byte order inside f_BmsState, and index signals whose
declared range ([0|1]) is narrower than their 4 bits.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import can
import cantools
import pytest

from drivers.bms.bms import Bms
from drivers.bms.description import BmsDescription

ROOT = Path(__file__).resolve().parents[3]
FOXBMS_DBC = ROOT / "sequences" / "bms" / "foxbms.dbc"
FOXBMS_TOML = ROOT / "sequences" / "bms" / "foxbms.toml"

EXTRA_ROLES = """
string0_max_cell_sensor = "f_StringMinMaxCellVoltage.SensorMaximumCellVoltage"
balancing_allowed = "f_BmsState.BalancingAlgorithmState"
"""


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def db() -> cantools.database.can.Database:
    loaded = cantools.database.load_file(str(FOXBMS_DBC))
    assert isinstance(loaded, cantools.database.can.Database)
    return loaded


@pytest.fixture
def description(tmp_path: Path) -> BmsDescription:
    """The shipped foxbms.toml plus two roles that exercise DBC pitfalls."""
    text = FOXBMS_TOML.read_text(encoding="utf-8")
    text = text.replace('"foxbms.dbc"', f'"{FOXBMS_DBC.as_posix()}"')
    text = text.replace("[custom_signals]\n", "[custom_signals]\n" + EXTRA_ROLES, 1)
    path = tmp_path / "foxbms.toml"
    path.write_text(text, encoding="utf-8")
    return BmsDescription.load(path)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rig(description: BmsDescription, clock: Clock) -> Iterator[tuple[Bms, can.BusABC]]:
    channel = f"foxbms-{uuid.uuid4().hex}"
    bms = Bms(
        description, {"interface": "virtual", "channel": channel, "bitrate": 500_000}, now=clock
    )
    pack_side = can.Bus(interface="virtual", channel=channel)
    try:
        yield bms, pack_side
    finally:
        bms.close()
        pack_side.shutdown()


def send(bus: can.BusABC, db: cantools.database.can.Database, name: str, **values: float) -> None:
    message = db.get_message_by_name(name)
    page = None
    if message.is_multiplexed():
        mux = next(s for s in message.signals if s.is_multiplexer)
        page = int(values[mux.name])
    signals: dict[str, float] = {
        s.name: 0 for s in message.signals if s.multiplexer_ids is None or page in s.multiplexer_ids
    }
    signals.update(values)
    data = message.encode(signals, strict=False)
    bus.send(can.Message(arbitration_id=message.frame_id, is_extended_id=False, data=data))


def send_cells(bus: can.BusABC, db: cantools.database.can.Database) -> None:
    for page in range(4):  # count = 16 → 4 pages of 4
        values: dict[str, float] = {"f_CellVoltages_Mux": page}
        for k in range(4):
            cell = page * 4 + k
            values[f"CellVoltage_{cell:03d}"] = 3600 + cell
            values[f"CellVoltage_{cell:03d}_invalidFlag"] = 0 if cell == 5 else 1  # 1 = valid
        send(bus, db, "f_CellVoltages", **values)


def send_temperatures(bus: can.BusABC, db: cantools.database.can.Database) -> None:
    for page in range(2):  # count = 8 → 2 pages of 6
        values: dict[str, float] = {"f_CellTemperatures_Mux": page}
        for k in range(6):
            sensor = page * 6 + k
            values[f"CellTemperature_{sensor:03d}"] = sensor - 5  # signed: -5 … 6 degC
            values[f"CellTemperature_{sensor:03d}_invalidFlag"] = 0 if sensor == 7 else 1
        send(bus, db, "f_CellTemperatures", **values)


def test_foxbms_frames_decode_through_the_signal_map(
    rig: tuple[Bms, can.BusABC], db: cantools.database.can.Database, clock: Clock
) -> None:
    bms, pack = rig
    send(pack, db, "f_PackValuesP0", Current=-123.45, BatteryVoltage=401.2, BusVoltage=399.9)
    send(pack, db, "f_PackValuesP1", InsulationResistance=8191 * 7)  # raw all ones
    send(pack, db, "f_PackStateEstimation", MinimumSoc=55.5)
    send(
        pack,
        db,
        "f_BmsState",
        BmsState=7,
        InterlockState=1,
        GeneralError=1,
        BalancingAlgorithmState=1,  # the one little-endian bit among big-endian neighbours
        BmsChargingFlag=0,
    )
    send(
        pack,
        db,
        "f_StringMinMaxCellVoltage",
        f_StringMinMaxCellVoltage_Mux=0,
        SensorMaximumCellVoltage=9,
    )  # 4 bits, DBC range [0|1]
    send_cells(pack, db)
    send_temperatures(pack, db)

    # Charging current: foxBMS counts discharge positive, as the station does.
    assert bms.pack_current(after=0.0, timeout_s=5.0) == pytest.approx(-123.45)
    assert bms.pack_voltage() == pytest.approx(401.2)
    assert bms.bus_voltage() == pytest.approx(399.9)
    assert bms.insulation_ohm(timeout_s=5.0) == math.inf  # "above 57.3 MΩ", not a number
    assert bms.soc(timeout_s=5.0) == pytest.approx(55.5)
    assert bms.hvil_closed(timeout_s=5.0) is False  # InterlockState 1 = "Open"
    assert bms.reading("bms_state").label == "NORMAL"
    assert bms.value("balancing_allowed") == 1
    assert bms.value("string0_max_cell_sensor", timeout_s=5.0) == 9  # not clamped to 1

    cells = bms.cell_voltages(after=0.0, timeout_s=5.0)
    expected: list[float | None] = [(3600 + i) / 1000 for i in range(16)]
    expected[5] = None
    assert cells == pytest.approx(expected)

    temperatures = bms.cell_temperatures(after=0.0, timeout_s=5.0)
    assert temperatures == pytest.approx([-5.0, -4.0, -3.0, -2.0, -1.0, 0.0, 1.0, None])

    faults = bms.fault_flags()
    assert faults["general_error"] and faults["interlock_open"]
    assert not faults["main_fuse_blown"] and not faults["master_pcb_undertemperature"]

    assert bms.alive()
    assert all(s.decode_errors == 0 for s in bms.status().values())
    clock.t = 0.31  # three 100 ms cycles without f_PackValuesP0
    assert not bms.alive()
    assert "f_PackValuesP0" in bms.stale_messages()
    assert "f_CellVoltages" not in bms.stale_messages()  # 5.4 s full cycle


def test_foxbms_charging_bms_build_flips_the_sign(
    description: BmsDescription, db: cantools.database.can.Database
) -> None:
    path = description.path
    path.write_text(
        path.read_text(encoding="utf-8").replace("current_sign = 1", "current_sign = -1"),
        encoding="utf-8",
    )
    flipped = BmsDescription.load(path)
    channel = f"foxbms-{uuid.uuid4().hex}"
    pack = can.Bus(interface="virtual", channel=channel)
    try:
        with Bms(flipped, {"interface": "virtual", "channel": channel}) as bms:
            after = time.monotonic()  # the default clock
            send(pack, db, "f_PackValuesP0", Current=-10.0, BatteryVoltage=400.0, BusVoltage=0)
            assert bms.pack_current(after=after, timeout_s=5.0) == pytest.approx(10.0)
    finally:
        pack.shutdown()
