"""Set SOC: charge or discharge the pack to its shipping state of charge.

The BMS's SOC says where the pack is and when to stop; the station counts the charge it
moves (trapezoid rule over the instruments' measured V and I) as an independent check. The
step charges through the supply or discharges through the supply's sink or the load at
``current_a`` until the BMS SOC reaches ``target_soc_pct``, then rests ``rest_s`` and reads
the final SOC. A pack already within ``tolerance_pct`` of the target is left alone.

Guards stop the step with ERROR: pack voltage outside the guard window, current above 1.2 ×
``current_a``, ``max_time_s`` exceeded, the BMS silent. If the station has moved 1.5 × the
charge the SOC change should take (``capacity_ah`` × ΔSOC) plus 2 % of ``capacity_ah`` and
the BMS SOC still has not arrived, the step stops there and records what it got: the SOC
limit then fails the pack (its SOC estimate does not follow the charge).

The contactors must already be closed (a ``contactors`` step before this one); the outputs
are off on every way out. With ``write_target`` the target is also written to the BMS's
shipping-SOC DID and read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.errors import BmsTimeout
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
from station.steps.eol.uds_session import extended_session

_MEASURED = (
    MeasurementSpec("final_soc_pct", "%", doc="SOC the BMS reports after the rest"),
    MeasurementSpec("moved_ah", "Ah", doc="charge moved by the station (+ discharged)"),
)
_WRITTEN = (
    MeasurementSpec("shipping_soc_pct", "%", doc="shipping-SOC DID read back from the BMS"),
)
_BUDGET_FACTOR = 1.5
_BUDGET_MARGIN = 0.02  # of capacity_ah


@register
class SetSoc(StepType):
    """Bring the pack to its shipping SOC, stopping on the BMS SOC."""

    name = "set_soc"
    roles = ("supply", "bms")
    energises = True

    @dataclass(frozen=True)
    class Params:
        capacity_ah: float
        current_a: float
        guard_min_v: float
        guard_max_v: float
        target_soc_pct: float = 30.0
        tolerance_pct: float = 1.0
        rest_s: float = 60.0
        max_time_s: float = 3 * 3600.0
        sample_period_s: float = 1.0
        discharge_with: DischargeWith = "supply"
        write_target: bool = False

        def __post_init__(self) -> None:
            if self.capacity_ah <= 0:
                raise ValueError("params.capacity_ah must be > 0")
            if self.current_a <= 0:
                raise ValueError("params.current_a must be > 0")
            if self.guard_min_v >= self.guard_max_v:
                raise ValueError("params.guard_min_v must be below params.guard_max_v")
            if not 0 <= self.target_soc_pct <= 100:
                raise ValueError("params.target_soc_pct must be 0 … 100 %")
            if not 0 < self.tolerance_pct <= 10:
                raise ValueError("params.tolerance_pct must be in (0, 10] %")
            if not 0 < self.sample_period_s <= 10:
                raise ValueError("params.sample_period_s must be in (0, 10] s")
            if self.rest_s < 0 or self.max_time_s <= 0:
                raise ValueError("params.rest_s must be ≥ 0 and params.max_time_s > 0")

    def declared(self, params: Any) -> tuple[MeasurementSpec, ...]:
        return _MEASURED + (_WRITTEN if params.write_target else ())

    def run(self, ctx: StepContext, params: Any) -> None:
        bms = ctx.instrument("bms")
        contactors = bms.contactor_state()
        if str(contactors) != "CLOSED":
            raise StationError(
                f"the BMS reports the contactors {contactors}: close the contactors first "
                "(a contactors step before set_soc)"
            )
        path = PowerPath(ctx, params.discharge_with)
        counter = Integrator()
        try:
            soc = bms.soc()
            delta = params.target_soc_pct - soc
            ctx.log(f"BMS SOC {soc:.1f} %, target {params.target_soc_pct:g} %")
            if abs(delta) > params.tolerance_pct:
                self._move(ctx, params, bms, path, counter, soc)
                path.off()
                ctx.wait(params.rest_s)
            else:
                ctx.log(
                    f"already within ±{params.tolerance_pct:g} % of the target: no charge moved"
                )
        finally:
            path.off()
        final = bms.soc(after=ctx.now())
        ctx.measure("final_soc_pct", final)
        ctx.measure("moved_ah", counter.ah_discharged - counter.ah_charged)
        if params.write_target:
            ctx.measure("shipping_soc_pct", _write_target(ctx, bms, params.target_soc_pct))

    def _move(
        self,
        ctx: StepContext,
        params: Any,
        bms: Any,
        path: PowerPath,
        counter: Integrator,
        soc0: float,
    ) -> None:
        """Run current until the BMS SOC reaches the target (or the charge budget is spent)."""
        target = params.target_soc_pct
        discharging = target < soc0
        expected_ah = params.capacity_ah * abs(target - soc0) / 100.0
        budget_ah = _BUDGET_FACTOR * expected_ah + _BUDGET_MARGIN * params.capacity_ah
        deadline = ctx.now() + params.max_time_s
        start = path.read()
        record_sample(ctx, start)
        counter.add(start)
        if discharging:
            path.discharge(params.current_a, params.guard_min_v)
        else:
            path.charge(params.current_a, params.guard_max_v)
        ctx.log(
            f"{'discharging' if discharging else 'charging'} at {params.current_a:g} A: "
            f"about {expected_ah:.2f} Ah to move"
        )
        while True:
            ctx.wait(params.sample_period_s)
            r: Reading = path.read()
            record_sample(ctx, r)
            counter.add(r)
            check_guards(
                r,
                min_v=params.guard_min_v,
                max_v=params.guard_max_v,
                max_abs_a=1.2 * params.current_a,
            )
            try:
                soc = bms.soc()
            except BmsTimeout as err:
                raise BmsTimeout(
                    f"the BMS stopped reporting its SOC while "
                    f"{'discharging' if discharging else 'charging'}; the current is switched "
                    f"off ({err})"
                ) from err
            ctx.sample("bms_soc_pct", soc)
            moved_ah = counter.ah_discharged if discharging else counter.ah_charged
            remaining_ah = max(0.0, expected_ah - moved_ah)
            ctx.progress(
                moved_ah / expected_ah,
                remaining_ah / params.current_a * 3600.0,
                f"SOC {soc:.1f} % → {target:g} %",
            )
            if (soc <= target) if discharging else (soc >= target):
                ctx.log(f"BMS SOC {soc:.1f} % reached after {moved_ah:.3f} Ah")
                return
            if moved_ah >= budget_ah:
                ctx.log(
                    f"moved {moved_ah:.2f} Ah (expected {expected_ah:.2f} Ah) but the BMS SOC "
                    f"is still {soc:.1f} %: stopping; the BMS SOC does not follow the charge",
                    "WARNING",
                )
                return
            if ctx.now() > deadline:
                raise StationError(
                    f"set_soc exceeded its time budget {params.max_time_s:g} s at BMS SOC "
                    f"{soc:.1f} % (target {target:g} %)"
                )


def _write_target(ctx: StepContext, bms: Any, target_pct: float) -> float:
    """Write the shipping-SOC DID (whole %), read it back, return the read-back value."""
    with extended_session(ctx, bms.uds, unlock=True) as uds:
        uds.write_did("shipping_soc", bytes([round(target_pct)]))
        raw = uds.read_did("shipping_soc")
    if len(raw) != 1:
        raise StationError(f"the shipping-SOC DID read back {len(raw)} bytes, expected 1")
    ctx.log(f"shipping SOC target {raw[0]} % written to the BMS")
    return float(raw[0])
