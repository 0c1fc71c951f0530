"""Readings a BMS marks "not available", declared "above range", and freshness of messages.

A raw value the DBC labels SNA/Invalid/Init/… (or the description declares) is never a
number; only a declared raw value reads as "above range"; a message with no cycle time
needs a period in the description, and a BMS that never sent is not alive.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import can
import cantools
import pytest

from drivers.bms.bms import Bms
from drivers.bms.description import BmsDescription, BmsDescriptionError
from drivers.bms.readings import BmsNotAvailable
from drivers.bms.signals import SignalMonitor
from drivers.errors import BmsTimeout

DBC = """VERSION ""

NS_ :

BS_:

BU_: BMS STATION

BO_ 256 Pack: 8 BMS
 SG_ Voltage : 0|16@1+ (0.1,0) [0|6553.5] "V" STATION
 SG_ Current : 16|16@1- (0.1,0) [-3276.8|3276.7] "A" STATION
 SG_ Riso : 32|16@1+ (1,0) [0|65535] "kOhm" STATION
 SG_ Soc : 48|8@1+ (0.5,0) [0|127.5] "%" STATION
 SG_ FaultX : 56|1@1+ (1,0) [0|1] "" STATION

BO_ 257 Relays: 8 BMS
 SG_ Main : 0|4@1+ (1,0) [0|15] "" STATION
 SG_ Hvil : 4|2@1+ (1,0) [0|3] "" STATION

BO_ 272 Cells: 8 BMS
 SG_ Page M : 0|8@1+ (1,0) [0|3] "" STATION
 SG_ C0 m0 : 8|16@1+ (1,0) [0|65535] "mV" STATION
 SG_ C1 m0 : 24|16@1+ (1,0) [0|65535] "mV" STATION
 SG_ C2 m1 : 8|16@1+ (1,0) [0|65535] "mV" STATION
 SG_ C3 m1 : 24|16@1+ (1,0) [0|65535] "mV" STATION

BA_DEF_ BO_ "GenMsgCycleTime" INT 0 65535;
BA_DEF_DEF_ "GenMsgCycleTime" 0;
BA_ "GenMsgCycleTime" BO_ 256 100;
BA_ "GenMsgCycleTime" BO_ 272 10;
VAL_ 256 Riso 65535 "SNA" 65534 "Init" ;
VAL_ 256 Soc 255 "Not_Available" ;
VAL_ 256 FaultX 0 "No error" 1 "Error" ;
VAL_ 257 Main 0 "CTR_OPEN" 1 "CTR_PRECHARGE" 2 "CTR_CLOSED" 7 "CTR_WELDED" 15 "SNA" ;
VAL_ 257 Hvil 0 "HVIL_OK" 1 "HVIL_BROKEN" 3 "Invalid" ;
VAL_ 272 C0 65535 "Invalid" ;
"""

TOML = """
[bms]
dbc = "bms.dbc"
[signals]
pack_voltage = "Pack.Voltage"
pack_current = "Pack.Current"
insulation = "Pack.Riso"
soc = "Pack.Soc"
contactor_state = "Relays.Main"
hvil_state = "Relays.Hvil"
[signals.cell_voltages]
message = "Cells"
multiplexer = "Page"
signals = "C{index}"
per_page = 2
count = 4
[faults]
x = "Pack.FaultX"
[states.contactor_state]
open = ["CTR_OPEN"]
closed = ["CTR_CLOSED"]
precharge = [1]
welded = ["CTR_WELDED"]
[states]
hvil_state = { closed = ["HVIL_OK"], open = ["HVIL_BROKEN"] }
[not_available]
pack_voltage = [0xFFFF]
cell_voltages = [0]
[periods_ms]
Relays = 50
"""


def load(tmp_path: Path, toml: str = TOML, dbc: str = DBC) -> BmsDescription:
    (tmp_path / "bms.dbc").write_text(dbc, encoding="utf-8")
    (tmp_path / "bms.toml").write_text(toml, encoding="utf-8")
    return BmsDescription.load(tmp_path / "bms.toml")


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def feed(monitor: SignalMonitor, db: cantools.database.can.Database, name: str, **raw: int) -> None:
    message = db.get_message_by_name(name)
    values: dict[str, int] = {
        s.name: 0 for s in message.signals if s.multiplexer_ids is None or 0 in s.multiplexer_ids
    }
    if "Page" in raw:
        values = {"Page": raw["Page"]}
    values.update(raw)
    data = message.encode(values, scaling=False, strict=False)
    monitor.on_message_received(
        can.Message(arbitration_id=message.frame_id, is_extended_id=False, data=data)
    )


@pytest.fixture
def desc(tmp_path: Path) -> BmsDescription:
    return load(tmp_path)


def test_labelled_not_available_values_are_never_numbers(desc: BmsDescription) -> None:
    clock = Clock()
    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=clock)
    for raw, label in ((0xFFFF, "SNA"), (0xFFFE, "Init")):
        feed(monitor, desc.db, "Pack", Riso=raw)
        got = monitor.reading("insulation")
        assert got.value is None and got.raw == raw and got.label == label
        assert not got.above_range  # nothing declared: the top raw value is no "infinity"
        with pytest.raises(BmsNotAvailable, match=f"insulation as not available .*'{label}'"):
            got.number()
        with pytest.raises(BmsNotAvailable, match=f"insulation as not available .*'{label}'"):
            monitor.value("insulation")  # the same answer without a Reading
    # "Not_Available" is "Not available" of the word list: case, spaces and _ do not count.
    feed(monitor, desc.db, "Pack", Soc=255)
    assert monitor.reading("soc").value is None
    feed(monitor, desc.db, "Pack", Soc=200, Riso=0xFFFD)
    assert monitor.reading("soc").value == 100.0
    assert monitor.reading("insulation").value == pytest.approx(0xFFFD * 1e3)
    assert monitor.value("insulation") == monitor.reading("insulation").value


def test_declared_raw_values_are_not_available_too(desc: BmsDescription) -> None:
    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=Clock())
    feed(monitor, desc.db, "Pack", Voltage=0xFFFF, Current=-5)
    assert monitor.reading("pack_voltage").value is None
    assert monitor.reading("pack_current").value == pytest.approx(-0.5)
    # Array elements: a declared raw (0) and a VAL_ "Invalid" (C0 = 65535) are None.
    feed(monitor, desc.db, "Cells", Page=0, C0=0xFFFF, C1=3700)
    feed(monitor, desc.db, "Cells", Page=1, C2=0, C3=3600)
    cells = monitor.snapshot("cell_voltages", after=0.0, timeout_s=1.0)
    assert cells == [None, pytest.approx(3.7), None, pytest.approx(3.6)]


def test_values_raise_for_the_first_role_not_available(desc: BmsDescription) -> None:
    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=Clock())
    feed(monitor, desc.db, "Pack", Voltage=0xFFFF, Current=-5, Riso=0xFFFE)
    with pytest.raises(BmsNotAvailable, match="pack_voltage as not available") as err:
        monitor.values(["pack_current", "pack_voltage", "insulation"])
    with pytest.raises(BmsNotAvailable) as alone:
        monitor.value("pack_voltage")
    assert str(err.value) == str(alone.value)  # the same answer as value()'s
    with pytest.raises(BmsNotAvailable, match=r"insulation as not available .*'Init'"):
        monitor.values(["insulation", "pack_voltage"])
    feed(monitor, desc.db, "Pack", Voltage=4000, Current=-5, Riso=0xFFFD)
    assert monitor.values(["pack_current", "pack_voltage"]) == [
        pytest.approx(-0.5),
        monitor.value("pack_voltage"),
    ]


def test_a_fault_flag_labelled_error_is_a_flag_not_a_missing_value(desc: BmsDescription) -> None:
    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=Clock())
    feed(monitor, desc.db, "Pack", FaultX=1)
    got = monitor.reading("fault.x")
    assert got.raw == 1 and got.value == 1.0 and got.label == "Error"


def test_the_word_list_is_the_descriptions_when_given(tmp_path: Path) -> None:
    toml = TOML.replace("[not_available]\n", '[not_available]\nlabels = ["Init"]\n')
    desc = load(tmp_path, toml)
    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=Clock())
    feed(monitor, desc.db, "Pack", Riso=0xFFFF)
    assert monitor.reading("insulation").value == pytest.approx(0xFFFF * 1e3)
    feed(monitor, desc.db, "Pack", Riso=0xFFFE)
    assert monitor.reading("insulation").value is None


def test_above_range_only_where_declared(tmp_path: Path) -> None:
    toml = TOML + "[above_range]\ninsulation = [0xFFFD]\n"
    desc = load(tmp_path, toml)
    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=Clock())
    feed(monitor, desc.db, "Pack", Riso=0xFFFD)
    got = monitor.reading("insulation")
    assert got.above_range and got.value == pytest.approx(0xFFFD * 1e3)


def test_state_meanings_come_from_the_description(desc: BmsDescription) -> None:
    assert desc.states["contactor_state"] == {0: "open", 2: "closed", 1: "precharge", 7: "welded"}
    assert desc.states["hvil_state"] == {0: "closed", 1: "open"}
    assert desc.meaning("contactor_state", 15) is None  # SNA: no meaning, never "open"


def test_a_message_without_a_cycle_time_needs_a_period(tmp_path: Path) -> None:
    with pytest.raises(BmsDescriptionError) as caught:
        load(tmp_path, TOML.replace("Relays = 50\n", ""))
    assert caught.value.problems == [
        "[periods_ms].Relays: the DBC gives this message no cycle time (GenMsgCycleTime): "
        "give its period in ms, or a silent BMS could not be told from a quiet one"
    ]
    with pytest.raises(BmsDescriptionError) as caught:
        load(tmp_path, TOML.replace("Relays = 50\n", "Relay = 50\nPack = 0\n"))
    assert caught.value.problems == [
        "[periods_ms].Relay: not a mapped message (did you mean 'Relays'?)",
        "[periods_ms].Pack: must be the message period in ms (> 0), not 0",
        "[periods_ms].Relays: the DBC gives this message no cycle time (GenMsgCycleTime): "
        "give its period in ms, or a silent BMS could not be told from a quiet one",
    ]


def test_the_descriptions_period_makes_a_silent_message_stale(desc: BmsDescription) -> None:
    clock = Clock()
    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=clock, cycle_s=desc.cycle_s)
    feed(monitor, desc.db, "Relays", Main=2)
    assert monitor.reading("contactor_state", timeout_s=0.05).raw == 2
    clock.t = 0.149  # within 3 × 50 ms
    assert "Relays" not in monitor.stale_messages()
    clock.t = 0.151
    assert "Relays" in monitor.stale_messages()
    with pytest.raises(BmsTimeout, match=r"Relays .* is stale"):
        monitor.reading("contactor_state", timeout_s=0.05)


def test_a_bms_that_never_sent_is_not_alive_and_sna_reaches_no_step(desc: BmsDescription) -> None:
    channel = f"bms-na-{uuid.uuid4().hex}"
    sender = can.Bus(interface="virtual", channel=channel)
    try:
        with Bms(desc, {"interface": "virtual", "channel": channel}, read_timeout_s=2.0) as bms:
            assert not bms.alive()  # no frame yet: not "alive by default"
            db = desc.db
            pack = db.get_message_by_name("Pack")
            relays = db.get_message_by_name("Relays")
            cells = db.get_message_by_name("Cells")
            sender.send(
                can.Message(
                    arbitration_id=pack.frame_id,
                    is_extended_id=False,
                    data=pack.encode(
                        {"Voltage": 4000, "Current": 0, "Riso": 0xFFFF, "Soc": 255, "FaultX": 0},
                        scaling=False,
                    ),
                )
            )
            sender.send(
                can.Message(
                    arbitration_id=relays.frame_id,
                    is_extended_id=False,
                    data=relays.encode({"Main": 15, "Hvil": 3}, scaling=False),
                )
            )
            for page in (0, 1):
                sender.send(
                    can.Message(
                        arbitration_id=cells.frame_id,
                        is_extended_id=False,
                        data=cells.encode(
                            {"Page": page, f"C{2 * page}": 3700, f"C{2 * page + 1}": 3701},
                            scaling=False,
                            strict=False,
                        ),
                    )
                )
            assert bms.pack_voltage() == pytest.approx(400.0)
            with pytest.raises(BmsNotAvailable, match="insulation as not available"):
                bms.insulation_ohm()
            with pytest.raises(BmsNotAvailable, match="soc"):
                bms.soc()
            assert bms.values(["pack_voltage", "pack_current"]) == [pytest.approx(400.0), 0.0]
            with pytest.raises(BmsNotAvailable, match="soc as not available"):
                bms.values(["pack_voltage", "soc"])
            with pytest.raises(BmsNotAvailable, match="hvil_state as not available"):
                bms.hvil_closed()
            state = bms.contactor_state()
            assert (state.meaning, str(state)) == (None, "SNA")
            assert bms.alive()
    finally:
        sender.shutdown()


def test_a_custom_enumeration_keeps_its_init_and_error_states(tmp_path: Path) -> None:
    dbc = (
        DBC.replace(
            ' SG_ Hvil : 4|2@1+ (1,0) [0|3] "" STATION\n',
            ' SG_ Hvil : 4|2@1+ (1,0) [0|3] "" STATION\n'
            ' SG_ Mode : 8|3@1+ (1,0) [0|7] "" STATION\n'
            ' SG_ Temp : 16|8@1+ (1,-40) [-40|215] "degC" STATION\n',
        )
        + 'VAL_ 257 Mode 0 "INIT" 1 "RUN" 2 "ERROR" ;\nVAL_ 257 Temp 255 "SNA" ;\n'
    )
    toml = TOML + '[custom_signals]\nmode = "Relays.Mode"\ntemp = "Relays.Temp"\n'
    desc = load(tmp_path, toml, dbc)
    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=Clock())
    feed(monitor, desc.db, "Relays", Mode=2, Temp=255)
    mode = monitor.reading("mode")
    assert (mode.value, mode.label) == (2.0, "ERROR")  # a state, not a missing value
    assert monitor.reading("temp").value is None  # a measurement with a unit: SNA is missing
