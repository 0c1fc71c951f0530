"""Step types for the UI tests only (named ``test_…`` like all test steps).

``test_ui_pulse`` draws a constant current from the pack with the bench's load and
streams V, I and a modelled cell temperature as Sample events, with Progress and an
ETA — the shape of the DCIR and capacity steps of ``station/steps/eol`` in a few seconds
of virtual time, which keeps the UI suite fast. It energises the pack, so the engine
checks the interlocks before and during it (the virtual bench has a simulated interlock
I/O module). ``station ui`` and ``make screenshots`` use the shipped reference sequence,
never these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from station.steps.api import MeasurementSpec, StepContext, StepType, register

AMBIENT_C = 25.0
HEATING_C_PER_A2S = 2e-5  # a made-up lumped heating rate, for a plausible curve only


@register
class Pulse(StepType):
    """Draw ``current_a`` for ``duration_s``; record the loaded voltage and the resistance."""

    name = "test_ui_pulse"
    roles = ("load",)
    energises = True
    measurements = (
        MeasurementSpec("voltage_under_load", "V"),
        MeasurementSpec("resistance", "mOhm"),
    )

    @dataclass(frozen=True)
    class Params:
        current_a: float = 50.0
        duration_s: float = 30.0
        period_s: float = 1.0

    def run(self, ctx: StepContext, params: Any) -> None:
        load = ctx.instrument("load")
        v_open = load.measure_voltage()
        steps = max(1, round(params.duration_s / params.period_s))
        temp = AMBIENT_C
        ctx.sample("pack_voltage_V", v_open)
        ctx.sample("pack_current_A", 0.0)
        ctx.sample("max_cell_temp_C", temp)
        load.set_mode("CC", params.current_a)
        load.set_input(True)
        try:
            v, i = v_open, 0.0
            for k in range(1, steps + 1):
                ctx.wait(params.period_s)
                v, i = load.measure_voltage(), load.measure_current()
                temp += HEATING_C_PER_A2S * i * i * params.period_s
                ctx.sample("pack_voltage_V", v)
                ctx.sample("pack_current_A", i)
                ctx.sample("max_cell_temp_C", temp)
                ctx.progress(k / steps, (steps - k) * params.period_s, f"{i:.0f} A")
        finally:
            load.set_input(False)
        ctx.measure("voltage_under_load", v)
        ctx.measure("resistance", (v_open - v) / i * 1000 if i > 0 else float("nan"))


@register
class ReadLabel(StepType):
    """Read the pack label with a bench barcode scanner (a role the virtual bench lacks)."""

    name = "test_ui_read_label"
    roles = ("scanner",)
    measurements = (MeasurementSpec("label", "", kind="text", requires_limit=False),)

    def run(self, ctx: StepContext, params: Any) -> None:
        ctx.measure("label", ctx.instrument("scanner").read())
