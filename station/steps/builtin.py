"""Step types every sequence can use regardless of the bench: wait, prompt, DMM voltage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from station.steps.api import MeasurementSpec, PromptRequest, StepContext, StepType, register


@register
class Wait(StepType):
    """Wait a fixed time on the run's clock (abortable), e.g. to let a pack relax."""

    name = "wait"

    @dataclass(frozen=True)
    class Params:
        seconds: float

        def __post_init__(self) -> None:
            if self.seconds < 0:
                raise ValueError(f"params.seconds must be ≥ 0, got {self.seconds}")

    def run(self, ctx: StepContext, params: Any) -> None:
        ctx.wait(params.seconds)


@register
class Prompt(StepType):
    """Ask the operator something: confirm, choose, enter a number or text, or read a
    message (with an optional picture, e.g. "connect the HV harness").

    Records the answer as ``answer`` (text). A ``confirm`` prompt answered "no" is
    recorded as such; put a limit on ``answer`` (``STREQ "yes"``) to make it a check.
    """

    name = "prompt"
    measurements = (MeasurementSpec("answer", "", kind="text", requires_limit=False),)

    @dataclass(frozen=True)
    class Params:
        text: str
        kind: Literal["confirm", "choice", "number", "text", "message"] = "message"
        choices: list[str] | None = None
        minimum: float | None = None
        maximum: float | None = None
        pattern: str | None = None
        image: str | None = None

        def __post_init__(self) -> None:
            if self.kind == "choice" and not self.choices:
                raise ValueError("params.choices is required when kind = 'choice'")
            if (
                self.minimum is not None
                and self.maximum is not None
                and self.minimum > self.maximum
            ):
                raise ValueError(
                    f"params.minimum {self.minimum} is above params.maximum {self.maximum}"
                )

    def run(self, ctx: StepContext, params: Any) -> None:
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
        ctx.measure("answer", "" if answer is None else answer)


@register
class DmmVoltage(StepType):
    """Measure a DC voltage with the station DMM (e.g. pack terminals, fixture bus)."""

    name = "dmm_voltage"
    roles = ("dmm",)
    measurements = (MeasurementSpec("voltage", "V", doc="DC voltage read by the DMM"),)

    @dataclass(frozen=True)
    class Params:
        range_v: float | None = None
        nplc: float = 10.0

    def run(self, ctx: StepContext, params: Any) -> None:
        dmm = ctx.instrument("dmm")
        ctx.measure("voltage", dmm.measure_dc_voltage(range_v=params.range_v, nplc=params.nplc))
