"""The run in progress as the operator screen shows it, built from engine events.

Plain Python (no widgets): the step rows with live status and duration, which step is
"k of n", the failing measurements, and the verdict the banner shows at the end — on FAIL
the failing step and measurement with value and limits; after an operator abort with
the sources confirmed safe, READY again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from station.events import Measurement, RunFinished, RunStarted, StepFinished, StepStarted
from station.outcomes import Outcome, RunState, Verdict
from ui.i18n import QT_TRANSLATE_NOOP, ltr, translate
from ui.models import Column, duration_text, limit_text, measured_text, outcome_word
from ui.style import state_word


@dataclass
class StepRow:
    """A step of the plan with its live status."""

    number: int
    group: str
    index: int
    name: str
    type: str
    outcome: str = "PENDING"
    duration_s: float | None = None
    error: str | None = None
    attempt: int = 1

    @property
    def status_text(self) -> str:
        word = outcome_word(self.outcome)
        if self.outcome == RunState.RUNNING and self.attempt > 1:
            return translate("RunView", "{word} (attempt {n})").format(word=word, n=self.attempt)
        return word


def _same(name: str) -> str:
    return name


@dataclass
class RunView:
    serial: str = ""
    part: str = ""
    steps: list[StepRow] = field(default_factory=list)
    failing: list[tuple[str, Measurement]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    current_name: str = ""
    operator_abort: bool = False
    stopping: bool = False  # aborted (by the operator or the interlocks): cleanup runs
    cleanup_problems: list[str] = field(default_factory=list)
    ready_note: str = ""  # the serial of a run the operator aborted (sources verified safe)
    label: Callable[[str], str] = _same  # a step's name as the screen shows it
    _step_names: dict[str, str] = field(default_factory=dict)
    _positions: dict[tuple[str, int], int] = field(default_factory=dict)

    def reset(self) -> None:
        label = self.label
        self.__init__()  # type: ignore[misc]
        self.label = label

    def ready_note_text(self) -> str:
        """The banner's line while READY: after an operator abort, that it ended safe."""
        if not self.ready_note:
            return translate("RunView", "Scan the next pack")
        return translate(
            "RunView",
            "Last test ({serial}) ABORTED by the operator — sources off and verified safe. "
            "Scan the next pack.",
        ).format(serial=ltr(self.ready_note))

    def started(self, ev: RunStarted) -> None:
        operator_abort = self.operator_abort  # an abort may come before RunStarted arrives
        self.reset()
        self.operator_abort = self.stopping = operator_abort
        self.serial, self.part = ev.serial, ev.part_number
        for n, s in enumerate(ev.steps, start=1):
            self.steps.append(StepRow(n, s.group, s.index, s.name, s.type))
            self._positions[(s.group, s.index)] = n - 1

    def step_started(self, ev: StepStarted) -> int | None:
        self._step_names[ev.step_id] = ev.name
        self.current_name = ev.name
        i = self._positions.get((ev.group, ev.index))
        if i is not None:
            row = self.steps[i]
            row.outcome, row.attempt, row.duration_s, row.error = (
                RunState.RUNNING,
                ev.attempt,
                None,
                None,
            )
        return i

    def step_finished(self, ev: StepFinished) -> int | None:
        self._step_names.setdefault(ev.step_id, ev.name)
        if ev.outcome in (Outcome.ERROR, Outcome.ABORTED) and ev.error:
            self.errors.append((ev.name, ev.error))
        if ev.outcome == Outcome.ABORTED:
            self.stopping = True
        if ev.group == "cleanup" and ev.outcome not in (Outcome.PASSED, Outcome.SKIPPED):
            self.cleanup_problems.append(f"{ev.name}: {ev.error or outcome_word(ev.outcome)}")
        i = self._positions.get((ev.group, ev.index))
        if i is not None:
            row = self.steps[i]
            row.outcome, row.duration_s, row.error = ev.outcome, ev.duration_s, ev.error
        return i

    def measured(self, m: Measurement) -> None:
        if m.outcome == Verdict.FAILED:
            self.failing.append((self.step_name(m.step_id), m))

    def step_name(self, step_id: str) -> str:
        return self._step_names.get(step_id, "?")

    def failing_lines(self) -> list[str]:
        """Every failing measurement: step › measurement = value — limits (cells named)."""
        return [failure_line(self.label(step), m) for step, m in self.failing]

    def failing_text(self) -> str:
        """The first failure, for the banner; the rest are listed under it."""
        lines = self.failing_lines()
        if not lines:
            return translate("RunView", "a step failed")
        more = (
            translate("RunView", "   (+{n} more, listed below)").format(n=len(lines) - 1)
            if len(lines) > 1
            else ""
        )
        return lines[0] + more

    def finished(self) -> list[int]:
        """Mark the steps the run never reached; return their rows."""
        rows = [i for i, s in enumerate(self.steps) if s.outcome == "PENDING"]
        for i in rows:
            self.steps[i].outcome = "NOT RUN"
        return rows

    def verdict(self, ev: RunFinished) -> tuple[str, str, str]:
        """``(banner state, headline, detail)`` for the finished run, in the screens' language."""
        who = ltr(f"{self.serial} · {self.part}")
        if not ev.safe_state_ok:
            return (
                Outcome.ERROR,
                translate("RunView", "SAFE STATE NOT CONFIRMED"),
                translate("RunView", "Do not touch the pack. {detail}. Call an engineer.").format(
                    detail=ev.safe_state_detail
                ),
            )
        if self.cleanup_problems and ev.outcome != Outcome.ERROR:
            # The sources read back off, but a step that makes the pack safe (contactors
            # open, discharge) did not finish: "safe" would be a claim nobody checked.
            return (
                Outcome.ERROR,
                translate("RunView", "SAFE STATE NOT CONFIRMED"),
                translate(
                    "RunView",
                    "Do not touch the pack: cleanup did not finish ({problem}). Call an engineer.",
                ).format(problem=self.cleanup_problems[0]),
            )
        if ev.outcome == Outcome.PASSED:
            return (
                Outcome.PASSED,
                state_word(Outcome.PASSED),
                translate("RunView", "{pack} · every measurement within limits").format(pack=who),
            )
        if ev.outcome == Outcome.FAILED:
            return Outcome.FAILED, state_word(Outcome.FAILED), self.failing_text()
        if ev.outcome == Outcome.ERROR:
            if self.errors:
                where = f"{self.label(self.errors[0][0])}: {self.errors[0][1]}"
            else:
                where = translate("RunView", "see the log")
            return (
                Outcome.ERROR,
                state_word(Outcome.ERROR),
                translate(
                    "RunView", "{where} — a station problem, not the pack; call an engineer"
                ).format(where=where),
            )
        if ev.outcome == Outcome.ABORTED and self.operator_abort:
            self.ready_note = self.serial
            return "READY", "", self.ready_note_text()
        reason = self.errors[-1][1] if self.errors else translate("RunView", "stopped")
        if ev.outcome == Outcome.TERMINATED:
            word = state_word(Outcome.TERMINATED)
        else:
            word = state_word(Outcome.ABORTED)
        return (
            ev.outcome,
            word,
            translate("RunView", "{pack} · {reason} · sources off and verified safe").format(
                pack=who, reason=reason
            ),
        )


def element_names(m: Measurement) -> str:
    """The failing elements of an array measurement, counted from 1 as on the pack label."""
    if not m.failed_elements:
        return ""
    cells = "cell" in m.name.lower()
    numbers = [str(i + 1) for i in m.failed_elements]
    rest = (
        translate("RunView", " and {n} more").format(n=len(numbers) - 12)
        if len(numbers) > 12
        else ""
    )
    shown = ltr(", ".join(numbers[:12])) + rest
    if len(numbers) > 1:
        what = (
            translate("RunView", "cells {numbers}")
            if cells
            else translate("RunView", "elements {numbers}")
        )
    else:
        what = (
            translate("RunView", "cell {numbers}")
            if cells
            else translate("RunView", "element {numbers}")
        )
    return what.format(numbers=shown)


def failure_line(step: str, m: Measurement) -> str:
    value = measured_text(m.value, m.value_text, m.values, m.unit)
    where = element_names(m)
    cells = f" — {where}" if where else ""
    limits = translate("RunView", "limits {limits}").format(limits=limit_text(m.limit_text, m.unit))
    return f"{step} › {ltr(m.name)} = {value}  —  {limits}{cells}"


def step_columns(label: Callable[[str], str] = _same) -> tuple[Column, ...]:
    """Columns of the step list (rows: StepRow); ``label`` shows a step's name."""
    return (
        Column(QT_TRANSLATE_NOOP("Column", "#"), lambda s: str(s.number), right=True),
        Column(
            QT_TRANSLATE_NOOP("Column", "Step"),
            lambda s: label(s.name),
            tooltip=lambda s: f"{s.group}: {s.name} ({s.type})",
        ),
        Column(
            QT_TRANSLATE_NOOP("Column", "Status"),
            lambda s: s.status_text,
            tooltip=lambda s: s.error or s.status_text,
        ),
        Column(
            QT_TRANSLATE_NOOP("Column", "Time"), lambda s: duration_text(s.duration_s), right=True
        ),
    )


def measurement_columns(label: Callable[[str], str] = _same) -> tuple[Column, ...]:
    """Columns of the measurement table (rows: (step name, Measurement))."""
    return (
        Column(QT_TRANSLATE_NOOP("Column", "Step"), lambda r: label(r[0])),
        Column(QT_TRANSLATE_NOOP("Column", "Measurement"), lambda r: r[1].name),
        Column(
            QT_TRANSLATE_NOOP("Column", "Value"),
            lambda r: measured_text(r[1].value, r[1].value_text, r[1].values, r[1].unit),
            right=True,
        ),
        Column(
            QT_TRANSLATE_NOOP("Column", "Limits"),
            lambda r: limit_text(r[1].limit_text, r[1].unit),
        ),
        Column(
            QT_TRANSLATE_NOOP("Column", "Result"),
            lambda r: " ".join(
                filter(None, (outcome_word(r[1].outcome, r[1].marginal), element_names(r[1])))
            ),
            tooltip=lambda r: r[1].detail or r[1].outcome,
        ),
    )
