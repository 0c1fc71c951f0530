"""Exact-string protocol tests for GenericScpiSupply."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.errors import (
    InstrumentError,
    InstrumentProtocolError,
    InstrumentReportedError,
    InstrumentTimeout,
)
from drivers.generic.scpi_supply import GenericScpiSupply
from drivers.roles import Identity, OutputCapable, PowerSupply
from drivers.testing import TIMEOUT, expected_protocol

OK = '+0,"No error"'
RATED: dict[str, Any] = {"max_voltage_v": 60.0, "max_current_a": 10.0}


def supply(pairs: list[tuple[str | None, str | None]], **kwargs: Any) -> Any:
    return expected_protocol(GenericScpiSupply, pairs, **{**RATED, **kwargs})


def test_plays_the_power_supply_role() -> None:
    with supply([]) as psu:
        assert isinstance(psu, PowerSupply)
        assert isinstance(psu, OutputCapable)


def test_connect_sends_nothing() -> None:
    with supply([]) as psu:
        psu.connect()


def test_identity() -> None:
    with supply([("*IDN?", "ACME,P60,SN1,1.02")]) as psu:
        assert psu.identity() == Identity("ACME", "P60", "SN1", "1.02")


def test_set_voltage() -> None:
    with supply([("VOLT 24.5000", None), ("SYST:ERR?", OK)]) as psu:
        psu.set_voltage(24.5)


def test_set_voltage_at_rating() -> None:
    with supply([("VOLT 60.0000", None), ("SYST:ERR?", OK)]) as psu:
        psu.set_voltage(60)


def test_set_current() -> None:
    with supply([("CURR 2.2500", None), ("SYST:ERR?", OK)]) as psu:
        psu.set_current(2.25)


def test_writes_without_error_check() -> None:
    with supply([("VOLT 1.0000", None)], check_errors=False) as psu:
        psu.set_voltage(1.0)


@pytest.mark.parametrize("on", [True, False])
def test_set_output(on: bool) -> None:
    command = "OUTP ON" if on else "OUTP OFF"
    with supply([(command, None), ("SYST:ERR?", OK)]) as psu:
        psu.set_output(on)


@pytest.mark.parametrize(("reply", "expected"), [("1", True), ("0", False), ("ON", True)])
def test_output_enabled(reply: str, expected: bool) -> None:
    with supply([("OUTP?", reply)]) as psu:
        assert psu.output_enabled() is expected


def test_output_state() -> None:
    with supply([("OUTP?", "0")]) as psu:
        assert psu.output_state is False


def test_setpoint_readback() -> None:
    with supply([("VOLT?", "24.500"), ("CURR?", "2.25")]) as psu:
        assert psu.voltage_setpoint == 24.5
        assert psu.current_setpoint == 2.25


def test_measurements() -> None:
    pairs: list[tuple[str | None, str | None]] = [
        ("MEAS:VOLT?", "+2.45000E+01"),
        ("MEAS:CURR?", "1.5 A"),
        ("MEAS:POW?", "36.75"),
        ("MEAS:VOLT?", "24.4"),
        ("MEAS:CURR?", "1.4"),
        ("MEAS:POW?", "34.2"),
    ]
    with supply(pairs) as psu:
        assert psu.measure_voltage() == 24.5
        assert psu.measure_current() == 1.5
        assert psu.measure_power() == 36.75
        assert psu.measured_voltage == 24.4
        assert psu.measured_current == 1.4
        assert psu.measured_power == 34.2


def test_voltage_and_current_are_one_compound_query_from_the_root() -> None:
    # SCPI-99 MEASure only; the second unit starts from the root (";:"), no implied path.
    with supply([("MEAS:VOLT?;:MEAS:CURR?", "+2.45000E+01;1.5 A")]) as psu:
        assert psu.measure_voltage_and_current() == (24.5, 1.5)


@pytest.mark.parametrize("reply", ["24.5", "24.5;", "24.5;1.5;36", "24.5,1.5", "", "x;1.5"])
def test_a_short_or_malformed_compound_reply_is_one_protocol_error(reply: str) -> None:
    with (
        supply([("MEAS:VOLT?;:MEAS:CURR?", reply)]) as psu,
        pytest.raises(InstrumentProtocolError) as info,
    ):
        psu.measure_voltage_and_current()
    assert repr(reply) in str(info.value)
    assert "'MEAS:VOLT?;:MEAS:CURR?'" in str(info.value)


def test_sink_current_zero_is_accepted_silently() -> None:
    with supply([]) as psu:
        psu.set_sink_current(0.0)


def test_sink_current_is_refused_without_io() -> None:
    with supply([]) as psu, pytest.raises(InstrumentError, match="cannot sink"):
        psu.set_sink_current(5.0)


def test_safe_state_switches_off_first_then_zeroes() -> None:
    pairs: list[tuple[str | None, str | None]] = [
        ("OUTP OFF", None),
        ("VOLT 0", None),
        ("CURR 0", None),
        ("SYST:ERR?", OK),
    ]
    with supply(pairs) as psu:
        psu.safe_state()


def test_safe_state_reports_a_queued_error_after_finishing() -> None:
    pairs: list[tuple[str | None, str | None]] = [
        ("OUTP OFF", None),
        ("VOLT 0", None),
        ("CURR 0", None),
        ("SYST:ERR?", '-221,"Settings conflict"'),
    ]
    with supply(pairs) as psu, pytest.raises(InstrumentReportedError) as info:
        psu.safe_state()
    assert info.value.code == -221


def test_safe_state_without_error_check() -> None:
    pairs: list[tuple[str | None, str | None]] = [
        ("OUTP OFF", None),
        ("VOLT 0", None),
        ("CURR 0", None),
    ]
    with supply(pairs, check_errors=False) as psu:
        psu.safe_state()


@pytest.mark.parametrize(("reply", "safe"), [("0", True), ("1", False)])
def test_is_safe_reads_output_state(reply: str, safe: bool) -> None:
    with supply([("OUTP?", reply)]) as psu:
        assert psu.is_safe() is safe


@pytest.mark.parametrize("volts", [-0.1, 60.01, float("nan"), float("inf")])
def test_voltage_out_of_range_sends_nothing(volts: float) -> None:
    with supply([]) as psu, pytest.raises(ValueError):
        psu.set_voltage(volts)


@pytest.mark.parametrize("amps", [-1.0, 10.5])
def test_current_out_of_range_sends_nothing(amps: float) -> None:
    with supply([]) as psu, pytest.raises(ValueError):
        psu.set_current(amps)


def test_negative_sink_current_sends_nothing() -> None:
    with supply([]) as psu, pytest.raises(ValueError):
        psu.set_sink_current(-1.0)


@pytest.mark.parametrize("bad", ["12", None, True])
def test_voltage_of_wrong_type_sends_nothing(bad: object) -> None:
    with supply([]) as psu, pytest.raises(TypeError):
        psu.set_voltage(bad)


def test_output_needs_a_bool() -> None:
    with supply([]) as psu, pytest.raises(TypeError):
        psu.set_output(1)


def test_limits_come_from_options() -> None:
    with supply([], max_voltage_v=20.0) as psu, pytest.raises(ValueError):
        psu.set_voltage(24.0)


@pytest.mark.parametrize(
    "options",
    [
        {"max_voltage_v": 0, "max_current_a": 1},
        {"max_voltage_v": -5, "max_current_a": 1},
        {"max_voltage_v": 60, "max_current_a": float("inf")},
        {"max_voltage_v": "60", "max_current_a": 1},
    ],
)
def test_ratings_are_validated(options: dict[str, Any]) -> None:
    with (
        pytest.raises(ValueError, match="max_"),
        expected_protocol(GenericScpiSupply, [], **options),
    ):
        pass


def test_ratings_are_required() -> None:
    with pytest.raises(TypeError), expected_protocol(GenericScpiSupply, []):
        pass


def test_reported_error_after_a_write() -> None:
    pairs: list[tuple[str | None, str | None]] = [
        ("VOLT 5.0000", None),
        ("SYST:ERR?", '-222,"Data out of range"'),
    ]
    with supply(pairs) as psu, pytest.raises(InstrumentReportedError, match=r"VOLT 5\.0000"):
        psu.set_voltage(5.0)


@pytest.mark.parametrize("reply", ["", "garbage", "1.2.3", "12 V extra", "nan"])
def test_bad_measurement_reply_raises_protocol_error(reply: str) -> None:
    with supply([("MEAS:VOLT?", reply)]) as psu, pytest.raises(InstrumentProtocolError) as info:
        psu.measure_voltage()
    assert repr(reply) in str(info.value)


@pytest.mark.parametrize("reply", ["", "2", "maybe"])
def test_bad_output_reply_raises_protocol_error(reply: str) -> None:
    with supply([("OUTP?", reply)]) as psu, pytest.raises(InstrumentProtocolError) as info:
        psu.output_enabled()
    assert repr(reply) in str(info.value)


def test_bad_error_queue_reply_raises_protocol_error() -> None:
    pairs: list[tuple[str | None, str | None]] = [("VOLT 1.0000", None), ("SYST:ERR?", "ok")]
    with supply(pairs) as psu, pytest.raises(InstrumentProtocolError, match="'ok'"):
        psu.set_voltage(1.0)


def test_bad_identity_raises_protocol_error() -> None:
    with supply([("*IDN?", "ACME")]) as psu, pytest.raises(InstrumentProtocolError, match="ACME"):
        psu.identity()


def test_timeout_propagates() -> None:
    with supply([("MEAS:CURR?", TIMEOUT)]) as psu, pytest.raises(InstrumentTimeout):
        psu.measure_current()


def test_safe_state_on_a_dead_link_fails_fast() -> None:
    pairs: list[tuple[str | None, str | None]] = [
        ("OUTP OFF", None),
        ("VOLT 0", None),
        ("CURR 0", None),
        ("SYST:ERR?", TIMEOUT),
    ]
    with supply(pairs) as psu, pytest.raises(InstrumentTimeout):
        psu.safe_state()


def test_close_closes_the_transport() -> None:
    with supply([]) as psu:
        psu.close()
        assert psu.transport.closed is True
