"""Protocol tests for the Chroma 1905x hipot / insulation tester."""

import math
import re

import pytest

from drivers.chroma.chroma1905x import Chroma1905x
from drivers.errors import InstrumentProtocolError, InstrumentReportedError, InstrumentTimeout
from drivers.roles import HvTestResult, Identity, InsulationTester, OutputCapable
from drivers.testing import TIMEOUT, expected_protocol

OK = '0,"No error"'


def w(command: str) -> list[tuple[str, str | None]]:
    """A write followed by the error-queue check."""
    return [(command, None), ("SYST:ERR?", OK)]


REMOTE = w("SYST:REM")
SINGLE_STEP = [*w("SAFE:STOP"), ("SAFE:SNUM?", "+1")]


# --- connection -----------------------------------------------------------------------


def test_constructor_sends_nothing_and_plays_the_role():
    with expected_protocol(Chroma1905x, []) as hipot:
        assert isinstance(hipot, InsulationTester)
        assert isinstance(hipot, OutputCapable)


def test_connect_sends_remote():
    with expected_protocol(Chroma1905x, REMOTE) as hipot:
        hipot.connect()


def test_connect_without_error_checks_sends_only_remote():
    with expected_protocol(Chroma1905x, [("SYST:REM", None)], check_errors=False) as hipot:
        assert hipot.check_errors is False
        hipot.connect()


def test_connect_refused_raises_reported_error():
    script = [("SYST:REM", None), ("SYST:ERR?", '-113,"Undefined header"')]
    with (
        pytest.raises(InstrumentReportedError, match="SYST:REM") as info,
        expected_protocol(Chroma1905x, script) as hipot,
    ):
        hipot.connect()
    assert info.value.code == -113


def test_connect_dead_link_times_out():
    with (
        pytest.raises(InstrumentTimeout),
        expected_protocol(Chroma1905x, [("SYST:REM", None), ("SYST:ERR?", TIMEOUT)]) as hipot,
    ):
        hipot.connect()


@pytest.mark.parametrize(
    "options",
    [{"min_test_v": 0}, {"min_test_v": 2000}, {"fall_s": 0.05}, {"fall_s": -1}],
)
def test_invalid_constructor_options_send_nothing(options):
    with pytest.raises(ValueError), expected_protocol(Chroma1905x, [], **options):
        pass


# --- start_insulation -----------------------------------------------------------------


def ir_script(steps: str = "+1") -> list[tuple[str, str | None]]:
    return [
        *w("SAFE:STOP"),
        ("SAFE:SNUM?", steps),
        *(w("SAFE:STEP3:DEL") if steps == "+3" else []),
        *(w("SAFE:STEP2:DEL") if steps == "+3" else []),
        *w("SAFE:STEP1:IR:LEV 1000"),
        *w("SAFE:STEP1:IR:LIM:LOW 100000000"),
        *w("SAFE:STEP1:IR:LIM:HIGH 1E+10"),
        *w("SAFE:STEP1:IR:TIME:RAMP 1"),
        *w("SAFE:STEP1:IR:TIME 5"),
        *w("SAFE:STEP1:IR:TIME:FALL 0"),
        *w("SAFE:STEP1:IR:RANG:AUTO ON"),
        *w("SAFE:STAR"),
    ]


def test_start_insulation_programs_step1_and_starts():
    with expected_protocol(Chroma1905x, ir_script()) as hipot:
        hipot.start_insulation(1000, ramp_s=1, dwell_s=5, low_limit_ohm=100e6, high_limit_ohm=10e9)


def test_start_insulation_deletes_other_steps_from_the_last():
    with expected_protocol(Chroma1905x, ir_script("+3")) as hipot:
        hipot.start_insulation(1000, ramp_s=1, dwell_s=5, low_limit_ohm=100e6, high_limit_ohm=10e9)


def test_start_insulation_uses_fall_time_option():
    script = ir_script()
    script[script.index(("SAFE:STEP1:IR:TIME:FALL 0", None))] = (
        "SAFE:STEP1:IR:TIME:FALL 1.5",
        None,
    )
    with expected_protocol(Chroma1905x, script, fall_s=1.5) as hipot:
        hipot.start_insulation(1000, ramp_s=1, dwell_s=5, low_limit_ohm=100e6, high_limit_ohm=10e9)


def test_start_insulation_refused_start_raises():
    script = [*ir_script()[:-2], ("SAFE:STAR", None), ("SYST:ERR?", '-200,"Execution error"')]
    with (
        expected_protocol(Chroma1905x, script) as hipot,
        pytest.raises(InstrumentReportedError, match="SAFE:STAR"),
    ):
        hipot.start_insulation(1000, ramp_s=1, dwell_s=5, low_limit_ohm=100e6, high_limit_ohm=10e9)


def test_start_insulation_bad_step_count_raises_with_raw_reply():
    with (
        expected_protocol(Chroma1905x, [*w("SAFE:STOP"), ("SAFE:SNUM?", "x")]) as hipot,
        pytest.raises(InstrumentProtocolError, match="'x'"),
    ):
        hipot.start_insulation(1000, ramp_s=1, dwell_s=5, low_limit_ohm=100e6, high_limit_ohm=10e9)


IR_OK = {"ramp_s": 1, "dwell_s": 5, "low_limit_ohm": 100e6, "high_limit_ohm": 10e9}


@pytest.mark.parametrize(
    ("voltage", "changes", "error"),
    [
        (1001, {}, ValueError),
        (49, {}, ValueError),
        (math.nan, {}, ValueError),
        (True, {}, TypeError),
        ("500", {}, TypeError),
        (500, {"ramp_s": 0}, ValueError),
        (500, {"ramp_s": 1000}, ValueError),
        (500, {"dwell_s": 0}, ValueError),  # 0 = CONTINUE: endless HV
        (500, {"dwell_s": 0.2}, ValueError),
        (500, {"low_limit_ohm": 0}, ValueError),
        (500, {"low_limit_ohm": -1e6}, ValueError),
        (500, {"low_limit_ohm": math.inf}, ValueError),
        (500, {"high_limit_ohm": 0}, ValueError),
        (500, {"high_limit_ohm": 50e6}, ValueError),  # not above the low limit
        (500, {"high_limit_ohm": math.nan}, ValueError),
        (500, {"judge_delay_s": 0.5}, ValueError),
        (500, {"judge_delay_s": math.nan}, ValueError),
    ],
)
def test_start_insulation_invalid_sends_nothing(voltage, changes, error):
    with expected_protocol(Chroma1905x, []) as hipot, pytest.raises(error):
        hipot.start_insulation(voltage, **{**IR_OK, **changes})


def test_start_insulation_respects_max_ir_option():
    with (
        expected_protocol(Chroma1905x, [], max_ir_v=500) as hipot,
        pytest.raises(ValueError),
    ):
        hipot.start_insulation(600, **IR_OK)


# --- start_withstand ------------------------------------------------------------------


def test_start_withstand_dc_programs_step1_and_starts():
    script = [
        *SINGLE_STEP,
        *w("SAFE:STEP1:DC:LEV 6000"),
        *w("SAFE:STEP1:DC:LIM 0.003"),
        *w("SAFE:STEP1:DC:LIM:LOW 1E-06"),
        *w("SAFE:STEP1:DC:TIME:RAMP 2"),
        *w("SAFE:STEP1:DC:TIME 60"),
        *w("SAFE:STEP1:DC:TIME:FALL 0"),
        *w("SAFE:STAR"),
    ]
    with expected_protocol(Chroma1905x, script) as hipot:
        # frequency_hz only matters for AC: for DC it is neither checked nor sent.
        hipot.start_withstand(
            6000,
            ac=False,
            ramp_s=2,
            dwell_s=60,
            leakage_limit_a=0.003,
            low_limit_a=1e-6,
            frequency_hz=55,
        )


def test_start_withstand_ac_sets_frequency_then_programs_step1():
    script = [
        *SINGLE_STEP,
        *w("SAFE:PRES:AC:FREQ 60"),
        *w("SAFE:STEP1:AC:LEV 1500"),
        *w("SAFE:STEP1:AC:LIM 0.01"),
        *w("SAFE:STEP1:AC:LIM:LOW 0.001"),
        *w("SAFE:STEP1:AC:TIME:RAMP 0.5"),
        *w("SAFE:STEP1:AC:TIME 3"),
        *w("SAFE:STEP1:AC:TIME:FALL 0"),
        *w("SAFE:STAR"),
    ]
    with expected_protocol(Chroma1905x, script) as hipot:
        hipot.start_withstand(
            1500,
            ac=True,
            ramp_s=0.5,
            dwell_s=3,
            leakage_limit_a=0.01,
            low_limit_a=0.001,
            frequency_hz=60,
        )


WS_OK = {"ramp_s": 1, "dwell_s": 5, "leakage_limit_a": 0.005, "low_limit_a": 1e-6}


@pytest.mark.parametrize(
    ("voltage", "changes", "error"),
    [
        (5001, {"ac": True}, ValueError),
        (6001, {"ac": False}, ValueError),
        (10, {"ac": False}, ValueError),
        (1000, {"ac": 1}, TypeError),
        (1000, {"ac": True, "frequency_hz": 55}, ValueError),
        (1000, {"ac": True, "leakage_limit_a": 0}, ValueError),
        (1000, {"ac": False, "leakage_limit_a": -0.001}, ValueError),
        (1000, {"ac": False, "low_limit_a": 0}, ValueError),  # the contact proof is never off
        (1000, {"ac": False, "low_limit_a": 0.005}, ValueError),  # not below the trip
        (1000, {"ac": False, "ramp_s": -1}, ValueError),
        (1000, {"ac": False, "dwell_s": 0}, ValueError),
        (1000, {"ac": False, "dwell_s": math.inf}, ValueError),
    ],
)
def test_start_withstand_invalid_sends_nothing(voltage, changes, error):
    with expected_protocol(Chroma1905x, []) as hipot, pytest.raises(error):
        hipot.start_withstand(voltage, **{**WS_OK, **changes})


def test_start_withstand_respects_max_options():
    with (
        expected_protocol(Chroma1905x, [], max_dc_v=3000) as hipot,
        pytest.raises(ValueError),
    ):
        hipot.start_withstand(3500, ac=False, **WS_OK)


# --- state, properties ----------------------------------------------------------------


@pytest.mark.parametrize(("reply", "running"), [("RUNNING", True), ("STOPPED", False)])
def test_test_running_and_is_safe_read_state(reply, running):
    with expected_protocol(Chroma1905x, [("SAFE:STAT?", reply), ("SAFE:STAT?", reply)]) as hipot:
        assert hipot.test_running() is running
        assert hipot.is_safe() is (not running)


@pytest.mark.parametrize("reply", ["", "BUSY", "1"])
def test_bad_state_reply_raises_with_raw_text(reply):
    with (
        expected_protocol(Chroma1905x, [("SAFE:STAT?", reply)]) as hipot,
        pytest.raises(InstrumentProtocolError, match=repr(reply)),
    ):
        hipot.is_safe()


def test_state_timeout_raises():
    with (
        expected_protocol(Chroma1905x, [("SAFE:STAT?", TIMEOUT)]) as hipot,
        pytest.raises(InstrumentTimeout),
    ):
        hipot.test_running()


def test_state_property():
    with expected_protocol(Chroma1905x, [("SAFE:STAT?", "stopped")]) as hipot:
        assert hipot.state == "STOPPED"


def test_step_count_property():
    with expected_protocol(Chroma1905x, [("SAFE:SNUM?", "+2")]) as hipot:
        assert hipot.step_count == 2


def test_ac_frequency_get_and_set():
    script = [("SAFE:PRES:AC:FREQ?", "6.000000E+01"), *w("SAFE:PRES:AC:FREQ 50")]
    with expected_protocol(Chroma1905x, script) as hipot:
        assert hipot.ac_frequency_hz == 60.0
        hipot.ac_frequency_hz = 50


def test_ac_frequency_invalid_sends_nothing():
    with expected_protocol(Chroma1905x, []) as hipot, pytest.raises(ValueError):
        hipot.ac_frequency_hz = 400


# --- result ---------------------------------------------------------------------------


def result_script(code: str, mode: str, omet: str, mmet: str) -> list[tuple[str, str | None]]:
    return [
        ("SAFE:RES:ALL?", code),
        ("SAFE:RES:ALL:MODE?", mode),
        ("SAFE:RES:ALL:OMET?", omet),
        ("SAFE:RES:ALL:MMET?", mmet),
    ]


def test_result_ir_pass():
    script = result_script("116", "IR", "1.000000E+03", "5.230000E+08")
    with expected_protocol(Chroma1905x, script) as hipot:
        assert hipot.result() == HvTestResult("IR", 1000.0, 5.23e8, "PASS", "116")


@pytest.mark.parametrize(
    ("code", "mode", "kind", "verdict"),
    [
        ("33", "DC", "DCW", "HIGH"),
        ("34", "DC", "DCW", "LOW"),
        ("35", "DC", "DCW", "ARC"),
        ("49", "IR", "IR", "HIGH"),
        ("50", "IR", "IR", "LOW"),
        ("112", "DC", "DCW", "ABORTED"),
        ("113", "AC", "ACW", "ABORTED"),
        ("114", "IR", "IR", "OTHER"),
        ("115", "IR", "IR", "OTHER"),
        ("17", "AC", "ACW", "OTHER"),
        ("55", "IR", "IR", "OTHER"),
    ],
)
def test_result_maps_codes_and_keeps_raw(code, mode, kind, verdict):
    script = result_script(code, mode, "+5.000000E+02", "1.200000E-03")
    with expected_protocol(Chroma1905x, script) as hipot:
        result = hipot.result()
    assert (result.kind, result.verdict, result.raw) == (kind, verdict, code)
    assert (result.voltage_v, result.reading) == (500.0, 1.2e-3)


def test_result_overflow_after_pass_is_infinite_resistance():
    script = result_script("116", "IR", "1.000000E+03", "9.9E+37")
    with expected_protocol(Chroma1905x, script) as hipot:
        assert hipot.result().reading == math.inf


def test_result_overflow_after_abort_is_not_a_number():
    script = result_script("113", "IR", "0.000000E+00", "9.9000001E+37")
    with expected_protocol(Chroma1905x, script) as hipot:
        result = hipot.result()
    assert math.isnan(result.reading)
    assert result.verdict == "ABORTED"


RESULT_QUERIES = ["SAFE:RES:ALL?", "SAFE:RES:ALL:MODE?", "SAFE:RES:ALL:OMET?", "SAFE:RES:ALL:MMET?"]


@pytest.mark.parametrize(
    ("replies", "raw"),
    [
        (["116,116"], "'116,116'"),
        ([""], "''"),
        (["PASS"], "'PASS'"),
        (["116", "OSC"], "'OSC'"),
        (["116", "IR,IR"], "'IR,IR'"),
        (["116", "IR", "volts"], "'volts'"),
        (["116", "IR", "1", ""], "''"),
        (["116", "IR", "1", "5E8,6E8"], "'5E8,6E8'"),
    ],
)
def test_result_bad_replies_raise_with_raw_text(replies, raw):
    script = list(zip(RESULT_QUERIES, replies, strict=False))
    with (
        expected_protocol(Chroma1905x, script) as hipot,
        pytest.raises(InstrumentProtocolError, match=re.escape(raw)),
    ):
        hipot.result()


def test_result_timeout_raises():
    with (
        expected_protocol(Chroma1905x, [("SAFE:RES:ALL?", TIMEOUT)]) as hipot,
        pytest.raises(InstrumentTimeout),
    ):
        hipot.result()


# --- stop, safe state -----------------------------------------------------------------


def test_stop_sends_safe_stop():
    with expected_protocol(Chroma1905x, w("SAFE:STOP")) as hipot:
        hipot.stop()


def test_safe_state_stops():
    with expected_protocol(Chroma1905x, w("SAFE:STOP")) as hipot:
        hipot.safe_state()


def test_safe_state_on_dead_link_fails_fast():
    with (
        expected_protocol(Chroma1905x, [("SAFE:STOP", None), ("SYST:ERR?", TIMEOUT)]) as hipot,
        pytest.raises(InstrumentTimeout),
    ):
        hipot.safe_state()


# --- identity, close, helpers ---------------------------------------------------------


def test_identity():
    script = [("*IDN?", "Chroma ATE,19055,550123,1.20")]
    with expected_protocol(Chroma1905x, script) as hipot:
        assert hipot.identity() == Identity("Chroma ATE", "19055", "550123", "1.20")


def test_identity_garbage_raises_with_raw_text():
    with (
        expected_protocol(Chroma1905x, [("*IDN?", "garbage")]) as hipot,
        pytest.raises(InstrumentProtocolError, match="garbage"),
    ):
        hipot.identity()


def test_close_releases_transport():
    with expected_protocol(Chroma1905x, []) as hipot:
        hipot.close()
        assert hipot.transport.closed


def test_live_reading_fetches_output_and_meter():
    script = [("SAFE:FETC? OMET,MMET", "9.98E+02,2.5E+08"), ("SAFE:FETC? OMET,MMET", "1,9.9E+37")]
    with expected_protocol(Chroma1905x, script) as hipot:
        assert hipot.live_reading() == (998.0, 2.5e8)
        assert hipot.live_reading() == (1.0, math.inf)  # over range is a reading, not a number


def test_live_reading_with_a_missing_field_raises_with_the_raw_reply():
    with (
        expected_protocol(Chroma1905x, [("SAFE:FETC? OMET,MMET", "9.98E+02")]) as hipot,
        pytest.raises(InstrumentProtocolError, match="expected output voltage"),
    ):
        hipot.live_reading()
