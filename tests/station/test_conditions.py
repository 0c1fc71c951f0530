"""Tests for station.conditions: the safe ``skip_if`` language parses, checks and evaluates."""

from __future__ import annotations

from typing import Any

import pytest

from station.conditions import ConditionError, parse_condition

EARLIER: dict[str, tuple[str, dict[str, Any]]] = {
    "Pack OCV": ("PASSED", {"voltage": 352.5}),
    "IR HV+": ("FAILED", {"riso_ohm": 2e6}),
    "Offset": ("PASSED", {"current": -0.8}),
}


def evaluate(text: str, variant: str = "NM96-A", serial: str = "NM96A000123") -> bool:
    def outcome(step: str) -> str | None:
        return EARLIER[step][0] if step in EARLIER else None

    def value(step: str, measurement: str) -> Any:
        return EARLIER[step][1].get(measurement) if step in EARLIER else None

    return parse_condition(text).evaluate(
        variant=variant, serial=serial, outcome=outcome, value=value
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("variant == 'NM96-A'", True),
        ("variant != 'NM96-A'", False),
        ("variant in ['NM96-B', 'NM96-C']", False),
        ("variant not in ('NM96-B', 'NM96-C')", True),
        ("serial == 'NM96A000123'", True),
        ("outcome('IR HV+') != 'PASSED'", True),
        ("outcome('Pack OCV') == 'PASSED'", True),
        ("outcome('Not run yet') == None", True),
        ("value('Pack OCV', 'voltage') < 300", False),
        ("300 <= value('Pack OCV', 'voltage') < 400", True),
        ("value('Pack OCV', 'voltage') >= 352.5 and not variant == 'NM96-B'", True),
        ("variant == 'NM96-B' or value('IR HV+', 'riso_ohm') > 1e6", True),
        ("value('Offset', 'current') < -0.5", True),
        ("value('Offset', 'current') > +0.5", False),
        ("not (variant == 'NM96-A' and serial == 'x')", True),
        ("True", True),
    ],
)
def test_conditions_evaluate(text: str, expected: bool) -> None:
    assert evaluate(text) is expected


def test_a_condition_lists_the_steps_it_refers_to() -> None:
    condition = parse_condition("outcome('IR HV+') == 'FAILED' or value('Pack OCV', 'v') < 3")
    assert condition.steps == ("IR HV+", "Pack OCV")
    assert condition.text == "outcome('IR HV+') == 'FAILED' or value('Pack OCV', 'v') < 3"


def test_and_short_circuits_past_a_step_that_did_not_run() -> None:
    assert evaluate("variant == 'NM96-B' and value('Not run', 'v') < 300") is False


def test_comparing_a_step_that_did_not_run_with_a_number_is_an_error() -> None:
    with pytest.raises(ConditionError, match=r"cannot evaluate .*'<' not supported"):
        evaluate("value('Not run', 'voltage') < 300")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('reboot')", "only outcome(step) and value(step, measurement)"),
        ("open('/etc/passwd')", "only outcome(step) and value(step, measurement) may be called"),
        ("len(variant) > 3", "only outcome(step) and value(step, measurement) may be called"),
        ("variant.upper() == 'X'", "only outcome(step) and value(step, measurement) may be called"),
        ("variant.__class__ == 'x'", "Attribute is not allowed"),
        ("variant[0] == 'N'", "Subscript is not allowed"),
        ("(lambda: 1)()", "only outcome(step) and value(step, measurement) may be called"),
        ("lambda: 1", "Lambda is not allowed"),
        ("value('A', 'v') + 1 > 3", "BinOp is not allowed"),
        ("f'{variant}' == 'x'", "JoinedStr is not allowed"),
        ("[x for x in 'ab'] == []", "ListComp is not allowed"),
        ("(x := 1) == 1", "NamedExpr is not allowed"),
        ("{'a': 1} == {}", "Dict is not allowed"),
        ("{'a'} == {'a'}", "Set is not allowed"),
        ("variant is None", "operator Is is not allowed"),
        ("b'NM96' == variant", "constant b'NM96' is not allowed"),
        ("... == variant", "constant Ellipsis is not allowed"),
        ("os == 1", "unknown name 'os'; use variant, serial"),
        ("part == 'NM96-A'", "unknown name 'part'"),
        ("outcome('A', 'B') == 'PASSED'", "outcome() takes 1 quoted name(s)"),
        ("outcome(variant) == 'PASSED'", "outcome() takes 1 quoted name(s)"),
        ("outcome(step='A') == 'PASSED'", "outcome() takes 1 quoted name(s)"),
        ("value('A') < 3", "value() takes 2 quoted name(s)"),
        ("-variant == 'x'", "UnaryOp is not allowed"),
        ("variant == ", "cannot parse 'variant == ': invalid syntax"),
        ("variant = 'x'", "cannot parse \"variant = 'x'\""),
        ("import os", "cannot parse 'import os'"),
    ],
)
def test_anything_but_the_small_language_is_rejected(text: str, message: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "variant", "expected"),
    [
        ("variant == 'B'", "B", True),
        ("variant == 'B'", "A", False),
        ("variant in ['A', 'B'] and outcome('X') == 'FAILED'", "C", False),
        ("variant in ['A', 'B'] and outcome('X') == 'FAILED'", "A", None),
        ("variant == 'B' or value('X', 'v') < 3", "B", True),
        ("variant == 'B' or value('X', 'v') < 3", "A", None),
        ("not variant == 'B'", "A", True),
        ("serial == 'x'", "A", None),
    ],
)
def test_a_condition_is_decided_for_a_variant_before_the_run_when_it_can_be(
    text: str, variant: str, expected: bool | None
) -> None:
    assert parse_condition(text).for_variant(variant) is expected


def test_a_condition_lists_the_measurements_and_variants_it_reads() -> None:
    condition = parse_condition("value('OCV', 'voltage') < 3 and variant in ['A', 'B']")
    assert condition.values == (("OCV", "voltage"),)
    assert condition.variants == ("A", "B")
