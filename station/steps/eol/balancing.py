"""Balancing: bleed each cell in turn (odd cells, then even) and prove it physically.

Passive balancing switches a resistor across a cell through its two voltage-sense wires. The
bleed current (about 0.1 A) drops a few mV on each wire, so while a cell is bled the BMS reads
it lower and its two neighbours higher (domain reference §1 step 11: "the delta in cell
voltage between balancing on and off equals I_bal × R"). A BMS's balancing-active flag only
says the command arrived; an open bleed FET or a wrong cell mapping shows only in the
voltages.

In the extended session with security access, for each group of ``cells`` (``"all"``: the
odd cells, then the even ones, so that every bleed FET is exercised and each bled cell has
idle neighbours; ``"odd"``, ``"even"`` or a list of cell indices as one group; indices count
from 0 as in the BMS spec, bit i of the mask = cell i): average ``samples`` snapshots of the
BMS's cell voltages, start the balancing routine, wait ``duration_s``, read the
balancing-active flag and average the snapshots again, stop the routine and read the flag
again. A bled cell's ``bleed_drop_v`` is the mean change of its idle neighbours minus its own
change (on − off): about 4·R_wire·I_bleed for a working FET (both neighbours rise, the cell
falls), about a quarter of that with the FET open. Drift common to all cells (relaxation
after the current steps) cancels.

``bleed_drop_v`` is an array over the cells bled, in ascending cell order: with ``"all"``
element i is cell i, so an ARRAY limit names the failing cell. ``active_during`` and
``inactive_after`` hold for every group. Balancing is stopped on every way out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from drivers.bms.uds import UdsClient
from drivers.errors import BmsError
from drivers.roles import PackBms
from station.errors import StationError
from station.steps.api import CheckContext, MeasurementSpec, StepContext, StepType, register
from station.steps.eol.uds_session import extended_session
from station.steps.params import Range, StepParams

MASK_BYTES = 24
"""Length of the balancing routine's cell mask (reference BMS spec, RID 0x0203)."""
FLAG_ROLE = "balancing_active"


@dataclass(frozen=True)
class BalancingParams(StepParams):
    cells: str | list[Annotated[int, Range(0, MASK_BYTES * 8 - 1)]] = "all"
    duration_s: Annotated[float, Range(0, 600, low_open=True)] = 10.0
    samples: Annotated[int, Range(1, 50)] = 3
    cell_count: Annotated[int, Range(1, MASK_BYTES * 8)] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.cells, str):
            if self.cells not in ("all", "odd", "even"):
                raise ValueError(
                    f"params.cells must be 'all', 'odd', 'even' or a list of cell indices, "
                    f"got {self.cells!r}"
                )
        elif not self.cells:
            raise ValueError(
                f"params.cells must list cell indices 0 … {MASK_BYTES * 8 - 1}, got {self.cells!r}"
            )


@register
class Balancing(StepType[BalancingParams]):
    """Bleed odd then even cells; check the flag and each bled cell's voltage against its
    neighbours."""

    name = "balancing"
    roles = ("bms",)
    measurements = (
        MeasurementSpec("active_during", "", kind="bool", doc="flag set while balancing"),
        MeasurementSpec("inactive_after", "", kind="bool", doc="flag clear after the stop"),
        MeasurementSpec(
            "bleed_drop_v",
            "V",
            kind="array",
            doc="per bled cell: neighbours' change − own change, on − off",
        ),
    )

    def check(self, params: BalancingParams, context: CheckContext) -> list[tuple[str, str]]:
        if context.cells is None:
            return []
        out = []
        if params.cell_count is not None and params.cell_count != context.cells:
            out.append(
                (
                    "params.cell_count",
                    f"{params.cell_count} cells, but the sequence measures {context.cells} "
                    "(the cells parameter of its cell-voltage step); make them agree",
                )
            )
        if not isinstance(params.cells, str):
            beyond = [c for c in params.cells if c >= context.cells]
            if beyond:
                out.append(
                    (
                        "params.cells",
                        f"cell(s) {', '.join(map(str, beyond))} beyond the pack's "
                        f"{context.cells} cells (indices 0 … {context.cells - 1})",
                    )
                )
        return out

    def run(self, ctx: StepContext, params: BalancingParams) -> None:
        bms = ctx.instrument("bms")
        if FLAG_ROLE not in bms.description.signals:
            raise BmsError(
                f"the BMS description {bms.description.path} maps no {FLAG_ROLE!r} signal; "
                f'add {FLAG_ROLE} = "Message.Signal" under [custom_signals]'
            )
        count = _cell_count(ctx, bms, params)
        beyond = [c for c in params.cells if c >= count] if isinstance(params.cells, list) else []
        if beyond:
            raise StationError(f"params.cells names cells {beyond} of a pack with {count} cells")
        drops: dict[int, float] = {}
        during_all, after_all = True, True
        for group in _groups(params.cells, count):
            during, after, deltas = self._group(ctx, bms, params, group, count)
            during_all &= during
            after_all &= not after
            for k in group:
                idle = [j for j in (k - 1, k + 1) if 0 <= j < count and j not in group]
                neighbours = sum(deltas[j] for j in idle) / len(idle) if idle else 0.0
                drops[k] = neighbours - deltas[k]
        smallest = sorted(drops.items(), key=lambda item: item[1])[:3]
        shown = ", ".join(f"cell {k} {1000 * d:.1f} mV" for k, d in smallest)
        ctx.log(f"bleed drop of {len(drops)} cells; smallest: {shown}")
        ctx.measure("active_during", during_all)
        ctx.measure("inactive_after", after_all)
        ctx.measure("bleed_drop_v", [drops[k] for k in sorted(drops)])

    def _group(
        self, ctx: StepContext, bms: PackBms, params: BalancingParams, group: list[int], count: int
    ) -> tuple[bool, bool, list[float]]:
        """Bleed ``group``; return (flag during, flag after, per-cell change on − off in V)."""
        mask = sum(1 << c for c in group)
        listed = ", ".join(map(str, group)) if len(group) <= 8 else f"{group[0]} … {group[-1]}"
        ctx.log(f"balancing {len(group)} cells (indices {listed})")
        off = _mean_cells(ctx, bms, params.samples, count)
        with extended_session(ctx, bms.uds, unlock=True) as uds:
            started = False
            try:
                echo = uds.routine("balancing", "start", mask.to_bytes(MASK_BYTES, "little"))
                started = True
                if echo and int.from_bytes(echo, "little") != mask:
                    ctx.log("the BMS echoed a different balancing mask than commanded", "WARNING")
                ctx.wait(params.duration_s)
                during = _flag(ctx, bms)
                on = _mean_cells(ctx, bms, params.samples, count)
                uds.routine("balancing", "stop")
                started = False
                after = _flag(ctx, bms)
            finally:
                if started:
                    _stop_quietly(ctx, uds)
        return during, after, [b - a for a, b in zip(off, on, strict=True)]


def _groups(cells: str | list[int], count: int) -> list[list[int]]:
    """The groups bled one after the other."""
    if not isinstance(cells, str):
        return [sorted(set(cells))]
    odd, even = list(range(1, count, 2)), list(range(0, count, 2))
    return {"all": [odd, even], "odd": [odd], "even": [even]}[cells]


def _cell_count(ctx: StepContext, bms: PackBms, params: BalancingParams) -> int:
    """The pack's cell count: the parameter, else the last valid channel of one snapshot."""
    if params.cell_count is not None:
        return int(params.cell_count)
    volts = bms.cell_voltages(after=ctx.now(), abort=ctx.abort)
    valid = [i for i, v in enumerate(volts) if v is not None and math.isfinite(v)]
    if not valid:
        raise BmsError("the BMS reports no valid cell voltage, so the cell count is unknown")
    return valid[-1] + 1


def _mean_cells(ctx: StepContext, bms: PackBms, samples: int, count: int) -> list[float]:
    """Average ``samples`` snapshots of the first ``count`` cell voltages taken from now on."""
    sums = [0.0] * count
    for _ in range(samples):
        volts = bms.cell_voltages(after=ctx.now(), abort=ctx.abort)
        ctx.check()
        for k in range(count):
            v = volts[k] if k < len(volts) else None
            if v is None or not math.isfinite(v):
                raise StationError(
                    f"the BMS reports cell {k} invalid, so its balancing cannot be checked"
                )
            sums[k] += v
    return [s / samples for s in sums]


def _flag(ctx: StepContext, bms: PackBms) -> bool:
    """The balancing-active flag from a frame sent two cycles after now.

    A frame sent at once may carry a measurement taken before the last command.
    """
    message = bms.description.signals[FLAG_ROLE].message
    cycle_s = bms.status()[message].cycle_s or 0.1
    after = ctx.now() + 2 * cycle_s
    got = bms.reading(FLAG_ROLE, after=after, timeout_s=1.0 + 2 * cycle_s, abort=ctx.abort)
    return bool(got.raw)


def _stop_quietly(ctx: StepContext, uds: UdsClient) -> None:
    try:
        uds.routine("balancing", "stop")
    except BmsError as err:
        ctx.log(f"could not stop balancing: {err}", "WARNING")
