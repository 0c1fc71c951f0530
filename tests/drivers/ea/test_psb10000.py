"""Protocol tests for the EA PSB 10000 bidirectional supply."""

from __future__ import annotations

import math

import pytest

from drivers.ea.psb10000 import BatteryTestResult, Psb10000, PsbReading
from drivers.errors import (
    InstrumentConnectionError,
    InstrumentProtocolError,
    InstrumentReportedError,
    InstrumentTimeout,
)
from drivers.roles import Identity, Instrument, OutputCapable, PowerSupply
from drivers.testing import TIMEOUT, expected_protocol

OK = '0,"No error"'
RATED = {"max_voltage_v": 500.0, "max_current_a": 60.0, "max_power_w": 15000.0}
FAST = {"lock_retry_s": 0}


def w(command: str) -> list[tuple[str, str | None]]:
    """A checked write: the command, then the error-queue query answering 'no error'."""
    return [(command, None), ("SYST:ERR?", OK)]


LOCK = [
    *w("*CLS"),
    ("SYST:LOCK ON", None),
    ("*OPC?", "1"),
]
NOMINALS = [
    ("SYST:NOM:VOLT?", "500.0 V"),
    ("SYST:NOM:CURR?", "60.0 A"),
    ("SYST:NOM:POW?", "15000 W"),
]


def test_plays_the_power_supply_role():
    with expected_protocol(Psb10000, []) as psu:
        assert isinstance(psu, PowerSupply)
        assert isinstance(psu, OutputCapable)
        assert isinstance(psu, Instrument)


def test_connect_takes_and_verifies_the_lock_then_reads_the_ratings():
    pairs = [*LOCK, ("SYST:LOCK:OWN?", "REMOTE"), ("SYST:ERR?", OK), *NOMINALS]
    with expected_protocol(Psb10000, pairs) as psu:
        psu.connect()
        assert (psu.max_voltage_v, psu.max_current_a, psu.max_power_w) == (500, 60, 15000)


def test_ratings_read_at_connect_bound_the_setpoints():
    pairs = [*LOCK, ("SYST:LOCK:OWN?", "REMOTE"), ("SYST:ERR?", OK), *NOMINALS]
    with expected_protocol(Psb10000, pairs) as psu:
        psu.connect()
        with pytest.raises(ValueError):
            psu.set_voltage(500.5)


def test_connect_rereads_an_owner_that_lags_behind_the_lock():
    pairs = [
        *LOCK,
        ("SYST:LOCK:OWN?", "NONE"),
        ("SYST:LOCK:OWN?", "NONE"),
        ("SYST:LOCK:OWN?", "REMOTE"),
        ("SYST:ERR?", OK),
    ]
    with expected_protocol(Psb10000, pairs, **RATED, **FAST) as psu:
        psu.connect()


def test_refused_lock_raises_and_sends_nothing_more():
    pairs = [*LOCK, *[("SYST:LOCK:OWN?", "NONE")] * 3]
    with (
        expected_protocol(Psb10000, pairs, **FAST) as psu,
        pytest.raises(InstrumentConnectionError, match="'NONE' after 3 tries"),
    ):
        psu.connect()


def test_lock_attempts_is_an_option():
    pairs = [*LOCK, ("SYST:LOCK:OWN?", "LOCAL")]
    with (
        expected_protocol(Psb10000, pairs, lock_attempts=1) as psu,
        pytest.raises(InstrumentConnectionError, match="LOCAL"),
    ):
        psu.connect()


def test_lock_refusal_reported_on_the_next_command_is_raised():
    pairs = [*LOCK, ("SYST:LOCK:OWN?", "REMOTE"), ("SYST:ERR?", '-200,"Execution error"')]
    with (
        expected_protocol(Psb10000, pairs, **RATED) as psu,
        pytest.raises(InstrumentReportedError, match="SYST:LOCK ON"),
    ):
        psu.connect()


def test_connect_reads_only_the_ratings_not_given():
    pairs = [
        *LOCK,
        ("SYST:LOCK:OWN?", "REMOTE"),
        ("SYST:ERR?", OK),
        ("SYST:NOM:CURR?", "120.0 A"),
        ("SYST:NOM:POW?", "30000 W"),
    ]
    with expected_protocol(Psb10000, pairs, max_voltage_v=800) as psu:
        psu.connect()
        assert (psu.max_voltage_v, psu.max_current_a, psu.max_power_w) == (800, 120, 30000)


def test_connect_with_all_ratings_given_reads_none():
    pairs = [*LOCK, ("SYST:LOCK:OWN?", "REMOTE"), ("SYST:ERR?", OK)]
    with expected_protocol(Psb10000, pairs, **RATED) as psu:
        psu.connect()


@pytest.mark.parametrize("reply", ["zero", "", "0 V", "-500 V"])
def test_bad_nominal_is_a_protocol_error(reply):
    pairs = [*LOCK, ("SYST:LOCK:OWN?", "REMOTE"), ("SYST:ERR?", OK), ("SYST:NOM:VOLT?", reply)]
    with expected_protocol(Psb10000, pairs) as psu, pytest.raises(InstrumentProtocolError):
        psu.connect()


def test_setpoints_before_the_ratings_are_known_send_nothing():
    with expected_protocol(Psb10000, []) as psu:
        for call in (
            lambda: psu.set_voltage(1),
            lambda: psu.set_current(1),
            lambda: psu.set_sink_current(1),
            lambda: psu.set_power(1),
            lambda: psu.set_sink_power(1),
            lambda: psu.set_protection(ovp_v=1),
            lambda: psu.set_adjustment_limits(voltage_high_v=1),
        ):
            with pytest.raises(InstrumentConnectionError, match="connect"):
                call()


@pytest.mark.parametrize(
    "options",
    [
        {"max_voltage_v": 0},
        {"max_current_a": -1},
        {"max_power_w": math.inf},
        {"lock_attempts": 0},
        {"lock_retry_s": -1},
    ],
)
def test_bad_option_values(options):
    with pytest.raises(ValueError):
        Psb10000(None, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("options", [{"max_voltage_v": "500"}, {"lock_attempts": 1.5}])
def test_bad_option_types(options):
    with pytest.raises(TypeError):
        Psb10000(None, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "command"),
    [
        (lambda psu: psu.set_voltage(400), "VOLT 400.0000"),
        (lambda psu: psu.set_current(50), "CURR 50.0000"),
        (lambda psu: psu.set_sink_current(50), "SINK:CURR 50.0000"),
        (lambda psu: psu.set_power(10000), "POW 10000.0000"),
        (lambda psu: psu.set_sink_power(10000), "SINK:POW 10000.0000"),
        (lambda psu: psu.set_voltage(500), "VOLT 500.0000"),
        (lambda psu: psu.set_sink_current(0), "SINK:CURR 0.0000"),
    ],
)
def test_setpoints(call, command):
    with expected_protocol(Psb10000, w(command), **RATED) as psu:
        call(psu)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda psu: psu.set_voltage(500.1), ValueError),
        (lambda psu: psu.set_voltage(-1), ValueError),
        (lambda psu: psu.set_current(60.1), ValueError),
        (lambda psu: psu.set_sink_current(-50), ValueError),
        (lambda psu: psu.set_sink_current(math.nan), ValueError),
        (lambda psu: psu.set_power(15000.1), ValueError),
        (lambda psu: psu.set_sink_power(math.inf), ValueError),
        (lambda psu: psu.set_current("50"), TypeError),
        (lambda psu: psu.set_voltage(None), TypeError),
    ],
)
def test_invalid_setpoints_send_nothing(call, error):
    with expected_protocol(Psb10000, [], **RATED) as psu, pytest.raises(error):
        call(psu)


def test_set_protection_sends_every_threshold():
    pairs = w("VOLT:PROT 450.0000") + w("CURR:PROT 66.0000") + w("POW:PROT 16500.0000")
    with expected_protocol(Psb10000, pairs, **RATED) as psu:
        psu.set_protection(ovp_v=450, ocp_a=66, opp_w=16500)


def test_set_protection_only_what_is_given():
    with expected_protocol(Psb10000, w("CURR:PROT 55.0000"), **RATED) as psu:
        psu.set_protection(ocp_a=55)


def test_protection_may_reach_110_percent_of_the_rating():
    with expected_protocol(Psb10000, w("VOLT:PROT 550.0000"), **RATED) as psu:
        psu.set_protection(ovp_v=550)


@pytest.mark.parametrize(
    "kwargs",
    [{"ovp_v": 551}, {"ovp_v": 450, "ocp_a": 66.1}, {"ovp_v": 450, "opp_w": -1}, {}],
)
def test_invalid_protection_sends_nothing(kwargs):
    with expected_protocol(Psb10000, [], **RATED) as psu, pytest.raises(ValueError):
        psu.set_protection(**kwargs)


def test_set_adjustment_limits():
    pairs = w("VOLT:LIM:HIGH 440.0000") + w("CURR:LIM:HIGH 55.0000")
    with expected_protocol(Psb10000, pairs, **RATED) as psu:
        psu.set_adjustment_limits(voltage_high_v=440, current_high_a=55)


def test_set_adjustment_limit_current_only():
    with expected_protocol(Psb10000, w("CURR:LIM:HIGH 10.0000"), **RATED) as psu:
        psu.set_adjustment_limits(current_high_a=10)


@pytest.mark.parametrize(
    "kwargs", [{"voltage_high_v": 501}, {"voltage_high_v": 400, "current_high_a": 61}, {}]
)
def test_invalid_adjustment_limits_send_nothing(kwargs):
    with expected_protocol(Psb10000, [], **RATED) as psu, pytest.raises(ValueError):
        psu.set_adjustment_limits(**kwargs)


def test_set_output_on_and_off():
    with expected_protocol(Psb10000, w("OUTP ON") + w("OUTP OFF")) as psu:
        psu.set_output(True)
        psu.set_output(False)


@pytest.mark.parametrize("bad", [1, "ON"])
def test_set_output_takes_only_a_bool(bad):
    with expected_protocol(Psb10000, []) as psu, pytest.raises(TypeError):
        psu.set_output(bad)


@pytest.mark.parametrize(("reply", "on"), [("ON", True), ("OFF", False), ("1", True)])
def test_output_enabled(reply, on):
    with expected_protocol(Psb10000, [("OUTP?", reply)]) as psu:
        assert psu.output_enabled() is on


def test_measurements_tolerate_units():
    pairs = [("MEAS:VOLT?", "400.12 V"), ("MEAS:CURR?", "-50.00 A"), ("MEAS:POW?", "-20006 W")]
    with expected_protocol(Psb10000, pairs) as psu:
        assert psu.measure_voltage() == 400.12
        assert psu.measure_current() == -50.0
        assert psu.measure_power() == -20006


def test_measure_all_is_one_batched_query():
    with expected_protocol(Psb10000, [("MEAS:ARR?", "400.00 V, -50.00 A, -20000 W")]) as psu:
        assert psu.measure_all() == PsbReading(400.0, -50.0, -20000.0)


def test_voltage_and_current_come_from_the_one_batched_query():
    with expected_protocol(Psb10000, [("MEAS:ARR?", "400.00 V, -50.00 A, -20000 W")]) as psu:
        assert psu.measure_voltage_and_current() == (400.0, -50.0)


def test_measure_all_without_units():
    with expected_protocol(Psb10000, [("MEAS:ARR?", "48.1,2.5,120.25")]) as psu:
        assert psu.measure_all() == PsbReading(48.1, 2.5, 120.25)


def test_setpoint_readbacks():
    pairs = [("VOLT?", "400.00 V"), ("CURR?", "50.00 A"), ("SINK:CURR?", "5.00 A")]
    with expected_protocol(Psb10000, pairs) as psu:
        assert psu.voltage_setpoint == 400
        assert psu.current_setpoint == 50
        assert psu.sink_current_setpoint == 5


def test_lock_owner():
    with expected_protocol(Psb10000, [("SYST:LOCK:OWN?", " remote ")]) as psu:
        assert psu.lock_owner == "REMOTE"


def test_battery_test_result():
    with expected_protocol(Psb10000, [("BATT:TEST?", "1.25Ah, 33.5Wh, 00:01:02")]) as psu:
        assert psu.battery_test_result == BatteryTestResult(1.25, 33.5, 62)


def test_battery_test_result_beyond_99_hours():
    with expected_protocol(Psb10000, [("BATT:TEST?", "250Ah,9000 Wh,100:00:05")]) as psu:
        assert psu.battery_test_result == BatteryTestResult(250.0, 9000.0, 360005)


QUERIES = [
    ("OUTP?", lambda psu: psu.output_enabled()),
    ("MEAS:VOLT?", lambda psu: psu.measure_voltage()),
    ("MEAS:CURR?", lambda psu: psu.measure_current()),
    ("MEAS:POW?", lambda psu: psu.measure_power()),
    ("MEAS:ARR?", lambda psu: psu.measure_all()),
    ("MEAS:ARR?", lambda psu: psu.measure_voltage_and_current()),
    ("VOLT?", lambda psu: psu.voltage_setpoint),
    ("CURR?", lambda psu: psu.current_setpoint),
    ("SINK:CURR?", lambda psu: psu.sink_current_setpoint),
    ("SYST:LOCK:OWN?", lambda psu: psu.lock_owner),
    ("BATT:TEST?", lambda psu: psu.battery_test_result),
]


@pytest.mark.parametrize(("query", "call"), QUERIES)
@pytest.mark.parametrize("reply", ["garbage 1", "", "1,2"])
def test_bad_reply_is_a_protocol_error_quoting_it(query, call, reply):
    with (
        expected_protocol(Psb10000, [(query, reply)]) as psu,
        pytest.raises(InstrumentProtocolError) as info,
    ):
        call(psu)
    assert repr(reply) in str(info.value)


@pytest.mark.parametrize(
    ("query", "call", "reply"),
    [
        ("MEAS:ARR?", lambda psu: psu.measure_all(), "400 V, -50 A"),
        ("MEAS:ARR?", lambda psu: psu.measure_all(), "400 V, -50 A, -20000 W, 1"),
        ("MEAS:ARR?", lambda psu: psu.measure_all(), "400 V, x A, -20000 W"),
        ("MEAS:ARR?", lambda psu: psu.measure_voltage_and_current(), "400 V, -50 A"),
        ("MEAS:ARR?", lambda psu: psu.measure_voltage_and_current(), "400 V;-50 A;0 W"),
        ("BATT:TEST?", lambda psu: psu.battery_test_result, "1.25Ah, 33.5Wh"),
        ("BATT:TEST?", lambda psu: psu.battery_test_result, "1.25, 33.5, 00:01:02"),
        ("BATT:TEST?", lambda psu: psu.battery_test_result, "1.25Ah, 33.5Wh, 00:61:02"),
    ],
)
def test_wrong_fields_are_a_protocol_error_quoting_the_reply(query, call, reply):
    with (
        expected_protocol(Psb10000, [(query, reply)]) as psu,
        pytest.raises(InstrumentProtocolError) as info,
    ):
        call(psu)
    assert repr(reply) in str(info.value)


@pytest.mark.parametrize(("query", "call"), QUERIES)
def test_no_reply_is_a_timeout(query, call):
    with expected_protocol(Psb10000, [(query, TIMEOUT)]) as psu, pytest.raises(InstrumentTimeout):
        call(psu)


def test_refused_setpoint_raises_with_the_code():
    pairs = [("VOLT 400.0000", None), ("SYST:ERR?", '-222,"Data out of range"')]
    with (
        expected_protocol(Psb10000, pairs, **RATED) as psu,
        pytest.raises(InstrumentReportedError, match="Data out of range") as info,
    ):
        psu.set_voltage(400)
    assert info.value.code == -222


SAFE = [("OUTP OFF", None), ("CURR 0", None), ("SINK:CURR 0", None), ("VOLT 0", None)]


def test_safe_state_switches_off_first_then_currents_then_voltage():
    with expected_protocol(Psb10000, [*SAFE, ("SYST:ERR?", OK)]) as psu:
        psu.safe_state()


def test_safe_state_needs_no_connect_and_attempts_every_command():
    with (
        expected_protocol(Psb10000, [*SAFE, ("SYST:ERR?", '-200,"Execution error"')]) as psu,
        pytest.raises(InstrumentReportedError, match="safe_state"),
    ):
        psu.safe_state()


def test_safe_state_on_a_dead_link_fails_fast():
    with (
        expected_protocol(Psb10000, [*SAFE, ("SYST:ERR?", TIMEOUT)]) as psu,
        pytest.raises(InstrumentTimeout),
    ):
        psu.safe_state()


def test_safe_state_without_error_checking():
    with expected_protocol(Psb10000, SAFE, check_errors=False) as psu:
        psu.safe_state()


@pytest.mark.parametrize(("reply", "safe"), [("OFF", True), ("ON", False)])
def test_is_safe_reads_back_the_output(reply, safe):
    with expected_protocol(Psb10000, [("OUTP?", reply)]) as psu:
        assert psu.is_safe() is safe


def test_identity_drops_the_user_text_field():
    reply = "EA Elektro-Automatik,PSB 10060-60,2221150001,V2.01 08.08.2019,Bay 3, left"
    with expected_protocol(Psb10000, [("*IDN?", reply)]) as psu:
        assert psu.identity() == Identity(
            "EA Elektro-Automatik", "PSB 10060-60", "2221150001", "V2.01 08.08.2019"
        )


def test_identity_with_four_fields():
    with expected_protocol(Psb10000, [("*IDN?", "EA Elektro-Automatik,PSB 10060-60,1,V2")]) as psu:
        assert psu.identity().firmware == "V2"


@pytest.mark.parametrize("reply", ["EA,PSB 10060-60,1", "", ",PSB,1,2"])
def test_identity_garbage_is_a_protocol_error(reply):
    with (
        expected_protocol(Psb10000, [("*IDN?", reply)]) as psu,
        pytest.raises(InstrumentProtocolError) as info,
    ):
        psu.identity()
    assert repr(reply) in str(info.value)


def test_close_releases_the_lock_then_the_transport():
    with expected_protocol(Psb10000, w("SYST:LOCK OFF")) as psu:
        psu.close()
        assert psu.transport.closed


def test_close_releases_the_transport_even_when_the_link_is_dead():
    with (
        expected_protocol(Psb10000, [("SYST:LOCK OFF", None), ("SYST:ERR?", TIMEOUT)]) as psu,
        pytest.raises(InstrumentTimeout),
    ):
        psu.close()
        assert psu.transport.closed
