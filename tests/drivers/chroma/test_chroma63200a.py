"""Protocol tests for the Chroma 63200A electronic load, including the short-mode ban."""

from __future__ import annotations

import inspect
import math
import re
from typing import ClassVar

import pytest

from drivers.chroma.chroma63200a import Chroma63200a, ShortModeRefused
from drivers.errors import InstrumentProtocolError, InstrumentReportedError, InstrumentTimeout
from drivers.roles import ElectronicLoad, Identity, Instrument, OutputCapable
from drivers.testing import TIMEOUT, expected_protocol

OK = '0,"No error"'
SHORT = re.compile(r"SHOR", re.IGNORECASE)
Declared = type(Chroma63200a.mode)  # the declarative-property descriptor type


def w(command: str) -> list[tuple[str, str | None]]:
    """A checked write: the command, then the error-queue query answering 'no error'."""
    return [(command, None), ("SYST:ERR?", OK)]


def test_plays_the_electronic_load_role():
    with expected_protocol(Chroma63200a, []) as load:
        assert isinstance(load, ElectronicLoad)
        assert isinstance(load, OutputCapable)
        assert isinstance(load, Instrument)


def test_ratings_default_to_the_63206a_150_600():
    with expected_protocol(Chroma63200a, []) as load:
        assert (load.max_voltage_v, load.max_current_a, load.max_power_w) == (150, 600, 6000)
        assert load.range_letter == "H"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"max_voltage_v": 0}, ValueError),
        ({"max_current_a": math.nan}, ValueError),
        ({"max_power_w": "6000"}, TypeError),
        ({"range_letter": "X"}, ValueError),
    ],
)
def test_bad_options(options, error):
    with pytest.raises(error):
        Chroma63200a(None, **options)  # type: ignore[arg-type]


def test_connect_clears_the_error_queue():
    with expected_protocol(Chroma63200a, w("*CLS")) as load:
        load.connect()


@pytest.mark.parametrize(
    ("mode", "level", "commands"),
    [
        ("CC", 100, ["MODE CCH", "CURR:STAT:L1 100.0000"]),
        ("CV", 48.5, ["MODE CVH", "VOLT:STAT:L1 48.5000"]),
        ("CR", 8, ["MODE CRH", "RES:STAT:L1 8.0000"]),
        ("CP", 5000, ["MODE CPH", "POW:STAT:L1 5000.0000"]),
        ("CC", 0, ["MODE CCH", "CURR:STAT:L1 0.0000"]),
        ("CC", 600, ["MODE CCH", "CURR:STAT:L1 600.0000"]),
    ],
)
def test_set_mode_selects_mode_and_range_then_sets_the_level(mode, level, commands):
    pairs = [pair for command in commands for pair in w(command)]
    with expected_protocol(Chroma63200a, pairs) as load:
        load.set_mode(mode, level)


def test_set_mode_with_a_named_range():
    with expected_protocol(Chroma63200a, w("MODE CCL") + w("CURR:STAT:L1 2.0000")) as load:
        load.set_mode("CC", 2, range_letter="L")


def test_default_range_is_a_constructor_option():
    pairs = w("MODE CRM") + w("RES:STAT:L1 10.0000")
    with expected_protocol(Chroma63200a, pairs, range_letter="M") as load:
        load.set_mode("CR", 10)


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        (("CCD", 1), {}, ValueError),
        (("cc", 1), {}, ValueError),
        (("CC", 600.1), {}, ValueError),
        (("CC", -1), {}, ValueError),
        (("CV", 151), {}, ValueError),
        (("CP", 6001), {}, ValueError),
        (("CR", 0), {}, ValueError),
        (("CR", -8), {}, ValueError),
        (("CR", math.inf), {}, ValueError),
        (("CC", 1), {"range_letter": "X"}, ValueError),
        (("CC", "1"), {}, TypeError),
        (("CR", None), {}, TypeError),
    ],
)
def test_invalid_mode_or_level_sends_nothing(args, kwargs, error):
    with expected_protocol(Chroma63200a, []) as load, pytest.raises(error):
        load.set_mode(*args, **kwargs)


def test_set_cv_current_limit():
    with expected_protocol(Chroma63200a, w("VOLT:STAT:ILIM 50.0000")) as load:
        load.set_cv_current_limit(50)


def test_cv_current_limit_out_of_range_sends_nothing():
    with expected_protocol(Chroma63200a, []) as load, pytest.raises(ValueError):
        load.set_cv_current_limit(601)


PULSE = {
    "base_a": 10,
    "pulse_a": 200,
    "base_s": 10,
    "pulse_s": 0.01,
    "rise_a_per_us": 0.5,
    "fall_a_per_us": 1,
}


def test_configure_pulse_sends_the_dynamic_profile():
    commands = [
        "MODE CCDH",
        "CURR:DYN:L1 10.0000",
        "CURR:DYN:L2 200.0000",
        "CURR:DYN:T1 10.000000",
        "CURR:DYN:T2 0.010000",
        "CURR:DYN:RISE 0.5000",
        "CURR:DYN:FALL 1.0000",
        "CURR:DYN:REP 1",
    ]
    pairs = [pair for command in commands for pair in w(command)]
    with expected_protocol(Chroma63200a, pairs) as load:
        load.configure_pulse(**PULSE)


def test_configure_pulse_repeat_and_range():
    commands = [
        "MODE CCDM",
        "CURR:DYN:L1 10.0000",
        "CURR:DYN:L2 200.0000",
        "CURR:DYN:T1 10.000000",
        "CURR:DYN:T2 0.010000",
        "CURR:DYN:RISE 0.5000",
        "CURR:DYN:FALL 1.0000",
        "CURR:DYN:REP 0",
    ]
    pairs = [pair for command in commands for pair in w(command)]
    with expected_protocol(Chroma63200a, pairs) as load:
        load.configure_pulse(**PULSE, repeat=0, range_letter="M")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"pulse_a": 600.5}, ValueError),
        ({"base_a": -1}, ValueError),
        ({"base_s": 0}, ValueError),
        ({"pulse_s": math.nan}, ValueError),
        ({"rise_a_per_us": 0}, ValueError),
        ({"fall_a_per_us": -1}, ValueError),
        ({"repeat": -1}, ValueError),
        ({"repeat": 65536}, ValueError),
        ({"repeat": 1.5}, TypeError),
        ({"repeat": True}, TypeError),
        ({"range_letter": "h"}, ValueError),
    ],
)
def test_invalid_pulse_sends_nothing(change, error):
    with expected_protocol(Chroma63200a, []) as load, pytest.raises(error):
        load.configure_pulse(**{**PULSE, **change})


def test_set_input_on_and_off():
    with expected_protocol(Chroma63200a, w("LOAD ON") + w("LOAD OFF")) as load:
        load.set_input(True)
        load.set_input(False)


@pytest.mark.parametrize("bad", [1, "ON", None])
def test_set_input_takes_only_a_bool(bad):
    with expected_protocol(Chroma63200a, []) as load, pytest.raises(TypeError):
        load.set_input(bad)


@pytest.mark.parametrize(("reply", "on"), [("ON", True), ("OFF", False), ("1", True), ("0", False)])
def test_input_enabled(reply, on):
    with expected_protocol(Chroma63200a, [("LOAD?", reply)]) as load:
        assert load.input_enabled() is on


def test_measurements_trigger_a_new_sample():
    pairs = [("MEAS:VOLT?", "48.123"), ("MEAS:CURR?", "100.02"), ("MEAS:POW?", "4813.2")]
    with expected_protocol(Chroma63200a, pairs) as load:
        assert load.measure_voltage() == 48.123
        assert load.measure_current() == 100.02
        assert load.measure_power() == 4813.2


def test_latest_measurements_fetch_without_a_new_sample():
    pairs = [("FETC:VOLT?", "48.1"), ("FETC:CURR?", "99.9"), ("FETC:POW?", "4805.2")]
    with expected_protocol(Chroma63200a, pairs) as load:
        assert load.measure_voltage(latest=True) == 48.1
        assert load.measure_current(latest=True) == 99.9
        assert load.measure_power(latest=True) == 4805.2


def test_voltage_and_current_are_one_compound_query_from_one_sample():
    # MEASure takes a new sample for the voltage; FETCh reads the current of that sample.
    with expected_protocol(Chroma63200a, [("MEAS:VOLT?;:FETC:CURR?", "48.123;100.02")]) as load:
        assert load.measure_voltage_and_current() == (48.123, 100.02)


def test_latest_voltage_and_current_fetch_both_without_a_new_sample():
    with expected_protocol(Chroma63200a, [("FETC:VOLT?;:FETC:CURR?", "48.1;99.9")]) as load:
        assert load.measure_voltage_and_current(latest=True) == (48.1, 99.9)


@pytest.mark.parametrize("reply", ["48.1", "48.1;", ";99.9", "48.1;99.9;1", "48.1,99.9", "x;99.9"])
def test_a_short_or_malformed_compound_reply_is_one_protocol_error(reply):
    with (
        expected_protocol(Chroma63200a, [("MEAS:VOLT?;:FETC:CURR?", reply)]) as load,
        pytest.raises(InstrumentProtocolError) as info,
    ):
        load.measure_voltage_and_current()
    assert repr(reply) in str(info.value)
    assert "MEAS:VOLT?;:FETC:CURR?" in str(info.value)
    assert info.value.resource == "TEST::INSTR"


def test_latest_takes_only_a_bool():
    with expected_protocol(Chroma63200a, []) as load, pytest.raises(TypeError):
        load.measure_voltage(latest=1)  # type: ignore[arg-type]


def test_readbacks():
    with expected_protocol(Chroma63200a, [("MODE?", "ccdh"), ("VOLT:STAT:ILIM?", "50")]) as load:
        assert load.mode == "CCDH"
        assert load.cv_current_limit_setpoint == 50


QUERIES = [
    ("LOAD?", lambda load: load.input_enabled()),
    ("MEAS:VOLT?", lambda load: load.measure_voltage()),
    ("MEAS:CURR?", lambda load: load.measure_current()),
    ("MEAS:POW?", lambda load: load.measure_power()),
    ("FETC:VOLT?", lambda load: load.measure_voltage(latest=True)),
    ("FETC:CURR?", lambda load: load.measure_current(latest=True)),
    ("FETC:POW?", lambda load: load.measure_power(latest=True)),
    ("MEAS:VOLT?;:FETC:CURR?", lambda load: load.measure_voltage_and_current()),
    ("MODE?", lambda load: load.mode),
    ("VOLT:STAT:ILIM?", lambda load: load.cv_current_limit_setpoint),
]


@pytest.mark.parametrize(("query", "call"), QUERIES)
@pytest.mark.parametrize("reply", ["garbage 1", "", "1,2"])
def test_bad_reply_is_a_protocol_error_quoting_it(query, call, reply):
    with (
        expected_protocol(Chroma63200a, [(query, reply)]) as load,
        pytest.raises(InstrumentProtocolError) as info,
    ):
        call(load)
    assert repr(reply) in str(info.value)


@pytest.mark.parametrize(("query", "call"), QUERIES)
def test_no_reply_is_a_timeout(query, call):
    with (
        expected_protocol(Chroma63200a, [(query, TIMEOUT)]) as load,
        pytest.raises(InstrumentTimeout),
    ):
        call(load)


def test_refused_command_raises_with_the_code():
    pairs = [("LOAD ON", None), ("SYST:ERR?", '-221,"Settings conflict"')]
    with (
        expected_protocol(Chroma63200a, pairs) as load,
        pytest.raises(InstrumentReportedError, match="LOAD ON") as info,
    ):
        load.set_input(True)
    assert info.value.code == -221


SAFE = [("LOAD OFF", None), ("MODE CCH", None), ("CURR:STAT:L1 0", None), ("CURR:STAT:L2 0", None)]


def test_safe_state_switches_off_first_and_leaves_cc_at_zero_amps():
    with expected_protocol(Chroma63200a, [*SAFE, ("SYST:ERR?", OK)]) as load:
        load.safe_state()


def test_safe_state_attempts_every_command_before_reporting_an_error():
    with (
        expected_protocol(Chroma63200a, [*SAFE, ("SYST:ERR?", '-200,"Execution error"')]) as load,
        pytest.raises(InstrumentReportedError, match="safe_state"),
    ):
        load.safe_state()


def test_safe_state_on_a_dead_link_fails_fast():
    with (
        expected_protocol(Chroma63200a, [*SAFE, ("SYST:ERR?", TIMEOUT)]) as load,
        pytest.raises(InstrumentTimeout),
    ):
        load.safe_state()


def test_safe_state_without_error_checking():
    with expected_protocol(Chroma63200a, SAFE, check_errors=False) as load:
        load.safe_state()


@pytest.mark.parametrize(("reply", "safe"), [("OFF", True), ("ON", False)])
def test_is_safe_reads_back_the_input(reply, safe):
    with expected_protocol(Chroma63200a, [("LOAD?", reply)]) as load:
        assert load.is_safe() is safe


def test_identity():
    with expected_protocol(Chroma63200a, [("*IDN?", "CHROMA,63206A-150-600,123456,1.10")]) as load:
        assert load.identity() == Identity("CHROMA", "63206A-150-600", "123456", "1.10")


def test_close_releases_the_transport():
    with expected_protocol(Chroma63200a, []) as load:
        load.close()
        assert load.transport.closed


# --- Short mode: the driver has no way to send LOAD:SHORt -------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "LOAD:SHOR ON",
        "LOAD:SHORT ON",
        "load:short 1",
        ":LOAD:SHOR ON",
        "LOAD:SHORt:KEY HOLD",
        "LOAD OFF;LOAD:SHOR ON",
        "LOAD OFF; :LOAD:SHOR 1",
        "LOAD:SHOR OFF",
    ],
)
def test_send_refuses_short_mode_and_sends_nothing(command):
    with expected_protocol(Chroma63200a, []) as load, pytest.raises(ShortModeRefused):
        load.send(command)


def test_send_batch_refuses_short_mode_anywhere_and_sends_nothing():
    with expected_protocol(Chroma63200a, []) as load, pytest.raises(ShortModeRefused):
        load.send_batch(["LOAD OFF", "LOAD:SHOR ON"], label="batch")


@pytest.mark.parametrize("query", ["LOAD:SHOR?", "load:short?"])
def test_ask_refuses_short_mode_and_sends_nothing(query):
    with expected_protocol(Chroma63200a, []) as load, pytest.raises(ShortModeRefused):
        load.ask(query, str)


def test_short_mode_refusal_is_a_value_error():
    assert issubclass(ShortModeRefused, ValueError)


def test_send_and_ask_pass_other_commands_through():
    with expected_protocol(Chroma63200a, [*w("LOAD OFF"), ("LOAD?", "OFF")]) as load:
        load.send("LOAD OFF")
        assert load.ask("LOAD?", str) == "OFF"


class RecordingTransport:
    """Answers every query plausibly and records every message sent."""

    resource = "REC::INSTR"
    timeout_s = 1.0
    replies: ClassVar[dict[str, str]] = {
        "SYST:ERR?": OK,
        "*IDN?": "CHROMA,63206A,1,1.0",
        "LOAD?": "OFF",
        "MODE?": "CCH",
        "MEAS:VOLT?;:FETC:CURR?": "48.1;99.9",
        "FETC:VOLT?;:FETC:CURR?": "48.1;99.9",
    }

    def __init__(self) -> None:
        self.sent: list[str] = []

    def write(self, message: str) -> None:
        self.sent.append(message)

    def query(self, message: str) -> str:
        self.sent.append(message)
        return self.replies.get(message, "1.0")

    def read(self) -> str:
        return ""

    def close(self) -> None:
        self.sent.append("<close>")


# Every public method with arguments reaching every branch. send/ask are covered above.
CALLS = {
    "connect": [((), {})],
    "set_mode": [
        ((mode, level), {"range_letter": letter})
        for mode, level in (("CC", 1), ("CV", 1), ("CR", 1), ("CP", 1))
        for letter in ("L", "M", "H", None)
    ],
    "set_cv_current_limit": [((1,), {})],
    "configure_pulse": [((), {**PULSE, "repeat": 0}), ((), {**PULSE, "range_letter": "L"})],
    "set_input": [((True,), {}), ((False,), {})],
    "input_enabled": [((), {})],
    "measure_voltage": [((), {}), ((), {"latest": True})],
    "measure_current": [((), {}), ((), {"latest": True})],
    "measure_power": [((), {}), ((), {"latest": True})],
    "measure_voltage_and_current": [((), {}), ((), {"latest": True})],
    "safe_state": [((), {})],
    "is_safe": [((), {})],
    "identity": [((), {})],
    "raise_on_error": [((), {})],
    "send_batch": [((["LOAD OFF", "CURR:STAT:L1 0"],), {"label": "sweep"})],
    "bad_reply": [(("MODE?", "X", "sweep"), {})],
    "close": [((), {})],
}


def test_no_public_method_or_property_sends_short_mode():
    public = {name for name in dir(Chroma63200a) if not name.startswith("_")}
    methods = {name for name in public if inspect.isfunction(getattr(Chroma63200a, name))}
    properties = {name for name in public if isinstance(getattr(Chroma63200a, name), Declared)}
    # A new public method must be added to CALLS, so this test keeps covering the whole API.
    assert methods - {"send", "ask"} == set(CALLS)

    transport = RecordingTransport()
    load = Chroma63200a(transport)  # type: ignore[arg-type]
    for name, calls in CALLS.items():
        for args, kwargs in calls:
            getattr(load, name)(*args, **kwargs)
    for name in properties:
        getattr(load, name)

    assert transport.sent, "the sweep should have sent something"
    assert not [message for message in transport.sent if SHORT.search(message)]


def test_no_declared_property_uses_short_mode():
    for name in dir(Chroma63200a):
        prop = getattr(Chroma63200a, name)
        if isinstance(prop, Declared):
            for command in (prop.get_command, prop.set_command):
                assert command is None or not SHORT.search(command), name
