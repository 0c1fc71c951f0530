"""Insulation monitor (IMD) functional test: the BMS must see a known fault the fixture adds.

A terminal IR test with the contactors open never reaches the cell stack behind them. The
BMS's own insulation monitor does: it sits inside the contactors. This step proves that
monitor works and reads the stack's insulation, with the contactors **closed** (a
``contactors_precharge`` step with ``leave_closed = true`` before it):

1. **At rest** the BMS's reading (``insulation_at_rest_ohm``) covers the stack and, through
   the closed contactors, the conductors outside; a fault inside the stack shows here.
2. **Test resistor on.** A fixture relay (``interlocks.set_imd_test_resistor``) puts a
   known resistor from one pole to chassis at the HV connector. The BMS must report below
   ``detect_below_ohm`` within ``detect_timeout_s`` (``detect_time_s``; NaN = never) and its
   reading then (``insulation_with_resistor_ohm``) should be close to the resistor: a monitor
   that never reports a fault fails here.
3. **Test resistor off.** The reading must rise above ``detect_below_ohm`` again within
   ``recover_timeout_s`` (``recovered``).

Every reading is a BMS frame received after the relay changed. The relay is off again on
every way out. The step puts a resistor onto live HV, so the engine checks the interlocks
first and the step checks them again before switching it on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from drivers.roles import PackBms
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.cells import fresh
from station.steps.params import Positive, StepParams


def wait_for_reading(
    ctx: StepContext, bms: PackBms, *, below: bool, threshold: float, within_s: float, poll_s: float
) -> tuple[float | None, float]:
    """Wait until the BMS's insulation reads below (or at/above) ``threshold``.

    Return (when, the last reading in Ω); when is None if it did not within ``within_s``.
    """
    end = ctx.now() + within_s
    while True:
        ctx.check()
        ohms = float(bms.insulation_ohm(after=fresh(ctx)))
        if (ohms < threshold) == below:
            return ctx.now(), ohms
        if ctx.now() >= end:
            return None, ohms
        ctx.wait(poll_s)


@dataclass(frozen=True)
class ImdFunctionParams(StepParams):
    test_resistor_ohm: Annotated[float, Positive]
    detect_below_ohm: float
    detect_timeout_s: Annotated[float, Positive] = 10.0
    recover_timeout_s: Annotated[float, Positive] = 10.0
    poll_s: Annotated[float, Positive] = 0.2

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.detect_below_ohm > self.test_resistor_ohm:
            raise ValueError(
                "params.detect_below_ohm must be above params.test_resistor_ohm "
                "(the monitor must read the resistor as a fault)"
            )


@register
class ImdFunction(StepType[ImdFunctionParams]):
    """The BMS insulation monitor reads the stack and sees the fixture's test resistor."""

    name = "imd_function"
    roles = ("bms", "interlocks")
    energises = True
    measurements = (
        MeasurementSpec(
            "insulation_at_rest_ohm",
            "Ohm",
            doc="the BMS's reading, test resistor off; inf = above its range",
        ),
        MeasurementSpec(
            "insulation_with_resistor_ohm",
            "Ohm",
            doc="the BMS's reading with the test resistor on (last one read)",
        ),
        MeasurementSpec(
            "detect_time_s", "s", doc="resistor on → BMS reads below detect_below_ohm; NaN: never"
        ),
        MeasurementSpec(
            "recovered", "", kind="bool", doc="reading back above detect_below_ohm, resistor off"
        ),
    )

    def run(self, ctx: StepContext, params: ImdFunctionParams) -> None:
        bms = ctx.instrument("bms")
        io = ctx.instrument("interlocks")
        state = str(bms.contactor_state(after=fresh(ctx)))
        if state.upper() != "CLOSED":
            raise StationError(
                f"the BMS reports the contactors {state}: the insulation monitor sees the "
                "fixture's test resistor only through closed contactors; close them first "
                "(contactors_precharge step with leave_closed = true)"
            )
        io.set_imd_test_resistor(False)
        try:
            at_rest = float(bms.insulation_ohm(after=fresh(ctx)))
            ctx.require_interlocks_safe()
            io.set_imd_test_resistor(True)
            switched_on = ctx.now()
            seen, with_resistor = wait_for_reading(
                ctx,
                bms,
                below=True,
                threshold=params.detect_below_ohm,
                within_s=params.detect_timeout_s,
                poll_s=params.poll_s,
            )
            io.set_imd_test_resistor(False)
            back, _ = wait_for_reading(
                ctx,
                bms,
                below=False,
                threshold=params.detect_below_ohm,
                within_s=params.recover_timeout_s,
                poll_s=params.poll_s,
            )
        finally:
            io.set_imd_test_resistor(False)
        ctx.log(
            f"insulation monitor: {at_rest:g} Ω at rest, {with_resistor:g} Ω with the "
            f"{params.test_resistor_ohm:g} Ω test resistor"
        )
        ctx.measure("insulation_at_rest_ohm", at_rest)
        ctx.measure("insulation_with_resistor_ohm", with_resistor)
        ctx.measure("detect_time_s", math.nan if seen is None else seen - switched_on)
        ctx.measure("recovered", back is not None)
