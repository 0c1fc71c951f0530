"""Simulated BMS, CAN side: the reference DBC, cyclic frames in virtual time, values, faults."""

import dataclasses
import itertools
import math
import random
import tomllib
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import can
import cantools
import pytest

from drivers.sim import bms as sim_bms
from drivers.sim.bms import REFERENCE_DBC, SentFrame, SimulatedBms
from drivers.sim.clock import ManualTime
from drivers.sim.pack import Pack
from drivers.sim.packs import get_pack_spec

TOML = REFERENCE_DBC.with_suffix(".toml")
DB: Any = cantools.database.load_file(str(REFERENCE_DBC), strict=True)
IDS = (0x100, 0x101, 0x102, 0x110, 0x111)


class Rig:
    """A BMS on a virtual bus, ticked by hand on a manual clock, and a listening client bus."""

    def __init__(self, pack_name: str = "nmc96s", **bms_options: object) -> None:
        channel = self.channel = f"bms-can-{uuid.uuid4()}"
        self.clock = ManualTime()
        self.pack = Pack(get_pack_spec(pack_name))
        self.bms_bus = can.Bus(interface="virtual", channel=channel)
        self.client = can.Bus(interface="virtual", channel=channel)
        options: dict[str, object] = {"tick_interval_s": None, **bms_options}
        self.bms = SimulatedBms(self.pack, self.bms_bus, now=self.clock, **options)

    def run(self, seconds: float, step_s: float = 0.001) -> list[can.Message]:
        """Tick every ``step_s`` of virtual time for ``seconds``; return the frames received."""
        for _ in range(round(seconds / step_s)):
            self.clock.advance(step_s)
            self.bms.tick()
        return self.drain()

    def drain(self) -> list[can.Message]:
        frames = []
        while (frame := self.client.recv(timeout=0)) is not None:
            frames.append(frame)
        return frames

    def close(self) -> None:
        self.bms.close()
        self.bms_bus.shutdown()
        self.client.shutdown()


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = Rig()
    yield r
    r.close()


@pytest.fixture
def lfp_rig() -> Iterator[Rig]:
    r = Rig("lfp16s")
    yield r
    r.close()


def decoded(frames: list[can.Message], frame_id: int) -> list[dict[str, Any]]:
    return [
        dict(DB.decode_message(f.arbitration_id, f.data, decode_choices=False))
        for f in frames
        if f.arbitration_id == frame_id
    ]


def last(frames: list[can.Message], frame_id: int) -> dict[str, Any]:
    return decoded(frames, frame_id)[-1]


# --- the DBC and the description file ------------------------------------------------------


def test_dbc_layout_follows_the_spec() -> None:
    cycle_ms = {0x100: 100, 0x101: 100, 0x102: 100, 0x110: 10, 0x111: 20}
    for frame_id, period in cycle_ms.items():
        message = DB.get_message_by_frame_id(frame_id)
        assert message.cycle_time == period
        assert message.length == 8
        counter = message.get_signal_by_name("AliveCounter")
        assert (counter.start, counter.length) == (60, 4)
    layout = {
        "PackVoltage": (0, 16, 0.01, 0, False),
        "PackCurrent": (16, 16, 0.05, 0, True),
        "BusVoltage": (32, 16, 0.01, 0, False),
        "SOC": (48, 10, 0.1, 0, False),
        "InsulationResistance": (16, 16, 10, 0, False),
        "MaxCellTemp": (32, 8, 1, -50, False),
        "Cell1": (24, 16, 0.0001, 0, False),
        "CellInvalid": (56, 3, 1, 0, False),
        "Temp5": (48, 8, 1, -50, False),
    }
    signals = {s.name: s for m in DB.messages for s in m.signals}
    for name, (start, length, scale, offset, signed) in layout.items():
        s = signals[name]
        assert (s.start, s.length, s.scale, s.offset, s.is_signed) == (
            start,
            length,
            scale,
            offset,
            signed,
        ), name
        assert s.byte_order == "little_endian"
    assert signals["InsulationResistance"].unit == "kOhm"
    state = DB.get_message_by_name("BMS_State")
    assert state.get_signal_by_name("ContactorState").choices[3] == "WELDED"
    assert state.get_signal_by_name("HvilState").choices[1] == "OPEN"
    cell0 = DB.get_message_by_name("BMS_CellVoltages").get_signal_by_name("Cell0")
    assert cell0.multiplexer_ids == list(range(64))  # 64 pages x 3 = 192 cells


def test_description_file_names_dbc_signals() -> None:
    desc = tomllib.loads(TOML.read_text())
    assert (TOML.parent / desc["bms"]["dbc"]).resolve() == REFERENCE_DBC
    assert (desc["uds"]["request_id"], desc["uds"]["response_id"]) == (0x7E0, 0x7E8)
    assert desc["uds"]["security_algorithm"] == "eol-demo-v1"
    for role, ref in desc["signals"].items():
        if isinstance(ref, str):
            message, signal = ref.split(".")
            DB.get_message_by_name(message).get_signal_by_name(signal)
        elif isinstance(ref, dict):
            message = DB.get_message_by_name(ref["message"])
            for name in [
                ref["multiplexer"],
                *ref["signals"],
                ref.get("invalid", ref["multiplexer"]),
            ]:
                message.get_signal_by_name(name)
        else:
            assert role == "current_sign" and ref == 1
    assert desc["dids"]["sw_version"] == 0xF189
    assert desc["routines"]["commit_calibration"] == 0x0210


def test_frames_arrive_as_can_messages_with_the_dbc_bytes(rig: Rig) -> None:
    rig.bms.tick()
    frames = rig.drain()
    assert sorted(f.arbitration_id for f in frames) == sorted(IDS)
    for frame in frames:
        assert isinstance(frame, can.Message)
        assert (frame.dlc, frame.is_extended_id, frame.is_rx) == (8, False, True)
        assert frame.channel == rig.channel  # set by the bus
        assert frame.timestamp > 0  # stamped by the bus on sending
        values = DB.decode_message(frame.arbitration_id, frame.data, decode_choices=False)
        message = DB.get_message_by_frame_id(frame.arbitration_id)
        assert message.encode(values, strict=False) == bytes(frame.data)


@pytest.mark.parametrize("pack_name", ["nmc96s", "lfp16s"])
def test_every_page_of_every_frame_is_cantools_encoding_of_its_saturated_values(
    pack_name: str,
) -> None:
    contents = {
        0x100: sim_bms._PACK_STATUS,
        0x101: sim_bms._STATE,
        0x102: sim_bms._LIMITS,
        0x110: sim_bms._CELL_PAGE,
        0x111: sim_bms._TEMPERATURE_PAGE,
    }
    r = Rig(pack_name)
    try:
        measured = r.bms.measure()
        # Values past their signals' ranges, which the BMS clamps, and an invalid cell.
        invalid = (True, *measured.cell_invalid[1:])
        beyond = dataclasses.replace(
            measured, pack_current_a=-5000.0, soc_pct=-3.0, max_temperature_c=300.0
        )
        beyond = dataclasses.replace(beyond, insulation_ohm=1e12, cell_invalid=invalid)
        for reading in (measured, beyond):
            for schedule in r.bms._schedules:
                message = DB.get_message_by_frame_id(schedule.frame_id)
                content = contents[schedule.frame_id]
                for page, counter in itertools.product(range(schedule.pages), (0, 9, 15)):
                    values = dict(zip(content.signals, content.values(reading, page), strict=True))
                    values["AliveCounter"] = counter
                    if schedule.frame_id == 0x110:  # invalid: the cell's flag, or no cell
                        flags = reading.cell_invalid[page * 3 : page * 3 + 3]
                        bits = sum(1 << k for k in range(3) if k >= len(flags) or flags[k])
                        assert values["CellInvalid"] == bits
                    for mux in (s for s in message.signals if s.is_multiplexer):
                        values[mux.name] = page
                    clamped = {
                        name: min(s.maximum, max(s.minimum, value))
                        for name, value in values.items()
                        for s in [message.get_signal_by_name(name)]
                    }
                    frame = r.bms._frame(schedule, page, counter, reading)
                    expected = message.encode(clamped, strict=False)
                    assert bytes(frame.data) == expected, (message.name, page, values)
    finally:
        r.close()


def test_every_receiver_gets_the_frame_itself_not_a_copy() -> None:
    rig = Rig()
    second = can.Bus(interface="virtual", channel=rig.channel)
    try:
        rig.bms.tick()
        first_frames = rig.drain()
        second_frames = []
        while (frame := second.recv(timeout=0)) is not None:
            second_frames.append(frame)
        assert len(first_frames) == len(IDS)
        # Nothing changes a sent frame, and a copy would have the same values: one object.
        assert all(a is b for a, b in zip(first_frames, second_frames, strict=True))
    finally:
        second.shutdown()
        rig.close()


def test_a_bus_that_receives_its_own_frames_gets_copies() -> None:
    channel = f"bms-can-{uuid.uuid4()}"
    bms_bus = can.Bus(interface="virtual", channel=channel, receive_own_messages=True)
    client = can.Bus(interface="virtual", channel=channel)
    bms = SimulatedBms(
        Pack(get_pack_spec("nmc96s")), bms_bus, now=ManualTime(), tick_interval_s=None
    )
    try:
        bms.tick()
        own, received = bms_bus.recv(timeout=0), client.recv(timeout=0)
        assert own is not None and received is not None
        # is_rx differs between the two (False for the sender's own): they cannot be shared.
        assert (own.is_rx, received.is_rx) == (False, True)
        assert bytes(own.data) == bytes(received.data)
    finally:
        bms.close()
        bms_bus.shutdown()
        client.shutdown()


def test_a_dbc_with_too_few_pages_for_the_pack_is_refused(tmp_path: Path) -> None:
    dbc = tmp_path / "short.dbc"
    text = REFERENCE_DBC.read_text()
    dbc.write_text(text.replace("CellPage 0-63;", "CellPage 0-9;"))
    pack = Pack(get_pack_spec("nmc96s"))
    with (
        can.Bus(interface="virtual", channel=f"short-{uuid.uuid4()}") as bus,
        pytest.raises(ValueError, match=r"no multiplexer page 10: this pack needs pages 0–31"),
    ):
        SimulatedBms(pack, bus, dbc_path=dbc, now=ManualTime(), tick_interval_s=None)


# --- timing -------------------------------------------------------------------------------


def test_cycle_times_follow_the_virtual_clock(rig: Rig) -> None:
    rig.bms.tick()  # t = 0: every message once
    assert len(rig.drain()) == 5
    frames = rig.run(1.0)  # (0, 1] s
    counts = {i: sum(f.arbitration_id == i for f in frames) for i in IDS}
    assert counts == {0x100: 10, 0x101: 10, 0x102: 10, 0x110: 100, 0x111: 50}


def test_a_time_jump_sends_one_frame_per_message_not_a_burst(rig: Rig) -> None:
    rig.bms.tick()
    rig.drain()
    rig.clock.advance(3600.0)
    assert rig.bms.tick() == 5
    assert sorted(f.arbitration_id for f in rig.drain()) == list(IDS)
    assert rig.bms.tick() == 0  # nothing more is due at the same instant
    frames = rig.run(0.1)  # and the grid goes on from there
    assert sum(f.arbitration_id == 0x110 for f in frames) == 10


def test_alive_counters_increment_per_frame(rig: Rig) -> None:
    frames = rig.run(2.0)
    for frame_id in IDS:
        counters = [d["AliveCounter"] for d in decoded(frames, frame_id)]
        assert len(counters) >= 20
        assert all((b - a) % 16 == 1 for a, b in itertools.pairwise(counters))


def test_driver_thread_sends_when_the_clock_moves() -> None:
    r = Rig(tick_interval_s=0.001)  # the wall-clock driver, as the bench runs it
    try:
        r.bms.start()
        assert r.client.recv(timeout=2.0) is not None  # the t = 0 frames
        r.clock.advance(0.1)
        for _ in range(50):  # the second PackStatus frame comes once the clock has moved
            frame = r.client.recv(timeout=2.0)
            assert frame is not None
            counter = DB.decode_message(frame.arbitration_id, frame.data)["AliveCounter"]
            if frame.arbitration_id == 0x100 and counter == 1:
                break
        else:
            pytest.fail("no second BMS_PackStatus frame")
    finally:
        r.close()


# --- values -------------------------------------------------------------------------------


def test_pack_status_reports_the_pack_within_the_error_model(rig: Rig) -> None:
    frames = rig.run(1.0)
    status = decoded(frames, 0x100)
    mean_v = sum(float(d["PackVoltage"]) for d in status) / len(status)
    true_v = rig.pack.terminal_voltage()
    assert mean_v == pytest.approx(true_v, abs=0.001 * true_v + 0.2 + 0.05)
    assert float(status[-1]["SOC"]) == pytest.approx(100 * rig.pack.soc, abs=1.1)
    # No current flows: the current reading is the sensor offset (0.15-0.3 A) plus noise.
    mean_i = sum(float(d["PackCurrent"]) for d in status) / len(status)
    assert 0.05 < abs(mean_i) < 0.45
    # Contactors open: the bus is at 0 V; the reading is its offset, clipped at 0.
    assert 0.0 <= float(status[-1]["BusVoltage"]) <= 1.2


@pytest.mark.parametrize("pack_name", ["nmc96s", "lfp16s"])
def test_cell_pages_assemble_into_every_cell(pack_name: str) -> None:
    r = Rig(pack_name)
    try:
        series = r.pack.spec.series
        pages = math.ceil(series / 3)
        frames = r.run(pages * 0.01 + 0.001)
        cells: dict[int, float] = {}
        invalid: dict[int, bool] = {}
        for d in decoded(frames, 0x110):
            page = int(d["CellPage"])
            for k in range(3):
                cells[page * 3 + k] = float(d[f"Cell{k}"])
                invalid[page * 3 + k] = bool(int(d["CellInvalid"]) >> k & 1)
        assert sorted(cells) == list(range(pages * 3))
        truth = r.pack.cell_voltages()
        for i in range(series):
            assert not invalid[i]
            # gain 0.05 %, offset 1 mV, noise 0.3 mV (5 sigma), 0.1 mV quantisation
            assert cells[i] == pytest.approx(truth[i], abs=0.0005 * truth[i] + 0.001 + 0.0016)
        for i in range(series, pages * 3):
            assert invalid[i] and cells[i] == 0.0
    finally:
        r.close()


def test_temperature_pages_cover_one_sensor_per_8_cells_at_least_4(rig: Rig, lfp_rig: Rig) -> None:
    for r, sensors in ((rig, 12), (lfp_rig, 4)):
        frames = r.run(0.05)
        temps = {}
        for d in decoded(frames, 0x111):
            for k in range(6):
                temps[int(d["TempPage"]) * 6 + k] = float(d[f"Temp{k}"])
        assert len(temps) == math.ceil(sensors / 6) * 6
        for j in range(sensors):
            assert temps[j] == pytest.approx(r.pack.spec.ambient_c, abs=1.5)
        assert all(temps[j] == -50.0 for j in range(sensors, len(temps)))  # raw 0


def test_state_in_standby_with_healthy_pack(rig: Rig) -> None:
    state = last(rig.run(0.2), 0x101)
    assert state["BmsState"] == 1  # STANDBY
    assert state["ContactorState"] == 0
    assert state["HvilState"] == 0
    assert not any(v for k, v in state.items() if k.startswith("Fault"))
    assert state["InsulationResistance"] == 655350  # raw 0xFFFF: saturated, "> 655 MOhm"
    limits = last(rig.run(0.2), 0x102)
    capacity = rig.pack.spec.nominal_capacity_ah
    assert limits["MaxChargeCurrent"] == pytest.approx(capacity, abs=0.1)
    assert limits["MaxDischargeCurrent"] == pytest.approx(2 * capacity, abs=0.1)
    truth = rig.pack.cell_voltages()
    assert float(limits["MaxCellVoltage"]) == pytest.approx(max(truth), abs=0.003)
    assert float(limits["MinCellVoltage"]) == pytest.approx(min(truth), abs=0.003)


# --- faults -------------------------------------------------------------------------------


def test_open_sense_wire_sets_invalid_bits_and_fault(rig: Rig) -> None:
    rig.pack.sense_wire_open(4)  # cell 4 reads 0 V, cell 5 the sum of both
    frames = rig.run(0.4)
    page = [d for d in decoded(frames, 0x110) if d["CellPage"] == 1][-1]  # cells 3, 4, 5
    assert page["CellInvalid"] == 0b110
    assert page["Cell1"] == 0.0
    assert page["Cell2"] == pytest.approx(6.5535)  # saturated: about 7.4 V does not fit
    state = last(frames, 0x101)
    assert state["FaultSenseWire"] == 1
    assert state["BmsState"] == 4  # ERROR


def test_ntc_faults_show_the_railed_reading_and_fault(rig: Rig) -> None:
    rig.pack.ntc_open(0)
    rig.pack.ntc_short(95)
    frames = rig.run(0.2)
    temps = {}
    for d in decoded(frames, 0x111):
        for k in range(6):
            temps[int(d["TempPage"]) * 6 + k] = d[f"Temp{k}"]
    assert temps[0] == -40
    assert temps[11] == 150
    state = last(frames, 0x101)
    assert state["FaultNtc"] == 1
    assert state["MaxCellTemp"] < 30 and state["MinCellTemp"] > 20  # faulty sensors left out


def test_hvil_and_low_insulation_are_reported(rig: Rig) -> None:
    rig.pack.faults.hvil_open = True
    # The monitor sits inside the contactors: it sees the stack (here open contactors).
    rig.pack.insulation.set_stack_resistance("minus", 150e3)
    state = last(rig.run(0.2), 0x101)
    assert state["HvilState"] == 1
    assert state["InsulationResistance"] == 150  # kOhm
    assert state["FaultInsulation"] == 1  # < 500 ohm/V of 96 x 4.25 V
    assert state["BmsState"] == 4


def test_the_monitor_sees_the_connector_side_only_through_closed_contactors(rig: Rig) -> None:
    rig.pack.insulation.set_pole_resistance("minus", 150e3)
    assert last(rig.run(0.2), 0x101)["FaultInsulation"] == 0  # contactors open
    rig.pack.insulation.stack_connected = True
    assert last(rig.run(0.2), 0x101)["InsulationResistance"] == 150


def test_a_blind_monitor_reads_saturated_whatever_the_insulation(rig: Rig) -> None:
    rig.bms.faults.imd_blind = True
    rig.pack.insulation.set_stack_resistance("minus", 150e3)
    state = last(rig.run(0.2), 0x101)
    assert state["InsulationResistance"] == 655350 and state["FaultInsulation"] == 0


def test_silent_bms_sends_nothing_then_resumes(rig: Rig) -> None:
    rig.bms.faults.silent = True
    assert rig.run(1.0) == []
    rig.bms.faults.silent = False
    counts: defaultdict[int, int] = defaultdict(int)
    for frame in rig.run(0.1):
        counts[frame.arbitration_id] += 1
    assert counts[0x100] == 1 and counts[0x110] == 10  # no backlog after the silence


# --- across processes: udp_multicast ------------------------------------------------------


def test_udp_multicast_client_decodes_bms_frames() -> None:
    """A plain python-can client on udp_multicast decodes the BMS frames (frames may drop)."""
    port = random.randrange(43000, 49000)
    group = "239.74.163.2"
    bms_bus = can.Bus(interface="udp_multicast", channel=group, port=port)
    client = can.Bus(interface="udp_multicast", channel=group, port=port)
    clock = ManualTime()
    bms = SimulatedBms(Pack(get_pack_spec("lfp16s")), bms_bus, now=clock, tick_interval_s=None)
    try:
        seen: dict[int, dict[str, Any]] = {}
        for _ in range(200):  # 2 s of virtual time, ~330 frames
            clock.advance(0.01)
            bms.tick()
            while (frame := client.recv(timeout=0.001)) is not None:
                if frame.arbitration_id in IDS:
                    seen[frame.arbitration_id] = DB.decode_message(frame.arbitration_id, frame.data)
            if len(seen) == len(IDS):
                break
        assert set(seen) == set(IDS)
        assert float(seen[0x100]["PackVoltage"]) == pytest.approx(51.5, abs=3)
    finally:
        bms.close()
        bms_bus.shutdown()
        client.shutdown()


def test_reference_dbc_path_points_into_sequences() -> None:
    repo = Path(__file__).resolve().parents[3]
    assert repo / "sequences" / "bms" / "eol_reference.dbc" == REFERENCE_DBC


def test_sync_hook_runs_before_the_pack_is_read() -> None:
    """Without a circuit, ``sync`` advances the pack; here a 100 A discharge on a hook."""
    r = Rig("lfp16s")
    last_t = [0.0]

    def sync() -> None:
        r.pack.advance(r.clock() - last_t[0], 100.0)
        last_t[0] = r.clock()

    bms = SimulatedBms(r.pack, r.bms_bus, now=r.clock, sync=sync, tick_interval_s=None)
    try:
        bms.tick()
        soc_start = float(decoded(r.drain(), 0x100)[-1]["SOC"])
        r.clock.advance(360.0)  # 10 Ah out of 100 Ah
        bms.tick()
        status = decoded(r.drain(), 0x100)[-1]
        assert float(status["SOC"]) == pytest.approx(soc_start - 10.0, abs=0.3)
        assert float(status["PackCurrent"]) == pytest.approx(100.0, abs=2.0)
    finally:
        bms.close()
        r.close()


def test_a_sent_frame_is_a_standard_classic_data_frame_whose_kind_cannot_change() -> None:
    frame = SentFrame(0x110, bytes(range(8)))
    reference = can.Message(arbitration_id=0x110, is_extended_id=False, data=bytes(range(8)))
    reference.is_rx = True
    for name in can.Message.__slots__:
        if not name.startswith("_"):
            assert getattr(frame, name) == getattr(reference, name), name
    # What the bus writes at the send can be written; the kind of frame cannot.
    frame.timestamp, frame.channel, frame.is_rx = 1.5, "bms", False
    assert (frame.timestamp, frame.channel, frame.is_rx) == (1.5, "bms", False)
    for name in ("is_extended_id", "is_remote_frame", "is_error_frame", "is_fd"):
        with pytest.raises(AttributeError):
            setattr(frame, name, True)
    assert not frame.is_extended_id and not frame.is_fd
