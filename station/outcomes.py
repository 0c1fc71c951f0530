"""What a run and its steps end as: the outcome words, and the results ``Engine.run`` returns.

Outcomes: PASSED, FAILED (the pack is out of limits), ERROR (the station, an instrument or
code broke), ABORTED (operator or interlock), TERMINATED (stopped after the current step),
SKIPPED (a step's ``skip_if`` held). Operator prompts go through a ``Prompter``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from station.errors import StationError
from station.events import Measurement
from station.steps.api import PromptRequest

PASSED, FAILED, ERROR, ABORTED, TERMINATED, SKIPPED = (
    "PASSED",
    "FAILED",
    "ERROR",
    "ABORTED",
    "TERMINATED",
    "SKIPPED",
)


class Prompter(Protocol):
    """Shows operator prompts: a terminal, a Qt dialog, or a script in tests.

    A prompter that answers by itself (``station run --yes``) has ``automatic = True``:
    the run record then says the answer was automatic, not the operator's.
    """

    def ask(self, request: PromptRequest, abort: threading.Event) -> str | None:
        """Return the operator's answer; return None promptly when ``abort`` is set."""
        ...


class NoPrompter:
    """For unattended runs: any prompt is an error (the sequence needs an operator)."""

    def ask(self, request: PromptRequest, abort: threading.Event) -> str | None:
        raise StationError(f"the sequence asks the operator {request.text!r} but no one can answer")


@dataclass
class StepResult:
    """A finished step as the caller of ``run`` sees it."""

    group: str
    name: str
    type: str
    outcome: str
    error: str | None
    measurements: list[Measurement] = field(default_factory=list)
    attempts: int = 1


@dataclass
class RunResult:
    run_id: str
    outcome: str
    serial: str
    part_number: str
    steps: list[StepResult]
    safe_state_ok: bool
    safe_state_detail: str
    record_problem: str = ""
    """Why the run's record is incomplete (results database or recordings failed), or ""."""

    @property
    def failing(self) -> list[tuple[StepResult, Measurement]]:
        return [(s, m) for s in self.steps for m in s.measurements if m.outcome == FAILED]
