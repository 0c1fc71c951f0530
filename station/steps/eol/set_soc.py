"""Set SOC: bring the pack to its shipping state of charge and prove where it ended.

The regulation (IATA DGR packing instruction 965 since 1 April 2016, and PI 966 from 2026):
a lithium-ion battery shipped by air must be at a state of charge **not exceeding 30 % of its
rated capacity**. The step therefore keeps the *target* (``target_soc_pct``, where it aims,
e.g. 25 %) apart from the *limit* (the sequence's one-sided ``LE`` limits, 30 % minus a guard
band for the SOC's uncertainty), and it does not trust the BMS's SOC alone.

Method. The BMS's SOC says where the pack is and when to stop. The pack is always brought to
the target from above, so its OCV ends on the discharge branch (LFP's hysteresis): below
``target + approach_pct`` it is first charged at ``current_a`` to that point; above it, it is
discharged at ``current_a`` down to it; the last ``approach_pct`` is discharged at
``finish_current_a``, which leaves little polarisation for the rest to decay. A pack already
between ``target − tolerance_pct`` and the target is left alone. Then it rests ``rest_s``.

Measured (the station counts charge by the trapezoid rule over the instruments' own V and I):

* ``final_soc_pct``: the BMS's SOC after the rest: judged ``LE`` (30 − guard band). Every
  BMS SOC is first mapped onto the rated capacity with ``bms_soc_window_pct`` (the % of
  rated capacity at BMS SOC 0 and 100: a BMS whose SOC spans a usable window reads high at
  the bottom of it); the target, the limits and the checks are all in % of rated capacity.
* ``charge_check_pct``: the BMS's SOC change minus the station's, ``(SOC₀ − SOC_final) −
  100·moved_ah/capacity_ah``: a BMS whose SOC falls faster than the charge removed (a wrong
  capacity parameter) stops early and ships a fuller pack; judged ``GELE`` ± a few points.
* with an OCV table (``ocv_soc_pct``/``ocv_cell_v``, the cell's discharge-branch OCV from
  its data sheet): the DMM reads the pack after the rest, ``pack V / cells`` is looked up in
  the table: ``ocv_soc_pct`` (judged ``LE`` like the BMS's) and ``soc_deviation_pct`` =
  BMS − OCV (judged ``GELE`` ±): a BMS whose SOC is offset (it reads low) stops late and
  ships a fuller pack, which only an absolute reference shows. NMC's OCV resolves SOC
  everywhere; LFP's only below its plateau (about 30 %, 4 mV per % in the sim's cell), so an
  LFP target sits there.

Guards stop the step with ERROR: pack voltage outside the guard window, current above 1.2 ×
``current_a``, ``max_time_s`` exceeded, the BMS silent. With ``guard_cell_*`` every cell's
voltage and temperature is also checked every ``guard_period_s`` while current flows
(:mod:`~station.steps.eol.guards`): a cell out of its window switches the current off and is
recorded in ``cell_guard`` (FAILED, naming the cell); a silent BMS is an ERROR.

Delivery: ``requested_current_a`` is ``current_a`` and ``delivered_current_a`` the mean
|current| sampled in the ``current_a`` phases; when only the finish phase ran, both are the
finish phase's. Delivery below ``min_delivery_fraction`` of the request is an ERROR (the
station could not do the step as specified), recorded first.

If a phase has moved 1.5 × the charge its SOC change should take plus 2 % of ``capacity_ah``
and the BMS SOC still has not arrived, the step stops there and records what it got: the
checks above then fail the pack.

The contactors must already be closed (a ``contactors`` step before this one); the outputs
are off on every way out. With ``write_target`` the target is also written to the BMS's
shipping-SOC DID and read back.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Annotated

from drivers.errors import BmsTimeout
from drivers.roles import PackBms
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
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
from station.steps.eol.uds_session import extended_session
from station.steps.params import AtLeast, NonNegative, Positive, Range

_MEASURED = (
    MeasurementSpec("final_soc_pct", "%", doc="SOC the BMS reports after the rest"),
    MeasurementSpec(
        "charge_check_pct",
        "%",
        doc="BMS SOC change − the station's charge count over capacity_ah, in points",
    ),
    MeasurementSpec("moved_ah", "Ah", doc="charge moved by the station (+ discharged)"),
)
_OCV = (
    MeasurementSpec("ocv_soc_pct", "%", doc="SOC from the rested pack voltage (DMM, OCV table)"),
    MeasurementSpec("soc_deviation_pct", "%", doc="BMS SOC − OCV SOC after the rest"),
)
_WRITTEN = (
    MeasurementSpec("shipping_soc_pct", "%", doc="shipping-SOC DID read back from the BMS"),
)
_BUDGET_FACTOR = 1.5
_BUDGET_MARGIN = 0.02  # of capacity_ah


@dataclass(frozen=True)
class SetSocParams(GuardParams):
    capacity_ah: Annotated[float, Positive.noting("the rated capacity")]
    current_a: Annotated[float, Positive]
    target_soc_pct: Annotated[float, Range(0, 100)] = 25.0
    tolerance_pct: Annotated[float, Range(0, 10, low_open=True)] = 1.0
    approach_pct: Annotated[float, Range(0, 20)] = 3.0
    finish_current_a: Annotated[float, Positive] | None = None
    rest_s: Annotated[float, NonNegative] = 300.0
    max_time_s: Annotated[float, Positive] = 3 * 3600.0
    sample_period_s: Annotated[float, Range(0, 10, low_open=True)] = 1.0
    discharge_with: DischargeWith = "supply"
    write_target: bool = False
    cells: Annotated[int, AtLeast(1)] | None = None
    ocv_soc_pct: list[Annotated[float, Range(0, 100)]] = field(default_factory=list)
    ocv_cell_v: list[float] = field(default_factory=list)
    bms_soc_window_pct: list[float] = field(default_factory=lambda: [0.0, 100.0])
    min_delivery_fraction: Annotated[float, DeliveryFraction] = 0.95

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.finish_current_a is not None and self.finish_current_a > self.current_a:
            raise ValueError("params.finish_current_a must be in (0, current_a]")
        _check_ocv_table(self.ocv_soc_pct, self.ocv_cell_v, self.cells)
        window = self.bms_soc_window_pct
        if len(window) != 2 or not 0 <= window[0] < window[1] <= 100:
            raise ValueError(
                "params.bms_soc_window_pct must be [low, high] with 0 ≤ low < high ≤ 100 "
                f"(% of rated capacity at BMS SOC 0 and 100), got {window}"
            )

    def rated_pct(self, bms_soc_pct: float) -> float:
        """Get a BMS SOC as % of the rated capacity (the BMS's window mapped onto it)."""
        low, high = self.bms_soc_window_pct
        return low + bms_soc_pct * (high - low) / 100.0

    @property
    def finish_a(self) -> float:
        """Get the current of the last approach_pct (a tenth of current_a by default)."""
        return self.finish_current_a or self.current_a / 10.0


@register
class SetSoc(StepType[SetSocParams]):
    """Bring the pack to its shipping SOC from above and cross-check the BMS's SOC."""

    name = "set_soc"
    roles = ("supply", "bms", "dmm")
    optional_roles = ("load",)  # discharge_with = "load"
    rated = (
        ("current_a", "supply", "max_current_a"),
        ("guard_max_v", "supply", "max_voltage_v"),
    )
    energises = True

    def declared(self, params: SetSocParams) -> tuple[MeasurementSpec, ...]:
        ocv = _OCV if params.ocv_soc_pct else ()
        specs = _MEASURED + ocv + (_WRITTEN if params.write_target else ()) + DELIVERY_MEASUREMENTS
        if params.guard_cell_min_v is not None:
            specs = (GUARD_MEASUREMENT, *specs)  # first: a trip is the step's first failure
        return specs

    def run(self, ctx: StepContext, params: SetSocParams) -> None:
        bms = ctx.instrument("bms")
        contactors = bms.contactor_state()
        if str(contactors) != "CLOSED":
            raise StationError(
                f"the BMS reports the contactors {contactors}: close the contactors first "
                "(a contactors step before set_soc)"
            )
        path = PowerPath(ctx, params.discharge_with)
        guard = make_guard(ctx, params, path.off)
        counter = Integrator()
        target = params.target_soc_pct
        approach = min(100.0, target + params.approach_pct)
        main_a: list[float] = []  # |current| of the current_a phases
        finish_a: list[float] = []
        trip: GuardTripped | None = None
        try:
            soc0 = soc = params.rated_pct(bms.soc())
            ctx.log(f"BMS SOC {soc:.1f} %, target {target:g} % (reached from above)")
            if target - params.tolerance_pct <= soc <= target:
                ctx.log(f"already within {params.tolerance_pct:g} % below the target: no move")
            else:
                move = _Move(ctx, params, bms, path, counter, guard)
                if soc < approach:
                    soc = move.run(soc, approach, main_a, charge=True)
                if soc > approach:
                    soc = move.run(soc, approach, main_a)
                move.run(soc, target, finish_a, finish=True)
                path.off()
                ctx.wait(params.rest_s)
        except GuardTripped as tripped:
            path.off()
            trip = tripped
            ctx.log(f"guard tripped, current off: {tripped}", "WARNING")
        finally:
            path.off()
        requested, delivered = (
            (params.current_a, main_a) if main_a or not finish_a else (params.finish_a, finish_a)
        )
        if guard is not None:
            ctx.measure("cell_guard", str(trip) if trip is not None else GUARD_OK)
        ctx.measure("requested_current_a", requested)
        mean_a = sum(delivered) / len(delivered) if delivered else None
        ctx.measure("delivered_current_a", mean_a)
        moved_ah = counter.ah_discharged - counter.ah_charged
        if trip is not None:  # the pack failed: record what was moved, measure nothing else
            ctx.measure("moved_ah", moved_ah)
            done = {"cell_guard", "requested_current_a", "delivered_current_a", "moved_ah"}
            for spec in self.declared(params):
                if spec.name not in done:
                    ctx.measure(spec.name, None)
            return
        final = params.rated_pct(bms.soc(after=ctx.now()))
        ctx.measure("final_soc_pct", final)
        ctx.measure("charge_check_pct", (soc0 - final) - 100.0 * moved_ah / params.capacity_ah)
        ctx.measure("moved_ah", moved_ah)
        if params.ocv_soc_pct:
            assert params.cells is not None  # __post_init__: the OCV table needs the cell count
            pack_v = ctx.instrument("dmm").measure_dc_voltage(nplc=10.0)
            cell_v = pack_v / params.cells
            ocv_soc = soc_from_ocv(params.ocv_soc_pct, params.ocv_cell_v, cell_v)
            ctx.log(f"rested pack {pack_v:.3f} V, {cell_v:.4f} V per cell: OCV SOC {ocv_soc:.1f} %")
            ctx.measure("ocv_soc_pct", ocv_soc)
            ctx.measure("soc_deviation_pct", final - ocv_soc)
        if mean_a is not None:  # recorded first: the record shows what was delivered
            check_delivery(requested, mean_a, params.min_delivery_fraction, "the SOC move")
        if params.write_target:
            ctx.measure("shipping_soc_pct", _write_target(ctx, bms, target))


@dataclass
class _Move:
    """One SOC move's context: the step, its power path, charge counter and cell guard."""

    ctx: StepContext
    params: SetSocParams
    bms: PackBms
    path: PowerPath
    counter: Integrator
    guard: CellGuard | None

    def run(
        self,
        soc0: float,
        target: float,
        delivered_a: list[float],
        *,
        charge: bool = False,
        finish: bool = False,
    ) -> float:
        """Run current until the BMS SOC reaches ``target`` (or the charge budget is spent).

        Return the last BMS SOC read; the phase's |current| samples go into ``delivered_a``.
        """
        ctx, params, bms, path, counter = self.ctx, self.params, self.bms, self.path, self.counter
        if (soc0 >= target) if charge else (soc0 <= target):
            return soc0
        amps = params.finish_a if finish else params.current_a
        expected_ah = params.capacity_ah * abs(target - soc0) / 100.0
        budget_ah = _BUDGET_FACTOR * expected_ah + _BUDGET_MARGIN * params.capacity_ah
        deadline = ctx.now() + params.max_time_s
        start = path.read()
        record_sample(ctx, start)
        counter.add(start)
        charged0, discharged0 = counter.ah_charged, counter.ah_discharged
        if charge:
            path.charge(amps, params.guard_max_v)
        else:
            path.discharge(amps, params.guard_min_v)
        what = "charging" if charge else "discharging"
        ctx.log(f"{what} at {amps:g} A to {target:g} %: about {expected_ah:.2f} Ah to move")
        currents: list[float] = []
        while True:
            guarded_wait(ctx, params.sample_period_s, self.guard)
            r: Reading = path.read()
            record_sample(ctx, r)
            counter.add(r)
            currents.append(abs(r.current_a))
            check_guards(
                r,
                min_v=params.guard_min_v,
                max_v=params.guard_max_v,
                max_abs_a=1.2 * params.current_a,
            )
            try:
                soc = float(params.rated_pct(bms.soc()))
            except BmsTimeout as err:
                raise BmsTimeout(
                    f"the BMS stopped reporting its SOC while {what}; the current is switched "
                    f"off ({err})"
                ) from err
            ctx.sample("bms_soc_pct", soc)
            moved_ah = (
                counter.ah_charged - charged0 if charge else counter.ah_discharged - discharged0
            )
            remaining_ah = max(0.0, expected_ah - moved_ah)
            ctx.progress(
                moved_ah / expected_ah if expected_ah > 0 else 1.0,
                remaining_ah / amps * 3600.0,
                f"SOC {soc:.1f} % → {target:g} %",
            )
            if (soc >= target) if charge else (soc <= target):
                ctx.log(f"BMS SOC {soc:.1f} % reached after {moved_ah:.3f} Ah")
                path.off()
                delivered_a.extend(currents)
                return soc
            if moved_ah >= budget_ah:
                ctx.log(
                    f"moved {moved_ah:.2f} Ah (expected {expected_ah:.2f} Ah) but the BMS SOC "
                    f"is still {soc:.1f} %: stopping; the BMS SOC does not follow the charge",
                    "WARNING",
                )
                path.off()
                delivered_a.extend(currents)
                return soc
            if ctx.now() > deadline:
                raise StationError(
                    f"set_soc exceeded its time budget {params.max_time_s:g} s at BMS SOC "
                    f"{soc:.1f} % (target {target:g} %)"
                )


def _check_ocv_table(socs: list[float], volts: list[float], cells: int | None) -> None:
    """Raise ValueError unless the OCV table is absent, or usable with a cell count."""
    if not socs and not volts:
        return
    if len(socs) != len(volts) or len(socs) < 2:
        raise ValueError(
            "params.ocv_soc_pct and params.ocv_cell_v must be lists of the same length (≥ 2)"
        )
    if any(b <= a for a, b in pairwise(socs)) or any(b <= a for a, b in pairwise(volts)):
        raise ValueError("params.ocv_soc_pct and params.ocv_cell_v must both rise strictly")
    if cells is None:
        raise ValueError("params.cells (cells in series) is required with an OCV table")


def soc_from_ocv(socs: list[float], volts: list[float], cell_v: float) -> float:
    """Look ``cell_v`` up in the OCV table (linear between points, clamped at its ends)."""
    if not math.isfinite(cell_v):
        raise StationError(f"the DMM read a non-finite pack voltage ({cell_v} V per cell)")
    if cell_v <= volts[0]:
        return socs[0]
    if cell_v >= volts[-1]:
        return socs[-1]
    i = bisect.bisect_right(volts, cell_v)
    v0, v1, s0, s1 = volts[i - 1], volts[i], socs[i - 1], socs[i]
    return s0 + (s1 - s0) * (cell_v - v0) / (v1 - v0)


def _write_target(ctx: StepContext, bms: PackBms, target_pct: float) -> float:
    """Write the shipping-SOC DID (whole %), read it back, return the read-back value."""
    with extended_session(ctx, bms.uds, unlock=True) as uds:
        uds.write_did("shipping_soc", bytes([round(target_pct)]))
        raw = uds.read_did("shipping_soc")
    if len(raw) != 1:
        raise StationError(f"the shipping-SOC DID read back {len(raw)} bytes, expected 1")
    ctx.log(f"shipping SOC target {raw[0]} % written to the BMS")
    return float(raw[0])
