"""Tests for station.limits: parsing limit tables and judging values against them."""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from decimal import Context, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from station.errors import Problem, SequenceError
from station.limits import (
    COMPARATORS,
    JUDGED_DIGITS,
    Judgement,
    Limit,
    bounds,
    evaluate,
    parse_limit,
)
from station.steps.eol.cells import DERIVED_V

FILE = "limits/nm96.toml"
WHERE = "main[2] 'IR HV+' limits.riso_ohm"

finite = st.floats(allow_nan=False, allow_infinity=False)
moderate = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)


def r(x: float) -> Decimal:
    """The value as the limits module judges it: 12 significant digits of its shortest repr."""
    return Context(prec=JUDGED_DIGITS).create_decimal(repr(float(x)))


def lim(**table: Any) -> Limit:
    return parse_limit(table, file=FILE, where=WHERE)


def problems_of(table: object) -> list[Problem]:
    with pytest.raises(SequenceError) as info:
        parse_limit(table, file=FILE, where=WHERE)
    assert info.value.problems
    for p in info.value.problems:
        assert p.file == FILE
        assert p.where.startswith(WHERE)
    return info.value.problems


def only_problem(field: str, **table: Any) -> str:
    """Return the message of the single problem of ``table``, checking it names ``field``."""
    [p] = problems_of(table)
    assert p.where == f"{WHERE}.{field}"
    assert field in p.message
    return p.message


# --- comparators -------------------------------------------------------------------------

NUMERIC_CASES = [
    ({"comparator": "EQ", "nominal": 5}, [(5, True), (5.0001, False), (4.9999, False)]),
    ({"comparator": "NE", "nominal": 5}, [(5, False), (5.0001, True), (-5, True)]),
    ({"comparator": "GT", "low": 5}, [(5, False), (5.0001, True), (4, False)]),
    ({"comparator": "GE", "low": 500e6}, [(500e6, True), (499_999_999, False), (1e9, True)]),
    ({"comparator": "LT", "high": 5}, [(5, False), (4.9999, True), (6, False)]),
    ({"comparator": "LE", "high": 5}, [(5, True), (5.0001, False), (-1e9, True)]),
    ({"comparator": "GTLT", "low": 3, "high": 4}, [(3, False), (3.5, True), (4, False)]),
    ({"comparator": "GELE", "low": 3, "high": 4}, [(3, True), (4, True), (4.01, False)]),
    ({"comparator": "GELE", "low": 3, "high": 3}, [(3, True), (3.0001, False)]),
    ({"comparator": "GELT", "low": 3, "high": 4}, [(3, True), (4, False), (2.99, False)]),
    ({"comparator": "GTLE", "low": 3, "high": 4}, [(3, False), (4, True), (3.5, True)]),
    ({"comparator": "LTGT", "low": 3, "high": 4}, [(2.9, True), (3, False), (4, False), (5, True)]),
    ({"comparator": "LEGE", "low": 3, "high": 4}, [(3, True), (4, True), (3.5, False), (2, True)]),
    ({"comparator": "NOMTOL", "nominal": 12, "tolerance": 0.5}, [(12.5, True), (11.5, True)]),
    ({"comparator": "NOMTOL", "nominal": 12, "tolerance": 0.5}, [(12.51, False), (11.4, False)]),
    ({"comparator": "NOMTOL", "nominal": 12, "tolerance_pct": 5}, [(12.6, True), (12.61, False)]),
    ({"comparator": "NOMTOL", "nominal": -12, "tolerance_pct": 5}, [(-12.6, True), (-11.3, False)]),
    # Bounds are computed in decimal: 3.3 ± 0.1 passes exactly 3.2 and 3.4.
    ({"comparator": "NOMTOL", "nominal": 3.3, "tolerance": 0.1}, [(3.4, True), (3.2, True)]),
    ({"comparator": "NOMTOL", "nominal": 1, "tolerance": 0}, [(1, True), (1.0000001, False)]),
]


@pytest.mark.parametrize(
    ("table", "value", "passed"),
    [(t, v, p) for t, cases in NUMERIC_CASES for v, p in cases],
)
def test_numeric_comparator(table: dict[str, Any], value: float, passed: bool) -> None:
    judgement = evaluate(lim(**table), value)
    assert judgement == Judgement(passed, detail=judgement.detail)
    assert ("passes" if passed else "fails") in judgement.detail


def test_inf_reading_is_compared_normally() -> None:
    assert evaluate(lim(comparator="GE", low=500e6), math.inf).passed
    assert not evaluate(lim(comparator="LE", high=1), math.inf).passed


NUMERIC_TABLES = [t for t, _ in NUMERIC_CASES]


@pytest.mark.parametrize("table", NUMERIC_TABLES)
@pytest.mark.parametrize(
    "value", ["3.5", True, False, None, math.nan, -math.nan, [3.5], Decimal("3.5"), 10**400]
)
def test_numeric_comparator_fails_wrong_typed_value(table: dict[str, Any], value: object) -> None:
    judgement = evaluate(lim(**table), value)
    assert not judgement.passed
    assert not judgement.marginal
    assert "number" in judgement.detail


def test_numeric_detail_shows_value_unit_and_limit() -> None:
    judgement = evaluate(lim(comparator="GELE", low=3.2, high=4.2, unit="V"), 3.101)
    assert judgement.detail == "3.101 V fails 3.2 … 4.2 V"


def test_streq() -> None:
    limit = lim(comparator="STREQ", expected="ABC")
    assert evaluate(limit, "ABC").passed
    assert not evaluate(limit, "abc").passed
    assert not evaluate(limit, "ABC ").passed
    wrong = evaluate(limit, 5)
    assert not wrong.passed
    assert "string" in wrong.detail


def test_regex_is_a_full_match() -> None:
    limit = lim(comparator="REGEX", pattern="NM96[A-Z0-9]{8}")
    assert evaluate(limit, "NM96ABCD1234").passed
    assert not evaluate(limit, "NM96ABCD12345").passed
    assert not evaluate(limit, "xNM96ABCD1234").passed
    assert not evaluate(limit, b"NM96ABCD1234").passed
    assert not evaluate(limit, None).passed


def test_bool() -> None:
    limit = lim(comparator="BOOL", expected=True)
    assert evaluate(limit, True).passed
    assert not evaluate(limit, False).passed
    assert evaluate(lim(comparator="BOOL", expected=False), False).passed
    for value in (1, "true", None, 1.0):
        judgement = evaluate(limit, value)
        assert not judgement.passed
        assert "boolean" in judgement.detail


@pytest.mark.parametrize("value", [1.5, math.nan, None, "x", [1, 2], True])
def test_log_always_passes(value: object) -> None:
    judgement = evaluate(lim(comparator="LOG", unit="degC"), value)
    assert judgement.passed
    assert not judgement.marginal


# --- ARRAY -------------------------------------------------------------------------------

CELLS = {"comparator": "ARRAY", "low": 3.0, "high": 4.2, "max_spread": 0.03, "unit": "V"}


def test_array_pass() -> None:
    judgement = evaluate(lim(**CELLS), [3.70, 3.71, 3.72])
    assert judgement.passed
    assert judgement.failed_elements == ()
    assert "all 3 values pass" in judgement.detail


def test_array_records_failing_elements() -> None:
    judgement = evaluate(lim(**{**CELLS, "max_spread": 2}), (3.5, 2.9, 3.5, 4.3))
    assert not judgement.passed
    assert judgement.failed_elements == (1, 3)
    assert "element 1 = 2.9 V below 3 V" in judgement.detail
    assert "element 3 = 4.3 V above 4.2 V" in judgement.detail


def test_array_spread_failure_names_min_and_max_but_lists_no_elements() -> None:
    judgement = evaluate(lim(**CELLS), [3.70, 3.75, 3.72, 3.75, 3.70])
    assert not judgement.passed
    assert judgement.failed_elements == ()
    assert "spread 0.05 V > 0.03 V (min element 0, max element 1)" in judgement.detail


def test_array_spread_boundary_is_exact_in_decimal() -> None:
    # 3.145 - 3.1 is 0.04500000000000037 in binary; the engineer means 0.045.
    assert evaluate(lim(comparator="ARRAY", max_spread=0.045), [3.1, 3.145]).passed


def test_array_per_element_limits() -> None:
    limit = lim(comparator="ARRAY", low=[3.0, 3.1, 3.2], high=4)
    judgement = evaluate(limit, [3.05, 3.05, 3.25])
    assert judgement.failed_elements == (1,)
    assert bounds(limit, 2) == (3.2, 4.0, None)
    assert bounds(limit) == (None, 4.0, None)


def test_array_length_mismatch_is_a_fail_not_an_exception() -> None:
    judgement = evaluate(lim(comparator="ARRAY", low=[3.0, 3.1]), [3.5, 3.5, 3.5])
    assert not judgement.passed
    assert judgement.detail == "3 values but 'low' has 2 entries"


@pytest.mark.parametrize("value", [3.5, "3.5", None, {"a": 3.5}, {3.5}, b"\x03", []])
def test_array_fails_values_that_are_not_sequences(value: object) -> None:
    judgement = evaluate(lim(**CELLS), value)
    assert not judgement.passed
    assert "sequence" in judgement.detail


def test_array_fails_non_numeric_elements() -> None:
    judgement = evaluate(lim(**CELLS), [3.7, math.nan, "3.7", True, 3.71])
    assert judgement.failed_elements == (1, 2, 3)
    assert "element 1 is not a number (NaN)" in judgement.detail


def test_array_detail_stays_short_when_many_elements_fail() -> None:
    judgement = evaluate(lim(**CELLS), [1.0] * 96)
    assert judgement.failed_elements == tuple(range(96))
    assert "91 more out of limits" in judgement.detail
    assert judgement.detail.count("element") == 5 + 2  # five listed, min and max of spread


# --- marginal band -----------------------------------------------------------------------


def test_marginal_band_on_two_sided() -> None:
    limit = lim(comparator="GELE", low=3, high=4, marginal_low=3.2, marginal_high=3.8, unit="V")
    assert evaluate(limit, 3.1) == Judgement(
        True, marginal=True, detail="3.1 V passes but is below marginal_low 3.2 V"
    )
    assert evaluate(limit, 3.9).marginal
    assert not evaluate(limit, 3.5).marginal
    assert not evaluate(limit, 3.2).marginal
    assert evaluate(limit, 4.1) == Judgement(False, detail="4.1 V fails " + limit.describe())


def test_marginal_band_single_sided_and_nomtol() -> None:
    assert evaluate(lim(comparator="GE", low=5, marginal_low=6), 5.5).marginal
    nomtol = lim(comparator="NOMTOL", nominal=12, tolerance=1, marginal_high=12.5)
    assert evaluate(nomtol, 12.7).marginal
    assert not evaluate(nomtol, 11.1).marginal


# --- describe, bounds, the dataclass -----------------------------------------------------


@pytest.mark.parametrize(
    ("table", "text"),
    [
        ({"comparator": "GE", "low": 500e6}, "≥ 5e+08"),
        ({"comparator": "LT", "high": 1500, "unit": "V"}, "< 1500 V"),
        ({"comparator": "NE", "nominal": 0}, "≠ 0"),
        ({"comparator": "GELE", "low": 3.2, "high": 4.2}, "3.2 … 4.2"),
        ({"comparator": "GTLE", "low": 3.2, "high": 4.2}, "> 3.2 and ≤ 4.2"),
        ({"comparator": "LTGT", "low": 3.2, "high": 4.2}, "< 3.2 or > 4.2"),
        ({"comparator": "LEGE", "low": 3.2, "high": 4.2}, "≤ 3.2 or ≥ 4.2"),
        ({"comparator": "STREQ", "expected": "ABC"}, "= 'ABC'"),
        ({"comparator": "REGEX", "pattern": "^NM96.*$"}, "~ ^NM96.*$"),
        ({"comparator": "NOMTOL", "nominal": 12.0, "tolerance": 0.5}, "12 ± 0.5"),
        ({"comparator": "NOMTOL", "nominal": 12, "tolerance_pct": 5, "unit": "V"}, "12 V ± 5 %"),
        ({"comparator": "BOOL", "expected": False}, "= false"),
        ({"comparator": "LOG"}, "log only"),
        ({"comparator": "ARRAY", "low": 3.0, "high": 4.2, "max_spread": 0.03},
         "each 3 … 4.2, spread ≤ 0.03"),
        ({"comparator": "ARRAY", "low": [3, 3], "unit": "V"}, "each ≥ low[i] V"),
        ({"comparator": "ARRAY", "max_spread": 0.03}, "spread ≤ 0.03"),
        ({"comparator": "GE", "low": 5, "marginal_low": 6}, "≥ 5 (marginal below 6)"),
        ({"comparator": "GELE", "low": 1, "high": 4, "marginal_low": 2, "marginal_high": 3},
         "1 … 4 (marginal outside 2 … 3)"),
    ],
)  # fmt: skip
def test_describe(table: dict[str, Any], text: str) -> None:
    assert lim(**table).describe() == text


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"comparator": "GE", "low": 500e6}, (500e6, None, None)),
        ({"comparator": "LE", "high": 5}, (None, 5.0, None)),
        ({"comparator": "EQ", "nominal": 5}, (None, None, 5.0)),
        ({"comparator": "LTGT", "low": 1, "high": 2}, (1.0, 2.0, None)),
        ({"comparator": "NOMTOL", "nominal": 3.3, "tolerance": 0.1}, (3.2, 3.4, 3.3)),
        ({"comparator": "NOMTOL", "nominal": 12, "tolerance_pct": 5}, (11.4, 12.6, 12.0)),
        ({"comparator": "ARRAY", "low": 3, "high": 4.2}, (3.0, 4.2, None)),
        ({"comparator": "STREQ", "expected": "A"}, (None, None, None)),
        ({"comparator": "LOG"}, (None, None, None)),
    ],
)
def test_bounds(table: dict[str, Any], expected: tuple[float | None, ...]) -> None:
    assert bounds(lim(**table)) == expected


def test_comparator_set() -> None:
    assert {
        *("EQ", "NE", "GT", "GE", "LT", "LE"),
        *("GTLT", "GELE", "GELT", "GTLE", "LTGT", "LEGE"),
        *("NOMTOL", "STREQ", "REGEX", "BOOL", "ARRAY", "LOG"),
    } == COMPARATORS


def test_limit_is_frozen_hashable_and_stores_floats() -> None:
    limit = lim(comparator="ARRAY", low=[3, 3], high=4)
    assert limit.low == (3.0, 3.0)
    assert isinstance(limit.low, tuple)
    assert all(type(x) is float for x in (*limit.low, limit.high))
    assert hash(limit) == hash(lim(comparator="ARRAY", low=[3.0, 3.0], high=4.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        limit.high = 5.0  # type: ignore[misc]


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["GE", 500e6, None, ["GE", 5]])
def test_not_a_table(table: object) -> None:
    [p] = problems_of(table)
    assert p.where == WHERE
    assert "table" in p.message


def test_missing_comparator() -> None:
    assert "GELE" in only_problem("comparator", low=3)


def test_comparator_not_a_string() -> None:
    assert "string" in only_problem("comparator", comparator=5, low=3)


@pytest.mark.parametrize(
    ("name", "hint"),
    [("ge", "did you mean 'GE'?"), ("GEL", "'GELE'"), ("NOMTOLL", "'NOMTOL'")],
)
def test_unknown_comparator_suggests(name: str, hint: str) -> None:
    message = only_problem("comparator", comparator=name, low=3)
    assert f"unknown comparator {name!r}" in message
    assert hint in message


def test_unknown_comparator_without_close_match_lists_all() -> None:
    message = only_problem("comparator", comparator="WITHIN")
    assert "valid:" in message
    assert all(c in message for c in COMPARATORS)


def test_unknown_field_suggests() -> None:
    message = only_problem("hgih", comparator="GELE", low=3, high=4, hgih=5)
    assert "unknown field 'hgih'; did you mean 'high'?" in message


def test_unknown_field_without_close_match_lists_fields_of_comparator() -> None:
    message = only_problem("xyzzy", comparator="GE", low=3, xyzzy=1)
    assert "valid: comparator, low, marginal_high, marginal_low, unit" in message


@pytest.mark.parametrize(
    ("field", "table"),
    [
        ("high", {"comparator": "GE", "low": 5, "high": 6}),
        ("low", {"comparator": "EQ", "nominal": 5, "low": 4}),
        ("tolerance", {"comparator": "GELE", "low": 1, "high": 2, "tolerance": 1}),
        ("marginal_low", {"comparator": "EQ", "nominal": 5, "marginal_low": 4}),
        ("marginal_high", {"comparator": "LTGT", "low": 1, "high": 2, "marginal_high": 3}),
        ("marginal_low", {"comparator": "ARRAY", "low": 1, "marginal_low": 3}),
        ("unit", {"comparator": "STREQ", "expected": "A", "unit": "V"}),
        ("expected", {"comparator": "REGEX", "pattern": "A", "expected": "A"}),
    ],
)
def test_field_not_used_by_comparator(field: str, table: dict[str, Any]) -> None:
    message = only_problem(field, **table)
    assert message == f"field {field!r} is not used by {table['comparator']}"


@pytest.mark.parametrize(
    ("field", "table"),
    [
        ("low", {"comparator": "GE"}),
        ("high", {"comparator": "GELE", "low": 1}),
        ("nominal", {"comparator": "EQ"}),
        ("nominal", {"comparator": "NOMTOL", "tolerance": 1}),
        ("expected", {"comparator": "STREQ"}),
        ("pattern", {"comparator": "REGEX"}),
    ],
)
def test_missing_required_field(field: str, table: dict[str, Any]) -> None:
    message = only_problem(field, **table)
    assert message == f"missing field {field!r}, required by {table['comparator']}"


@pytest.mark.parametrize(
    ("field", "table", "says"),
    [
        ("low", {"comparator": "GE", "low": "500e6"}, "must be a number, got string '500e6'"),
        ("low", {"comparator": "GE", "low": True}, "must be a number, got boolean True"),
        ("low", {"comparator": "GE", "low": [1]}, "must be a number, got array"),
        ("high", {"comparator": "LE", "high": math.nan}, "must be a finite number"),
        ("high", {"comparator": "LE", "high": -math.inf}, "must be a finite number"),
        ("low", {"comparator": "GE", "low": 10**400}, "too large"),
        ("expected", {"comparator": "STREQ", "expected": 5}, "must be a string"),
        ("expected", {"comparator": "BOOL", "expected": "true"}, "must be true or false"),
        ("expected", {"comparator": "BOOL", "expected": 1}, "must be true or false"),
        ("pattern", {"comparator": "REGEX", "pattern": 5}, "must be a string"),
        ("unit", {"comparator": "GE", "low": 1, "unit": ""}, "non-empty string"),
        ("unit", {"comparator": "GE", "low": 1, "unit": 5}, "non-empty string"),
        ("low[1]", {"comparator": "ARRAY", "low": [3, "3"]}, "must be a number"),
        ("low", {"comparator": "ARRAY", "low": []}, "must not be an empty array"),
    ],
)
def test_wrong_type(field: str, table: dict[str, Any], says: str) -> None:
    assert says in only_problem(field, **table)


def test_bad_regex_reports_re_error() -> None:
    message = only_problem("pattern", comparator="REGEX", pattern="NM96[A-Z")
    assert "not a valid regular expression: unterminated character set" in message


@pytest.mark.parametrize(
    ("field", "table", "says"),
    [
        ("low", {"comparator": "GELE", "low": 5, "high": 3}, "low 5 is above high 3"),
        ("low", {"comparator": "LTGT", "low": 5, "high": 3}, "low 5 is above high 3"),
        ("low", {"comparator": "GTLT", "low": 3, "high": 3}, "only GELE accepts that"),
        ("low", {"comparator": "LEGE", "low": 3, "high": 3}, "only GELE accepts that"),
        ("low", {"comparator": "ARRAY", "low": 5, "high": 3}, "low is above high at element(s) 0"),
        ("low", {"comparator": "ARRAY", "low": [1, 5], "high": [2, 4]}, "at element(s) 1"),
        ("low", {"comparator": "ARRAY", "low": [1, 2], "high": [3]}, "2 entries but high has 1"),
        ("max_spread", {"comparator": "ARRAY", "max_spread": -1}, "must not be negative"),
        ("tolerance", {"comparator": "NOMTOL", "nominal": 1, "tolerance": -1}, "not be negative"),
        (
            "tolerance",
            {"comparator": "NOMTOL", "nominal": 1, "tolerance": 1, "tolerance_pct": 1},
            "exactly one of 'tolerance' and 'tolerance_pct'",
        ),
        ("tolerance", {"comparator": "NOMTOL", "nominal": 1}, "exactly one of 'tolerance'"),
        ("tolerance_pct", {"comparator": "NOMTOL", "nominal": 0, "tolerance_pct": 5}, "use"),
        ("tolerance", {"comparator": "NOMTOL", "nominal": 1e308, "tolerance": 1e308}, "range"),
        (
            "marginal_low",
            {"comparator": "GE", "low": 5, "marginal_low": 4},
            "marginal_low 4 is outside the passing range 5 … inf",
        ),
        (
            "marginal_high",
            {"comparator": "NOMTOL", "nominal": 12, "tolerance_pct": 5, "marginal_high": 13},
            "marginal_high 13 is outside the passing range 11.4 … 12.6",
        ),
        (
            "marginal_low",
            {"comparator": "LE", "high": 9, "marginal_low": 5, "marginal_high": 4},
            "marginal_low 5 is above marginal_high 4",
        ),
    ],
)
def test_fields_that_do_not_fit_together(field: str, table: dict[str, Any], says: str) -> None:
    assert says in only_problem(field, **table)


def test_array_needs_a_bound_or_a_spread() -> None:
    [p] = problems_of({"comparator": "ARRAY", "unit": "V"})
    assert p.message == "ARRAY needs at least one of 'low', 'high', 'max_spread'"


def test_all_problems_of_a_table_are_listed() -> None:
    table = {"comparator": "GELE", "low": "3", "hgih": 4, "pattern": "x", "unit": 5}
    found = {p.where.removeprefix(WHERE + "."): p.message for p in problems_of(table)}
    assert set(found) == {"low", "high", "hgih", "pattern", "unit"}
    assert str(SequenceError(problems_of(table))).count(FILE) == 5


# --- properties --------------------------------------------------------------------------


@given(a=finite, b=finite, x=finite)
def test_gele_is_the_closed_interval(a: float, b: float, x: float) -> None:
    low, high = min(a, b), max(a, b)
    judged = evaluate(lim(comparator="GELE", low=low, high=high), x).passed
    assert judged == (r(low) <= r(x) <= r(high))


@given(a=finite, b=finite, x=finite)
def test_two_sided_comparators_match_their_definitions(a: float, b: float, x: float) -> None:
    assume(a != b)
    low, high = min(a, b), max(a, b)

    def passed(c: str) -> bool:
        return evaluate(lim(comparator=c, low=low, high=high), x).passed

    lo, hi, v = r(low), r(high), r(x)
    assert passed("GTLT") == (lo < v < hi)
    assert passed("GELT") == (lo <= v < hi)
    assert passed("GTLE") == (lo < v <= hi)
    assert passed("LTGT") == (v < lo or v > hi) == (not passed("GELE"))
    assert passed("LEGE") == (v <= lo or v >= hi) == (not passed("GTLT"))


@given(ref=finite, x=finite)
def test_single_sided_comparators_match_python_at_12_digits(ref: float, x: float) -> None:
    rr, v = r(ref), r(x)
    assert evaluate(lim(comparator="EQ", nominal=ref), x).passed == (v == rr)
    assert evaluate(lim(comparator="NE", nominal=ref), x).passed == (v != rr)
    assert evaluate(lim(comparator="GT", low=ref), x).passed == (v > rr)
    assert evaluate(lim(comparator="GE", low=ref), x).passed == (v >= rr)
    assert evaluate(lim(comparator="LT", high=ref), x).passed == (v < rr)
    assert evaluate(lim(comparator="LE", high=ref), x).passed == (v <= rr)


@given(nominal=moderate, tol=st.floats(0, 1e9), x=moderate)
def test_nomtol_is_symmetric_and_agrees_with_its_bounds(
    nominal: float, tol: float, x: float
) -> None:
    limit = lim(comparator="NOMTOL", nominal=nominal, tolerance=tol)
    mirror = lim(comparator="NOMTOL", nominal=-nominal, tolerance=tol)
    passed = evaluate(limit, x).passed
    assert passed == evaluate(mirror, -x).passed
    low, high, nom = bounds(limit)
    assert low is not None and high is not None
    assert nom == nominal
    assert passed == (r(low) <= r(x) <= r(high))
    assert evaluate(limit, low).passed and evaluate(limit, high).passed
    # Away from rounding it is exactly |x − nominal| ≤ tolerance.
    slack = 1e-9 * (abs(nominal) + tol + abs(x)) + 1e-300
    if abs(x - nominal) < tol - slack:
        assert passed
    if abs(x - nominal) > tol + slack:
        assert not passed


@given(
    values=st.lists(st.floats(-10, 10), min_size=1, max_size=30),
    a=st.floats(-10, 10),
    b=st.floats(-10, 10),
)
def test_array_failed_elements_are_exactly_those_out_of_bounds(
    values: list[float], a: float, b: float
) -> None:
    low, high = min(a, b), max(a, b)
    judgement = evaluate(lim(comparator="ARRAY", low=low, high=high), values)
    expected = tuple(i for i, v in enumerate(values) if not r(low) <= r(v) <= r(high))
    assert judgement.failed_elements == expected
    assert judgement.passed == (not expected)


@given(data=st.data(), n=st.integers(1, 20))
def test_array_per_element_bounds(data: st.DataObject, n: int) -> None:
    pairs = data.draw(st.lists(st.tuples(finite, finite), min_size=n, max_size=n))
    lows, highs = [min(p) for p in pairs], [max(p) for p in pairs]
    values = data.draw(st.lists(finite, min_size=n, max_size=n))
    judgement = evaluate(lim(comparator="ARRAY", low=lows, high=highs), values)
    expected = tuple(i for i, v in enumerate(values) if not r(lows[i]) <= r(v) <= r(highs[i]))
    assert judgement.failed_elements == expected


@given(
    values=st.lists(st.integers(-1000, 1000), min_size=1, max_size=30), spread=st.integers(0, 2000)
)
def test_array_spread(values: list[int], spread: int) -> None:
    judgement = evaluate(lim(comparator="ARRAY", max_spread=spread), [float(v) for v in values])
    assert judgement.passed == (max(values) - min(values) <= spread)
    assert judgement.failed_elements == ()


SAMPLE_TABLES = [
    *NUMERIC_TABLES,
    {"comparator": "GELE", "low": -math.pi, "high": 1e300, "marginal_low": 0},
    {"comparator": "NE", "nominal": 0},
    {"comparator": "LTGT", "low": -1, "high": 1},
    {"comparator": "LEGE", "low": -1, "high": 1},
]
NAN = st.sampled_from([math.nan, -math.nan, float("nan")])


@given(table=st.sampled_from(SAMPLE_TABLES), nan=NAN)
def test_nan_never_passes_a_numeric_comparator(table: dict[str, Any], nan: float) -> None:
    assert not evaluate(lim(**table), nan).passed


@given(values=st.lists(st.floats(3, 4), max_size=10), nan=NAN, at=st.integers(0, 10))
def test_nan_element_never_passes_an_array(values: list[float], nan: float, at: int) -> None:
    values.insert(min(at, len(values)), nan)
    judgement = evaluate(lim(comparator="ARRAY", low=0, high=9, max_spread=9), values)
    assert not judgement.passed
    assert values.index(nan) in judgement.failed_elements


anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=10,
)


@given(table=st.sampled_from([*SAMPLE_TABLES, CELLS]), value=anything)
def test_evaluate_never_raises_and_never_passes_garbage(table: dict[str, Any], value: Any) -> None:
    judgement = evaluate(lim(**table), value)
    assert isinstance(judgement, Judgement)
    assert judgement.detail
    assert not judgement.marginal or judgement.passed
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if table["comparator"] != "ARRAY" and not (is_number and not math.isnan(value)):
        assert not judgement.passed


@given(
    table=st.dictionaries(
        st.sampled_from([*(f.name for f in dataclasses.fields(Limit)), "hgih"]),
        st.sampled_from(sorted(COMPARATORS)) | anything | st.lists(st.floats(), max_size=3),
    )
)
def test_parse_limit_only_raises_sequence_error(table: dict[str, Any]) -> None:
    try:
        limit = parse_limit(table, file=FILE, where=WHERE)
    except SequenceError as err:
        assert err.problems
        assert all(p.where.startswith(WHERE) and p.file == FILE for p in err.problems)
    else:
        assert limit.comparator in COMPARATORS
        assert limit.describe()
        assert isinstance(evaluate(limit, 1.0), Judgement)
        assert len(bounds(limit)) == 3


@given(
    low=st.floats(-100, 0),
    width=st.floats(1, 100),
    band=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    x=st.floats(-300, 300),
)
def test_marginal_is_a_pass_outside_the_band(
    low: float, width: float, band: tuple[float, float], x: float
) -> None:
    high = low + width
    ml, mh = low + width * min(band), low + width * max(band)
    assume(low <= ml <= mh <= high)
    # within JUDGED_DIGITS of a limit or band edge the judge sees the edge itself (by design)
    assume(all(abs(x - edge) > 1e-9 * max(1.0, abs(edge)) for edge in (low, ml, mh, high)))
    limit = lim(comparator="GELE", low=low, high=high, marginal_low=ml, marginal_high=mh)
    judgement = evaluate(limit, x)
    assert judgement.passed == (low <= x <= high)
    assert judgement.marginal == (judgement.passed and not ml <= x <= mh)


# --- the reference documentation ---------------------------------------------------------

DOC = (Path(__file__).parents[2] / "docs" / "limits.md").read_text(encoding="utf-8")


def limit_tables(node: object) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        if "comparator" in node:
            return [node]
        return [t for child in node.values() for t in limit_tables(child)]
    if isinstance(node, list):
        return [t for child in node for t in limit_tables(child)]
    return []


def test_every_toml_example_in_the_docs_parses() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DOC, flags=re.DOTALL)
    tables = [t for block in blocks for t in limit_tables(tomllib.loads(block))]
    assert {t["comparator"] for t in tables} == COMPARATORS
    for table in tables:
        lim(**table)


def test_docs_cover_every_comparator_and_field() -> None:
    for comparator in COMPARATORS:
        assert re.search(rf"^###? .*\b{comparator}\b", DOC, flags=re.MULTILINE), comparator
    for field in dataclasses.fields(Limit):
        assert f"`{field.name}`" in DOC, field.name


def test_documented_array_detail_is_what_evaluate_says() -> None:
    values = [3.12] * 96
    values[3], values[17] = 3.136, 3.091
    judgement = evaluate(lim(**{**CELLS, "low": 3.1}), values)
    assert judgement.failed_elements == (17,)
    assert f"\n{judgement.detail}\n" in DOC


# --- judging at the limit: values derived from quantised readings (issue #9) ---------------


def test_a_cell_spread_of_exactly_13_5_mv_passes_le_13_5_mv_like_its_array_limit() -> None:
    high_cell, low_cell = 3.0, 2.9865  # two AFE readings, 0.1 mV resolution
    spread = high_cell - low_cell
    assert repr(spread) == "0.013500000000000068"  # what the step records
    assert evaluate(lim(comparator="LE", high=0.0135, unit="V"), spread).passed
    array = lim(comparator="ARRAY", max_spread=0.0135, unit="V")
    assert evaluate(array, [high_cell, low_cell]).passed
    one_lsb_more = high_cell - 2.9864
    assert not evaluate(lim(comparator="LE", high=0.0135), one_lsb_more).passed
    assert not evaluate(array, [high_cell, 2.9864]).passed


def reading(counts: int, digits: int) -> float:
    """An instrument reading: ``counts`` × 10^-digits, as the float its text parses to."""
    return float(Decimal(counts).scaleb(-digits))


def _judged_at_its_limit(derived: float, a_b: int, digits: int, resolution: float | None) -> None:
    """``derived`` (a − b in counts of 10^-digits) passes at its exact limit, fails one out."""
    exact = reading(a_b, digits)  # what an engineer computes by hand
    step = reading(1, digits)

    def passes(**spec: Any) -> bool:
        return evaluate(lim(**spec), derived, resolution=resolution).passed

    assert passes(comparator="LE", high=exact)
    assert passes(comparator="GE", low=exact)
    assert passes(comparator="EQ", nominal=exact)
    assert passes(comparator="NOMTOL", nominal=exact, tolerance=0)
    assert not passes(comparator="LE", high=reading(a_b - 1, digits))
    assert not passes(comparator="GE", low=reading(a_b + 1, digits))
    assert not passes(comparator="LT", high=exact)
    below, above = exact - step, exact + step
    assert not passes(comparator="GTLT", low=below, high=exact)
    assert passes(comparator="GTLE", low=below, high=above)


@given(
    a=st.integers(-(10**7), 10**7),
    b=st.integers(-(10**7), 10**7),
    digits=st.integers(0, 6),
)
def test_a_difference_of_readings_at_its_exact_limit_passes_and_one_step_out_fails(
    a: int, b: int, digits: int
) -> None:
    # A difference's binary noise is relative to its operands (~2^-52 of them), not to the
    # result: rounding to 12 significant digits alone absorbs it while the operands are
    # within ~10^4 of the result (docs/limits.md); a step deriving a difference of larger
    # readings declares a resolution, as the next test does.
    assume(max(abs(a), abs(b)) <= 1000 * max(abs(a - b), 1))
    derived = reading(a, digits) - reading(b, digits)  # binary noise in the last digits
    _judged_at_its_limit(derived, a - b, digits, resolution=None)


@given(
    a=st.integers(-(10**7), 10**7),
    b=st.integers(-(10**7), 10**7),
    digits=st.integers(0, 6),
)
def test_a_difference_judged_at_its_resolution_passes_at_its_exact_limit_whatever_the_operands(
    a: int, b: int, digits: int
) -> None:
    derived = reading(a, digits) - reading(b, digits)
    _judged_at_its_limit(derived, a - b, digits, resolution=reading(1, digits) / 1000)


def test_the_cancellation_ci_found_is_judged_at_its_resolution() -> None:
    # 5000.059 V and 4999.824 V: 12 significant digits of the difference still show the
    # noise (-0.235000000001); the declared resolution judges it as -0.235.
    derived = reading(4999824, 3) - reading(5000059, 3)
    _judged_at_its_limit(derived, 4999824 - 5000059, 3, resolution=1e-6)


@given(
    cells=st.lists(st.integers(25_000, 42_000), min_size=2, max_size=96),
    pack_counts=st.integers(50_000, 4_000_000),
)
def test_a_sum_of_cells_minus_the_pack_is_judged_at_its_resolution(
    cells: list[int], pack_counts: int
) -> None:
    volts = [reading(c, 4) for c in cells]  # AFE cells at 0.1 mV
    pack = reading(pack_counts, 4)
    derived = math.fsum(volts) - pack
    exact = reading(sum(cells) - pack_counts, 4)
    # sum_vs_pack_v declares a resolution of 1 µV: cancellation (400 V − 399.9999 V) leaves
    # noise far above 12 significant digits of the 0.1 mV result, far below 1 µV
    res = DERIVED_V
    assert evaluate(lim(comparator="GELE", low=exact, high=exact), derived, resolution=res).passed
    step = reading(1, 4)
    assert not evaluate(lim(comparator="LE", high=exact - step), derived, resolution=res).passed
    assert not evaluate(lim(comparator="GE", low=exact + step), derived, resolution=res).passed


def test_a_declared_resolution_rounds_half_to_even_and_keeps_infinity() -> None:
    limit = lim(comparator="LE", high=0.5)
    assert evaluate(limit, 0.5000004, resolution=1e-6).passed
    assert not evaluate(limit, 0.5000006, resolution=1e-6).passed
    assert evaluate(limit, 0.5000005, resolution=1e-6).passed  # half to even: 0.500000
    assert not evaluate(limit, math.inf, resolution=1e-6).passed
    assert evaluate(lim(comparator="GE", low=1e9), math.inf, resolution=1e-6).passed


def test_the_detail_shows_the_value_as_judged_without_float_noise() -> None:
    limit = lim(comparator="LE", high=3.0, unit="s")
    assert evaluate(limit, 0.7 + 1.4).detail == "2.1 s passes ≤ 3 s"  # 2.0999999999999996
    spread = lim(comparator="LE", high=0.02, unit="V")
    judged = evaluate(spread, 3.0 - 2.9865, resolution=1e-4)  # 0.013500000000000068
    assert judged.detail == "0.0135 V passes ≤ 0.02 V"
    cells = lim(comparator="ARRAY", low=3.0, unit="V")
    assert "element 1 = 2.1 V below 3 V" in evaluate(cells, [3.3, 0.7 + 1.4]).detail


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"comparator": "GE", "low": 500e6}, ("500e6", "500e6")),
        ({"comparator": "LT", "high": 0.1}, ("0.1", "0.1")),
        ({"comparator": "EQ", "nominal": 5}, ("5.0", "5.0")),
        ({"comparator": "GELE", "low": 1, "high": 2}, ("1.0", "2.0")),
        ({"comparator": "LEGE", "low": -1, "high": 1}, ("-1.0", "1.0")),
        ({"comparator": "NOMTOL", "nominal": 3.3, "tolerance": 0.1}, ("3.2", "3.4")),
        ({"comparator": "NOMTOL", "nominal": 12, "tolerance_pct": 5}, ("11.4", "12.6")),
        ({"comparator": "GE", "low": 0.1 + 0.2}, ("0.3", "0.3")),  # 12 digits
    ],
)  # fmt: skip
def test_judged_bounds_are_the_limits_ends_as_judged(
    table: dict[str, Any], expected: tuple[str, str]
) -> None:
    limit = lim(**table)
    assert limit.judged_bounds == tuple(Decimal(x) for x in expected)
    # Kept per limit, so every later use judges and describes alike.
    assert limit.judged_bounds is limit.judged_bounds
    assert limit.describe() is limit.describe()
    assert dataclasses.replace(limit) == limit  # the kept values are no fields
