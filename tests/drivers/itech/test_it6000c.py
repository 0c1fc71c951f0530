"""Protocol tests for the ITECH IT6000C bidirectional supply."""

from __future__ import annotations

import math
import re

import pytest

from drivers.errors import InstrumentProtocolError, InstrumentReportedError, InstrumentTimeout
from drivers.itech.it6000c import It6000c
from drivers.roles import Identity, Instrument, OutputCapable, PowerSupply
from drivers.testing import TIMEOUT, expected_protocol

OK = '0,"No error"'


def w(command: str) -> list[tuple[str, str | None]]:
    """A checked write: the command, then the error-queue query answering 'no error'."""
    return [(command, None), ("SYST:ERR?", OK)]


def test_plays_the_power_supply_role():
    with expected_protocol(It6000c, []) as psu:
        assert isinstance(psu, PowerSupply)
        assert isinstance(psu, OutputCapable)
        assert isinstance(psu, Instrument)


def test_ratings_default_to_the_it6018c_1500_90():
    with expected_protocol(It6000c, []) as psu:
        assert (psu.max_voltage_v, psu.max_current_a, psu.max_power_w) == (1500, 90, 18000)


@pytest.mark.parametrize("bad", [0, -1.0, math.inf, math.nan])
def test_rating_must_be_finite_and_above_zero(bad):
    with pytest.raises(ValueError):
        It6000c(None, max_voltage_v=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["1500", None, True])
def test_rating_must_be_a_number(bad):
    with pytest.raises(TypeError):
        It6000c(None, max_current_a=bad)  # type: ignore[arg-type]


def test_connect_clears_errors_takes_remote_and_selects_voltage_priority():
    with expected_protocol(It6000c, w("*CLS") + w("SYST:REM") + w("SOUR:FUNC VOLT")) as psu:
        psu.connect()


def test_set_voltage():
    with expected_protocol(It6000c, w("VOLT 400.0000")) as psu:
        psu.set_voltage(400)


def test_set_voltage_accepts_the_rating_and_zero():
    with expected_protocol(It6000c, w("VOLT 1500.0000") + w("VOLT 0.0000")) as psu:
        psu.set_voltage(1500)
        psu.set_voltage(0.0)


@pytest.mark.parametrize("bad", [1500.001, -0.1, math.nan, math.inf])
def test_voltage_out_of_range_sends_nothing(bad):
    with expected_protocol(It6000c, []) as psu, pytest.raises(ValueError):
        psu.set_voltage(bad)


@pytest.mark.parametrize("bad", ["400", None, True])
def test_voltage_of_wrong_type_sends_nothing(bad):
    with expected_protocol(It6000c, []) as psu, pytest.raises(TypeError):
        psu.set_voltage(bad)


def test_voltage_bound_follows_the_rating_option():
    with expected_protocol(It6000c, [], max_voltage_v=800) as psu, pytest.raises(ValueError):
        psu.set_voltage(800.5)


def test_set_current_sets_the_positive_limit():
    with expected_protocol(It6000c, w("CURR:LIM 50.0000")) as psu:
        psu.set_current(50)


@pytest.mark.parametrize("bad", [90.01, -1])
def test_current_out_of_range_sends_nothing(bad):
    with expected_protocol(It6000c, []) as psu, pytest.raises(ValueError):
        psu.set_current(bad)


def test_sink_current_is_given_positive_and_sent_negative():
    with expected_protocol(It6000c, w("CURR:LIM:NEG -50.0000")) as psu:
        psu.set_sink_current(50)


def test_zero_sink_current_is_sent_without_a_minus_sign():
    with expected_protocol(It6000c, w("CURR:LIM:NEG 0.0000")) as psu:
        psu.set_sink_current(0)


@pytest.mark.parametrize("bad", [-50, 90.01, math.nan])
def test_sink_current_out_of_range_sends_nothing(bad):
    with expected_protocol(It6000c, []) as psu, pytest.raises(ValueError):
        psu.set_sink_current(bad)


def test_set_protection_sets_and_arms_ovp_then_ocp():
    pairs = (
        w("SOUR:VOLT:OVER:PROT:LEV 450.0000")
        + w("SOUR:VOLT:OVER:PROT:STAT ON")
        + w("SOUR:CURR:OVER:PROT:LEV 60.0000")
        + w("SOUR:CURR:OVER:PROT:STAT ON")
    )
    with expected_protocol(It6000c, pairs) as psu:
        psu.set_protection(ovp_v=450, ocp_a=60)


def test_set_protection_ocp_only():
    pairs = w("SOUR:CURR:OVER:PROT:LEV 99.0000") + w("SOUR:CURR:OVER:PROT:STAT ON")
    with expected_protocol(It6000c, pairs, max_current_a=100) as psu:
        psu.set_protection(ocp_a=99)


def test_set_protection_ovp_only():
    pairs = w("SOUR:VOLT:OVER:PROT:LEV 10.0000") + w("SOUR:VOLT:OVER:PROT:STAT ON")
    with expected_protocol(It6000c, pairs) as psu:
        psu.set_protection(ovp_v=10)


def test_set_protection_checks_every_value_before_sending_any():
    with expected_protocol(It6000c, []) as psu, pytest.raises(ValueError):
        psu.set_protection(ovp_v=450, ocp_a=91)


def test_set_protection_needs_a_value():
    with expected_protocol(It6000c, []) as psu, pytest.raises(ValueError):
        psu.set_protection()


def test_set_output_on_and_off():
    with expected_protocol(It6000c, w("OUTP ON") + w("OUTP OFF")) as psu:
        psu.set_output(True)
        psu.set_output(False)


@pytest.mark.parametrize("bad", [1, "ON", None])
def test_set_output_takes_only_a_bool(bad):
    with expected_protocol(It6000c, []) as psu, pytest.raises(TypeError):
        psu.set_output(bad)


@pytest.mark.parametrize(("reply", "on"), [("1", True), ("0", False), ("ON", True), ("OFF", False)])
def test_output_enabled(reply, on):
    with expected_protocol(It6000c, [("OUTP?", reply)]) as psu:
        assert psu.output_enabled() is on


def test_measurements():
    pairs = [("MEAS:VOLT?", "401.25"), ("MEAS:CURR?", "-50.5"), ("MEAS:POW?", "-20263.1")]
    with expected_protocol(It6000c, pairs) as psu:
        assert psu.measure_voltage() == 401.25
        assert psu.measure_current() == -50.5
        assert psu.measure_power() == -20263.1


def test_voltage_and_current_are_one_compound_query_from_one_acquisition():
    # MEASure acquires for the voltage; FETCh reads the current of that acquisition.
    with expected_protocol(It6000c, [("MEAS:VOLT?;:FETC:CURR?", "401.25;-50.5")]) as psu:
        assert psu.measure_voltage_and_current() == (401.25, -50.5)


@pytest.mark.parametrize("reply", ["401.25", "401.25;", ";-50.5", "1;2;3", "401.25,-50.5", "x;1"])
def test_a_short_or_malformed_compound_reply_is_one_protocol_error(reply):
    with (
        expected_protocol(It6000c, [("MEAS:VOLT?;:FETC:CURR?", reply)]) as psu,
        pytest.raises(InstrumentProtocolError) as info,
    ):
        psu.measure_voltage_and_current()
    assert repr(reply) in str(info.value)
    assert "MEAS:VOLT?;:FETC:CURR?" in str(info.value)
    assert info.value.resource == "TEST::INSTR"


def test_setpoint_readbacks():
    pairs = [("VOLT?", "400.000"), ("CURR:LIM?", "50.000"), ("CURR:LIM:NEG?", "-30.000")]
    with expected_protocol(It6000c, pairs) as psu:
        assert psu.voltage_setpoint == 400
        assert psu.current_limit == 50
        assert psu.sink_current_limit == 30


def test_zero_sink_limit_reads_as_positive_zero():
    with expected_protocol(It6000c, [("CURR:LIM:NEG?", "-0.000")]) as psu:
        assert math.copysign(1.0, psu.sink_current_limit) == 1.0


def test_positive_sink_limit_reply_is_a_protocol_error():
    with (
        expected_protocol(It6000c, [("CURR:LIM:NEG?", "5.0")]) as psu,
        pytest.raises(InstrumentProtocolError, match=re.escape("'5.0'")),
    ):
        _ = psu.sink_current_limit


QUERIES = [
    ("OUTP?", lambda psu: psu.output_enabled()),
    ("MEAS:VOLT?", lambda psu: psu.measure_voltage()),
    ("MEAS:CURR?", lambda psu: psu.measure_current()),
    ("MEAS:POW?", lambda psu: psu.measure_power()),
    ("MEAS:VOLT?;:FETC:CURR?", lambda psu: psu.measure_voltage_and_current()),
    ("VOLT?", lambda psu: psu.voltage_setpoint),
    ("CURR:LIM?", lambda psu: psu.current_limit),
    ("CURR:LIM:NEG?", lambda psu: psu.sink_current_limit),
]


@pytest.mark.parametrize(("query", "call"), QUERIES)
@pytest.mark.parametrize("reply", ["garbage", "", "1,2"])
def test_bad_reply_is_a_protocol_error_quoting_it(query, call, reply):
    with (
        expected_protocol(It6000c, [(query, reply)]) as psu,
        pytest.raises(InstrumentProtocolError) as info,
    ):
        call(psu)
    assert repr(reply) in str(info.value)


@pytest.mark.parametrize(("query", "call"), QUERIES)
def test_no_reply_is_a_timeout(query, call):
    with expected_protocol(It6000c, [(query, TIMEOUT)]) as psu, pytest.raises(InstrumentTimeout):
        call(psu)


def test_refused_command_raises_with_the_code():
    pairs = [("VOLT 400.0000", None), ("SYST:ERR?", '-222,"Data out of range"')]
    with (
        expected_protocol(It6000c, pairs) as psu,
        pytest.raises(InstrumentReportedError, match="Data out of range") as info,
    ):
        psu.set_voltage(400)
    assert info.value.code == -222


def test_without_error_checking_only_the_command_is_sent():
    with expected_protocol(It6000c, [("VOLT 400.0000", None)], check_errors=False) as psu:
        psu.set_voltage(400)


SAFE = [("OUTP OFF", None), ("CURR:LIM 0", None), ("CURR:LIM:NEG 0", None), ("VOLT 0", None)]


def test_safe_state_switches_off_first_then_currents_then_voltage():
    with expected_protocol(It6000c, [*SAFE, ("SYST:ERR?", OK)]) as psu:
        psu.safe_state()


def test_safe_state_attempts_every_command_before_reporting_an_error():
    with (
        expected_protocol(It6000c, [*SAFE, ("SYST:ERR?", '-200,"Execution error"')]) as psu,
        pytest.raises(InstrumentReportedError, match="safe_state"),
    ):
        psu.safe_state()


def test_safe_state_on_a_dead_link_fails_fast():
    with (
        expected_protocol(It6000c, [*SAFE, ("SYST:ERR?", TIMEOUT)]) as psu,
        pytest.raises(InstrumentTimeout),
    ):
        psu.safe_state()


def test_safe_state_without_error_checking():
    with expected_protocol(It6000c, SAFE, check_errors=False) as psu:
        psu.safe_state()


@pytest.mark.parametrize(("reply", "safe"), [("0", True), ("1", False)])
def test_is_safe_reads_back_the_output(reply, safe):
    with expected_protocol(It6000c, [("OUTP?", reply)]) as psu:
        assert psu.is_safe() is safe


def test_identity():
    reply = "ITECH Ltd.,IT6018C-1500-90,802271011767510005,1.05-1.03"
    with expected_protocol(It6000c, [("*IDN?", reply)]) as psu:
        assert psu.identity() == Identity(
            "ITECH Ltd.", "IT6018C-1500-90", "802271011767510005", "1.05-1.03"
        )


def test_identity_garbage_is_a_protocol_error():
    with (
        expected_protocol(It6000c, [("*IDN?", "hello")]) as psu,
        pytest.raises(InstrumentProtocolError, match=re.escape("'hello'")),
    ):
        psu.identity()


def test_close_releases_the_transport():
    with expected_protocol(It6000c, []) as psu:
        psu.close()
        assert psu.transport.closed
