"""Operator prompts: the answer is typed by the prompt's kind before a limit judges it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from station.errors import SequenceError
from station.steps.api import PromptRequest
from tests.station.test_engine import SERIAL, engine_for, load


class Scripted:
    """Answers every prompt with ``answer``."""

    def __init__(self, answer: str | None) -> None:
        self.answer = answer

    def ask(self, request: PromptRequest, abort: threading.Event) -> str | None:
        return self.answer


def prompt(kind: str, limit: str, extra: str = "") -> str:
    return f"""
[[main]]
type = "prompt"
name = "Ask"
params = {{ kind = "{kind}", text = "What does the gauge read?"{extra} }}
limits.answer = {limit}
"""


def run(tmp_path: Path, steps: str, answer: str | None) -> tuple[str, object, str | None]:
    engine, _ = engine_for(load(tmp_path, steps), tmp_path)
    engine.prompter = Scripted(answer)
    result = engine.run(SERIAL)
    step = result.steps[0]
    [m] = step.measurements if step.measurements else [None]
    return step.outcome, (m.value if m and m.value is not None else m and m.value_text), step.error


NUMBER_LIMIT = '{ comparator = "GELE", low = 10, high = 20 }'


def test_a_number_prompt_is_judged_as_a_number(tmp_path: Path) -> None:
    assert run(tmp_path, prompt("number", NUMBER_LIMIT), "12.5")[:2] == ("PASSED", 12.5)


def test_a_number_outside_its_limit_fails(tmp_path: Path) -> None:
    assert run(tmp_path, prompt("number", NUMBER_LIMIT), "25")[:2] == ("FAILED", 25.0)


def test_a_number_prompt_answered_with_text_is_an_error_naming_the_prompt(tmp_path: Path) -> None:
    outcome, _, error = run(tmp_path, prompt("number", NUMBER_LIMIT), "twelve")
    assert outcome == "ERROR"
    assert "What does the gauge read?" in (error or "") and "'twelve'" in (error or "")


def test_a_number_outside_the_prompts_own_range_is_an_error(tmp_path: Path) -> None:
    steps = prompt("number", NUMBER_LIMIT, ", minimum = 0, maximum = 15")
    outcome, _, error = run(tmp_path, steps, "18")
    assert outcome == "ERROR" and "0.0 … 15.0" in (error or "")


@pytest.mark.parametrize(("answer", "outcome"), [("yes", "PASSED"), ("no", "FAILED")])
def test_a_confirm_prompt_is_judged_as_a_boolean(tmp_path: Path, answer: str, outcome: str) -> None:
    steps = prompt("confirm", '{ comparator = "BOOL", expected = true }')
    assert run(tmp_path, steps, answer)[:2] == (outcome, "true" if answer == "yes" else "false")


def test_a_dismissed_confirm_prompt_is_no(tmp_path: Path) -> None:
    steps = prompt("confirm", '{ comparator = "BOOL", expected = true }')
    assert run(tmp_path, steps, None)[:2] == ("FAILED", "false")


def test_a_text_prompt_stays_text(tmp_path: Path) -> None:
    steps = prompt("text", '{ comparator = "REGEX", pattern = "^F[0-9]+$" }')
    assert run(tmp_path, steps, "F12")[:2] == ("PASSED", "F12")


def test_a_limit_of_the_wrong_kind_is_refused_when_the_sequence_loads(tmp_path: Path) -> None:
    steps = prompt("confirm", '{ comparator = "STREQ", expected = "yes" }')
    with pytest.raises(SequenceError) as err:
        load(tmp_path, steps)
    [problem] = err.value.problems
    assert problem.where == "main[0] 'Ask' limits.answer"
    assert "a STREQ limit judges a text value, but 'answer' is a bool" in problem.message
