"""Tests for station.config: the station config file is validated, hashed and checked."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from station.config import default_config, load_config
from station.errors import ConfigError, Problem

GOOD = Path(__file__).parent.parent / "data" / "good" / "station.toml"

STATION = """
[station]
id = "EOL-01"
"""
DMM = """
[instruments.dmm]
model = "keysight.34465a"
resource = "TCPIP0::10.0.0.7::INSTR"
serial = "MY59001234"
cal_due = 2099-12-31
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[Problem]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert all(p.file == str(path) for p in info.value.problems)
    return info.value.problems


def test_a_good_config_loads() -> None:
    config = load_config(GOOD)
    assert config.station_id == "EOL-TEST"
    assert config.results_db == GOOD.parent / "results" / "test.db"  # relative to the file
    assert config.sha256 == hashlib.sha256(GOOD.read_bytes()).hexdigest()
    assert sorted(config.instruments) == ["dmm", "supply"]
    supply = config.instruments["supply"]
    assert (supply.role, supply.model, supply.serial) == ("supply", "itech.it6000c", "602118010")
    assert supply.resource == "TCPIP0::10.0.0.5::5025::SOCKET"
    assert (supply.cal_due, supply.timeout_s, supply.backend) == (dt.date(2099, 12, 31), 2.0, "@py")
    assert supply.options == {"max_voltage_v": 1000}
    assert config.interlocks_required_for_hv is True
    assert (config.can, config.plugins) == (None, ())
    assert (config.scan_to_start, config.retest_confirm_after) == (False, 2)  # the defaults
    assert config.language == "en"


def test_the_can_section_resolves_files_next_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "bms").mkdir()
    (tmp_path / "bms" / "pack.toml").write_text("[bms]\n", encoding="utf-8")
    can = """
[can]
interface = "virtual"
channel = "eol"
bitrate = 500000
bms = "bms/pack.toml"
"""
    config = load_config(write(tmp_path, STATION + can))
    assert config.can is not None
    assert (config.can.interface, config.can.channel, config.can.bitrate) == (
        "virtual",
        "eol",
        500000,
    )
    assert config.can.bms == tmp_path / "bms" / "pack.toml"
    assert config.can.bus_arguments() == {
        "interface": "virtual",
        "channel": "eol",
        "bitrate": 500000,
    }


MISTAKES = [
    (
        STATION + DMM.replace("instruments.dmm", "instruments.bms"),
        "instruments.bms",
        "the BMS is not an instrument: describe its bus in the [can] table",
    ),
    (
        STATION + DMM.replace("instruments.dmm", "instruments.dvm"),
        "instruments.dvm",
        "unknown role (did you mean 'dmm'?); roles: supply, load, dmm,",
    ),
    (
        STATION + DMM.replace("keysight.34465a", "keysight.34465"),
        "instruments.dmm.model",
        "unknown instrument model 'keysight.34465' (did you mean 'keysight.34465a'?)",
    ),
    (
        STATION + DMM.replace('resource = "TCPIP0::10.0.0.7::INSTR"\n', ""),
        "instruments.dmm.resource",
        "missing required field (string)",
    ),
    (
        STATION + DMM.replace('serial = "MY59001234"', 'serial = ""'),
        "instruments.dmm.serial",
        "must be non-empty, got ''",
    ),
    (
        STATION + DMM.replace("cal_due = 2099-12-31\n", ""),
        "instruments.dmm.cal_due",
        "missing required field (TOML date)",
    ),
    (
        STATION + DMM.replace("2099-12-31", '"2099-12-31"'),
        "instruments.dmm.cal_due",
        "expected a TOML date like 2027-03-31, got '2099-12-31'",
    ),
    (
        STATION + DMM.replace("2099-12-31", "2099-12-31T08:00:00"),
        "instruments.dmm.cal_due",
        "expected a TOML date like 2027-03-31, got datetime",
    ),
    (
        STATION + DMM + "timeout_s = 0\n",
        "instruments.dmm.timeout_s",
        "must be in (0, 60] s, got 0.0",
    ),
    (STATION + DMM + "adress = 'x'\n", "instruments.dmm.adress", "unknown field"),
    (STATION.replace('id = "EOL-01"', ""), "station.id", "missing required field (string)"),
    (STATION + "result_db = 'r.db'\n", "station.result_db", "(did you mean 'results_db'?)"),
    (STATION + "plugins = 'mine'\n", "station.plugins", "expected list of string, got 'mine'"),
    (
        STATION + DMM.replace("instruments.dmm", "instrument.dmm"),
        "instrument",
        "unknown section (did you mean 'instruments'?)",
    ),
    (STATION + "[interlocks]\nrequired_for_hv = 1\n", "interlocks.required_for_hv", "true or"),
    (STATION + "[ui]\nscan_to_start = 'yes'\n", "ui.scan_to_start", "true or false"),
    (STATION + "[ui]\nretest_confirm_after = 0\n", "ui.retest_confirm_after", "must be ≥ 1, got 0"),
    (STATION + "[ui]\nscan_to_go = true\n", "ui.scan_to_go", "did you mean 'scan_to_start'"),
    (STATION + "[ui]\nlanguage = 'de'\n", "ui.language", "unknown language 'de'"),
    (
        STATION + '[can]\ninterface = "virtual"\nchannel = "eol"\nbms = "none.toml"\n',
        "can.bms",
        "file not found",
    ),
    (
        STATION + '[can]\ninterface = "virtual"\nbms = "station.toml"\n',
        "can.channel",
        "missing required field (string)",
    ),
]


@pytest.mark.parametrize(("text", "where", "message"), MISTAKES, ids=[w for _, w, _ in MISTAKES])
def test_config_mistakes_are_located(tmp_path: Path, text: str, where: str, message: str) -> None:
    [problem] = problems_of(tmp_path, text)
    assert problem.where == where
    assert message in problem.message
    assert str(problem) == f"{tmp_path / 'station.toml'}: {where}: {problem.message}"


def test_every_config_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        "[stations]\n"
        + STATION
        + DMM.replace("keysight.34465a", "nobody.x").replace("2099-12-31", '"soon"')
        + "[instruments.psu]\n"
    )
    problems = problems_of(tmp_path, text)
    assert [p.where for p in problems] == [
        "stations",
        "instruments.dmm.model",
        "instruments.dmm.cal_due",
        "instruments.psu",
    ]


def test_unreadable_toml_gives_line_and_column(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, STATION + "[instruments.dmm\n")
    assert "is not valid TOML" in problem.message
    assert "(at line 4, column" in problem.message


def test_the_default_config_has_no_instruments(tmp_path: Path) -> None:
    config = default_config(tmp_path / "r.db")
    assert (config.instruments, config.results_db, config.path) == ({}, tmp_path / "r.db", None)


# --- the sections go through the one converter (station.checked) ----------------------------


def test_a_wrong_type_names_the_type_expected(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, STATION + '[logging]\nmax_bytes = "5 MB"\n')
    assert str(problem) == (
        f"{tmp_path / 'station.toml'}: logging.max_bytes: expected an integer, got '5 MB'"
    )


def test_a_broken_constraint_says_the_declared_rule(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, STATION + "[central]\ndsn = 'x'\nconnect_timeout_s = 0\n")
    assert (problem.where, problem.message) == (
        "central.connect_timeout_s",
        "must be in (0, 3600] s, got 0.0",
    )


def test_an_unknown_key_gets_a_suggestion_and_the_keys_the_table_takes(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, STATION + '[logging]\nlevle = "INFO"\n')
    assert (problem.where, problem.message) == (
        "logging.levle",
        "unknown field (did you mean 'level'?); this table takes: file, level, "
        "library_level, max_bytes, backups",
    )


def test_every_problem_of_every_section_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        '[station]\nid = ""\n'
        '[logging]\nlevel = "LOUD"\nbackups = -1\n'
        "[retest]\nmax_attempts = 0\n"
        '[masters]\nfailure = [{ serial = "S1" }, { serial = "S2", expect = "IR", x = 1 }]\n'
        "[ui]\nlangauge = 'fr'\n"
    )
    assert [(p.where, p.message) for p in problems_of(tmp_path, text)] == [
        ("station.id", "must be non-empty, got ''"),
        ("logging.level", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"),
        ("logging.backups", "must be ≥ 0, got -1"),
        ("retest.max_attempts", "must be ≥ 1, got 0"),
        ("masters.failure[0].expect", "missing required field (string)"),
        (
            "masters.failure[1].x",
            "unknown field; this table takes: serial, expect, fault",
        ),
        (
            "ui.langauge",
            "unknown field (did you mean 'language'?); this table takes: scan_to_start, "
            "retest_confirm_after, language",
        ),
    ]


def test_a_log_level_in_any_case_and_relative_paths_are_read_as_before(tmp_path: Path) -> None:
    (tmp_path / "bms.toml").write_text("", encoding="utf-8")
    text = (
        STATION
        + 'results_db = "r/eol.db"\n'
        + '[logging]\nlevel = "debug"\nfile = "logs/s.log"\n'
        + '[can]\ninterface = "virtual"\nchannel = "eol"\nbms = "bms.toml"\n'
    )
    config = load_config(write(tmp_path, text))
    assert (config.logging.level, config.logging.file) == ("DEBUG", tmp_path / "logs" / "s.log")
    assert config.results_db == tmp_path / "r" / "eol.db"
    assert config.can is not None and config.can.bms == tmp_path / "bms.toml"


def test_an_unknown_key_in_a_nested_table_does_not_hide_the_rule_between_keys(
    tmp_path: Path,
) -> None:
    text = (
        STATION
        + '[masters]\ngolden = ["S1"]\nfailure = [{ serial = "S1", expect = "IR", colour = 1 }]\n'
    )
    assert [(p.where, p.message) for p in problems_of(tmp_path, text)] == [
        ("masters.failure[0].colour", "unknown field; this table takes: serial, expect, fault"),
        ("masters", "serial(s) S1 named more than once"),
    ]
