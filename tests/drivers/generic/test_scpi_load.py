"""Exact-string protocol tests for GenericScpiLoad."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.errors import InstrumentProtocolError, InstrumentReportedError, InstrumentTimeout
from drivers.generic.scpi_load import GenericScpiLoad, parse_mode
from drivers.roles import ElectronicLoad, Identity, OutputCapable
from drivers.testing import TIMEOUT, expected_protocol

OK = '+0,"No error"'
RATED: dict[str, Any] = {"max_current_a": 100.0, "max_voltage_v": 500.0, "max_power_w": 3000.0}
Pairs = list[tuple[str | None, str | None]]


def load(pairs: Pairs, **kwargs: Any) -> Any:
    return expected_protocol(GenericScpiLoad, pairs, **{**RATED, **kwargs})


def test_plays_the_electronic_load_role() -> None:
    with load([]) as el:
        assert isinstance(el, ElectronicLoad)
        assert isinstance(el, OutputCapable)


def test_connect_sends_nothing() -> None:
    with load([]) as el:
        el.connect()


def test_identity() -> None:
    with load([("*IDN?", "ITECH Ltd.,IT8912E,800001,1.10-1.07")]) as el:
        assert el.identity() == Identity("ITECH Ltd.", "IT8912E", "800001", "1.10-1.07")


@pytest.mark.parametrize(
    ("mode", "level", "command", "function"),
    [
        ("CC", 25.0, "CURR 25.0000", "FUNC CURR"),
        ("CV", 320.5, "VOLT 320.5000", "FUNC VOLT"),
        ("CR", 8.2, "RES 8.2000", "FUNC RES"),
        ("CP", 1500, "POW 1500.0000", "FUNC POW"),
    ],
)
def test_set_mode_sends_level_then_function(
    mode: str, level: float, command: str, function: str
) -> None:
    pairs: Pairs = [(command, None), ("SYST:ERR?", OK), (function, None), ("SYST:ERR?", OK)]
    with load(pairs) as el:
        el.set_mode(mode, level)


def test_set_mode_without_error_check() -> None:
    with load([("CURR 0.5000", None), ("FUNC CURR", None)], check_errors=False) as el:
        el.set_mode("CC", 0.5)


def test_set_mode_stops_at_a_refused_level() -> None:
    pairs: Pairs = [("CURR 5.0000", None), ("SYST:ERR?", '-222,"Data out of range"')]
    with load(pairs) as el, pytest.raises(InstrumentReportedError) as info:
        el.set_mode("CC", 5)
    assert info.value.code == -222


@pytest.mark.parametrize("on", [True, False])
def test_set_input(on: bool) -> None:
    command = "INP ON" if on else "INP OFF"
    with load([(command, None), ("SYST:ERR?", OK)]) as el:
        el.set_input(on)


@pytest.mark.parametrize(("reply", "expected"), [("1", True), ("0", False), ("OFF", False)])
def test_input_enabled(reply: str, expected: bool) -> None:
    with load([("INP?", reply)]) as el:
        assert el.input_enabled() is expected


def test_input_state() -> None:
    with load([("INP?", "1")]) as el:
        assert el.input_state is True


@pytest.mark.parametrize(
    ("reply", "mode"),
    [("CURR", "CC"), ("CURRENT", "CC"), ('"VOLT"', "CV"), ("RES", "CR"), ("power", "CP")],
)
def test_function_readback(reply: str, mode: str) -> None:
    with load([("FUNC?", reply)]) as el:
        assert el.function == mode


def test_measurements() -> None:
    pairs: Pairs = [
        ("MEAS:VOLT?", "398.2"),
        ("MEAS:CURR?", "+2.50000E+01"),
        ("MEAS:POW?", "9955 W"),
        ("MEAS:VOLT?", "398.1"),
        ("MEAS:CURR?", "25.1"),
        ("MEAS:POW?", "9992"),
    ]
    with load(pairs) as el:
        assert el.measure_voltage() == 398.2
        assert el.measure_current() == 25.0
        assert el.measure_power() == 9955.0
        assert el.measured_voltage == 398.1
        assert el.measured_current == 25.1
        assert el.measured_power == 9992.0


def test_safe_state_switches_off_first_and_leaves_cc_zero() -> None:
    pairs: Pairs = [("INP OFF", None), ("CURR 0", None), ("FUNC CURR", None), ("SYST:ERR?", OK)]
    with load(pairs) as el:
        el.safe_state()


def test_safe_state_without_error_check() -> None:
    pairs: Pairs = [("INP OFF", None), ("CURR 0", None), ("FUNC CURR", None)]
    with load(pairs, check_errors=False) as el:
        el.safe_state()


def test_safe_state_on_a_dead_link_fails_fast() -> None:
    pairs: Pairs = [
        ("INP OFF", None),
        ("CURR 0", None),
        ("FUNC CURR", None),
        ("SYST:ERR?", TIMEOUT),
    ]
    with load(pairs) as el, pytest.raises(InstrumentTimeout):
        el.safe_state()


@pytest.mark.parametrize(("reply", "safe"), [("0", True), ("1", False)])
def test_is_safe_reads_input_state(reply: str, safe: bool) -> None:
    with load([("INP?", reply)]) as el:
        assert el.is_safe() is safe


@pytest.mark.parametrize(
    ("mode", "level"),
    [
        ("CC", -1.0),
        ("CC", 100.5),
        ("CV", 0.0),
        ("CV", 501.0),
        ("CR", 0.0),
        ("CR", 0.001),
        ("CR", 20_000.0),
        ("CP", 3001.0),
        ("CP", float("nan")),
    ],
)
def test_level_out_of_range_sends_nothing(mode: str, level: float) -> None:
    with load([]) as el, pytest.raises(ValueError):
        el.set_mode(mode, level)


@pytest.mark.parametrize("mode", ["cc", "CCH", "CURR", ""])
def test_unknown_mode_sends_nothing(mode: str) -> None:
    with load([]) as el, pytest.raises(ValueError, match="CC"):
        el.set_mode(mode, 1.0)


def test_level_of_wrong_type_sends_nothing() -> None:
    with load([]) as el, pytest.raises(TypeError):
        el.set_mode("CC", "5")


def test_input_needs_a_bool() -> None:
    with load([]) as el, pytest.raises(TypeError):
        el.set_input("ON")


def test_resistance_range_comes_from_options() -> None:
    pairs: Pairs = [("RES 0.0050", None), ("SYST:ERR?", OK), ("FUNC RES", None), ("SYST:ERR?", OK)]
    with load(pairs, min_resistance_ohm=0.001) as el:
        el.set_mode("CR", 0.005)


@pytest.mark.parametrize(
    "options",
    [
        {"max_power_w": 0},
        {"max_current_a": -1},
        {"min_resistance_ohm": 10.0, "max_resistance_ohm": 1.0},
    ],
)
def test_options_are_validated(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError), load([], **options):
        pass


def test_ratings_are_required() -> None:
    with pytest.raises(TypeError), expected_protocol(GenericScpiLoad, [], max_current_a=1):
        pass


@pytest.mark.parametrize("reply", ["", "abc", "1,2", "--5"])
def test_bad_measurement_reply_raises_protocol_error(reply: str) -> None:
    with load([("MEAS:CURR?", reply)]) as el, pytest.raises(InstrumentProtocolError) as info:
        el.measure_current()
    assert repr(reply) in str(info.value)


def test_voltage_and_current_are_one_compound_query_from_the_root() -> None:
    with load([("MEAS:VOLT?;:MEAS:CURR?", "398.2;+2.50000E+01")]) as el:
        assert el.measure_voltage_and_current() == (398.2, 25.0)


@pytest.mark.parametrize("reply", ["398.2", "398.2;", ";25", "1;2;3", "398.2,25"])
def test_a_short_or_malformed_compound_reply_is_one_protocol_error(reply: str) -> None:
    with (
        load([("MEAS:VOLT?;:MEAS:CURR?", reply)]) as el,
        pytest.raises(InstrumentProtocolError) as info,
    ):
        el.measure_voltage_and_current()
    assert repr(reply) in str(info.value)


def test_compound_query_timeout_propagates() -> None:
    with load([("MEAS:VOLT?;:MEAS:CURR?", TIMEOUT)]) as el, pytest.raises(InstrumentTimeout):
        el.measure_voltage_and_current()


@pytest.mark.parametrize("reply", ["", "DYN", "CURR,VOLT"])
def test_bad_function_reply_raises_protocol_error(reply: str) -> None:
    with load([("FUNC?", reply)]) as el, pytest.raises(InstrumentProtocolError) as info:
        _ = el.function
    assert repr(reply) in str(info.value)


@pytest.mark.parametrize("reply", ["", "2", "yes"])
def test_bad_input_reply_raises_protocol_error(reply: str) -> None:
    with load([("INP?", reply)]) as el, pytest.raises(InstrumentProtocolError) as info:
        el.input_enabled()
    assert repr(reply) in str(info.value)


def test_timeout_propagates() -> None:
    with load([("MEAS:VOLT?", TIMEOUT)]) as el, pytest.raises(InstrumentTimeout):
        el.measure_voltage()


def test_parse_mode_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="'LED'"):
        parse_mode("LED")
