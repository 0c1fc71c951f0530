"""The SCPI instrument base: shared validators, formatting, batches and conventions."""

from __future__ import annotations

import math
from typing import Any

import pytest

from drivers import registry
from drivers.errors import InstrumentProtocolError, InstrumentReportedError
from drivers.scpi.instrument import (
    ScpiInstrument,
    check_bool,
    format_number,
    parse_float,
    positive,
    rating,
)
from drivers.scpi.power import parse_voltage_and_current
from drivers.testing import ProtocolTransport, expected_protocol

OK = '+0,"No error"'


@pytest.mark.parametrize("value", [1, 0.5, 1e-12, 6000.0])
def test_positive_accepts_finite_numbers_above_zero(value: float) -> None:
    positive(value)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, ValueError),
        (-1.0, ValueError),
        (math.inf, ValueError),
        (math.nan, ValueError),
        (True, TypeError),
        ("1", TypeError),
        (None, TypeError),
    ],
)
def test_positive_refuses_without_clipping(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        positive(value)


def test_rating_returns_a_float() -> None:
    assert rating("max_voltage_v", 60) == 60.0
    assert isinstance(rating("max_voltage_v", 60), float)


@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-5, ValueError), (math.inf, ValueError), ("60", TypeError)],
)
def test_rating_errors_name_the_option(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="max_voltage_v"):
        rating("max_voltage_v", value)


def test_check_bool_takes_only_true_or_false() -> None:
    check_bool(True)
    check_bool(False)
    for bad in (1, 0, "ON", None):
        with pytest.raises(TypeError):
            check_bool(bad)


@pytest.mark.parametrize(
    ("value", "text"),
    [(1000, "1000"), (100e6, "100000000"), (0.003, "0.003"), (1.5, "1.5"), (1e-9, "1E-09")],
)
def test_format_number_keeps_meaningful_digits(value: float, text: str) -> None:
    assert format_number(value) == text


def test_send_batch_writes_everything_then_checks_once() -> None:
    pairs = [("OUTP OFF", None), ("VOLT 0", None), ("SYST:ERR?", OK)]
    with expected_protocol(ScpiInstrument, pairs) as inst:
        inst.send_batch(["OUTP OFF", "VOLT 0"], label="safe_state")


def test_send_batch_reports_a_queued_error_with_its_label() -> None:
    pairs = [("OUTP OFF", None), ("SYST:ERR?", '-200,"Execution error"')]
    with (
        expected_protocol(ScpiInstrument, pairs) as inst,
        pytest.raises(InstrumentReportedError, match="safe_state"),
    ):
        inst.send_batch(["OUTP OFF"], label="safe_state")


def test_bad_reply_quotes_command_and_reply() -> None:
    with expected_protocol(ScpiInstrument, []) as inst:
        err = inst.bad_reply("RES?", "junk", "expected 14 fields")
    assert isinstance(err, InstrumentProtocolError)
    assert "'junk'" in str(err) and "'RES?'" in str(err)


# Options without which a model cannot be constructed (the generic drivers have no rating).
REQUIRED_OPTIONS: dict[str, dict[str, Any]] = {
    "generic.scpi_supply": {"max_voltage_v": 60.0, "max_current_a": 10.0},
    "generic.scpi_load": {"max_current_a": 40.0, "max_voltage_v": 150.0, "max_power_w": 600.0},
}
SCPI_MODELS = [
    model
    for model in registry.known_models()
    if issubclass(registry.driver_class(model), ScpiInstrument)
]


@pytest.mark.parametrize("model", SCPI_MODELS)
def test_constructor_sends_nothing(model: str) -> None:
    transport = ProtocolTransport([])  # any message would raise ProtocolMismatch
    instrument = registry.driver_class(model)(transport, **REQUIRED_OPTIONS.get(model, {}))
    assert transport.unused == []
    assert callable(instrument.connect)


@pytest.mark.parametrize("model", registry.known_models())
def test_every_model_has_connect(model: str) -> None:
    assert callable(getattr(registry.driver_class(model), "connect", None))


@pytest.mark.parametrize(
    "reply",
    [
        "401.250000;-50.500000",
        "500.0 V;10.0 A",  # EA sends units
        " +1.5E+02 ; -.25e-1 ",
        "7;8.",
        "1e999;0",  # beyond a float: inf, as parse_float gives
        "401.25",
        "401.25;",
        ";-50.5",
        "1;2;3",
        "1.2.3;4",
        "nan;1",
        "inf;1",
        "1_000;2",
        "0x10;2",
        "",
        # Plain characters only (the float() path), valid or not as the pattern decides:
        "1e5;2E-3",
        "1e;2",
        "e5;1",
        "+-1;2",
        "-0.000000;0",
        " ;1",
        "1 ; 2 ",
        ".;1",
        "5.;.5",
        "1 2;3",
        "1;2;",
        ";",
    ],
)
def test_a_compound_reading_parses_as_its_two_units_would(reply: str) -> None:
    # parse_voltage_and_current matches the whole reply at once (every power sample does):
    # it must accept exactly what splitting and parse_float accept, with the same values.
    units = reply.split(";")
    try:
        if len(units) != 2:
            raise ValueError("not two units")
        expected: tuple[float, float] | None = (parse_float(units[0]), parse_float(units[1]))
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError):
            parse_voltage_and_current(reply)
    else:
        assert parse_voltage_and_current(reply) == expected
