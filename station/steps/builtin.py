"""Step types every sequence can use regardless of the bench: wait, prompt, DMM voltage."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

from station.errors import StationError
from station.patterns import PatternError, compile_safe
from station.steps.api import (
    MeasurementKind,
    MeasurementSpec,
    PromptRequest,
    StepContext,
    StepType,
    register,
)
from station.steps.params import NonNegative, StepParams


@dataclass(frozen=True)
class WaitParams(StepParams):
    seconds: Annotated[float, NonNegative]


@register
class Wait(StepType[WaitParams]):
    """Wait a fixed time on the run's clock (abortable), e.g. to let a pack relax."""

    name = "wait"

    def run(self, ctx: StepContext, params: WaitParams) -> None:
        ctx.wait(params.seconds)


_ANSWER_KINDS: dict[str, MeasurementKind] = {"number": "number", "confirm": "bool"}
"""How each prompt kind records its answer; the others record text."""


@dataclass(frozen=True)
class PromptParams(StepParams):
    text: str
    kind: Literal["confirm", "choice", "number", "text", "scan", "message"] = "message"
    choices: list[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    image: str | None = None
    component: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind == "choice" and not self.choices:
            raise ValueError("params.choices is required when kind = 'choice'")
        if self.kind == "scan" and (not self.pattern or not self.component):
            raise ValueError(
                "params.pattern and params.component are required when kind = 'scan' "
                '(e.g. component = "module", pattern = "^MOD[0-9]{8}$")'
            )
        if self.component is not None and self.kind != "scan":
            raise ValueError("params.component is only for kind = 'scan'")
        if self.pattern is not None:
            try:
                compile_safe(self.pattern)
            except PatternError as err:
                raise ValueError(f"params.pattern {err}") from None
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(
                f"params.minimum {self.minimum} is above params.maximum {self.maximum}"
            )


@register
class Prompt(StepType[PromptParams]):
    """Ask the operator something: confirm, choose, enter a number or text, or read a
    message (with an optional picture, e.g. "connect the HV harness").

    Records the answer as ``answer``, typed by the prompt's kind before it is judged: a
    ``number`` prompt records a number (within ``minimum``…``maximum``), a ``confirm``
    prompt a boolean (true for yes; a dismissed prompt is false), the other kinds text.
    Put a limit on ``answer`` to make it a check (``BOOL true`` for a confirm, ``GELE``
    for a number, ``STREQ``/``REGEX`` for text).
    A ``scan`` prompt asks for a barcode matching ``pattern``, records it as text and also
    as a ``component`` of the pack (genealogy: a module, a cell lot).
    """

    name = "prompt"
    asks_operator = True

    def declared(self, params: PromptParams) -> tuple[MeasurementSpec, ...]:
        kind = _ANSWER_KINDS.get(params.kind, "text")
        return (
            MeasurementSpec(
                "answer", "", kind=kind, requires_limit=False, doc=f"the operator's answer ({kind})"
            ),
        )

    def run(self, ctx: StepContext, params: PromptParams) -> None:
        answer = ctx.prompt(
            PromptRequest(
                kind=params.kind,
                text=params.text,
                choices=tuple(params.choices or ()),
                minimum=params.minimum,
                maximum=params.maximum,
                pattern=params.pattern,
                image=params.image,
            )
        )
        if params.kind == "scan":
            assert params.component is not None  # __post_init__: a scan names its component
            code = (answer or "").strip()
            if not compile_safe(params.pattern).fullmatch(code):
                raise StationError(
                    f"scanned {params.component} code {code!r} does not match "
                    f"{params.pattern!r}; scan the {params.component}'s label again"
                )
            ctx.component(params.component, code)
            ctx.log(f"{params.component} {code} recorded")
            answer = code
        ctx.measure("answer", typed_answer(params, answer))


def typed_answer(params: PromptParams, answer: str | None) -> str | float | bool | None:
    """Turn the operator's answer into the value its prompt kind records.

    A ``number`` answer that is not a finite number within the prompt's range raises
    StationError (the prompter let a bad answer through); a dismissed one is None.
    """
    if params.kind == "confirm":
        return answer is not None and answer.strip().lower() in ("yes", "y", "true")
    if params.kind != "number":
        return "" if answer is None else answer
    if answer is None:
        return None
    try:
        number = float(answer)
    except ValueError:
        number = math.nan
    low = -math.inf if params.minimum is None else params.minimum
    high = math.inf if params.maximum is None else params.maximum
    if not (math.isfinite(number) and low <= number <= high):
        raise StationError(
            f"prompt {params.text!r}: the answer {answer!r} is not a number within "
            f"{params.minimum} … {params.maximum}"
        )
    return number


@dataclass(frozen=True)
class DmmVoltageParams(StepParams):
    range_v: float | None = None
    nplc: float = 10.0


@register
class DmmVoltage(StepType[DmmVoltageParams]):
    """Measure a DC voltage with the station DMM (e.g. pack terminals, fixture bus)."""

    name = "dmm_voltage"
    roles = ("dmm",)
    measurements = (MeasurementSpec("voltage", "V", doc="DC voltage read by the DMM"),)

    def run(self, ctx: StepContext, params: DmmVoltageParams) -> None:
        dmm = ctx.instrument("dmm")
        ctx.measure("voltage", dmm.measure_dc_voltage(range_v=params.range_v, nplc=params.nplc))
