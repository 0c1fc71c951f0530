"""Protocol tests for the Kikusui TOS9300 series safety analyzer."""

import math
import re

import pytest

from drivers.errors import InstrumentProtocolError, InstrumentReportedError, InstrumentTimeout
from drivers.kikusui.tos9300 import Tos9300
from drivers.roles import HvTestResult, Identity, InsulationTester, OutputCapable
from drivers.testing import TIMEOUT, expected_protocol

OK = '+0,"No error"'
START = [("ABOR", None), ("SYST:ERR?", OK), ("INIT:TEST", None), ("SYST:ERR?", OK)]

# A real TOS9301 reply to RES? (public production script).
DCW_PASS = (
    "+3,+1,DCW,+2024,+1,+28,+12,+42,+6,+4.85010E+01,+1.91900E-06,+2.52640E+07,+2.00000E+00,PASS"
)


def w(command: str) -> list[tuple[str, str | None]]:
    """A write followed by the error-queue check."""
    return [(command, None), ("SYST:ERR?", OK)]


def record(mode: str, volts: str, amps: str, ohms: str, judgement: str) -> str:
    return f"+7,+1,{mode},+2024,+5,+2,+9,+15,+30,{volts},{amps},{ohms},+5.00000E+00,{judgement}"


def test_plays_the_role_and_sends_nothing_at_connect():
    with expected_protocol(Tos9300, []) as tester:
        assert isinstance(tester, InsulationTester)
        assert isinstance(tester, OutputCapable)
        tester.connect()


@pytest.mark.parametrize(
    "options",
    [
        {"min_ir_v": 0},
        {"min_ir_v": 2000},
        {"min_withstand_v": 6000},
        {"max_dc_v": 10},
    ],
)
def test_invalid_constructor_options_send_nothing(options):
    with pytest.raises(ValueError), expected_protocol(Tos9300, [], **options):
        pass


# --- start_insulation -----------------------------------------------------------------


IR_SCRIPT = [
    *w("FUNC IR"),
    *w("IR:VOLT 500"),
    *w("IR:VOLT:SWE:TIM 1"),
    *w("IR:VOLT:TIM 5"),
    *w("IR:VOLT:TIM:STAT ON"),
    *w("SENS:IR:JUDG:LOW 100000000"),
    *w("SENS:IR:JUDG:LOW:STAT ON"),
    *w("SENS:IR:JUDG 1E+10"),
    *w("SENS:IR:JUDG:STAT ON"),
    *w("SENS:IR:JUDG:DEL 0.5"),
    *START,
]


def test_start_insulation_configures_ir_and_starts():
    with expected_protocol(Tos9300, IR_SCRIPT) as tester:
        tester.start_insulation(
            500, ramp_s=1, dwell_s=5, low_limit_ohm=100e6, high_limit_ohm=10e9, judge_delay_s=0.5
        )


def test_start_insulation_default_judge_delay_is_zero():
    script = [
        *IR_SCRIPT[:-6],
        *w("SENS:IR:JUDG:DEL 0"),
        *START,
    ]
    with expected_protocol(Tos9300, script) as tester:
        tester.start_insulation(500, ramp_s=1, dwell_s=5, low_limit_ohm=100e6, high_limit_ohm=10e9)


def test_start_insulation_refused_setting_raises_where_it_happens():
    script = [*w("FUNC IR"), ("IR:VOLT 500", None), ("SYST:ERR?", '-222,"Data out of range"')]
    with (
        expected_protocol(Tos9300, script) as tester,
        pytest.raises(InstrumentReportedError, match="IR:VOLT 500") as info,
    ):
        tester.start_insulation(500, ramp_s=1, dwell_s=5, low_limit_ohm=100e6, high_limit_ohm=10e9)
    assert info.value.code == -222


IR_OK = {"ramp_s": 1, "dwell_s": 5, "low_limit_ohm": 100e6, "high_limit_ohm": 10e9}


@pytest.mark.parametrize(
    ("voltage", "changes", "error"),
    [
        (1001, {}, ValueError),
        (24, {}, ValueError),
        (math.inf, {}, ValueError),
        (None, {}, TypeError),
        (500, {"ramp_s": 0}, ValueError),
        (500, {"ramp_s": 1000}, ValueError),
        (500, {"dwell_s": 0}, ValueError),
        (500, {"dwell_s": -5}, ValueError),
        (500, {"low_limit_ohm": 0}, ValueError),
        (500, {"low_limit_ohm": math.nan}, ValueError),
        (500, {"low_limit_ohm": "1M"}, TypeError),
        (500, {"high_limit_ohm": 0}, ValueError),  # the contact proof is never off
        (500, {"high_limit_ohm": 100e6}, ValueError),  # not above the low limit
        (500, {"judge_delay_s": -0.1}, ValueError),
        (500, {"judge_delay_s": 5}, ValueError),  # never judged: would PASS unjudged
        (500, {"judge_delay_s": 6}, ValueError),
    ],
)
def test_start_insulation_invalid_sends_nothing(voltage, changes, error):
    with expected_protocol(Tos9300, []) as tester, pytest.raises(error):
        tester.start_insulation(voltage, **{**IR_OK, **changes})


def test_start_insulation_respects_ir_options():
    with expected_protocol(Tos9300, [], max_ir_v=500) as tester, pytest.raises(ValueError):
        tester.start_insulation(501, **IR_OK)


# --- start_withstand ------------------------------------------------------------------


def test_start_withstand_ac_configures_acw_and_starts():
    script = [
        *w("FUNC ACW"),
        *w("ACW:VOLT 1500"),
        *w("ACW:VOLT:FREQ 60"),
        *w("ACW:VOLT:SWE:TIM 2"),
        *w("ACW:VOLT:TIM 60"),
        *w("ACW:VOLT:TIM:STAT ON"),
        *w("SENS:ACW:JUDG 0.005"),
        *w("SENS:ACW:JUDG:LOW 0.001"),
        *w("SENS:ACW:JUDG:LOW:STAT ON"),
        *START,
    ]
    with expected_protocol(Tos9300, script) as tester:
        tester.start_withstand(
            1500,
            ac=True,
            ramp_s=2,
            dwell_s=60,
            leakage_limit_a=0.005,
            low_limit_a=0.001,
            frequency_hz=60,
        )


def test_start_withstand_dc_configures_dcw_and_starts():
    script = [
        *w("FUNC DCW"),
        *w("DCW:VOLT 7200"),
        *w("DCW:VOLT:SWE:TIM 0.5"),
        *w("DCW:VOLT:TIM 3"),
        *w("DCW:VOLT:TIM:STAT ON"),
        *w("SENS:DCW:JUDG 0.001"),
        *w("SENS:DCW:JUDG:LOW 1E-06"),
        *w("SENS:DCW:JUDG:LOW:STAT ON"),
        *START,
    ]
    with expected_protocol(Tos9300, script) as tester:
        # frequency_hz only matters for AC: for DC it is neither checked nor sent.
        tester.start_withstand(
            7200,
            ac=False,
            ramp_s=0.5,
            dwell_s=3,
            leakage_limit_a=1e-3,
            low_limit_a=1e-6,
            frequency_hz=400,
        )


WS_OK = {"ramp_s": 1, "dwell_s": 5, "leakage_limit_a": 0.005, "low_limit_a": 0.001}


@pytest.mark.parametrize(
    ("voltage", "changes", "error"),
    [
        (5001, {"ac": True}, ValueError),
        (7201, {"ac": False}, ValueError),
        (49, {"ac": True}, ValueError),
        (1000, {"ac": "yes"}, TypeError),
        (1000, {"ac": True, "frequency_hz": 400}, ValueError),
        (1000, {"ac": True, "leakage_limit_a": 0}, ValueError),
        (1000, {"ac": False, "leakage_limit_a": math.inf}, ValueError),
        (1000, {"ac": False, "low_limit_a": 0}, ValueError),  # the contact proof is never off
        (1000, {"ac": True, "low_limit_a": 0.005}, ValueError),  # not below the trip
        (1000, {"ac": False, "ramp_s": 0}, ValueError),
        (1000, {"ac": True, "dwell_s": 0}, ValueError),
    ],
)
def test_start_withstand_invalid_sends_nothing(voltage, changes, error):
    with expected_protocol(Tos9300, []) as tester, pytest.raises(error):
        tester.start_withstand(voltage, **{**WS_OK, **changes})


def test_model_without_dcw_refuses_dc_but_runs_ac():
    script = [
        *w("FUNC ACW"),
        *w("ACW:VOLT 1000"),
        *w("ACW:VOLT:FREQ 50"),
        *w("ACW:VOLT:SWE:TIM 1"),
        *w("ACW:VOLT:TIM 5"),
        *w("ACW:VOLT:TIM:STAT ON"),
        *w("SENS:ACW:JUDG 0.005"),
        *w("SENS:ACW:JUDG:LOW 0.001"),
        *w("SENS:ACW:JUDG:LOW:STAT ON"),
        *START,
    ]
    with expected_protocol(Tos9300, script, max_dc_v=0) as tester:
        with pytest.raises(ValueError, match="no DC withstand"):
            tester.start_withstand(1000, ac=False, **WS_OK)
        tester.start_withstand(1000, ac=True, **WS_OK)


# --- properties, state ----------------------------------------------------------------


def test_function_setting():
    with expected_protocol(Tos9300, w("FUNC DCW")) as tester:
        tester.function = "DCW"


def test_function_invalid_sends_nothing():
    with expected_protocol(Tos9300, []) as tester, pytest.raises(ValueError):
        tester.function = "EC"


def test_test_condition():
    with expected_protocol(Tos9300, [("STAT:OPER:TEST:COND?", "+256")]) as tester:
        assert tester.test_condition == 256


@pytest.mark.parametrize(
    ("condition", "running"),
    [
        (256, False),  # READY
        (512, False),  # IDLE
        (1, False),  # PASS held
        (2, False),  # L-FAIL held
        (4 | 1024, False),  # U-FAIL held, stopping
        (16, True),  # RISE
        (32, True),  # TEST
        (64, True),  # FALL
        (128 | 512, True),  # still discharging
        (32 | 256, True),  # contradictory: HV wins
        (0, True),  # unknown state counts as running
        (1024, True),
    ],
)
def test_test_running_and_is_safe_decode_the_register(condition, running):
    script = [("STAT:OPER:TEST:COND?", f"+{condition}")] * 2
    with expected_protocol(Tos9300, script) as tester:
        assert tester.test_running() is running
        assert tester.is_safe() is (not running)


@pytest.mark.parametrize("reply", ["", "READY", "1.5"])
def test_bad_condition_reply_raises_with_raw_text(reply):
    with (
        expected_protocol(Tos9300, [("STAT:OPER:TEST:COND?", reply)]) as tester,
        pytest.raises(InstrumentProtocolError, match=re.escape(repr(reply))),
    ):
        tester.test_running()


def test_condition_timeout_raises():
    with (
        expected_protocol(Tos9300, [("STAT:OPER:TEST:COND?", TIMEOUT)]) as tester,
        pytest.raises(InstrumentTimeout),
    ):
        tester.is_safe()


# --- result ---------------------------------------------------------------------------


def test_result_parses_a_real_dcw_record():
    with expected_protocol(Tos9300, [("RES?", DCW_PASS)]) as tester:
        assert tester.result() == HvTestResult("DCW", 48.501, 1.919e-6, "PASS", "PASS")


def test_result_ir_reads_resistance():
    reply = record("IR", "-5.00100E+02", "+1.00000E-07", "+5.00100E+09", "PASS")
    with expected_protocol(Tos9300, [("RES?", reply)]) as tester:
        assert tester.result() == HvTestResult("IR", -500.1, 5.001e9, "PASS", "PASS")


@pytest.mark.parametrize(
    ("mode", "judgement", "kind", "verdict"),
    [
        ("ACW", "U-FAIL", "ACW", "HIGH"),
        ("DCW", "L-FAIL", "DCW", "LOW"),
        ("IR", "L-FAIL", "IR", "LOW"),
        ("IR", "ABORT", "IR", "ABORTED"),
        ("ACW", "PROT", "ACW", "OTHER"),
        ("DCW", "C-FAIL", "DCW", "OTHER"),
    ],
)
def test_result_maps_judgements_and_keeps_raw(mode, judgement, kind, verdict):
    reply = record(mode, "+1.00000E+03", "+2.00000E-03", "+3.00000E+06", judgement)
    with expected_protocol(Tos9300, [("RES?", reply)]) as tester:
        result = tester.result()
    assert (result.kind, result.verdict, result.raw) == (kind, verdict, judgement)
    assert result.reading == (3e6 if mode == "IR" else 2e-3)


def test_result_overflow_after_pass_is_inf_and_after_abort_nan():
    passed = record("IR", "-1.00000E+03", "+0.00000E+00", "+9.90000E+37", "PASS")
    aborted = record("IR", "-1.00000E+03", "+0.00000E+00", "+9.90000E+37", "ABORT")
    with expected_protocol(Tos9300, [("RES?", passed), ("RES?", aborted)]) as tester:
        assert tester.result().reading == math.inf
        assert math.isnan(tester.result().reading)


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "garbage",
        # TOS5300-style record without the split date: 9 fields.
        "+3,+1,DCW,+20240128,+4.85010E+01,+1.91900E-06,+2.52640E+07,+2.00000E+00,PASS",
        DCW_PASS + ",EXTRA",
        DCW_PASS.replace("DCW", "EC"),
        DCW_PASS.replace("+1.91900E-06", "n/a"),
        DCW_PASS.replace("PASS", ""),
    ],
)
def test_result_bad_replies_raise_with_raw_text(reply):
    with (
        expected_protocol(Tos9300, [("RES?", reply)]) as tester,
        pytest.raises(InstrumentProtocolError, match=re.escape(repr(reply))),
    ):
        tester.result()


def test_result_timeout_raises():
    with (
        expected_protocol(Tos9300, [("RES?", TIMEOUT)]) as tester,
        pytest.raises(InstrumentTimeout),
    ):
        tester.result()


# --- stop, safe state -----------------------------------------------------------------


def test_stop_aborts():
    with expected_protocol(Tos9300, w("ABOR")) as tester:
        tester.stop()


def test_safe_state_aborts():
    with expected_protocol(Tos9300, w("ABOR")) as tester:
        tester.safe_state()


def test_safe_state_on_dead_link_fails_fast():
    with (
        expected_protocol(Tos9300, [("ABOR", None), ("SYST:ERR?", TIMEOUT)]) as tester,
        pytest.raises(InstrumentTimeout),
    ):
        tester.safe_state()


# --- identity, close, helpers ---------------------------------------------------------


def test_identity():
    reply = "KIKUSUI,TOS9301,AB123456,1.10"
    with expected_protocol(Tos9300, [("*IDN?", reply)]) as tester:
        assert tester.identity() == Identity("KIKUSUI", "TOS9301", "AB123456", "1.10")


def test_identity_garbage_raises_with_raw_text():
    with (
        expected_protocol(Tos9300, [("*IDN?", "TOS9301")]) as tester,
        pytest.raises(InstrumentProtocolError, match="TOS9301"),
    ):
        tester.identity()


def test_close_releases_transport():
    with expected_protocol(Tos9300, []) as tester:
        tester.close()
        assert tester.transport.closed
