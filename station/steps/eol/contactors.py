"""Contactors: close them through the BMS with precharge (timed), or close/open on demand.

The station commands the contactors with the BMS's UDS routines (extended session, security
unlocked): ``close_contactors`` precharges the bus and closes the main contactors (the BMS
answers 0x78 responsePending meanwhile; the client waits), ``open_contactors`` opens them.
The state recorded is always a BMS frame received after the command was answered.

Who is at fault: a BMS that refuses the close with NRC 0x22 conditionsNotCorrect (HVIL open,
insulation low, precharge timed out) or 0x72 generalProgrammingFailure is telling the station
that the *pack* cannot close: that is recorded (``closed`` false, the state as reported) and
judged as a FAIL, not raised. Any other negative response (session, security, unknown
routine) or no answer is the station's problem and raises (ERROR).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

from drivers.errors import BmsNegativeResponse
from drivers.roles import PackBms
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.cells import fresh
from station.steps.eol.insulation import TOUCH_SAFE_V
from station.steps.params import Positive, Range, StepParams

PACK_REFUSALS = frozenset({0x22, 0x72})
"""NRCs by which the BMS says the pack cannot do it (recorded as a FAIL, not raised)."""


def unlock(bms: PackBms) -> None:
    """Extended session and security access: what the contactor routines need."""
    bms.uds.change_session("extended")
    bms.uds.unlock()


def command(ctx: StepContext, bms: PackBms, routine: str) -> bool:
    """Run a contactor routine; False when the BMS refused it for a reason of the pack."""
    try:
        status = bms.uds.routine(routine)
    except BmsNegativeResponse as err:
        if err.nrc not in PACK_REFUSALS:
            raise
        ctx.log(f"{routine}: {err}", "WARNING")
        return False
    ctx.log(f"{routine}: answered, status record {status.hex(' ').upper() or 'empty'}")
    return True


def state_now(ctx: StepContext, bms: PackBms) -> str:
    """The contactor state from a BMS frame received after now (its DBC label)."""
    return str(bms.contactor_state(after=fresh(ctx)))


def is_state(state: str, wanted: str) -> bool:
    return state.upper() == wanted


_CLOSING = (
    MeasurementSpec("closed", "", kind="bool", doc="the BMS reports the contactors CLOSED"),
    MeasurementSpec("precharge_time_s", "s", doc="close request → CLOSED answered (NaN: never)"),
    MeasurementSpec("bus_voltage_v", "V", doc="bus voltage the BMS reports after closing"),
    MeasurementSpec("bus_to_pack_ratio", "", doc="BMS bus voltage / BMS pack voltage"),
)
_OPENING = (
    MeasurementSpec("opened", "", kind="bool", doc="the BMS reports them OPEN again"),
    MeasurementSpec(
        "bus_decay_ratio", "", doc="bus voltage decay_s after opening / before opening"
    ),
)


@dataclass(frozen=True)
class ContactorsPrechargeParams(StepParams):
    leave_closed: bool = True
    decay_s: Annotated[float, Positive] = 5.0


@register
class ContactorsPrecharge(StepType[ContactorsPrechargeParams]):
    """Close the contactors with precharge; time it and check the bus reached the pack."""

    name = "contactors_precharge"
    roles = ("bms",)
    energises = True
    measurements = _CLOSING + _OPENING

    def declared(self, params: ContactorsPrechargeParams) -> tuple[MeasurementSpec, ...]:
        return _CLOSING + (() if params.leave_closed else _OPENING)

    def run(self, ctx: StepContext, params: ContactorsPrechargeParams) -> None:
        bms = ctx.instrument("bms")
        unlock(bms)
        try:
            requested = ctx.now()
            answered = command(ctx, bms, "close_contactors")
            closing_took = ctx.now() - requested
            state = state_now(ctx, bms)
            closed = answered and is_state(state, "CLOSED")
            after = fresh(ctx)
            bus_v = bms.bus_voltage(after=after)
            pack_v = bms.pack_voltage(after=after)
            ctx.measure("closed", closed)
            ctx.measure("precharge_time_s", closing_took if closed else math.nan)
            ctx.measure("bus_voltage_v", bus_v)
            ctx.measure("bus_to_pack_ratio", bus_v / pack_v if pack_v > 0 else math.nan)
            if not params.leave_closed:
                self._open(ctx, bms, params, bus_v)
        except BaseException:
            # Never leave the pack live because the step broke off.
            try:
                command(ctx, bms, "open_contactors")
            except StationError as err:
                ctx.log(f"could not open the contactors after the step failed: {err}", "ERROR")
            raise

    def _open(
        self, ctx: StepContext, bms: PackBms, params: ContactorsPrechargeParams, bus_before_v: float
    ) -> None:
        command(ctx, bms, "open_contactors")
        opened = is_state(state_now(ctx, bms), "OPEN")
        ctx.wait(params.decay_s)
        bus_after_v = bms.bus_voltage(after=fresh(ctx))
        ctx.measure("opened", opened)
        ratio = bus_after_v / bus_before_v if bus_before_v > 0 else math.nan
        ctx.measure("bus_decay_ratio", ratio)


@dataclass(frozen=True)
class ContactorsParams(StepParams):
    action: Literal["close", "open"]
    discharged_below_v: Annotated[float, Range(0, TOUCH_SAFE_V, low_open=True, unit="V")] | None = (
        None
    )
    discharge_timeout_s: Annotated[float, Positive] = 60.0
    poll_s: Annotated[float, Positive] = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.discharged_below_v is not None and self.action != "open":
            raise ValueError('params.discharged_below_v needs action = "open"')


@register
class Contactors(StepType[ContactorsParams]):
    """Close or open the contactors through the BMS and record the state it reports."""

    name = "contactors"
    roles = ("bms",)
    optional_roles = ("dmm",)  # discharged_below_v
    # Opening must work in cleanup with the door open, so the class does not energise;
    # closing checks the interlocks itself.
    energises = False
    measurements = (
        MeasurementSpec("state", "", kind="text", doc="contactor state the BMS reports after"),
        MeasurementSpec(
            "fixture_voltage_v",
            "V",
            requires_limit=False,
            doc="fixture voltage by the DMM once below discharged_below_v (with that parameter)",
        ),
    )

    def declared(self, params: ContactorsParams) -> tuple[MeasurementSpec, ...]:
        if params.discharged_below_v is None:
            return self.measurements[:1]
        return self.measurements

    def energising(self, params: ContactorsParams) -> bool:
        return bool(params.action == "close")

    def run(self, ctx: StepContext, params: ContactorsParams) -> None:
        bms = ctx.instrument("bms")
        if params.action == "close":
            ctx.require_interlocks_safe()
        unlock(bms)
        command(ctx, bms, f"{params.action}_contactors")
        ctx.measure("state", state_now(ctx, bms))
        if params.discharged_below_v is not None:
            ctx.measure("fixture_voltage_v", await_discharge(ctx, params))


def await_discharge(ctx: StepContext, params: ContactorsParams) -> float:
    """Wait until the DMM reads the fixture below ``discharged_below_v``; return the reading.

    Opening the contactors leaves the fixture's bus capacitance charged; it bleeds down in
    seconds. Until the DMM confirms it, the run must not call the pack safe to touch (an
    abort mid-run reaches cleanup with the bus at pack voltage).
    """
    below_v = params.discharged_below_v
    assert below_v is not None  # the step waits only when the sequence gives the threshold
    dmm = ctx.instrument("dmm")
    started = ctx.now()
    while True:
        volts = abs(float(dmm.measure_dc_voltage(nplc=1.0)))
        if volts < below_v:
            return volts
        elapsed = ctx.now() - started
        if elapsed >= params.discharge_timeout_s:
            raise StationError(
                f"the DMM still reads {volts:.1f} V on the fixture {elapsed:.0f} s after the "
                f"contactors opened (must be < {params.discharged_below_v:g} V): do not open "
                "the door; check the contactors and the fixture's bleed resistor"
            )
        ctx.progress(
            min(elapsed / params.discharge_timeout_s, 1.0), None, f"discharging, {volts:.0f} V"
        )
        ctx.wait(params.poll_s)
