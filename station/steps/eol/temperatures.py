"""Temperatures: every BMS temperature sensor, its plausibility against ambient, the spread.

After the soak every NTC should read the station's ambient within a few degrees. The ambient
is measured by the station's own thermometer (the ``ambient`` role: a probe on a DMM or a
transmitter), never a number typed into the sequence: a pack tested in a cold or warm room
is compared with that room, and a pack that has not soaked yet is told apart. An open NTC
rails low (about −40 °C) and a shorted one high (about 150 °C); the BMS sends the railed
value (or flags the sensor invalid, recorded as NaN), and the sequence's ARRAY limit names
the sensor. The deviation from ambient and the spread are taken over the sensors the BMS
reports valid, so a railed sensor fails them as well.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.cells import as_recorded, fresh, invalid_indices, snapshot, spread, valid
from station.steps.params import AtLeast, Positive, StepParams


@dataclass(frozen=True)
class TemperaturesParams(StepParams):
    sensors: Annotated[int, AtLeast(1)]
    snapshot_timeout_s: Annotated[float, Positive] = 5.0


@register
class Temperatures(StepType[TemperaturesParams]):
    """BMS temperature sensors: each sensor, deviation from ambient and spread."""

    name = "temperatures"
    roles = ("bms", "ambient")
    measurements = (
        MeasurementSpec(
            "ambient_c",
            "degC",
            requires_limit=False,
            doc="the room, by the station's ambient thermometer",
        ),
        MeasurementSpec("temperatures", "degC", kind="array", doc="every sensor, NaN = invalid"),
        MeasurementSpec(
            "max_deviation_from_ambient_c",
            "degC",
            doc="largest |T − ambient| of the sensors",
            resolution=1e-6,  # derived: judged at 1 µK, see MeasurementSpec.resolution
        ),
        MeasurementSpec(
            "temperature_spread_c", "degC", doc="max − min of the sensors", resolution=1e-6
        ),
    )

    def run(self, ctx: StepContext, params: TemperaturesParams) -> None:
        bms = ctx.instrument("bms")
        ambient = float(ctx.instrument("ambient").measure_temperature())
        values = snapshot(
            ctx,
            bms.cell_temperatures,
            after=fresh(ctx),
            timeout_s=params.snapshot_timeout_s,
            count=params.sensors,
        )
        bad = invalid_indices(values)
        if bad:
            ctx.log(f"the BMS marks temperature sensor(s) {bad} (0-based) invalid", "WARNING")
        good = valid(values)
        deviation = max((abs(t - ambient) for t in good), default=math.nan)
        ctx.measure("ambient_c", ambient)
        ctx.measure("temperatures", as_recorded(values))
        ctx.measure("max_deviation_from_ambient_c", deviation)
        ctx.measure("temperature_spread_c", spread(good))
