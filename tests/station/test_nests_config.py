"""Parallel nests in the station config: read, viewed per nest, and every mistake named."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.config import load_config
from station.errors import ConfigError

BMS = Path(__file__).resolve().parents[2] / "sequences" / "bms" / "eol_reference.toml"


def _instrument(table: str, resource: str, model: str = "itech.it6000c") -> str:
    return f"""
[{table}]
model = "{model}"
resource = "{resource}"
serial = "SN-{resource[-3:]}"
cal_due = 2099-12-31
"""


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _two_nests(
    *, shared: str = '["insulation_tester"]', channels: tuple[str, str] = ("a", "b")
) -> str:
    return (
        f'[station]\nid = "EOL-02"\nshared_roles = {shared}\n'
        + _instrument(
            "instruments.insulation_tester", "TCPIP0::10.0.0.9::5025::SOCKET", "chroma.1905x"
        )
        + f'[can]\ninterface = "virtual"\nchannel = "x"\nbms = "{BMS.as_posix()}"\n'
        + f'[[nests]]\nname = "left"\ncan_channel = "{channels[0]}"\n'
        + _instrument("nests.instruments.supply", "TCPIP0::10.0.0.1::5025::SOCKET")
        + f'[[nests]]\ncan_channel = "{channels[1]}"\n'
        + _instrument("nests.instruments.supply", "TCPIP0::10.0.0.2::5025::SOCKET")
    )


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, text))
    return [f"{p.where}: {p.message}" for p in info.value.problems]


def test_nests_are_read_in_file_order_and_viewed_one_at_a_time(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, _two_nests()))
    assert [(n.index, n.name, n.label) for n in config.nests] == [
        (1, "left", "1 (left)"),
        (2, "2", "2"),
    ]
    assert config.shared_roles == ("insulation_tester",)
    right = config.for_nest(config.nest_by("2"))
    assert sorted(right.instruments) == ["insulation_tester", "supply"]
    assert right.instruments["supply"].resource == "TCPIP0::10.0.0.2::5025::SOCKET"
    assert right.can is not None and right.can.channel == "b"
    assert right.sha256 == config.sha256 and right.nest is config.nests[1]
    assert config.nest_by("left") is config.nests[0]
    with pytest.raises(ConfigError, match="there is no nest '3'; nests: 1 \\(left\\), 2"):
        config.nest_by(3)


def test_a_config_without_nests_is_one_implicit_nest(tmp_path: Path) -> None:
    text = '[station]\nid = "EOL-01"\n' + _instrument("instruments.supply", "TCPIP0::1::SOCKET")
    config = load_config(_config(tmp_path, text))
    assert (config.nests, config.shared_roles, config.nest) == ((), (), None)


def test_an_unknown_shared_role_is_named(tmp_path: Path) -> None:
    problems = _problems(tmp_path, _two_nests(shared='["insulation_tester", "hipot"]'))
    assert any(
        "unknown role 'hipot'" in p and p.startswith("station.shared_roles") for p in problems
    )


def test_a_role_both_shared_and_a_nests_own_is_refused(tmp_path: Path) -> None:
    text = _two_nests() + _instrument(
        "nests.instruments.insulation_tester", "TCPIP0::10.0.0.3::5025::SOCKET", "chroma.1905x"
    )
    problems = _problems(tmp_path, text)
    assert problems == [
        "nests[2].instruments.insulation_tester: 'insulation_tester' is both shared "
        "(station.shared_roles) and this nest's own: keep one of the two"
    ]


def test_a_station_wide_instrument_must_be_shared(tmp_path: Path) -> None:
    problems = _problems(tmp_path, _two_nests(shared="[]"))
    assert any(
        p.startswith("instruments.insulation_tester: a station with [[nests]]") for p in problems
    )


def test_duplicate_can_channels_and_names_are_refused(tmp_path: Path) -> None:
    text = _two_nests(channels=("can1", "can1")).replace(
        "[[nests]]\ncan_channel", '[[nests]]\nname = "left"\ncan_channel'
    )
    problems = _problems(tmp_path, text)
    assert (
        "nests[2].can_channel: 'can1' is already nest 1's channel: each nest's pack needs "
        "its own bus" in problems
    )
    assert "nests[2].name: 'left' is already the name of nest 1" in problems


def test_one_instrument_for_two_nests_is_refused(tmp_path: Path) -> None:
    text = _two_nests().replace("10.0.0.2", "10.0.0.1")
    problems = _problems(tmp_path, text)
    assert any(
        p.startswith(
            "nests[2].instruments.supply.resource: 'TCPIP0::10.0.0.1::5025::SOCKET' is "
            "already nests[1].instruments.supply"
        )
        for p in problems
    )


def test_a_missing_channel_unknown_key_and_shared_roles_without_nests(tmp_path: Path) -> None:
    text = _two_nests().replace('can_channel = "b"\n', "bay = 2\n")
    problems = _problems(tmp_path, text)
    assert any(p.startswith("nests[2].can_channel: missing") for p in problems)
    assert any(p.startswith("nests[2].bay: unknown field") for p in problems)
    alone = '[station]\nid = "X"\nshared_roles = ["insulation_tester"]\n'
    assert _problems(tmp_path, alone) == [
        "station.shared_roles: names shared roles but the config has no [[nests]]"
    ]
