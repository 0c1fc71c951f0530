"""Guards while current flows: every cell in its safe window, and the BMS alive.

The pack-voltage guard (:func:`~station.steps.eol.power.check_guards`) cannot see one weak
cell: on a 96S pack a cell can drop below its minimum while the pack stays well inside its
window. :class:`CellGuard` reads the BMS's lowest and highest cell voltage and cell
temperature (``min_cell_voltage``, ``max_cell_voltage``, ``min_cell_temperature``,
``max_cell_temperature`` in the BMS description; 100 ms frames on the reference BMS) every
``period_s`` while current flows (:func:`guarded_wait`).

- A value outside the window is a **pack fault**: the guard switches the current off at
  once (``stop``), then the step records ``cell_guard`` as the text naming the cell, which
  fails the sequence's ``STREQ "ok"`` limit: the step is FAILED. An under-voltage names the
  cell the BMS reports as its lowest (``min_cell_index``, read with the voltage, under
  load); without that signal, and for an over-voltage or a temperature, the cell or sensor is
  the extreme one in a snapshot taken after the current stopped.
- A BMS that sends no fresh frame within ``bms_timeout_s`` (default: the BMS client's read
  timeout, 1 s — the domain reference's "BMS communication lost → current off within 1 s")
  is a **station fault**: the step raises, the current goes off, the step is ERROR.

Reaction time: a violation is in the BMS's next frame (≤ one 100 ms cycle after it
measures, ≤ 100 ms), and the guard reads the BMS every ``period_s``, so the current is off
≤ ``period_s`` + 0.2 s + one command after the cell leaves its window: < 0.5 s with the
default 0.25 s (measured in virtual time on the virtual bench, see the tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from drivers.errors import BmsError
from drivers.roles import PackBms
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext
from station.steps.params import Positive, Range, StepParams

GUARD_MEASUREMENT = MeasurementSpec(
    "cell_guard",
    "",
    kind="text",
    doc='"ok", or the cell or sensor that left its safe window while current flowed',
)
GUARD_OK = "ok"
GUARD_ROLES = ("min_cell_voltage", "max_cell_voltage", "max_cell_temperature")


@dataclass(frozen=True)
class CellWindow:
    """The safe window of every cell while current flows (V and °C)."""

    min_v: float
    max_v: float
    max_c: float
    min_c: float = -20.0

    @classmethod
    def from_params(cls, params: GuardParams) -> CellWindow | None:
        """The window the step's ``guard_cell_*`` parameters give, None if they give none."""
        given = (params.guard_cell_min_v, params.guard_cell_max_v, params.guard_cell_max_c)
        if all(v is None for v in given):
            return None
        if any(v is None for v in given):
            raise ValueError(
                "params.guard_cell_min_v, guard_cell_max_v and guard_cell_max_c go together"
            )
        low, high, hot = given
        assert low is not None and high is not None and hot is not None
        if not low < high:
            raise ValueError("params.guard_cell_min_v must be below guard_cell_max_v")
        return cls(low, high, hot)


@dataclass(frozen=True, kw_only=True)
class GuardParams(StepParams):
    """The guard parameters of every step that puts current through the pack: the pack's
    voltage window (``guard_min_v``/``guard_max_v``, see
    :func:`~station.steps.eol.power.check_guards`) and the optional cell window
    (``guard_cell_*``: all three or none), read every ``guard_period_s``.

    Keyword-only, so a step's own required parameters may follow it.
    """

    guard_min_v: float
    guard_max_v: float
    guard_cell_min_v: Annotated[float, Positive] | None = None
    guard_cell_max_v: float | None = None
    guard_cell_max_c: float | None = None
    guard_period_s: Annotated[float, Range(0, 0.5, low_open=True)] = 0.25

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.guard_min_v >= self.guard_max_v:
            raise ValueError("params.guard_min_v must be below params.guard_max_v")
        CellWindow.from_params(self)


class GuardTripped(Exception):
    """A cell left its safe window: a pack fault (the step records it, never an ERROR)."""


class CellGuard:
    """Check the BMS's cell extremes against ``window``; see the module docstring."""

    def __init__(
        self,
        ctx: StepContext,
        bms: PackBms,
        window: CellWindow,
        *,
        stop: Callable[[], None],
        period_s: float = 0.25,
        bms_timeout_s: float | None = None,
    ) -> None:
        mapped = bms.monitor.roles()
        missing = [r for r in GUARD_ROLES if r not in mapped]
        if missing:
            raise StationError(
                f"the cell guard needs {', '.join(missing)} in the BMS description "
                "(the BMS's lowest/highest cell voltage and temperature signals)"
            )
        self.ctx = ctx
        self.bms = bms
        self.window = window
        self.stop = stop
        self.period_s = period_s
        self.bms_timeout_s = bms_timeout_s if bms_timeout_s is not None else bms.read_timeout_s
        self.checks = 0
        # What the BMS maps is fixed when it opens: looked up once, not at every check.
        cold = ("min_cell_temperature",) if "min_cell_temperature" in mapped else ()
        self._roles: tuple[str, ...] = (*GUARD_ROLES, *cold)
        self._has_index = "min_cell_index" in mapped
        # Looked up once too: a check runs four times a second of current flow.
        self._now = ctx.clock.now  # what ctx.now() reads
        self._values = bms.values

    def check(self) -> None:
        """Read the BMS's extremes (fresh frames); raise GuardTripped or a silent-BMS error."""
        after = self._now()
        try:
            # In the order of GUARD_ROLES, each from a frame received at or after ``after``.
            read = self._values(self._roles, after=after, timeout_s=self.bms_timeout_s)
        except BmsError as err:
            raise StationError(
                f"the BMS went silent while current flowed ({err}); the current is switched "
                "off: the station cannot guard the cells without it"
            ) from err
        self.checks += 1
        low_v, high_v, hot_c = read[0], read[1], read[2]
        cold_c = read[3] if len(read) > 3 else math.nan
        w = self.window
        if low_v < w.min_v:
            what = f"{low_v:.3f} V below {w.min_v:g} V"
            if self._has_index:
                index = round(self._read("min_cell_index", after))
                self.stop()
                raise GuardTripped(f"cell {index + 1} (index {index}): {what}")
            raise GuardTripped(self._name("cell", min, what))
        if high_v > w.max_v:
            raise GuardTripped(self._name("cell", max, f"{high_v:.3f} V above {w.max_v:g} V"))
        if hot_c > w.max_c:
            raise GuardTripped(self._name("sensor", max, f"{hot_c:.1f} °C above {w.max_c:g} °C"))
        if cold_c < w.min_c:
            raise GuardTripped(self._name("sensor", min, f"{cold_c:.1f} °C below {w.min_c:g} °C"))

    def _read(self, role: str, after: float) -> float:
        value: float = self.bms.value(role, after=after, timeout_s=self.bms_timeout_s)
        return value

    def _name(
        self, kind: str, pick: Callable[[list[tuple[float, int]]], tuple[float, int]], what: str
    ) -> str:
        """Stop the current, then name the extreme cell (or sensor) in a fresh snapshot."""
        self.stop()
        read = self.bms.cell_voltages if kind == "cell" else self.bms.cell_temperatures
        try:
            values = read(self.ctx.now(), 2.0, self.ctx.abort)
        except BmsError:
            return f"a {kind}: {what} (the BMS sent no complete snapshot to name it)"
        valid = [(v, i) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
        if not valid:
            return f"a {kind}: {what}"
        index = pick(valid)[1]
        return f"{kind} {index + 1} (index {index}): {what}"


def make_guard(ctx: StepContext, params: GuardParams, stop: Callable[[], None]) -> CellGuard | None:
    """The step's cell guard (``stop()`` switches its current off), None without a window."""
    window = CellWindow.from_params(params)
    if window is None:
        return None
    return CellGuard(ctx, ctx.instrument("bms"), window, stop=stop, period_s=params.guard_period_s)


def guarded_wait(ctx: StepContext, seconds: float, guard: CellGuard | None) -> None:
    """Wait ``seconds`` on the run's clock, checking ``guard`` every ``guard.period_s``."""
    if guard is None:
        ctx.wait(seconds)
        return
    now = ctx.clock.now  # the run's clock, as ctx.now() reads it (once a check)
    period = guard.period_s
    end = now() + seconds
    while True:
        remaining = end - now()
        if remaining <= 1e-9:
            return
        ctx.wait(period if period < remaining else remaining)
        guard.check()
