"""DCIR: the pack's DC internal resistance from a current pulse, R = ΔV/ΔI.

The pack rests, a discharge pulse of ``current_a`` runs for ``pulse_s`` (and, optionally,
a charge pulse after a rest); the resistance is the voltage step divided by the current
step, taken twice: early in the pulse (``r0``, the ohmic part, at ``early_s``) and at the
end of the pulse (``r_end``, including the fast polarisation). A loose busbar or a bad
weld shows as a pack resistance above the golden value; the BMS-based per-cell check
lives with the BMS steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.power import DischargeWith, PowerPath, Reading, check_guards, record_sample

_DISCHARGE = (
    MeasurementSpec("r0_discharge_ohm", "Ohm", doc="ΔV/ΔI early in the discharge pulse"),
    MeasurementSpec("r_discharge_ohm", "Ohm", doc="ΔV/ΔI at the end of the discharge pulse"),
)
_CHARGE = (
    MeasurementSpec("r0_charge_ohm", "Ohm", doc="ΔV/ΔI early in the charge pulse"),
    MeasurementSpec("r_charge_ohm", "Ohm", doc="ΔV/ΔI at the end of the charge pulse"),
)


@register
class Dcir(StepType):
    """Pack DC internal resistance from a discharge (and optional charge) pulse."""

    name = "dcir"
    roles = ("supply",)
    energises = True

    @dataclass(frozen=True)
    class Params:
        current_a: float
        guard_min_v: float
        guard_max_v: float
        pulse_s: float = 10.0
        early_s: float = 0.1
        rest_s: float = 5.0
        charge_current_a: float = 0.0
        sample_period_s: float = 0.5
        discharge_with: DischargeWith = "supply"
        use_dmm: bool = True

        def __post_init__(self) -> None:
            if self.current_a <= 0:
                raise ValueError("params.current_a must be > 0")
            if self.charge_current_a < 0:
                raise ValueError("params.charge_current_a must be ≥ 0 (0 = no charge pulse)")
            if not 0 < self.early_s < self.pulse_s:
                raise ValueError("params.early_s must be > 0 and shorter than params.pulse_s")
            if self.guard_min_v >= self.guard_max_v:
                raise ValueError("params.guard_min_v must be below params.guard_max_v")

    def declared(self, params: Any) -> tuple[MeasurementSpec, ...]:
        return _DISCHARGE + (_CHARGE if params.charge_current_a > 0 else ())

    def run(self, ctx: StepContext, params: Any) -> None:
        path = PowerPath(ctx, params.discharge_with)
        if params.use_dmm:
            path.use_dmm_for_voltage()
        limit_a = 1.2 * max(params.current_a, params.charge_current_a)
        try:
            ctx.wait(params.rest_s)
            r0, r_end = self._pulse(ctx, params, path, limit_a, discharge=True)
            ctx.measure("r0_discharge_ohm", r0)
            ctx.measure("r_discharge_ohm", r_end)
            if params.charge_current_a > 0:
                ctx.wait(params.rest_s)
                r0, r_end = self._pulse(ctx, params, path, limit_a, discharge=False)
                ctx.measure("r0_charge_ohm", r0)
                ctx.measure("r_charge_ohm", r_end)
        finally:
            path.off()

    def _pulse(
        self, ctx: StepContext, params: Any, path: PowerPath, limit_a: float, *, discharge: bool
    ) -> tuple[float, float]:
        def read() -> Reading:
            r = path.read()
            record_sample(ctx, r)
            check_guards(r, min_v=params.guard_min_v, max_v=params.guard_max_v, max_abs_a=limit_a)
            return r

        before = read()
        if discharge:
            path.discharge(params.current_a, params.guard_min_v)
        else:
            path.charge(params.charge_current_a, params.guard_max_v)
        ctx.wait(params.early_s)
        early = read()
        elapsed = params.early_s
        end = early
        while elapsed < params.pulse_s:
            step = min(params.sample_period_s, params.pulse_s - elapsed)
            ctx.wait(step)
            elapsed += step
            end = read()
        path.off()
        return _resistance(before, early), _resistance(before, end)


def _resistance(before: Reading, during: Reading) -> float:
    d_i = during.current_a - before.current_a
    if abs(d_i) < 1e-3:
        raise StationError(
            f"no current flowed in the pulse ({during.current_a:.3f} A): check the power path"
        )
    # Discharge (ΔI > 0) lowers the voltage: R = −ΔV/ΔI is positive both ways.
    return -(during.voltage_v - before.voltage_v) / d_i
