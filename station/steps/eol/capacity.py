"""Capacity: charge and discharge the pack, counting charge and energy from samples.

``mode = "partial"`` (in-line EOL, minutes): discharge a fixed ``partial_ah`` at constant
current. The charge moved is the stop condition, so it says nothing about the pack; with
``rated_capacity_ah`` the step also measures what the stop condition does not fix:

- ``soc_capacity_ah`` = ΔAh / ΔSOC(BMS) × 100: the capacity the BMS's SOC implies. A pack
  with less capacity than rated moves its SOC faster than ΔAh / C_rated;
- ``bms_ah_error_pct``: the BMS's own current, integrated over the same samples, against
  the station's Ah (a wrong shunt or current scaling);
- ``ocv_slope_v_per_ah`` = ΔOCV / ΔAh between rests of ``ocv_rest_s`` before and after the
  discharge: on NMC the OCV falls faster per Ah on a pack with less capacity; on LFP's
  plateau the slope says almost nothing (record it, do not judge it).

``mode = "full"`` (audit packs, hours): CC-CV charge to full, rest, CC discharge to the
cut-off voltage; the discharged Ah and Wh are the pack's capacity and energy.

With ``temp_coeff_pct_per_k`` the capacity is also normalised to 25 °C from the mean BMS
cell temperature: C25 = C_T / (1 + β·(T − 25 °C)). Ah and Wh come from trapezoid
integration of the instruments' measured V and I (never set values), sampled at
``sample_period_s`` and recorded as the run's time series. Independent guards (pack voltage
window, current, time budget; cells and BMS with ``guard_cell_*``, see
:mod:`~station.steps.eol.guards`) stop the step; every output is off on every way out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.dcir import REFERENCE_C, cell_temperature
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
    Integrator,
    PowerPath,
    Reading,
    check_delivery,
    check_guards,
    record_sample,
)
from station.steps.params import AtLeast, NonNegative, Positive, Range

_PARTIAL = (
    MeasurementSpec(
        "discharged_ah", "Ah", doc="charge taken out by the station (the stop condition)"
    ),
    MeasurementSpec("energy_wh", "Wh", doc="energy taken out"),
    MeasurementSpec("start_voltage_v", "V", doc="pack voltage before the discharge"),
    MeasurementSpec("end_voltage_v", "V", doc="pack voltage at the end of the discharge"),
)
_DISCRIMINATING = (
    MeasurementSpec("bms_soc_delta_pct", "%", doc="SOC the BMS lost over the discharge"),
    MeasurementSpec(
        "soc_capacity_ah", "Ah", doc="ΔAh / ΔSOC(BMS) × 100: the capacity the BMS's SOC implies"
    ),
    MeasurementSpec(
        "bms_ah_error_pct", "%", doc="(BMS-counted Ah − station Ah) / station Ah × 100"
    ),
    MeasurementSpec(
        "ocv_slope_v_per_ah", "V/Ah", doc="(OCV before − OCV after) / ΔAh, both after a rest"
    ),
)
_FULL = (
    MeasurementSpec("charged_ah", "Ah", doc="charge put in by the CC-CV charge"),
    MeasurementSpec("capacity_ah", "Ah", doc="charge taken out down to the cut-off"),
    MeasurementSpec("energy_wh", "Wh", doc="energy taken out down to the cut-off"),
    MeasurementSpec("duration_s", "s", doc="duration of the discharge"),
)
_TEMPERATURE = (
    MeasurementSpec("temperature_c", "degC", doc="mean BMS cell temperature before the discharge"),
)


def capacity_to_25c(capacity_ah: float, temperature_c: float, coeff_pct_per_k: float) -> float:
    """C25 = C_T / (1 + β·(T − 25 °C)), β in %/K."""
    return capacity_ah / (1.0 + coeff_pct_per_k / 100.0 * (temperature_c - REFERENCE_C))


@dataclass(frozen=True)
class CapacityParams(GuardParams):
    mode: Literal["partial", "full"]
    discharge_current_a: Annotated[float, Positive]
    discharge_cutoff_v: float
    partial_ah: Annotated[float, Positive] = 1.0
    rated_capacity_ah: Annotated[float, Positive] | None = None
    ocv_rest_s: Annotated[float, NonNegative] = 60.0
    charge_current_a: float = 0.0
    charge_voltage_v: float = 0.0
    cv_cutoff_a: float = 1.0
    rest_s: float = 600.0
    max_time_s: float = 6 * 3600.0
    sample_period_s: Annotated[float, Range(0, 10, low_open=True)] = 1.0
    discharge_with: DischargeWith = "supply"
    use_dmm: bool = False
    temp_coeff_pct_per_k: Annotated[float, Range(-5, 5)] | None = None
    temperature_sensors: Annotated[int, AtLeast(1)] | None = None
    min_delivery_fraction: Annotated[float, DeliveryFraction] = 0.95

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.guard_min_v <= self.discharge_cutoff_v < self.guard_max_v:
            raise ValueError("params.discharge_cutoff_v must lie inside the guard window")
        if self.rated_capacity_ah is not None and self.mode != "partial":
            raise ValueError("params.rated_capacity_ah is for partial mode and > 0")
        if self.mode == "full":
            if self.charge_current_a <= 0 or self.charge_voltage_v <= 0:
                raise ValueError(
                    "params.charge_current_a and charge_voltage_v are needed in full mode"
                )
            if self.charge_voltage_v > self.guard_max_v:
                raise ValueError("params.charge_voltage_v is above params.guard_max_v")
        if self.temp_coeff_pct_per_k is not None and self.temperature_sensors is None:
            raise ValueError(
                "params.temperature_sensors (the BMS's sensor count, ≥ 1) is needed with "
                "params.temp_coeff_pct_per_k: the temperature is their mean"
            )


@register
class Capacity(StepType[CapacityParams]):
    """Partial (in-line) or full (audit) capacity test by coulomb counting."""

    name = "capacity"
    roles = ("supply",)
    optional_roles = ("load", "dmm", "bms")  # discharge_with, use_dmm, cell guard / 25 °C
    rated = (
        ("discharge_current_a", "supply", "max_current_a"),
        ("charge_current_a", "supply", "max_current_a"),
        ("guard_max_v", "supply", "max_voltage_v"),
    )
    energises = True

    def declared(self, params: CapacityParams) -> tuple[MeasurementSpec, ...]:
        specs: tuple[MeasurementSpec, ...]
        if params.mode == "partial":
            specs = _PARTIAL
            if params.rated_capacity_ah is not None:
                specs += _DISCRIMINATING
            normalised = "soc_capacity_ah" if params.rated_capacity_ah is not None else None
        else:
            specs = _FULL
            normalised = "capacity_ah"
        if params.temp_coeff_pct_per_k is not None and normalised is not None:
            at_25c = normalised.replace("_ah", "_25c_ah")
            specs += (*_TEMPERATURE, MeasurementSpec(at_25c, "Ah", doc=f"{normalised} at 25 °C"))
        specs += DELIVERY_MEASUREMENTS
        if params.guard_cell_min_v is not None:
            specs = (GUARD_MEASUREMENT, *specs)  # first: a trip is the step's first failure
        return specs

    def run(self, ctx: StepContext, params: CapacityParams) -> None:
        path = PowerPath(ctx, params.discharge_with)
        if params.use_dmm:
            path.use_dmm_for_voltage()
        guard = make_guard(ctx, params, path.off)
        discriminating = params.mode == "partial" and params.rated_capacity_ah is not None
        normalising = params.temp_coeff_pct_per_k is not None
        bms = ctx.instrument("bms") if discriminating or normalising else None
        limit_a = 1.2 * max(params.discharge_current_a, params.charge_current_a)
        deadline = ctx.now() + params.max_time_s
        values: dict[str, Any] = {s.name: None for s in self.declared(params)}
        values["requested_current_a"] = params.discharge_current_a
        if guard is not None:
            values["cell_guard"] = GUARD_OK
        bms_ah = [0.0]
        last_bms: list[tuple[float, float]] = []

        def sample(integrator: Integrator) -> Reading:
            r = path.read()
            record_sample(ctx, r)
            integrator.add(r)
            check_guards(r, min_v=params.guard_min_v, max_v=params.guard_max_v, max_abs_a=limit_a)
            if discriminating:
                assert bms is not None
                amps = bms.pack_current()
                ctx.sample("bms_current_A", amps)
                if last_bms:
                    t0, a0 = last_bms[-1]
                    bms_ah[0] += 0.5 * (a0 + amps) * (r.t - t0) / 3600.0
                last_bms[:] = [(r.t, amps)]
            if ctx.now() > deadline:
                raise StationError(
                    f"capacity test exceeded its time budget {params.max_time_s:g} s"
                )
            return r

        counter = Integrator()
        try:
            if params.temp_coeff_pct_per_k is not None and bms is not None:
                values["temperature_c"] = cell_temperature(ctx, bms, params.temperature_sensors)
            if params.mode == "full":
                values["charged_ah"] = self._charge(params, path, sample, guard)
                path.off()
                ctx.wait(params.rest_s)
            soc0 = None
            if discriminating:
                assert bms is not None
                ctx.wait(params.ocv_rest_s)
                soc0 = bms.soc(after=ctx.now())
            start = path.read()
            counter.add(start)
            record_sample(ctx, start)
            if bms is not None and discriminating:
                last_bms[:] = [(start.t, bms.pack_current())]
            path.discharge(params.discharge_current_a, params.discharge_cutoff_v)
            t0 = ctx.now()
            expected_s = (
                params.partial_ah / params.discharge_current_a * 3600.0
                if params.mode == "partial"
                else None
            )
            r = start
            currents: list[float] = []
            while True:
                guarded_wait(ctx, params.sample_period_s, guard)
                r = sample(counter)
                currents.append(r.current_a)
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
            delivered = _constant_current_mean(currents)
            values["delivered_current_a"] = delivered
            if params.mode == "partial":
                values.update(
                    discharged_ah=counter.ah_discharged,
                    energy_wh=counter.wh_discharged,
                    start_voltage_v=start.voltage_v,
                    end_voltage_v=r.voltage_v,
                )
            else:
                values.update(
                    capacity_ah=counter.ah_discharged,
                    energy_wh=counter.wh_discharged,
                    duration_s=ctx.now() - t0,
                )
            if discriminating:
                assert bms is not None and soc0 is not None
                ctx.wait(params.ocv_rest_s)
                soc1 = bms.soc(after=ctx.now())
                rested = path.read()
                record_sample(ctx, rested)
                moved = counter.ah_discharged
                delta = soc0 - soc1
                values.update(
                    bms_soc_delta_pct=delta,
                    soc_capacity_ah=moved / delta * 100.0 if delta > 0 else None,
                    bms_ah_error_pct=(bms_ah[0] - moved) / moved * 100.0,
                    ocv_slope_v_per_ah=(start.voltage_v - rested.voltage_v) / moved,
                )
                ctx.log(
                    f"BMS SOC {soc0:.1f} % → {soc1:.1f} % for {moved:.3f} Ah; "
                    f"OCV {start.voltage_v:.3f} V → {rested.voltage_v:.3f} V"
                )
        except GuardTripped as trip:
            path.off()
            values["cell_guard"] = str(trip)
            ctx.log(f"guard tripped, current off: {trip}", "WARNING")
        finally:
            path.off()
        temperature = values.get("temperature_c")
        for name in values:
            if name.endswith("_25c_ah"):
                raw = values[name.replace("_25c_ah", "_ah")]
                coeff = params.temp_coeff_pct_per_k
                if raw is not None and temperature is not None and coeff is not None:
                    values[name] = capacity_to_25c(raw, temperature, coeff)
        for name, value in values.items():
            ctx.measure(name, value)
        delivered = values["delivered_current_a"]
        if delivered is not None:  # recorded first: the record shows what was delivered
            check_delivery(
                params.discharge_current_a, delivered, params.min_delivery_fraction, "the discharge"
            )

    def _charge(
        self,
        params: CapacityParams,
        path: PowerPath,
        sample: Callable[[Integrator], Reading],
        guard: CellGuard | None,
    ) -> float:
        """CC-CV charge until the current tapers below the cut-off; return Ah put in."""
        counter = Integrator()
        counter.add(path.read())
        path.charge(params.charge_current_a, params.charge_voltage_v)
        while True:
            guarded_wait(path.ctx, params.sample_period_s, guard)
            r = sample(counter)
            in_cv = r.voltage_v >= params.charge_voltage_v * 0.995
            if in_cv and -r.current_a <= params.cv_cutoff_a:
                return counter.ah_charged


def _constant_current_mean(currents: list[float]) -> float:
    """Mean discharge current, leaving out the last sample (the supply may be at its floor)."""
    body = currents[:-1] or currents
    return sum(body) / len(body) if body else 0.0


def _eta(elapsed_s: float, expected_s: float | None) -> float | None:
    return None if expected_s is None else max(0.0, expected_s - elapsed_s)
