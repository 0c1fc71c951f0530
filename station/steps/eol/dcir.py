"""DCIR: the pack's DC internal resistance from a current pulse, R = ΔV/ΔI.

The pack rests, a discharge pulse of ``current_a`` runs for ``pulse_s`` (and, optionally,
a charge pulse after a rest); the resistance is the voltage step divided by the current
step, taken twice: early in the pulse (``r0``, the ohmic part, at ``early_s``) and at the
end of the pulse (``r_end``, including the fast polarisation). A loose busbar or a bad
weld shows as a pack resistance above the golden value; the BMS-based per-cell check
lives with the BMS steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from drivers.roles import PackBms
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.cells import fresh, snapshot, valid
from station.steps.eol.guards import (
    GUARD_MEASUREMENT,
    GUARD_OK,
    CellGuard,
    GuardParams,
    GuardTripped,
    guarded_wait,
    make_guard,
)
from station.steps.eol.power import (
    DELIVERY_MEASUREMENTS,
    DeliveryFraction,
    DischargeWith,
    PowerPath,
    Reading,
    check_delivery,
    check_guards,
    record_sample,
)
from station.steps.params import AtLeast, Positive, Range

_DISCHARGE = (
    MeasurementSpec("r0_discharge_ohm", "Ohm", doc="ΔV/ΔI early in the discharge pulse"),
    MeasurementSpec("r_discharge_ohm", "Ohm", doc="ΔV/ΔI at the end of the discharge pulse"),
)
_CHARGE = (
    MeasurementSpec("r0_charge_ohm", "Ohm", doc="ΔV/ΔI early in the charge pulse"),
    MeasurementSpec("r_charge_ohm", "Ohm", doc="ΔV/ΔI at the end of the charge pulse"),
)
_TEMPERATURE = (
    MeasurementSpec("temperature_c", "degC", doc="mean BMS cell temperature before the pulse"),
)
REFERENCE_C = 25.0


def normalised_suffix(name: str) -> str:
    """``r0_discharge_ohm`` → ``r0_discharge_25c_ohm``."""
    return name.replace("_ohm", "_25c_ohm")


def to_25c(r_ohm: float, temperature_c: float, coeff_pct_per_k: float) -> float:
    """R at 25 °C from R at ``temperature_c``: R25 = R_T · exp(α·(T − 25 °C)), α in %/K."""
    return r_ohm * math.exp(coeff_pct_per_k / 100.0 * (temperature_c - REFERENCE_C))


def cell_temperature(ctx: StepContext, bms: PackBms, sensors: int | None) -> float:
    """Mean of the BMS temperature sensors it reports valid (one fresh snapshot)."""
    values = valid(
        snapshot(ctx, bms.cell_temperatures, after=fresh(ctx), timeout_s=5.0, count=sensors)
    )
    if not values:
        raise StationError("no valid BMS temperature sensor: cannot normalise to 25 °C")
    return sum(values) / len(values)


@dataclass(frozen=True)
class DcirParams(GuardParams):
    current_a: Annotated[float, Positive]
    pulse_s: float = 10.0
    early_s: Annotated[float, Positive] = 0.1
    rest_s: float = 5.0
    charge_current_a: Annotated[float, AtLeast(0, note="0 = no charge pulse")] = 0.0
    sample_period_s: float = 0.5
    discharge_with: DischargeWith = "supply"
    use_dmm: bool = True
    temp_coeff_pct_per_k: Annotated[float, Range(0, 10)] | None = None
    temperature_sensors: Annotated[int, AtLeast(1)] | None = None
    min_delivery_fraction: Annotated[float, DeliveryFraction] = 0.95

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.early_s >= self.pulse_s:
            raise ValueError("params.early_s must be > 0 and shorter than params.pulse_s")
        if self.temp_coeff_pct_per_k is not None and self.temperature_sensors is None:
            raise ValueError(
                "params.temperature_sensors (the BMS's sensor count, ≥ 1) is needed with "
                "params.temp_coeff_pct_per_k: the temperature is their mean"
            )


@register
class Dcir(StepType[DcirParams]):
    """Pack DC internal resistance from a discharge (and optional charge) pulse."""

    name = "dcir"
    roles = ("supply",)
    optional_roles = ("load", "dmm", "bms")  # discharge_with, use_dmm, cell guard / 25 °C
    rated = (
        ("current_a", "supply", "max_current_a"),
        ("charge_current_a", "supply", "max_current_a"),
        ("guard_max_v", "supply", "max_voltage_v"),
    )
    energises = True

    def declared(self, params: DcirParams) -> tuple[MeasurementSpec, ...]:
        specs = _DISCHARGE + (_CHARGE if params.charge_current_a > 0 else ())
        if params.temp_coeff_pct_per_k is not None:
            specs += _TEMPERATURE + tuple(
                MeasurementSpec(
                    normalised_suffix(s.name), "Ohm", doc=f"{s.doc}, normalised to 25 °C"
                )
                for s in specs
            )
        specs += DELIVERY_MEASUREMENTS
        if params.guard_cell_min_v is not None:
            specs = (GUARD_MEASUREMENT, *specs)  # first: a trip is the step's first failure
        return specs

    def run(self, ctx: StepContext, params: DcirParams) -> None:
        path = PowerPath(ctx, params.discharge_with)
        if params.use_dmm:
            path.use_dmm_for_voltage()
        guard = make_guard(ctx, params, path.off)
        limit_a = 1.2 * max(params.current_a, params.charge_current_a)
        values: dict[str, Any] = {s.name: None for s in self.declared(params)}
        values["requested_current_a"] = params.current_a
        if guard is not None:
            values["cell_guard"] = GUARD_OK
        try:
            if params.temp_coeff_pct_per_k is not None:
                values["temperature_c"] = cell_temperature(
                    ctx, ctx.instrument("bms"), params.temperature_sensors
                )
            ctx.wait(params.rest_s)
            r0, r_end, delivered = self._pulse(
                ctx, params, path, limit_a, guard, values, discharge=True
            )
            values.update(r0_discharge_ohm=r0, r_discharge_ohm=r_end, delivered_current_a=delivered)
            if params.charge_current_a > 0:
                ctx.wait(params.rest_s)
                r0, r_end, _ = self._pulse(
                    ctx, params, path, limit_a, guard, values, discharge=False
                )
                values.update(r0_charge_ohm=r0, r_charge_ohm=r_end)
        except GuardTripped as trip:
            path.off()
            values["cell_guard"] = str(trip)
            ctx.log(f"guard tripped, current off: {trip}", "WARNING")
        finally:
            path.off()
        temperature = values.get("temperature_c")
        coeff = params.temp_coeff_pct_per_k
        for name in list(values):
            source = name.replace("_25c_ohm", "_ohm")
            if name != source and values[source] is not None and temperature is not None:
                assert coeff is not None  # _25c values are declared only with a coefficient
                values[name] = to_25c(values[source], temperature, coeff)
        for name, value in values.items():
            ctx.measure(name, value)
        delivered = values["delivered_current_a"]
        if delivered is not None:  # recorded first: the record shows what was delivered
            check_delivery(params.current_a, delivered, params.min_delivery_fraction, "the pulse")

    def _pulse(
        self,
        ctx: StepContext,
        params: DcirParams,
        path: PowerPath,
        limit_a: float,
        guard: CellGuard | None,
        values: dict[str, Any],
        *,
        discharge: bool,
    ) -> tuple[float, float, float]:
        """Run one pulse; return (R early, R at the end, mean |current| delivered).

        R early goes into ``values`` as soon as it is known: a guard trip later in the pulse
        still leaves it in the record.
        """

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
        values["r0_discharge_ohm" if discharge else "r0_charge_ohm"] = _resistance(before, early)
        elapsed = params.early_s
        end = early
        currents = [abs(early.current_a)]
        while elapsed < params.pulse_s:
            step = min(params.sample_period_s, params.pulse_s - elapsed)
            guarded_wait(ctx, step, guard)
            elapsed += step
            end = read()
            currents.append(abs(end.current_a))
        path.off()
        delivered = sum(currents) / len(currents)
        return _resistance(before, early), _resistance(before, end), delivered


def _resistance(before: Reading, during: Reading) -> float:
    d_i = during.current_a - before.current_a
    if abs(d_i) < 1e-3:
        raise StationError(
            f"no current flowed in the pulse ({during.current_a:.3f} A): check the power path"
        )
    # Discharge (ΔI > 0) lowers the voltage: R = −ΔV/ΔI is positive both ways.
    return -(during.voltage_v - before.voltage_v) / d_i
