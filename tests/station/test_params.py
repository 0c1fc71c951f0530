"""Tests for station.steps.params: typed step parameters filled from a TOML table (through
station.checked, the converter every input table goes through)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pytest

from station.checked import convert, describe_constraints, describe_type
from station.inputs import Problems
from station.steps.builtin import Wait
from station.steps.params import (
    Above,
    AtLeast,
    AtMost,
    Below,
    Finite,
    NonEmpty,
    NonNegative,
    Positive,
    Range,
    StepParams,
)
from station.steps.params import parse_params as parse_into


def parse_params(cls: Any, table: object) -> tuple[Any, list[tuple[str, str]]]:
    """The params built from ``table`` and each problem as (where, message)."""
    problems = Problems("sequence.toml")
    params = parse_into(cls, table, "params", problems)
    return params, [(p.where, p.message) for p in problems]


@pytest.mark.parametrize(
    ("value", "tp", "expected"),
    [
        (5, float, 5.0),
        (2.5, float, 2.5),
        (3, int, 3),
        (True, bool, True),
        ("a", str, "a"),
        ("DCW", Literal["IR", "DCW"], "DCW"),
        (10, Literal[1, 10, 100], 10),
        ([1, 2.5], list[float], [1.0, 2.5]),
        ([], list[str], []),
        ({"a": 1}, dict[str, float], {"a": 1.0}),
        (None, float | None, None),
        (4, float | None, 4.0),
        (["x"], list[str] | None, ["x"]),
        ({"any": [1]}, Any, {"any": [1]}),
    ],
)
def test_values_convert_to_their_declared_type(value: Any, tp: Any, expected: Any) -> None:
    converted = convert(value, tp)
    assert converted == expected
    assert type(converted) is type(expected)


def test_a_list_of_numbers_is_converted_element_by_element() -> None:
    converted = convert([1, 2], list[float])
    assert all(type(x) is float for x in converted)


@pytest.mark.parametrize(
    ("value", "tp", "error", "message"),
    [
        (True, float, TypeError, "expected a number, got True"),
        ("5", float, TypeError, "expected a number, got '5'"),
        (math.inf, float, ValueError, "expected a finite number, got inf"),
        (math.nan, float, ValueError, "expected a finite number, got nan"),
        (2.0, int, TypeError, "expected an integer, got 2.0"),
        (False, int, TypeError, "expected an integer, got False"),
        (1, bool, TypeError, "expected true or false, got 1"),
        (3, str, TypeError, "expected a string, got 3"),
        ("ACW", Literal["IR", "DCW"], ValueError, "must be one of 'IR' | 'DCW', got 'ACW'"),
        (True, Literal[1, 10, 100], ValueError, "must be one of 1 | 10 | 100, got True"),
        ("1", Literal[1, 10], ValueError, "must be one of 1 | 10, got '1'"),
        (1.0, list[float], TypeError, "expected list of number, got 1.0"),
        ([1, "x"], list[float], TypeError, "expected a number, got 'x'"),
        ([1], dict[str, float], TypeError, "expected table of string to number, got [1]"),
        ("x", float | None, TypeError, "expected a number, got 'x'"),
        ("x", float | list[float], TypeError, "expected number or list of number, got 'x'"),
        (1, complex, TypeError, "unsupported type"),
    ],
)
def test_wrong_values_are_rejected_saying_why(
    value: Any, tp: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        convert(value, tp)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("tp", "text"),
    [
        (float, "number"),
        (int, "integer"),
        (bool, "true/false"),
        (str, "string"),
        (float | None, "number"),
        (list[float], "list of number"),
        (dict[str, int], "table of string to integer"),
        (Literal["a", "b"], "'a' | 'b'"),
    ],
)
def test_types_are_described_for_people(tp: Any, text: str) -> None:
    assert describe_type(tp) == text


@dataclass(frozen=True)
class HvParams:
    voltage_v: float
    kind: Literal["IR", "DCW", "ACW"] = "IR"
    ramp_s: float = 1.0
    points: list[float] = field(default_factory=list)
    retry_count: int = 0

    def __post_init__(self) -> None:
        if self.voltage_v > 1500:
            raise ValueError(f"params.voltage_v must be ≤ 1500, got {self.voltage_v}")


def test_a_table_fills_the_params_with_defaults() -> None:
    params, problems = parse_params(HvParams, {"voltage_v": 1000, "points": [1, 2]})
    assert problems == []
    assert params == HvParams(voltage_v=1000.0, points=[1.0, 2.0])
    assert type(params.voltage_v) is float


def test_an_unknown_parameter_suggests_the_close_one_and_the_rest_is_still_read() -> None:
    params, problems = parse_params(HvParams, {"voltage_v": 500, "ramp": 2})
    assert params == HvParams(voltage_v=500.0)  # so the checks that use it still run
    assert problems == [
        (
            "params.ramp",
            "unknown parameter (did you mean 'ramp_s'?); "
            "this step type takes: voltage_v, kind, ramp_s, points, retry_count",
        )
    ]


def test_every_problem_of_a_table_is_reported_at_once() -> None:
    params, problems = parse_params(
        HvParams, {"kind": "DC", "ramp_s": "fast", "retry_count": 1.5, "colour": "red"}
    )
    assert params is None
    assert sorted(f for f, _ in problems) == [
        "params.colour",
        "params.kind",
        "params.ramp_s",
        "params.retry_count",
        "params.voltage_v",
    ]
    assert ("params.voltage_v", "missing required parameter (number)") in problems


def test_cross_field_checks_are_reported_against_params() -> None:
    params, problems = parse_params(HvParams, {"voltage_v": 2000})
    assert params is None
    assert problems == [("params", "params.voltage_v must be ≤ 1500, got 2000.0")]


def test_params_must_be_a_table() -> None:
    assert parse_params(HvParams, [1, 2]) == (None, [("params", "must be a table, got [1, 2]")])


def test_params_classes_must_be_dataclasses() -> None:
    with pytest.raises(TypeError, match="is not a dataclass"):
        parse_params(dict, {})


def test_a_builtin_step_type_validates_its_params() -> None:
    assert parse_params(Wait.Params, {"seconds": 5}) == (Wait.Params(seconds=5.0), [])
    assert parse_params(Wait.Params, {"seconds": -1}) == (
        None,
        [("params.seconds", "must be ≥ 0, got -1.0")],
    )


# --- constraints declared on the fields ------------------------------------------------------


@dataclass(frozen=True)
class Constrained(StepParams):
    current_a: Annotated[float, Positive]
    fraction: Annotated[float, Range(0, 1, low_open=True)] = 0.95
    soc_pct: Annotated[float, Range(0, 100)] | None = None
    points_v: list[Annotated[float, Positive]] = field(default_factory=list)
    names: Annotated[list[str], NonEmpty.noting("at least one")] = field(
        default_factory=lambda: ["a"]
    )
    count: Annotated[int, AtLeast(1)] | list[int] = 1
    wait_s: Annotated[float, NonNegative, Finite] = 0.0
    ceiling_v: Annotated[float, AtMost(60), Above(0)] = 60.0
    below_one: Annotated[float, Below(1)] = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.soc_pct is not None and self.soc_pct > 50 and self.fraction < 0.5:
            raise ValueError("params.fraction must be ≥ 0.5 above 50 % SOC")


def test_every_broken_constraint_is_reported_at_its_field_at_once() -> None:
    table = {
        "current_a": 0,
        "fraction": 0.0,
        "soc_pct": 101,
        "points_v": [3.0, -1.0],
        "names": [],
        "count": 0,
        "ceiling_v": 61,
        "below_one": 1,
    }
    assert parse_params(Constrained, table) == (
        None,
        [
            ("params.current_a", "must be > 0, got 0.0"),
            ("params.fraction", "must be in (0, 1], got 0.0"),
            ("params.soc_pct", "must be 0 … 100, got 101.0"),
            ("params.points_v", "must be > 0, got -1.0"),
            ("params.names", "must be non-empty (at least one), got []"),
            ("params.count", "must be ≥ 1, got 0"),
            ("params.ceiling_v", "must be ≤ 60, got 61.0"),
            ("params.below_one", "must be < 1, got 1.0"),
        ],
    )


def test_values_keeping_the_constraints_parse_and_a_cross_field_rule_still_runs() -> None:
    params, problems = parse_params(Constrained, {"current_a": 5, "soc_pct": 100, "count": [0]})
    assert problems == [] and params == Constrained(current_a=5.0, soc_pct=100.0, count=[0])
    assert parse_params(Constrained, {"current_a": 5, "soc_pct": 60, "fraction": 0.2}) == (
        None,
        [("params", "params.fraction must be ≥ 0.5 above 50 % SOC")],
    )


def test_a_wrong_type_is_still_a_type_problem_not_a_constraint() -> None:
    assert parse_params(Constrained, {"current_a": "5"}) == (
        None,
        [("params.current_a", "expected a number, got '5'")],
    )


def test_building_the_dataclass_in_code_checks_the_same_constraints() -> None:
    with pytest.raises(ValueError, match=r"^params.current_a must be > 0, got -1$"):
        Constrained(current_a=-1)
    with pytest.raises(ValueError, match=r"^params.points_v must be > 0, got 0.0$"):
        Constrained(current_a=1, points_v=[1.0, 0.0])
    with pytest.raises(ValueError, match=r"^params.wait_s must be finite, got inf$"):
        Constrained(current_a=1, wait_s=math.inf)
    assert Constrained(current_a=1, soc_pct=None).soc_pct is None  # an unset optional is fine


@pytest.mark.parametrize(
    ("tp", "shown"),
    [
        (Annotated[float, Positive], "> 0"),
        (Annotated[float, Range(0, 0.5, low_open=True)] | None, "in (0, 0.5]"),
        (Annotated[float, Range(0, 60, low_open=True, unit="V")], "in (0, 60] V"),
        (list[Annotated[float, Range(0, 100)]], "each 0 … 100"),
        (Annotated[float, NonNegative, Finite], "≥ 0, finite"),
        (float, ""),
    ],
)
def test_a_field_shows_what_it_allows_as_its_step_page_does(tp: Any, shown: str) -> None:
    assert describe_constraints(tp) == shown
