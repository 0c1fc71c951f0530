"""Capacity: charge and discharge the pack, counting charge and energy from samples.

``mode = "partial"`` (in-line EOL, minutes): discharge a fixed ``partial_ah`` at constant
current and record the charge and energy moved and the voltage drop.
``mode = "full"`` (audit packs, hours): CC-CV charge to full, rest, CC discharge to the
cut-off voltage; the discharged Ah and Wh are the pack's capacity and energy.

Ah and Wh come from trapezoid integration of the instruments' measured V and I (never set
values), sampled at ``sample_period_s`` (≥ 1 Hz by default) and recorded as the run's
time series. Independent guards (pack voltage window, current, time budget) stop the step
with ERROR; every output is switched off on every way out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.power import (
    DischargeWith,
    Integrator,
    PowerPath,
    Reading,
    check_guards,
    record_sample,
)

_PARTIAL = (
    MeasurementSpec("discharged_ah", "Ah", doc="charge taken out by the station"),
    MeasurementSpec("energy_wh", "Wh", doc="energy taken out"),
    MeasurementSpec("start_voltage_v", "V", doc="pack voltage before the discharge"),
    MeasurementSpec("end_voltage_v", "V", doc="pack voltage at the end of the discharge"),
)
_FULL = (
    MeasurementSpec("charged_ah", "Ah", doc="charge put in by the CC-CV charge"),
    MeasurementSpec("capacity_ah", "Ah", doc="charge taken out down to the cut-off"),
    MeasurementSpec("energy_wh", "Wh", doc="energy taken out down to the cut-off"),
    MeasurementSpec("duration_s", "s", doc="duration of the discharge"),
)


@register
class Capacity(StepType):
    """Partial (in-line) or full (audit) capacity test by coulomb counting."""

    name = "capacity"
    roles = ("supply",)
    energises = True

    @dataclass(frozen=True)
    class Params:
        mode: Literal["partial", "full"]
        discharge_current_a: float
        discharge_cutoff_v: float
        guard_min_v: float
        guard_max_v: float
        partial_ah: float = 1.0
        charge_current_a: float = 0.0
        charge_voltage_v: float = 0.0
        cv_cutoff_a: float = 1.0
        rest_s: float = 600.0
        max_time_s: float = 6 * 3600.0
        sample_period_s: float = 1.0
        discharge_with: DischargeWith = "supply"
        use_dmm: bool = False

        def __post_init__(self) -> None:
            if self.discharge_current_a <= 0:
                raise ValueError("params.discharge_current_a must be > 0")
            if not 0 < self.sample_period_s <= 10:
                raise ValueError("params.sample_period_s must be in (0, 10] s")
            if self.guard_min_v >= self.guard_max_v:
                raise ValueError("params.guard_min_v must be below params.guard_max_v")
            if not self.guard_min_v <= self.discharge_cutoff_v < self.guard_max_v:
                raise ValueError("params.discharge_cutoff_v must lie inside the guard window")
            if self.mode == "partial" and self.partial_ah <= 0:
                raise ValueError("params.partial_ah must be > 0 in partial mode")
            if self.mode == "full":
                if self.charge_current_a <= 0 or self.charge_voltage_v <= 0:
                    raise ValueError(
                        "params.charge_current_a and charge_voltage_v are needed in full mode"
                    )
                if self.charge_voltage_v > self.guard_max_v:
                    raise ValueError("params.charge_voltage_v is above params.guard_max_v")

    def declared(self, params: Any) -> tuple[MeasurementSpec, ...]:
        return _PARTIAL if params.mode == "partial" else _FULL

    def run(self, ctx: StepContext, params: Any) -> None:
        path = PowerPath(ctx, params.discharge_with)
        if params.use_dmm:
            path.use_dmm_for_voltage()
        limit_a = 1.2 * max(params.discharge_current_a, params.charge_current_a)
        deadline = ctx.now() + params.max_time_s

        def sample(integrator: Integrator) -> Reading:
            r = path.read()
            record_sample(ctx, r)
            integrator.add(r)
            check_guards(r, min_v=params.guard_min_v, max_v=params.guard_max_v, max_abs_a=limit_a)
            if ctx.now() > deadline:
                raise StationError(
                    f"capacity test exceeded its time budget {params.max_time_s:g} s"
                )
            return r

        try:
            charged_ah = 0.0
            if params.mode == "full":
                charged_ah = self._charge(params, path, sample)
                path.off()
                ctx.wait(params.rest_s)
            start = path.read()
            counter = Integrator()
            counter.add(start)
            record_sample(ctx, start)
            path.discharge(params.discharge_current_a, params.discharge_cutoff_v)
            t0 = ctx.now()
            expected_s = (
                params.partial_ah / params.discharge_current_a * 3600.0
                if params.mode == "partial"
                else None
            )
            r = start
            while True:
                ctx.wait(params.sample_period_s)
                r = sample(counter)
                if params.mode == "partial":
                    ctx.progress(
                        counter.ah_discharged / params.partial_ah, _eta(ctx.now() - t0, expected_s)
                    )
                    if counter.ah_discharged >= params.partial_ah:
                        break
                if r.voltage_v <= params.discharge_cutoff_v:
                    if params.mode == "partial":
                        raise StationError(
                            f"pack reached the cut-off {params.discharge_cutoff_v:g} V after "
                            f"{counter.ah_discharged:.3f} Ah of {params.partial_ah:g} Ah"
                        )
                    break
            path.off()
        finally:
            path.off()
        if params.mode == "partial":
            ctx.measure("discharged_ah", counter.ah_discharged)
            ctx.measure("energy_wh", counter.wh_discharged)
            ctx.measure("start_voltage_v", start.voltage_v)
            ctx.measure("end_voltage_v", r.voltage_v)
        else:
            ctx.measure("charged_ah", charged_ah)
            ctx.measure("capacity_ah", counter.ah_discharged)
            ctx.measure("energy_wh", counter.wh_discharged)
            ctx.measure("duration_s", ctx.now() - t0)

    def _charge(self, params: Any, path: PowerPath, sample: Any) -> float:
        """CC-CV charge until the current tapers below the cut-off; return Ah put in."""
        counter = Integrator()
        counter.add(path.read())
        path.charge(params.charge_current_a, params.charge_voltage_v)
        while True:
            path.ctx.wait(params.sample_period_s)
            r = sample(counter)
            in_cv = r.voltage_v >= params.charge_voltage_v * 0.995
            if in_cv and -r.current_a <= params.cv_cutoff_a:
                return counter.ah_charged


def _eta(elapsed_s: float, expected_s: float | None) -> float | None:
    return None if expected_s is None else max(0.0, expected_s - elapsed_s)
