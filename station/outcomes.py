"""The outcome words: how a step or a run ends, what a measurement is judged, a stored run's state.

These are the exact words the sequences' TOML (``skip_if = "outcome('…') != 'PASSED'"``), the
results database and the exports use; each enum is a ``StrEnum``, so a member *is* its word
(``Outcome.PASSED == "PASSED"``) and the stored words never change. Spell an outcome through
these enums everywhere else: ``tests/test_outcome_words.py`` refuses the words as literals.

* :class:`Outcome` — a step or a run: PASSED, FAILED (the pack is out of limits), ERROR (the
  station, an instrument or code broke), ABORTED (operator or interlock), TERMINATED (stopped
  after the current step), SKIPPED (a step's ``skip_if`` held; never a run's outcome).
* :class:`Verdict` — a measurement: PASSED, FAILED, or DONE (recorded, not judged).
* :class:`RunState` — a run in the results database that has no outcome: RUNNING (being
  written), INTERRUPTED (its writer stopped without finishing it).

This module imports nothing from the station, so every other module may use it.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """How a step or a run ended."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    ABORTED = "ABORTED"
    TERMINATED = "TERMINATED"
    SKIPPED = "SKIPPED"

    @property
    def failing(self) -> bool:
        """True unless the step passed or was skipped: what stops a label or an EOL flag."""
        return self not in (Outcome.PASSED, Outcome.SKIPPED)

    @property
    def exit_code(self) -> int:
        """The ``station run`` exit code of a run that ended so (docs/cli.md)."""
        return _EXIT_CODES[self]


_EXIT_CODES = {
    Outcome.PASSED: 0,
    Outcome.FAILED: 1,
    Outcome.ERROR: 2,
    Outcome.ABORTED: 3,
    Outcome.TERMINATED: 3,
    Outcome.SKIPPED: 2,  # a run is never skipped: if one were, the station broke
}


class Verdict(StrEnum):
    """How a measurement was judged against its limit."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    DONE = "DONE"


class RunState(StrEnum):
    """A stored run that has no outcome (yet, or ever)."""

    RUNNING = "RUNNING"
    INTERRUPTED = "INTERRUPTED"


RUN_OUTCOMES = tuple(o for o in Outcome if o is not Outcome.SKIPPED)
"""The outcomes a finished run can have."""

STORED_RUN_WORDS: tuple[str, ...] = (*RUN_OUTCOMES, RunState.INTERRUPTED, RunState.RUNNING)
"""Every word ``runs.outcome`` may hold (finished ones first, as the results browser lists them)."""

STORED_STEP_WORDS: tuple[str, ...] = (*Outcome, RunState.INTERRUPTED)
"""Every word ``steps.outcome`` may hold: a step a crash cut short is stored INTERRUPTED."""

PACK_VERDICTS = (Outcome.PASSED, Outcome.FAILED, Outcome.ERROR)
"""Run outcomes that say something about the pack; aborted, terminated and interrupted runs
do not count as attempts."""

# The members under their short names, for the engine and the step library.
PASSED = Outcome.PASSED
FAILED = Outcome.FAILED
ERROR = Outcome.ERROR
ABORTED = Outcome.ABORTED
TERMINATED = Outcome.TERMINATED
SKIPPED = Outcome.SKIPPED


def sql_in(words: tuple[str, ...] | type[StrEnum]) -> str:
    """``('A', 'B')``: the words as an SQL list, for CHECK constraints and queries."""
    return "(" + ", ".join(f"'{w}'" for w in words) + ")"
