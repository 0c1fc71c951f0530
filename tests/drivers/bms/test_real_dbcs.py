"""Real BMS DBCs from other open projects, mapped by descriptions and decoded exactly.

Frames are encoded by cantools from the same DBC and fed to the station's signal monitor;
every mapped value must equal cantools' own decode of that frame (× the SI factor). The
DBCs and their licences are in ``tests/data/dbc/`` (see its README).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import can
import cantools
import pytest

from drivers.bms.description import BmsDescription
from drivers.bms.signal_map import SignalRef
from drivers.bms.signals import SignalMonitor

DATA = Path(__file__).resolve().parents[2] / "data"
TESLA = DATA / "bms" / "tesla_model3.toml"
GM_VOLT = DATA / "bms" / "gm_volt.toml"


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def send(monitor: SignalMonitor, message: Any, raw: dict[str, int]) -> dict[str, float]:
    """Encode ``raw`` values (unlisted signals 0), feed the frame, return cantools' decode."""
    full = {s.name: 0 for s in message.signals if s.multiplexer_ids is None}
    full.update(raw)
    data = message.encode(full, scaling=False, strict=False)
    monitor.on_message_received(
        can.Message(
            arbitration_id=message.frame_id,
            is_extended_id=bool(message.is_extended_frame),
            data=data,
        )
    )
    decoded: dict[str, float] = message.decode(data, decode_choices=False)
    return decoded


def random_raw(signal: Any, rng: random.Random) -> int:
    if signal.is_signed:
        return rng.randrange(-(1 << (signal.length - 1)), 1 << (signal.length - 1))
    return rng.randrange(0, 1 << signal.length)


def page_values(message: Any, page: int, rng: random.Random) -> dict[str, int]:
    raw = {s.name: 0 for s in message.signals if s.multiplexer_ids is None}
    for signal in message.signals:
        if signal.multiplexer_ids is not None and page in signal.multiplexer_ids:
            raw[signal.name] = random_raw(signal, rng)
    mux = next(s for s in message.signals if s.is_multiplexer)
    raw[mux.name] = page
    return raw


def test_tesla_model3_loads_leniently_and_decodes_exactly() -> None:
    desc = BmsDescription.load(TESLA)
    assert [entry.split(" ")[0] for entry in desc.ignored] == [
        "ID5D5RearDItemps",
        "ID556FrontDItemps",
    ]
    assert desc.states["contactor_state"] == {1: "open", 4: "closed", 5: "welded"}
    clock = Clock()
    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=clock, cycle_s=desc.cycle_s)
    rng = random.Random(11)
    pack = desc.db.get_message_by_name("ID132HVBattAmpVolt")
    for _ in range(50):
        raw = {s.name: random_raw(s, rng) for s in pack.signals}
        got = send(monitor, pack, raw)
        for role in ("pack_voltage", "pack_current", "raw_current"):
            ref = desc.signals[role]
            assert monitor.reading(role).value == pytest.approx(
                got[ref.signal] * ref.factor, rel=1e-12, abs=1e-12
            )
    # Negative factors: a raw +100 of SmoothBattCurrent132 is -10 A; RawBattCurrent132 has
    # factor -0.05 and offset 500.
    send(monitor, pack, {"SmoothBattCurrent132": 100, "RawBattCurrent132": -200})
    assert monitor.reading("pack_current").value == pytest.approx(-10.0)
    assert monitor.reading("raw_current").value == pytest.approx(510.0)
    status = desc.db.get_message_by_name("ID212BMS_status")
    send(monitor, status, {"BMS_contactorState": 0, "BMS_isolationResistance": 1000})
    state = monitor.reading("contactor_state")
    assert (state.raw, state.label, desc.meaning("contactor_state", state.raw)) == (
        0,
        "BMS_CTRSET_SNA",
        None,
    )
    assert state.value is None  # "..._SNA" is not available, never a number
    assert monitor.reading("insulation").value == pytest.approx(10e6)
    cells = desc.db.get_message_by_name("ID401CellVoltages")
    expected: list[float] = []
    for page in range(32):  # 96 cells, 3 per page
        got = send(monitor, cells, page_values(cells, page, rng))
        expected += [got[f"Cell{3 * page + slot}"] for slot in range(3)]
    snapshot = monitor.snapshot("cell_voltages", after=0.0, timeout_s=1.0)
    assert snapshot == pytest.approx(expected, rel=1e-12)


def test_gm_volt_cells_from_four_multiplexed_messages_in_declared_order() -> None:
    desc = BmsDescription.load(GM_VOLT)
    cells = desc.arrays["cell_voltages"]
    names = [str(e) for e in cells.elements]  # type: ignore[union-attr]
    assert len(names) == 96
    assert names[:4] == [
        "Battery_Module_1.Voltage_1_0_A",
        "Battery_Module_1.Voltage_1_0_B",
        "Battery_Module_1.Voltage_1_0_C",
        "Battery_Module_1.Voltage_1_1_A",
    ]
    assert names[-1] == "Battery_Module_4.Voltage_4_7_C"
    clock = Clock()
    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=clock, cycle_s=desc.cycle_s)
    rng = random.Random(7)
    decoded: dict[str, float] = {}
    for module in range(1, 5):
        message = desc.db.get_message_by_name(f"Battery_Module_{module}")
        for page in range(8):
            decoded.update(send(monitor, message, page_values(message, page, rng)))
    with pytest.raises(Exception, match="cell_temperatures incomplete"):
        monitor.snapshot("cell_temperatures", after=0.0, timeout_s=0.05)
    volts = monitor.snapshot("cell_voltages", after=0.0, timeout_s=1.0)
    assert volts == pytest.approx([decoded[n.split(".")[1]] for n in names], rel=1e-12)
    temps = desc.db.get_message_by_name("Battery_temp")
    got = send(monitor, temps, page_values(temps, 0, rng))
    got.update(send(monitor, temps, page_values(temps, 1, rng)))
    assert monitor.snapshot("cell_temperatures", after=0.0, timeout_s=1.0) == pytest.approx(
        [got[f"Temp_{c}"] for c in "ABCDEFGHI"], rel=1e-12
    )
    # Signed big-endian current with an offset: raw -5 → -0.6 A.
    stats = desc.db.get_message_by_name("Pack_Stats")
    send(monitor, stats, {"Pack_Voltage": 2960, "Pack_Current": -5})
    assert monitor.reading("pack_current").value == pytest.approx(-0.6)
    assert monitor.reading("pack_voltage").value == pytest.approx(370.0)
    # A snapshot after a later instant needs every element again.
    clock.t = 1.0
    with pytest.raises(Exception, match=r"element\(s\) 0–95 \(Battery_Module_1.Voltage_1_0_A"):
        monitor.snapshot("cell_voltages", after=0.5, timeout_s=0.05)


def test_every_signal_of_the_real_dbcs_decodes_like_cantools() -> None:
    """The precompiled decoder against cantools, for every signal of every vendored DBC
    (and each field's getter against extract, signed or not, in either byte order)."""
    from drivers.bms.decoder import MessageDecoder, extract, getter

    rng = random.Random(3)
    paths = [
        DATA / "dbc" / "tesla_model3" / "Model3CAN.dbc",
        DATA / "dbc" / "gm_volt" / "gm_global_a_high_voltage_management.dbc",
        DATA / "dbc" / "ford_phev" / "ford_phev_traction_battery.dbc",
        Path(__file__).resolve().parents[3] / "sequences" / "bms" / "eol_reference.dbc",
    ]
    checked = 0
    kinds: set[tuple[bool, bool]] = set()
    for path in paths:
        db = cantools.database.load_file(str(path), strict=False)
        for message in db.messages:
            if any(s.is_float for s in message.signals):
                continue
            try:
                decoder = MessageDecoder(message, [s.name for s in message.signals])
            except ValueError:
                continue  # a signal that does not fit its message (the lenient-load ones)
            for _ in range(20):
                data = bytes(rng.randrange(256) for _ in range(message.length))
                try:
                    expected = message.decode(data, decode_choices=False, scaling=False)
                except Exception:  # cantools refuses some random frames (unknown mux)
                    continue
                if not set(expected) <= {s.name for s in message.signals}:
                    break  # cantools decodes a long (> 32 character) name under its short one
                got = decoder.decode(data)
                assert {k: got[k] for k in expected} == expected, message.name
                frame = decoder.read(data)
                for field in decoder.fields.values():
                    assert getter(field)(frame) == extract(field, frame), field
                    kinds.add((field.big_endian, field.sign != 0))
                checked += 1
    assert checked > 2000
    assert len(kinds) == 4


def test_a_signal_ref_prints_as_message_dot_signal() -> None:
    assert str(SignalRef("r", "M", "S")) == "M.S"


def test_ford_phev_units_offsets_and_its_own_words_for_no_value() -> None:
    desc = BmsDescription.load(DATA / "bms" / "ford_phev.toml")
    assert desc.signals["pack_voltage"].unit == "V" and desc.signals["pack_current"].unit == "A"
    assert desc.states["hvil_state"] == {0: "closed", 1: "open"}
    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=Clock(), cycle_s=desc.cycle_s)
    rng = random.Random(13)
    trac1 = desc.db.get_message_by_name("Battery_Traction_1_FD1")
    for _ in range(50):
        raw = {s.name: random_raw(s, rng) for s in trac1.signals}
        phys = send(monitor, trac1, raw)
        for role in ("pack_voltage", "pack_current"):
            ref = desc.signals[role]
            assert monitor.reading(role).value == pytest.approx(phys[ref.signal], rel=1e-12)
    send(monitor, trac1, {"BattTrac_I_Actl": 14000, "BattTrac_U_Actl": 700})
    assert monitor.reading("pack_current").value == pytest.approx(-50.0)  # 14000 × 0.05 − 750
    assert monitor.reading("pack_voltage").value == pytest.approx(350.0)
    trac4 = desc.db.get_message_by_name("Battery_Traction_4_FD1")
    for soc_raw, temp_raw in ((16383, 1023), (16382, 1022)):
        send(monitor, trac4, {"BattTracSoc2_Pc_Actl": soc_raw, "BattTrac_Te_Actl": temp_raw})
        assert monitor.reading("soc").value is None
        assert monitor.reading("pack_temperature").value is None
    send(monitor, trac4, {"BattTracSoc2_Pc_Actl": 5512, "BattTrac_Te_Actl": 150})
    assert monitor.reading("soc").value == pytest.approx(55.12)
    assert monitor.reading("pack_temperature").value == pytest.approx(25.0)
    trac6 = desc.db.get_message_by_name("Battery_Traction_6_FD1")
    send(monitor, trac6, {"BattTracHvilOpen_B_Stat": 0})
    assert desc.meaning("hvil_state", monitor.reading("hvil_state").raw) == "closed"


def test_the_frame_reader_of_each_byte_order_reads_as_int_from_bytes() -> None:
    """Each message's reader, made for the byte orders its signals use, keeps the frame as
    the integers of those orders; bytes past the DBC's length are dropped, a short frame is
    refused."""
    from drivers.bms.decoder import MessageDecoder

    path = DATA / "dbc" / "tesla_model3" / "Model3CAN.dbc"
    db = cantools.database.load_file(str(path), strict=False)
    orders = set()
    for message in db.messages:
        for order in ("big_endian", "little_endian"):
            names = [s.name for s in message.signals if s.byte_order == order and not s.is_float]
            if not names or message.length < 2:
                continue
            try:
                decoder = MessageDecoder(message, names)
            except ValueError:
                continue
            uses = (decoder.uses_big, decoder.uses_little)
            orders.add(uses)
            data = bytes(range(1, message.length + 1))
            expected = (
                int.from_bytes(data, "big") if decoder.uses_big else 0,
                int.from_bytes(data, "little") if decoder.uses_little else 0,
            )
            assert decoder.reader(data) == decoder.read(data) == expected, message.name
            assert decoder.reader(bytearray(data) + b"\xff\xff") == expected
            with pytest.raises(ValueError, match=f"{message.name}: 1 data bytes"):
                decoder.reader(data[:1])
    assert {(True, False), (False, True)} <= orders
