"""BMS description files: loading, SI factors, and every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.bms.description import BmsDescription, BmsDescriptionError
from drivers.bms.signal_map import ArrayRef, Slot
from drivers.errors import BmsError

ROOT = Path(__file__).resolve().parents[3]
FOXBMS_DBC = ROOT / "sequences" / "bms" / "foxbms.dbc"
SEQUENCES = ROOT / "sequences" / "bms"

DBC = """VERSION ""

NS_ :

BS_:

BU_: BMS STATION

BO_ 256 BMS_PackStatus: 8 BMS
 SG_ PackVoltage : 0|16@1+ (0.01,0) [0|655.35] "V" STATION
 SG_ PackCurrent : 16|16@1- (0.05,0) [-1638.4|1638.35] "mA" STATION
 SG_ Temperature : 32|8@1+ (1,-40) [-40|215] "degC" STATION

BO_ 257 BMS_State: 8 BMS
 SG_ HvilState : 6|1@1+ (1,0) [0|1] "" STATION
 SG_ FaultCellOV : 8|1@1+ (1,0) [0|1] "" STATION
 SG_ FaultCellUV : 9|1@1+ (1,0) [0|1] "" STATION
 SG_ FaultCode : 16|8@1+ (1,0) [0|255] "" STATION
 SG_ Isolation : 24|16@1+ (1,0) [0|65535] "MOhm" STATION

BO_ 272 BMS_Cells: 8 BMS
 SG_ Page M : 0|8@1+ (1,0) [0|3] "" STATION
 SG_ CellA m0 : 8|16@1+ (1,0) [0|6000] "mV" STATION
 SG_ CellB m0 : 24|16@1+ (1,0) [0|6000] "mV" STATION
 SG_ CellA1 m1 : 8|16@1+ (1,0) [0|6000] "mV" STATION
 SG_ CellB1 m1 : 24|16@1+ (1,0) [0|6000] "mV" STATION
 SG_ Bad : 56|1@1+ (1,0) [0|1] "" STATION

BA_DEF_ BO_ "GenMsgCycleTime" INT 0 65535;
BA_DEF_DEF_ "GenMsgCycleTime" 0;
BA_ "GenMsgCycleTime" BO_ 256 100;
BA_ "GenMsgCycleTime" BO_ 257 100;
BA_ "GenMsgCycleTime" BO_ 272 10;
"""


def write(tmp_path: Path, toml: str, dbc: str = DBC) -> Path:
    (tmp_path / "bms.dbc").write_text(dbc, encoding="utf-8")
    path = tmp_path / "bms.toml"
    path.write_text(toml, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(BmsDescriptionError) as caught:
        BmsDescription.load(path)
    assert isinstance(caught.value, BmsError)
    assert str(path) in str(caught.value)
    return caught.value.problems


GOOD = """
[bms]
name = "Test BMS"
dbc = "bms.dbc"
[uds]
request_id = 0x7E0
response_id = 0x7E8
[signals]
pack_voltage = "BMS_PackStatus.PackVoltage"
pack_current = "BMS_PackStatus.PackCurrent"
insulation = "BMS_State.Isolation"
hvil_state = "BMS_State.HvilState"
current_sign = -1
hvil_closed_value = 1
[signals.cell_voltages]
message = "BMS_Cells"
multiplexer = "Page"
signals = ["CellA", "CellB"]
per_page = 2
count = 2
[dids]
serial = 0xF18C
[routines]
close_contactors = 0x0201
"""


def test_a_good_description_loads_with_si_factors(tmp_path: Path) -> None:
    desc = BmsDescription.load(write(tmp_path, GOOD))
    assert desc.name == "Test BMS"
    assert desc.dbc_path == (tmp_path / "bms.dbc").resolve()
    assert desc.signals["pack_voltage"].factor == 1.0
    # mA → A, and current_sign = -1 folded into the factor
    assert desc.signals["pack_current"].factor == pytest.approx(-1e-3)
    assert desc.signals["insulation"].factor == 1e6 and desc.signals["insulation"].unit == "Ω"
    cells = desc.arrays["cell_voltages"]
    assert cells.factor == pytest.approx(1e-3) and cells.pages == 1
    assert desc.current_sign == -1 and desc.states["hvil_state"] == {1: "closed"}
    assert desc.uds is not None and (desc.uds.request_id, desc.uds.response_id) == (0x7E0, 0x7E8)
    assert desc.uds.security_algorithm == "eol-demo-v1"
    assert desc.dids == {"serial": 0xF18C} and desc.routines == {"close_contactors": 0x0201}
    # No [faults] table: the 1-bit Fault… flags of the mapped messages are the faults.
    assert sorted(desc.faults) == ["FaultCellOV", "FaultCellUV"]
    assert set(desc.signal_map()) >= {"pack_voltage", "cell_voltages", "fault.FaultCellOV"}


def test_every_problem_is_reported_at_once_with_its_field(tmp_path: Path) -> None:
    toml = """
[bms]
dbc = "bms.dbc"
[uds]
request_id = "0x7E0"
response_id = 0x7E8
security_algorithm = "eol-demo-v2"
[signals]
pack_voltage = "BMS_PackStatu.PackVoltage"
pack_current = "BMS_PackStatus.PackCurent"
soc = "BMS_PackStatus.Temperature"
bus_voltage = "PackVoltage"
current_sign = 2
cell_voltages = { message = "BMS_Cells", multiplexer = "Page", signals = ["CellA", "CellB"], \
per_page = 2, count = 4, colour = 1 }
[fault]
x = "BMS_State.FaultCellOV"
[dids]
serial = 0x1F18C
"""
    found = problems(write(tmp_path, toml))
    text = "\n".join(found)
    assert "[signals].pack_voltage: no message 'BMS_PackStatu' in bms.dbc" in text
    assert "(did you mean 'BMS_PackStatus'?)" in text
    assert "[signals].pack_current: message BMS_PackStatus has no signal 'PackCurent'" in text
    assert "(did you mean 'PackCurrent'?)" in text
    assert "Temperature is in 'degC', which is not a percent (soc)" in text
    assert "[signals].bus_voltage: 'PackVoltage' must be 'Message.Signal'" in text
    assert "[signals].cell_voltages: unknown key 'colour'" in text
    assert "CellA is not on page 1 of Page" in text
    assert "[signals].current_sign: must be 1" in text
    assert "[fault]: unknown table (did you mean 'faults'?)" in text
    assert "[uds].request_id: must be a CAN ID" in text
    assert "[uds].security_algorithm: unknown algorithm 'eol-demo-v2'" in text
    assert "[dids].serial: must be a 16-bit number" in text
    assert len(found) == 12


def test_tables_for_other_readers_are_ignored(tmp_path: Path) -> None:
    desc = BmsDescription.load(write(tmp_path, GOOD + "\n[layout]\ncells_per_sensor = 8\n"))
    assert desc.name == "Test BMS"


def test_missing_dbc_and_missing_tables_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "bms.toml"
    path.write_text('[bms]\ndbc = "nowhere.dbc"\n', encoding="utf-8")
    found = problems(path)
    assert any("[bms].dbc: file" in p and "nowhere.dbc does not exist" in p for p in found)
    assert "[signals]: missing table" in found


def test_a_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    found = problems(write(tmp_path, "[bms\ndbc = 1\n"))
    assert "line 1" in found[0]


def test_a_broken_dbc_is_reported(tmp_path: Path) -> None:
    found = problems(write(tmp_path, GOOD, dbc="BO_ this is not a DBC"))
    assert any(p.startswith("[bms].dbc: cannot load bms.dbc") for p in found)


def test_a_role_needs_a_unit_of_its_quantity(tmp_path: Path) -> None:
    toml = GOOD.replace('"BMS_State.Isolation"', '"BMS_PackStatus.PackVoltage"')
    assert problems(write(tmp_path, toml)) == [
        "[signals].insulation: PackVoltage is in 'V', which is not a resistance (insulation)"
    ]


def test_array_problems(tmp_path: Path) -> None:
    toml = GOOD.replace(
        'signals = ["CellA", "CellB"]\nper_page = 2\ncount = 2',
        'signals = ["CellA"]\nper_page = 2\ninvalid_value = 2',
    )
    found = problems(write(tmp_path, toml))
    assert "[signals].cell_voltages.signals: lists 1 signals but per_page is 2" in found
    assert "[signals].cell_voltages.invalid_value: must be 0 or 1, not 2" in found
    not_mux = GOOD.replace('multiplexer = "Page"', 'multiplexer = "Bad"')
    assert problems(write(tmp_path, not_mux)) == [
        "[signals].cell_voltages.multiplexer: Bad is not a multiplexer signal"
    ]
    bad_template = GOOD.replace('["CellA", "CellB"]', '"Cell{number}"')
    assert "is not valid" in problems(write(tmp_path, bad_template))[0]
    short_field = GOOD.replace("count = 2", 'count = 2\ninvalid = "Bad"')
    assert problems(write(tmp_path, short_field)) == [
        "[signals].cell_voltages: invalid bit field Bad has 1 bits for 2 elements per page"
    ]


def test_slots_from_lists_templates_and_bit_fields() -> None:
    listed = ArrayRef("c", "M", "P", 3, ("C0", "C1", "C2"), invalid="Inv", count=7)
    assert listed.pages == 3
    assert listed.slots(2) == (Slot(6, "C0", "Inv", 0),)
    template = ArrayRef(
        "c", "M", "P", 4, "Cell_{index:03d}", invalid="Cell_{index:03d}_ok", invalid_value=0
    )
    assert template.pages is None
    assert template.slots(1)[3] == Slot(7, "Cell_007", "Cell_007_ok", None)
    single = ArrayRef("c", "M", "P", 1, "T{page}", invalid="Bad")
    assert single.slots(5) == (Slot(5, "T5", "Bad", None),)


def test_the_shipped_foxbms_description_loads() -> None:
    desc = BmsDescription.load(SEQUENCES / "foxbms.toml")
    assert desc.dbc_path == FOXBMS_DBC.resolve()
    assert desc.signals["pack_current"].message == "f_PackValuesP0"
    assert desc.signals["insulation"].factor == 1e3  # 7 kOhm steps → Ω
    cells = desc.arrays["cell_voltages"]
    assert (cells.per_page, cells.invalid_value, cells.factor) == (4, 0, 1e-3)
    assert cells.slots(0)[1].value == "CellVoltage_001"
    # the 32-character name foxBMS's DBC cut short is found as spelled there
    assert desc.faults["master_pcb_undertemperature"].signal == "BmsMasterPcbUndertemperatureErro"
    assert desc.uds is None


def test_foxbms_untruncated_name_gets_a_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "fox.toml"
    path.write_text(
        f'[bms]\ndbc = "{FOXBMS_DBC.as_posix()}"\n[signals]\n[custom_signals]\n'
        'pcb = "f_BmsState.BmsMasterPcbUndertemperatureError"\n',
        encoding="utf-8",
    )
    assert problems(path) == [
        "[custom_signals].pcb: message f_BmsState has no signal "
        "'BmsMasterPcbUndertemperatureError' "
        "(did you mean 'BmsMasterPcbUndertemperatureErro'?)"
    ]


def test_custom_signals_live_in_their_own_table(tmp_path: Path) -> None:
    toml = GOOD.replace("[dids]", '[custom_signals]\ntemp = "BMS_PackStatus.Temperature"\n[dids]')
    desc = BmsDescription.load(write(tmp_path, toml))
    assert str(desc.signals["temp"]) == "BMS_PackStatus.Temperature"
    toml = GOOD.replace(
        "[dids]",
        '[custom_signals]\nsoc = "BMS_PackStatus.Temperature"\nx = 1\n[dids]',
    ).replace('pack_voltage = "', 'pack_voltag = "')
    assert problems(write(tmp_path, toml)) == [
        "[signals].pack_voltag: unknown role 'pack_voltag' (did you mean 'pack_voltage'?); "
        "map other signals in [custom_signals]",
        "[custom_signals].soc: 'soc' is a station role: map it in [signals]",
        "[custom_signals].x: must be 'Message.Signal'",
    ]


BROKEN_UNUSED = (
    DBC
    + """
BO_ 300 Unused: 2 BMS
 SG_ A : 0|12@1+ (1,0) [0|4095] "" STATION
 SG_ B : 8|8@1+ (1,0) [0|255] "" STATION
"""
)


def test_a_lenient_dbc_load_ignores_only_unused_broken_messages(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    found = problems(write(tmp_path, GOOD, BROKEN_UNUSED))
    assert len(found) == 1 and found[0].startswith("[bms].dbc: cannot load bms.dbc: ")
    assert found[0].endswith("set dbc_strict = false in [bms]")
    lenient = GOOD.replace('dbc = "bms.dbc"', 'dbc = "bms.dbc"\ndbc_strict = false')
    desc = BmsDescription.load(write(tmp_path, lenient, BROKEN_UNUSED))
    assert len(desc.ignored) == 1 and desc.ignored[0].startswith("Unused (")
    assert "left out 1 message(s)" in caplog.text and "Unused (" in caplog.text
    used = lenient.replace(
        "[dids]", '[custom_signals]\na = "Unused.A"\n[periods_ms]\nUnused = 100\n[dids]'
    )
    found = problems(write(tmp_path, used, BROKEN_UNUSED))
    assert len(found) == 1 and found[0].startswith("[bms].dbc: message Unused, which is mapped")
    bad = GOOD.replace('dbc = "bms.dbc"', 'dbc = "bms.dbc"\ndbc_strict = "no"')
    assert problems(write(tmp_path, bad)) == ["[bms].dbc_strict: must be true or false, not 'no'"]


def test_source_array_problems_name_the_field(tmp_path: Path) -> None:
    toml = GOOD.replace(
        "[dids]",
        '[signals.cell_temperatures]\ntemplate = "BMS_Cells.Cell{x}"\nranges = { x = [3, 1] }\n'
        "[dids]",
    )
    assert problems(write(tmp_path, toml)) == [
        "[signals].cell_temperatures.ranges.x: must be [first, last] or a list of names such "
        'as ["A", "B"], not [3, 1]',
    ]
    toml = GOOD.replace(
        "[dids]",
        "[signals.cell_temperatures]\n"
        'sources = ["BMS_Cells.CellA", "BMS_Cells.CelB", "BMS_Cells.Page", "BMS_State.Isolation"]\n'
        "[dids]",
    )
    assert problems(write(tmp_path, toml)) == [
        "[signals].cell_temperatures[0]: CellA is in 'mV', which is not a temperature "
        "(cell_temperatures)",
        "[signals].cell_temperatures[1]: message BMS_Cells has no signal 'CelB' "
        "(did you mean 'CellB'?)",
        "[signals].cell_temperatures[3]: Isolation is in 'MOhm', which is not a temperature "
        "(cell_temperatures)",
    ]


def test_an_ieee_float_signal_is_refused_by_name(tmp_path: Path) -> None:
    dbc = (
        DBC.replace(
            'BA_DEF_ BO_ "GenMsgCycleTime"',
            'BO_ 258 BMS_Power: 8 BMS\n SG_ Power : 0|32@1- (1,0) [0|0] "W" STATION\n\n'
            'BA_DEF_ BO_ "GenMsgCycleTime"',
        )
        + 'BA_ "GenMsgCycleTime" BO_ 258 100;\nSIG_VALTYPE_ 258 Power : 1;\n'
    )
    toml = GOOD.replace("[dids]", '[custom_signals]\npower = "BMS_Power.Power"\n[dids]')
    assert problems(write(tmp_path, toml, dbc)) == [
        "[custom_signals].power: Power is an IEEE float signal, which is not supported"
    ]


def test_a_signal_behind_a_nested_multiplexer_is_refused_by_name(tmp_path: Path) -> None:
    dbc = DBC.replace(
        'BA_DEF_ BO_ "GenMsgCycleTime"',
        "BO_ 259 BMS_Nested: 8 BMS\n"
        ' SG_ Outer M : 0|8@1+ (1,0) [0|255] "" STATION\n'
        ' SG_ Inner m0M : 8|8@1+ (1,0) [0|255] "" STATION\n'
        ' SG_ Deep m1 : 16|16@1+ (1,0) [0|65535] "" STATION\n\n'
        'BA_DEF_ BO_ "GenMsgCycleTime"',
    ) + (
        'BA_ "GenMsgCycleTime" BO_ 259 100;\n'
        "SG_MUL_VAL_ 259 Inner Outer 0-0;\n"
        "SG_MUL_VAL_ 259 Deep Inner 1-1;\n"
    )
    toml = GOOD.replace("[dids]", '[custom_signals]\ndeep = "BMS_Nested.Deep"\n[dids]')
    assert problems(write(tmp_path, toml, dbc)) == [
        "[signals] BMS_Nested: cannot be decoded: Deep sits behind a nested multiplexer"
    ]
