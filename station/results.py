"""What ``Engine.run`` returns (the run and its steps), and who answers operator prompts.

The outcome words themselves are in :mod:`station.outcomes`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from station.errors import StationError
from station.events import Measurement
from station.outcomes import Outcome, Verdict
from station.steps.api import PromptRequest


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
    outcome: Outcome
    error: str | None
    measurements: list[Measurement] = field(default_factory=list)
    attempts: int = 1


@dataclass
class RunResult:
    run_id: str
    outcome: Outcome
    serial: str
    part_number: str
    steps: list[StepResult]
    safe_state_ok: bool
    safe_state_detail: str
    record_problem: str = ""
    """Why the run's record is incomplete (results database or recordings failed), or ""."""

    @property
    def failing(self) -> list[tuple[StepResult, Measurement]]:
        return [(s, m) for s in self.steps for m in s.measurements if m.outcome == Verdict.FAILED]
