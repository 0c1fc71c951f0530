"""Balancing: command balancing of a set of cells and check the BMS switches it on and off.

In the extended session with security access the step starts the balancing routine on
``cells`` (``"odd"``, ``"even"`` or a list of cell indices; indices count from 0 as in the BMS
spec, bit i of the mask = cell i), waits ``duration_s`` and reads the BMS's balancing-active
flag (``active_during``); then it stops the routine and reads the flag again
(``inactive_after``). Balancing is stopped on every way out.

The flag comes from the description's ``balancing_active`` signal
(``BMS_State.BalancingActive`` for the reference BMS). The physical check — the balanced cells'
voltage dropping by I_bal × R against their neighbours — needs a BMS that reports bleed
current or a pack model with bleed resistors; the virtual bench has neither, so this step
checks the command path and the status flag only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from drivers.errors import BmsError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.uds_session import extended_session

MASK_BYTES = 24
"""Length of the balancing routine's cell mask (reference BMS spec, RID 0x0203)."""
FLAG_ROLE = "balancing_active"


@register
class Balancing(StepType):
    """Switch balancing on for a set of cells, then off, checking the BMS's status flag."""

    name = "balancing"
    roles = ("bms",)
    measurements = (
        MeasurementSpec("active_during", "", kind="bool", doc="flag set while balancing"),
        MeasurementSpec("inactive_after", "", kind="bool", doc="flag clear after the stop"),
    )

    @dataclass(frozen=True)
    class Params:
        cells: str | list[int] = "odd"
        duration_s: float = 10.0
        cell_count: int | None = None

        def __post_init__(self) -> None:
            if isinstance(self.cells, str):
                if self.cells not in ("odd", "even"):
                    raise ValueError(
                        f"params.cells must be 'odd', 'even' or a list of cell indices, "
                        f"got {self.cells!r}"
                    )
            elif not self.cells or any(not 0 <= c < MASK_BYTES * 8 for c in self.cells):
                raise ValueError(
                    f"params.cells must list cell indices 0 … {MASK_BYTES * 8 - 1}, "
                    f"got {self.cells!r}"
                )
            if self.cell_count is not None and not 1 <= self.cell_count <= MASK_BYTES * 8:
                raise ValueError(f"params.cell_count must be 1 … {MASK_BYTES * 8}")
            if not 0 < self.duration_s <= 600:
                raise ValueError(f"params.duration_s must be in (0, 600] s, got {self.duration_s}")

    def run(self, ctx: StepContext, params: Any) -> None:
        bms = ctx.instrument("bms")
        if FLAG_ROLE not in bms.description.signals:
            raise BmsError(
                f"the BMS description {bms.description.path} maps no {FLAG_ROLE!r} signal; "
                f'add {FLAG_ROLE} = "Message.Signal" under [signals]'
            )
        cells = _cells(ctx, bms, params)
        mask = sum(1 << c for c in cells)
        listed = ", ".join(map(str, cells)) if len(cells) <= 8 else f"{cells[0]} … {cells[-1]}"
        ctx.log(f"balancing {len(cells)} cells (indices {listed})")
        with extended_session(ctx, bms.uds, unlock=True) as uds:
            started = False
            try:
                echo = uds.routine("balancing", "start", mask.to_bytes(MASK_BYTES, "little"))
                started = True
                if echo and int.from_bytes(echo, "little") != mask:
                    ctx.log("the BMS echoed a different balancing mask than commanded", "WARNING")
                ctx.wait(params.duration_s)
                during = _flag(ctx, bms)
                uds.routine("balancing", "stop")
                started = False
                after = _flag(ctx, bms)
            finally:
                if started:
                    _stop_quietly(ctx, uds)
        ctx.measure("active_during", during)
        ctx.measure("inactive_after", not after)


def _cells(ctx: StepContext, bms: Any, params: Any) -> list[int]:
    """The cell indices to balance; "odd"/"even" need the pack's cell count."""
    if not isinstance(params.cells, str):
        return sorted(set(params.cells))
    count = params.cell_count
    if count is None:
        # The last valid channel of one snapshot: pages past the pack's cells are invalid.
        volts = bms.cell_voltages(after=ctx.now(), abort=ctx.abort)
        valid = [i for i, v in enumerate(volts) if v is not None and math.isfinite(v)]
        if not valid:
            raise BmsError("the BMS reports no valid cell voltage, so the cell count is unknown")
        count = valid[-1] + 1
    first = 1 if params.cells == "odd" else 0
    return list(range(first, count, 2))


def _flag(ctx: StepContext, bms: Any) -> bool:
    """The balancing-active flag from a frame sent two cycles after now.

    A frame sent at once may carry a measurement taken before the last command.
    """
    message = bms.description.signals[FLAG_ROLE].message
    cycle_s = bms.status()[message].cycle_s or 0.1
    after = ctx.now() + 2 * cycle_s
    got = bms.reading(FLAG_ROLE, after=after, timeout_s=1.0 + 2 * cycle_s, abort=ctx.abort)
    return bool(got.raw)


def _stop_quietly(ctx: StepContext, uds: Any) -> None:
    try:
        uds.routine("balancing", "stop")
    except BmsError as err:
        ctx.log(f"could not stop balancing: {err}", "WARNING")
