"""OCV and cells: the pack voltage by the DMM and by the BMS, and every cell voltage.

The DMM reads the pack through the closed contactors at the fixture terminals (the station's
reference); the BMS reports its own pack voltage and one complete snapshot of the cell
voltages, every page received after the step started, so no value predates the step and
no snapshot mixes two cycles. The step records the vector as it is; the sequence's ARRAY
limit judges each cell and the spread, and names the cells out of limits.

A cell the BMS marks invalid (an open sense wire reads 0 V on its channel and the sum of both
cells on the neighbour's) is recorded as NaN, which fails every numeric limit and is named
by the ARRAY limit: an invalid cell can never pass. The spread is taken over the valid cells
only, and Σcells is compared with the DMM only when every cell is valid (NaN otherwise).

The BMS-reading helpers here (:func:`fresh`, :func:`snapshot`) serve the other BMS steps too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from drivers.bms.readings import BmsWaitAborted
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.params import AtLeast, Positive, StepParams

CLOSED = "CLOSED"
DERIVED_V = 1e-6
"""Values derived from readings (differences, spreads, sums) are judged to 1 µV: far below
the BMS's 0.1 mV and any limit, far above the float noise of summing 96 cells (~1e-13 V)."""
FRESH_S = 1e-3
"""Ask for BMS frames received a little after now, never at now: under a virtual clock a
frame stamped with the very instant a step starts may have been measured before it."""


def fresh(ctx: StepContext) -> float:
    """The ``after`` for BMS readings that must postdate everything the step did so far."""
    return ctx.now() + FRESH_S


def snapshot(
    ctx: StepContext,
    read: Callable[..., list[float | None]],
    *,
    after: float,
    timeout_s: float,
    count: int | None,
) -> list[float | None]:
    """Take one BMS array snapshot (``read`` is ``bms.cell_voltages`` or the temperatures)."""
    try:
        values: list[float | None] = read(after, timeout_s, ctx.abort, count=count)
    except BmsWaitAborted:
        ctx.check()  # the run was aborted: AbortRequested, not an ERROR
        raise
    return values


def as_recorded(values: list[float | None]) -> list[float]:
    """Invalid elements (None) become NaN, so that the ARRAY limit fails and names them."""
    return [math.nan if v is None else float(v) for v in values]


def valid(values: list[float | None]) -> list[float]:
    """The elements the BMS reports valid."""
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def invalid_indices(values: list[float | None]) -> list[int]:
    """0-based indices of the elements the BMS marks invalid."""
    return [i for i, v in enumerate(values) if v is None or not math.isfinite(v)]


def spread(values: list[float]) -> float:
    """max − min, NaN when there is nothing to compare."""
    return max(values) - min(values) if values else math.nan


@dataclass(frozen=True)
class OcvAndCellsParams(StepParams):
    cells: Annotated[int, AtLeast(1, note="or left out")] | None = None
    nplc: float = 10.0
    snapshot_timeout_s: Annotated[float, Positive] = 5.0


@register
class OcvAndCells(StepType[OcvAndCellsParams]):
    """Pack voltage by DMM and BMS, and the BMS's cell voltages, spread and sum."""

    name = "ocv_and_cells"
    roles = ("dmm", "bms")
    measurements = (
        MeasurementSpec("dmm_voltage_v", "V", doc="pack voltage at the terminals, by the DMM"),
        MeasurementSpec("bms_voltage_v", "V", doc="pack voltage the BMS reports"),
        MeasurementSpec(
            "voltage_delta_v", "V", doc="|DMM − BMS| pack voltage", resolution=DERIVED_V
        ),
        MeasurementSpec(
            "cell_voltages", "V", kind="array", doc="every cell voltage, NaN = invalid"
        ),
        MeasurementSpec(
            "cell_spread_v", "V", doc="max − min over the valid cells", resolution=DERIVED_V
        ),
        MeasurementSpec(
            "sum_vs_pack_v", "V", doc="Σ cell voltages − DMM pack voltage", resolution=DERIVED_V
        ),
    )

    def run(self, ctx: StepContext, params: OcvAndCellsParams) -> None:
        dmm = ctx.instrument("dmm")
        bms = ctx.instrument("bms")
        start = fresh(ctx)
        state = bms.contactor_state(after=start)
        if str(state).upper() != CLOSED:
            raise StationError(
                f"ocv_and_cells needs the contactors closed (the DMM reads the pack through "
                f"them) but the BMS reports {state}; put a contactors_precharge step before it"
            )
        dmm_v = dmm.measure_dc_voltage(nplc=params.nplc)
        bms_v = bms.pack_voltage(after=start)
        cells = snapshot(
            ctx,
            bms.cell_voltages,
            after=start,
            timeout_s=params.snapshot_timeout_s,
            count=params.cells,
        )
        bad = invalid_indices(cells)
        if bad:
            ctx.log(f"the BMS marks cell(s) {bad} (0-based) invalid", "WARNING")
        good = valid(cells)
        ctx.measure("dmm_voltage_v", dmm_v)
        ctx.measure("bms_voltage_v", bms_v)
        ctx.measure("voltage_delta_v", abs(dmm_v - bms_v))
        ctx.measure("cell_voltages", as_recorded(cells))
        ctx.measure("cell_spread_v", spread(good))
        # With a cell missing, Σcells says nothing about the wiring: NaN fails its limit.
        ctx.measure("sum_vs_pack_v", math.fsum(good) - dmm_v if not bad else math.nan)
