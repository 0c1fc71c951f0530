"""The outcome words keep the exact spelling stored in TOML and SQLite, and their helpers."""

from __future__ import annotations

import pytest

from station.outcomes import (
    PACK_VERDICTS,
    STORED_RUN_WORDS,
    STORED_STEP_WORDS,
    Outcome,
    RunState,
    Verdict,
    sql_in,
)


def test_each_member_is_its_stored_word() -> None:
    assert [str(o) for o in Outcome] == [
        "PASSED", "FAILED", "ERROR", "ABORTED", "TERMINATED", "SKIPPED"
    ]  # fmt: skip
    assert [str(v) for v in Verdict] == ["PASSED", "FAILED", "DONE"]
    assert [str(s) for s in RunState] == ["RUNNING", "INTERRUPTED"]
    assert Outcome("FAILED") is Outcome.FAILED and f"{Outcome.ERROR}" == "ERROR"


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (Outcome.PASSED, 0),
        (Outcome.FAILED, 1),
        (Outcome.ERROR, 2),
        (Outcome.ABORTED, 3),
        (Outcome.TERMINATED, 3),
    ],
)
def test_a_run_outcome_has_the_documented_exit_code(outcome: Outcome, code: int) -> None:
    assert outcome.exit_code == code


def test_only_passed_and_skipped_are_not_failing() -> None:
    assert {o for o in Outcome if not o.failing} == {Outcome.PASSED, Outcome.SKIPPED}


def test_the_stored_word_lists() -> None:
    assert "SKIPPED" not in STORED_RUN_WORDS and {"RUNNING", "INTERRUPTED"} <= set(STORED_RUN_WORDS)
    assert set(STORED_STEP_WORDS) == {*Outcome, RunState.INTERRUPTED}
    assert set(PACK_VERDICTS) == {"PASSED", "FAILED", "ERROR"}
    assert sql_in(Verdict) == "('PASSED', 'FAILED', 'DONE')"
