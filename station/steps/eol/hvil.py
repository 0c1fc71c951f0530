"""HVIL: the interlock loop reads closed at rest, and the BMS notices when it is broken.

The fixture relay (``interlocks.set_hvil_break``) sits in series with the pack's HVIL loop.
At rest the BMS must report the loop closed; with the relay opened it must report it open
within ``detect_s`` (a loop that is not seen open is a safety-critical escape); with the
relay closed again it must report it closed. Each answer is a BMS frame received after the
relay changed, never one sent before. The relay is back at rest on every way out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from drivers.roles import PackBms
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.cells import fresh
from station.steps.params import Positive, StepParams


def wait_for_hvil(ctx: StepContext, bms: PackBms, *, closed: bool, within_s: float) -> float | None:
    """Wait until the BMS reports the loop ``closed`` (or open); return when, None if not."""
    end = ctx.now() + within_s
    while True:
        ctx.check()
        if bms.hvil_closed(after=fresh(ctx)) == closed:
            return ctx.now()
        if ctx.now() >= end:
            return None


@dataclass(frozen=True)
class HvilParams(StepParams):
    detect_s: Annotated[float, Positive] = 0.5


@register
class Hvil(StepType[HvilParams]):
    """HVIL closed at rest, seen open when the fixture breaks it, closed again after."""

    name = "hvil"
    roles = ("bms", "interlocks")
    measurements = (
        MeasurementSpec("closed_at_rest", "", kind="bool", doc="loop closed, relay at rest"),
        MeasurementSpec(
            "opens_when_broken", "", kind="bool", doc="BMS reports open within detect_s"
        ),
        MeasurementSpec("detect_time_s", "s", doc="relay opened → BMS reports open (NaN: never)"),
        MeasurementSpec(
            "closed_after_restore", "", kind="bool", doc="loop closed again, relay at rest"
        ),
    )

    def run(self, ctx: StepContext, params: HvilParams) -> None:
        bms = ctx.instrument("bms")
        io = ctx.instrument("interlocks")
        io.set_hvil_break(False)
        try:
            at_rest = bms.hvil_closed(after=fresh(ctx))
            io.set_hvil_break(True)
            broken_at = ctx.now()
            seen_open = wait_for_hvil(ctx, bms, closed=False, within_s=params.detect_s)
            io.set_hvil_break(False)
            back = wait_for_hvil(ctx, bms, closed=True, within_s=params.detect_s)
        finally:
            io.set_hvil_break(False)
        ctx.measure("closed_at_rest", at_rest)
        ctx.measure("opens_when_broken", seen_open is not None)
        ctx.measure("detect_time_s", math.nan if seen_open is None else seen_open - broken_at)
        ctx.measure("closed_after_restore", back is not None)
