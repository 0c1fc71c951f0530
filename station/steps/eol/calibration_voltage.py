"""BMS HV bus-voltage calibration: fit gain and offset, write them, verify at a third point.

With the pack's contactors OPEN the supply drives the bus side (a small current limit: the
bus is only the fixture's capacitance and the BMS's divider) to each of ``points_v``; after
``settle_s`` the reference is the DMM on the fixture bus (never the set value) and the BMS's
``bus_voltage``, each averaged over ``samples`` readings. The BMS readings are turned back
into raw ones with the calibration in use, the new gain and offset are fitted on them, and a
value outside the calibratable window is recorded and NOT written. Otherwise the record is
written and committed, read back, the BMS is reset (ECUReset) and the DID read again
(``persisted``), and the error at ``verify_v`` (not a fit point) is measured again with the
calibration the BMS runs after the reset. ``as_found_error_v`` is the error at ``verify_v``
before anything was written.

The supply is switched off on every way out and the step returns only once the DMM reads
the bus below 60 V (else ERROR).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Annotated

from drivers.roles import Dmm, PackBms, PowerSupply
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.calibration import (
    COMMON_MEASUREMENTS,
    bms_readings,
    mean,
    read_record,
    require_contactors,
    write_and_commit,
)
from station.steps.eol.calibration_fit import FitError, VoltageCalibration, Window, fit_voltage
from station.steps.params import Above, AtLeast, NonNegative, Positive, Range, StepParams

SAFE_BUS_V = 60.0
"""Below this the bus is safe to touch (ISO 6469-3 class B threshold, domain spec §5.1)."""
_DISCHARGE_POLL_S = 0.1
_DID = "voltage_calibration"


@dataclass(frozen=True)
class BmsVoltageCalibrationParams(StepParams):
    points_v: list[Annotated[float, Positive]]
    verify_v: Annotated[float, Positive]
    current_limit_a: Annotated[float, Positive] = 0.1
    settle_s: Annotated[float, NonNegative] = 1.0
    samples: Annotated[int, AtLeast(1)] = 10
    nplc: float = 1.0
    reach_tolerance_v: float = 5.0
    gain_min: Annotated[float, Range(0, 1, low_open=True, high_open=True)] = 0.95
    gain_max: Annotated[float, Above(1)] = 1.05
    offset_max_v: Annotated[float, Positive] = 5.0
    discharge_timeout_s: float = 10.0
    reset_wait_s: Annotated[float, Range(0, 60)] = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        pts = self.points_v
        if len(pts) < 2 or len(set(pts)) != len(pts):
            raise ValueError("params.points_v needs two or more different voltages")
        if self.verify_v in pts:
            raise ValueError("params.verify_v must not be one of params.points_v")

    @property
    def guard_max_v(self) -> float:
        """Get the bus voltage above which the step stops with ERROR."""
        return max(*self.points_v, self.verify_v) + self.reach_tolerance_v


@register
class BmsVoltageCalibration(StepType[BmsVoltageCalibrationParams]):
    """Calibrate the BMS's HV bus-voltage channel against the DMM, contactors open."""

    name = "bms_voltage_calibration"
    roles = ("supply", "dmm", "bms")
    energises = True
    measurements = (
        MeasurementSpec("gain", "", doc="fitted gain k (reported = k·raw + d)"),
        MeasurementSpec("offset", "V", doc="fitted offset d"),
        MeasurementSpec(
            "as_found_error_v",
            "V",
            requires_limit=False,
            doc="BMS − DMM at verify_v before calibration",
        ),
        *COMMON_MEASUREMENTS,
        MeasurementSpec(
            "verify_error_v",
            "V",
            doc="BMS − DMM at verify_v after calibration (None when nothing was written)",
        ),
    )

    def run(self, ctx: StepContext, params: BmsVoltageCalibrationParams) -> None:
        bms = ctx.instrument("bms")
        supply = ctx.instrument("supply")
        dmm = ctx.instrument("dmm")
        require_contactors(bms, "OPEN", "the supply drives the bus side of the contactors")
        in_use = VoltageCalibration.from_record(read_record(bms, _DID))
        ctx.log(f"calibration in use: gain {in_use.gain:.6f}, offset {in_use.offset_v:+.4f} V")
        total = len(params.points_v) + 2
        try:
            supply.set_output(False)
            supply.set_current(params.current_limit_a)
            supply.set_sink_current(params.current_limit_a)  # pulls the bus down between points
            supply.set_voltage(params.points_v[0])
            supply.set_output(True)
            refs, raws = [], []
            for n, volts in enumerate(params.points_v):
                ref, reported = self._point(ctx, params, bms, supply, dmm, volts)
                refs.append(ref)
                raws.append(mean([in_use.raw(v) for v in reported]))
                ctx.progress((n + 1) / total, text=f"fit point {volts:g} V")
            ref, reported = self._point(ctx, params, bms, supply, dmm, params.verify_v)
            as_found = mean(reported) - ref
            try:
                new = fit_voltage(refs, raws)
            except FitError as err:
                raise StationError(
                    f"cannot fit the bus-voltage calibration: {err} (DMM {refs} V, raw BMS "
                    f"{[round(r, 3) for r in raws]} V): does the BMS see the bus?"
                ) from None
            ctx.measure("gain", new.gain)
            ctx.measure("offset", new.offset_v)
            ctx.measure("as_found_error_v", as_found)
            window = Window(params.gain_min, params.gain_max, params.offset_max_v)
            problems = window.problems({"gain": new.gain}, new.offset_v, "V")
            if problems:
                ctx.log(f"not written, outside the calibratable range: {'; '.join(problems)}")
                ctx.measure("written", False)
                ctx.measure("readback_matches", None)
                ctx.measure("persisted", None)
                ctx.measure("verify_error_v", None)
                return
            matches, persisted = write_and_commit(ctx, bms, _DID, new.record(), params.reset_wait_s)
            ctx.measure("written", True)
            ctx.measure("readback_matches", matches)
            ctx.measure("persisted", persisted)
            ref, reported = self._point(ctx, params, bms, supply, dmm, params.verify_v)
            ctx.measure("verify_error_v", mean(reported) - ref)
            ctx.progress(1.0, text="verified")
        finally:
            _bus_down(ctx, supply, dmm, params)

    def _point(
        self,
        ctx: StepContext,
        params: BmsVoltageCalibrationParams,
        bms: PackBms,
        supply: PowerSupply,
        dmm: Dmm,
        volts: float,
    ) -> tuple[float, list[float]]:
        """Drive the bus to ``volts``; return the mean DMM reading and the BMS readings."""
        supply.set_voltage(volts)
        ctx.wait(params.settle_s)
        refs: list[float] = []

        def reference(bms_v: float) -> None:
            v = dmm.measure_dc_voltage(nplc=params.nplc)
            if v > params.guard_max_v:
                raise StationError(f"guard tripped: bus {v:.2f} V above {params.guard_max_v:g} V")
            refs.append(v)
            ctx.sample("bus_voltage_dmm_V", v)
            ctx.sample("bus_voltage_bms_V", bms_v)

        reported = bms_readings(
            ctx, bms, "bus_voltage", params.samples, after=ctx.now(), each=reference
        )
        ref = mean(refs)
        if abs(ref - volts) > params.reach_tolerance_v:
            raise StationError(
                f"the bus did not reach {volts:g} V (DMM reads {ref:.2f} V): check the supply "
                "connection to the fixture bus and the DMM leads"
            )
        return ref, reported


def _bus_down(
    ctx: StepContext, supply: PowerSupply, dmm: Dmm, params: BmsVoltageCalibrationParams
) -> None:
    """Set the supply to 0 V and off, then wait until the DMM reads the bus safe."""
    try:
        supply.set_voltage(0.0)
    finally:
        supply.set_output(False)
    # Even after an abort the bus must be proven safe: wait on an event nobody sets.
    never = threading.Event()
    end = ctx.now() + params.discharge_timeout_s
    while True:
        volts = dmm.measure_dc_voltage(nplc=params.nplc)
        if abs(volts) < SAFE_BUS_V:
            return
        if ctx.now() >= end:
            raise StationError(
                f"the bus still reads {volts:.1f} V {params.discharge_timeout_s:g} s after the "
                f"supply went off (safe: < {SAFE_BUS_V:g} V): check the bleeder; do not touch"
            )
        ctx.clock.wait(_DISCHARGE_POLL_S, never)
