"""What the engine tells the world while it runs a pack.

Listeners (the results store, the CLI progress view, the UI bridge, report writers)
receive these frozen dataclasses in order, on the engine's thread. A listener must be
quick and must not raise; the engine logs and ignores a listener that does, except the
results store, whose failure ends the run as ERROR (nothing may be tested unrecorded).

Times: ``*_at`` are ISO-8601 UTC strings; ``t`` of a Sample is seconds since the run
started on the engine's clock (virtual or real). ``seq`` is a per-run monotonic counter
so order never depends on a wall clock that may jump.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from station.outcomes import Outcome, Verdict


@dataclass(frozen=True)
class PlannedStep:
    """A step as the run will attempt it."""

    group: str  # "setup" | "main" | "cleanup"
    index: int  # 0-based within its group
    name: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)  # effective, for the run's variant


@dataclass(frozen=True)
class InstrumentInfo:
    """An instrument taking part in a run, as recorded for traceability."""

    role: str
    model: str
    resource: str
    idn: str
    serial: str
    cal_due: str  # ISO date


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    serial: str
    part_number: str
    operator: str
    station_id: str
    sequence_name: str
    sequence_version: str
    sequence_path: str
    sequence_sha256: str
    limits_path: str | None  # None: inline limits only
    limits_sha256: str | None
    config_sha256: str | None  # None: no config file
    software_version: str
    started_at: str  # wall clock
    steps: tuple[PlannedStep, ...] = ()
    instruments: tuple[InstrumentInfo, ...] = ()
    rework_reason: str = ""
    virtual_started_at: str | None = None  # the virtual bench's clock, when it runs on one
    nest: str | None = None  # the nest of a station with parallel nests ("2 (right)")


@dataclass(frozen=True)
class Component:
    """A part scanned into the pack (a module, a cell lot): its kind and barcode."""

    run_id: str
    step_id: str
    kind: str
    code: str
    at: str


@dataclass(frozen=True)
class StepStarted:
    run_id: str
    step_id: str
    seq: int
    group: str
    index: int
    name: str
    type: str
    started_at: str
    attempt: int = 1


@dataclass(frozen=True)
class Measurement:
    """One recorded value with its limit and verdict.

    Numeric values are in ``value``; strings and booleans in ``value_text``; per-element
    vectors (cell voltages) in ``values`` with ``failed_elements`` naming the indices out
    of limits. ``outcome`` is PASSED, FAILED or DONE (recorded, not judged).
    """

    run_id: str
    step_id: str
    name: str
    unit: str
    comparator: str
    outcome: Verdict
    value: float | None = None
    value_text: str | None = None
    values: tuple[float, ...] | None = None
    low: float | None = None
    high: float | None = None
    nominal: float | None = None
    limit_text: str = ""
    marginal: bool = False
    detail: str = ""
    failed_elements: tuple[int, ...] = ()


@dataclass(frozen=True, init=False)
class Sample:
    """One point of a time series (V, I, T during capacity and DCIR steps)."""

    run_id: str
    step_id: str
    t: float
    channel: str
    value: float

    def __init__(self, run_id: str, step_id: str, t: float, channel: str, value: float) -> None:
        # Filled in place: the frozen dataclass's own __init__ (an object.__setattr__ per
        # field) costs twice as much, and a run makes thousands of samples and progresses.
        # (Its attributes are then read a little slower: worth it for an event read once
        # or twice, not for a value read many times.)
        d = self.__dict__
        d["run_id"] = run_id
        d["step_id"] = step_id
        d["t"] = t
        d["channel"] = channel
        d["value"] = value


@dataclass(frozen=True, init=False)
class Progress:
    """How far a long step has got (for progress bars; not stored)."""

    run_id: str
    step_id: str
    fraction: float  # 0…1
    eta_s: float | None = None
    text: str = ""

    def __init__(
        self, run_id: str, step_id: str, fraction: float, eta_s: float | None = None, text: str = ""
    ) -> None:
        d = self.__dict__  # in place, as Sample's
        d["run_id"] = run_id
        d["step_id"] = step_id
        d["fraction"] = fraction
        d["eta_s"] = eta_s
        d["text"] = text


@dataclass(frozen=True)
class Log:
    run_id: str
    step_id: str | None
    level: str  # "INFO" | "WARNING" | "ERROR"
    message: str
    at: str


@dataclass(frozen=True)
class Prompt:
    """An operator prompt was shown (the answer comes through the prompter)."""

    run_id: str
    step_id: str
    kind: str
    text: str
    answer: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file belonging to the run (CAN trace, SCPI transcript, report)."""

    run_id: str
    step_id: str | None
    name: str
    media_type: str
    path: str


@dataclass(frozen=True)
class StepFinished:
    run_id: str
    step_id: str
    seq: int
    group: str
    index: int
    name: str
    type: str
    outcome: Outcome
    started_at: str
    ended_at: str
    error: str | None = None
    attempts: int = 1
    duration_s: float = 0.0


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    outcome: Outcome  # never SKIPPED
    ended_at: str  # wall clock
    safe_state_ok: bool
    safe_state_detail: str = ""
    failed_steps: tuple[str, ...] = field(default_factory=tuple)
    virtual_ended_at: str | None = None


Event = (
    RunStarted
    | StepStarted
    | Measurement
    | Sample
    | Progress
    | Log
    | Prompt
    | Attachment
    | Component
    | StepFinished
    | RunFinished
)
