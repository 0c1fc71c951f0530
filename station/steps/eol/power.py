"""Moving charge in and out of the pack: the power path shared by the current-flow steps.

Station convention: pack current > 0 is discharge. A bidirectional supply charges (source)
and discharges (sink); an electronic load only discharges. Every reading is taken from
the instruments' own measurements, never from set values, and the power path always
ends with every output off, whatever happens in between.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from drivers.roles import Dmm, ElectronicLoad, PowerSupply
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext
from station.steps.params import Range

DischargeWith = Literal["supply", "load"]

DELIVERY_MEASUREMENTS = (
    MeasurementSpec(
        "requested_current_a", "A", requires_limit=False, doc="the discharge current asked for"
    ),
    MeasurementSpec(
        "delivered_current_a",
        "A",
        requires_limit=False,
        doc="the discharge current the station delivered (mean over the constant-current part)",
    ),
)


def check_delivery(requested_a: float, delivered_a: float, fraction: float, what: str) -> None:
    """ERROR (the station could not do the test) when delivery fell below ``fraction``."""
    if abs(delivered_a) < fraction * abs(requested_a):
        raise StationError(
            f"the station could not do the test: {what} asked for {abs(requested_a):g} A but "
            f"delivered {abs(delivered_a):.2f} A (< {fraction:.0%}); check the supply's power "
            "and current ratings against the pack voltage, and the power path"
        )


DeliveryFraction = Range(0, 1, low_open=True)
"""The constraint on a ``min_delivery_fraction`` parameter (see :func:`check_delivery`)."""


@dataclass(frozen=True)
class Reading:
    """One time-stamped sample of the pack's terminals."""

    t: float  # s on the run's clock
    voltage_v: float
    current_a: float  # > 0 discharge


class PowerPath:
    """Charge and discharge through the bench's supply and load, and read V and I."""

    def __init__(self, ctx: StepContext, discharge_with: DischargeWith = "supply") -> None:
        self.ctx = ctx
        self.discharge_with = discharge_with
        self.supply = ctx.instrument("supply")
        self.load = ctx.instrument("load") if discharge_with == "load" else None
        self.dmm: Dmm | None = None
        self.active: Literal["charge", "discharge", "off"] = "off"

    def use_dmm_for_voltage(self) -> None:
        """Read the pack voltage with the DMM (more accurate than the supply's readback)."""
        self.dmm = self.ctx.instrument("dmm")

    def charge(self, current_a: float, voltage_limit_v: float) -> None:
        """CC at ``current_a`` until the pack reaches ``voltage_limit_v``, then CV."""
        self.off()
        if self.discharge_with == "supply":
            self.supply.set_sink_current(0.0)
        self.supply.set_voltage(voltage_limit_v)
        self.supply.set_current(current_a)
        self.supply.set_output(True)
        self.active = "charge"

    def discharge(self, current_a: float, voltage_floor_v: float) -> None:
        """CC discharge at ``current_a``; the supply also stops sinking at the floor."""
        self.off()
        if self.discharge_with == "supply":
            self.supply.set_current(0.0)
            self.supply.set_voltage(voltage_floor_v)
            self.supply.set_sink_current(current_a)
            self.supply.set_output(True)
        else:
            assert self.load is not None  # __init__ opened it for discharge_with = "load"
            self.load.set_mode("CC", current_a)
            self.load.set_input(True)
        self.active = "discharge"

    def off(self) -> None:
        """Switch every output of the path off."""
        self.supply.set_output(False)
        if self.load is not None:
            self.load.set_input(False)
        self.active = "off"

    def read(self) -> Reading:
        """Sample voltage and current (station sign convention).

        The instrument carrying the current gives both in one exchange, unless the DMM
        reads the voltage (:meth:`use_dmm_for_voltage`).
        """
        source: PowerSupply | ElectronicLoad = self.supply
        if self.load is not None and self.active == "discharge":
            source = self.load
        if self.dmm is not None:
            current = source.measure_current()
            voltage = self.dmm.measure_dc_voltage(nplc=1.0)
        else:
            voltage, current = source.measure_voltage_and_current()
        if source is self.supply:
            current = -current  # the supply's current is > 0 charging
        if not (math.isfinite(voltage) and math.isfinite(current)):
            raise StationError(f"non-finite reading: {voltage} V, {current} A")
        return Reading(self.ctx.now(), voltage, current)


class Integrator:
    """Coulomb and energy counting by the trapezoid rule over time-stamped samples."""

    def __init__(self) -> None:
        self.ah_discharged = 0.0
        self.ah_charged = 0.0
        self.wh_discharged = 0.0
        self.wh_charged = 0.0
        self._last: Reading | None = None

    def add(self, r: Reading) -> None:
        last, self._last = self._last, r
        if last is None:
            return
        dt_h = (r.t - last.t) / 3600.0
        amps = 0.5 * (last.current_a + r.current_a)
        watts = 0.5 * (last.current_a * last.voltage_v + r.current_a * r.voltage_v)
        if amps >= 0:
            self.ah_discharged += amps * dt_h
        else:
            self.ah_charged -= amps * dt_h
        if watts >= 0:
            self.wh_discharged += watts * dt_h
        else:
            self.wh_charged -= watts * dt_h


def record_sample(ctx: StepContext, r: Reading) -> None:
    ctx.sample("pack_voltage_V", r.voltage_v)
    ctx.sample("pack_current_A", r.current_a)


def check_guards(r: Reading, *, min_v: float, max_v: float, max_abs_a: float) -> None:
    """Independent software guards: outside them the step stops with ERROR."""
    if not min_v <= r.voltage_v <= max_v:
        raise StationError(
            f"guard tripped: pack voltage {r.voltage_v:.2f} V outside {min_v:g} … {max_v:g} V"
        )
    if abs(r.current_a) > max_abs_a:
        raise StationError(f"guard tripped: pack current {r.current_a:.2f} A above {max_abs_a:g} A")
