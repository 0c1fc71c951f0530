"""Protocol tests for the Keysight 34465A digital multimeter."""

import math
import re

import pytest

from drivers.errors import InstrumentProtocolError, InstrumentReportedError, InstrumentTimeout
from drivers.keysight.keysight34465a import Keysight34465a
from drivers.roles import AmbientThermometer, Dmm, Identity
from drivers.testing import TIMEOUT, ProtocolTransport, expected_protocol

OK = '+0,"No error"'


def w(command: str) -> list[tuple[str, str | None]]:
    """A write followed by the error-queue check."""
    return [(command, None), ("SYST:ERR?", OK)]


def dcv(range_text: str, nplc_text: str, reading: str) -> list[tuple[str, str | None]]:
    return [*w(f"CONF:VOLT:DC {range_text};:VOLT:DC:NPLC {nplc_text}"), ("READ?", reading)]


def test_plays_the_dmm_role_and_sends_nothing_at_connect():
    with expected_protocol(Keysight34465a, []) as dmm:
        assert isinstance(dmm, Dmm)


# --- measure_dc_voltage ---------------------------------------------------------------


def test_measure_dc_voltage_defaults_to_auto_range_and_1_plc():
    with expected_protocol(Keysight34465a, dcv("AUTO", "1", "+4.00123456E+02")) as dmm:
        assert dmm.measure_dc_voltage() == 400.123456


def test_measure_dc_voltage_with_range_and_nplc():
    with expected_protocol(Keysight34465a, dcv("1000", "10", "-1.23000000E+01")) as dmm:
        assert dmm.measure_dc_voltage(range_v=1000, nplc=10) == -12.3


def test_measure_dc_voltage_fast_integration():
    with expected_protocol(Keysight34465a, dcv("10", "0.02", "+3.70000000E+00")) as dmm:
        assert dmm.measure_dc_voltage(range_v=10, nplc=0.02) == 3.7


def test_measure_dc_voltage_without_error_checks():
    script = [("CONF:VOLT:DC AUTO;:VOLT:DC:NPLC 1", None), ("READ?", "+1.0E+00")]
    with expected_protocol(Keysight34465a, script, check_errors=False) as dmm:
        assert dmm.measure_dc_voltage() == 1.0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"range_v": 0}, ValueError),
        ({"range_v": -10}, ValueError),
        ({"range_v": 1001}, ValueError),
        ({"range_v": math.nan}, ValueError),
        ({"range_v": "10"}, TypeError),
        ({"nplc": 5}, ValueError),
        ({"nplc": 0}, ValueError),
    ],
)
def test_measure_dc_voltage_invalid_sends_nothing(kwargs, error):
    with expected_protocol(Keysight34465a, []) as dmm, pytest.raises(error):
        dmm.measure_dc_voltage(**kwargs)


@pytest.mark.parametrize("reading", ["+9.90000000E+37", "-9.90000000E+37"])
def test_measure_dc_voltage_overload_raises(reading):
    with (
        expected_protocol(Keysight34465a, dcv("1", "1", reading)) as dmm,
        pytest.raises(InstrumentReportedError, match="overload"),
    ):
        dmm.measure_dc_voltage(range_v=1)


@pytest.mark.parametrize("reading", ["", "garbage", "1.0,2.0"])
def test_measure_dc_voltage_bad_reply_raises_with_raw_text(reading):
    with (
        expected_protocol(Keysight34465a, dcv("AUTO", "1", reading)) as dmm,
        pytest.raises(InstrumentProtocolError, match=re.escape(repr(reading))),
    ):
        dmm.measure_dc_voltage()


def test_measure_dc_voltage_timeout_raises():
    with (
        expected_protocol(Keysight34465a, dcv("AUTO", "1", TIMEOUT)) as dmm,
        pytest.raises(InstrumentTimeout),
    ):
        dmm.measure_dc_voltage()


def test_measure_dc_voltage_refused_configuration_raises():
    script = [
        ("CONF:VOLT:DC 100;:VOLT:DC:NPLC 1", None),
        ("SYST:ERR?", '-222,"Data out of range"'),
    ]
    with (
        expected_protocol(Keysight34465a, script) as dmm,
        pytest.raises(InstrumentReportedError, match="CONF:VOLT:DC 100") as info,
    ):
        dmm.measure_dc_voltage(range_v=100)
    assert info.value.code == -222


# --- measure_resistance, dc_voltage ---------------------------------------------------


def test_measure_resistance_auto_range():
    with expected_protocol(Keysight34465a, [("MEAS:RES?", "+1.00012345E+03")]) as dmm:
        assert dmm.measure_resistance() == 1000.12345


def test_measure_resistance_with_range():
    with expected_protocol(Keysight34465a, [("MEAS:RES? 100", "+4.70000000E+01")]) as dmm:
        assert dmm.measure_resistance(range_ohm=100) == 47.0


def test_measure_resistance_open_circuit_is_infinite():
    with expected_protocol(Keysight34465a, [("MEAS:RES?", "+9.90000000E+37")]) as dmm:
        assert dmm.measure_resistance() == math.inf


@pytest.mark.parametrize(
    ("range_ohm", "error"),
    [(0, ValueError), (2e9, ValueError), (math.inf, ValueError), (True, TypeError)],
)
def test_measure_resistance_invalid_sends_nothing(range_ohm, error):
    with expected_protocol(Keysight34465a, []) as dmm, pytest.raises(error):
        dmm.measure_resistance(range_ohm=range_ohm)


def test_measure_resistance_bad_reply_raises_with_raw_text():
    with (
        expected_protocol(Keysight34465a, [("MEAS:RES?", "OVLD")]) as dmm,
        pytest.raises(InstrumentProtocolError, match="OVLD"),
    ):
        dmm.measure_resistance()


def test_measure_resistance_timeout_raises():
    with (
        expected_protocol(Keysight34465a, [("MEAS:RES?", TIMEOUT)]) as dmm,
        pytest.raises(InstrumentTimeout),
    ):
        dmm.measure_resistance()


def test_dc_voltage_one_shot():
    with expected_protocol(Keysight34465a, [("MEAS:VOLT:DC?", "+3.99870000E+02")]) as dmm:
        assert dmm.dc_voltage == 399.87


def test_dc_voltage_bad_reply_raises_with_raw_text():
    with (
        expected_protocol(Keysight34465a, [("MEAS:VOLT:DC?", "")]) as dmm,
        pytest.raises(InstrumentProtocolError, match="''"),
    ):
        _ = dmm.dc_voltage


# --- reset, *OPC?, identity, close ----------------------------------------------------


def test_reset_sends_rst_then_cls():
    with expected_protocol(Keysight34465a, [("*RST", None), ("*CLS", None)]) as dmm:
        dmm.reset()


@pytest.mark.parametrize("reply", ["1", "+1"])
def test_wait_until_complete(reply):
    with expected_protocol(Keysight34465a, [("*OPC?", reply)]) as dmm:
        dmm.wait_until_complete()


@pytest.mark.parametrize("reply", ["0", "", "busy"])
def test_wait_until_complete_bad_reply_raises_with_raw_text(reply):
    with (
        expected_protocol(Keysight34465a, [("*OPC?", reply)]) as dmm,
        pytest.raises(InstrumentProtocolError, match=re.escape(repr(reply))),
    ):
        dmm.wait_until_complete()


def test_wait_until_complete_timeout_raises():
    with (
        expected_protocol(Keysight34465a, [("*OPC?", TIMEOUT)]) as dmm,
        pytest.raises(InstrumentTimeout),
    ):
        dmm.wait_until_complete()


def test_identity():
    reply = "Keysight Technologies,34465A,MY59001234,A.03.01-03.15-03.01-00.52-03-02"
    with expected_protocol(Keysight34465a, [("*IDN?", reply)]) as dmm:
        assert dmm.identity() == Identity(
            "Keysight Technologies", "34465A", "MY59001234", "A.03.01-03.15-03.01-00.52-03-02"
        )


def test_identity_garbage_raises_with_raw_text():
    with (
        expected_protocol(Keysight34465a, [("*IDN?", "34465A")]) as dmm,
        pytest.raises(InstrumentProtocolError, match="34465A"),
    ):
        dmm.identity()


def test_close_releases_transport():
    with expected_protocol(Keysight34465a, []) as dmm:
        dmm.close()
        assert dmm.transport.closed


# --- measure_temperature (the ambient role) --------------------------------------------


def test_plays_the_ambient_thermometer_role():
    with expected_protocol(Keysight34465a, []) as dmm:
        assert isinstance(dmm, AmbientThermometer)


def test_measure_temperature_defaults_to_a_4_wire_pt100_in_celsius():
    pairs = [*w("UNIT:TEMP C"), ("MEAS:TEMP? FRTD,85", "+2.31234000E+01")]
    with expected_protocol(Keysight34465a, pairs) as dmm:
        assert dmm.measure_temperature() == 23.1234


def test_measure_temperature_with_a_5k_thermistor():
    pairs = [*w("UNIT:TEMP C"), ("MEAS:TEMP? THER,5000", "+1.80000000E+01")]
    with expected_protocol(Keysight34465a, pairs, probe="THER", probe_type=5000) as dmm:
        assert dmm.measure_temperature() == 18.0


@pytest.mark.parametrize("reading", ["+9.90000000E+37", "-2.00000000E+02", "+1.50000000E+02"])
def test_an_open_or_implausible_probe_raises_instead_of_reading(reading: str):
    pairs = [*w("UNIT:TEMP C"), ("MEAS:TEMP? FRTD,85", reading)]
    with (
        expected_protocol(Keysight34465a, pairs) as dmm,
        pytest.raises(InstrumentReportedError, match="check the FRTD probe"),
    ):
        dmm.measure_temperature()


@pytest.mark.parametrize(
    ("probe", "probe_type", "message"),
    [("TC", 85, "choose one of FRTD"), ("FRTD", 100, "not a FRTD type"), ("THER", 85, "2252")],
)
def test_an_unknown_probe_is_refused_before_anything_is_sent(
    probe: str, probe_type: int, message: str
):
    with pytest.raises(ValueError, match=message):
        Keysight34465a(ProtocolTransport([]), probe=probe, probe_type=probe_type)
