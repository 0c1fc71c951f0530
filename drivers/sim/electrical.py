"""The pack's HV terminals and everything connected to them: the one place time passes.

Every simulated instrument on the HV connector (supply, load, …) registers a *source*: a
function of the terminal voltage V returning the current it drives **into** the pack in A
(> 0 charges, < 0 discharges; 0 when its output is off). Sources must not increase with V
(a supply in CV gives its full current below the setpoint and nothing above it; a load
draws more as V rises); step-shaped characteristics are fine.

**Operating point.** With the contactors closed the pack is, at any instant, its
zero-current voltage E = OCV − U1 − U2 behind its instantaneous resistance R (ΣR0 plus
busbars), so the terminal voltage solves ``V = E + R·Σ i_k(V)``. The left side minus the
right is increasing in V, so bisection finds the root; across a step (a supply in CV) the
final bracket is split between the sources by one common interpolation factor, which gives
the CV source exactly ``(V_set − E)/R`` clamped to its limits. With the contactors open no
current reaches the cells: the terminals are the fixture bus (its voltage from the pack's
precharge model) tied weakly (1 MΩ) to whatever the sources impose, so a supply in CV shows
its setpoint and a load sees ~0 V.

**Time.** :meth:`PackCircuit.sync` integrates the pack from its last sync to ``now()``:
with current through the cells it re-solves the operating point every 1 s of virtual time
and every 0.1 % SOC, whichever comes first (the pack sub-steps internally as well). Only
when a re-solve gives exactly the same currents (a CC regime) does the interval double, up
to 60 s and still within 0.1 % SOC; it drops back to 1 s as soon as they move, so a CC phase
running into a CV setpoint can overshoot it by at most one such step. With no current it
re-solves every 10 s (a source at 0 A may start to conduct as the pack relaxes), or skips
the whole gap at once when nothing is connected; during the first 2 s of a precharge it
steps 20 ms, so current starts when the main contactor closes.

Each source's charge (Ah) and energy (Wh) into the cells is counted, so tests can check
conservation against the pack's own coulomb count.

**Threads.** One re-entrant lock guards the pack, the sources and the totals. Instrument
servers change their settings inside :meth:`PackCircuit.locked`, which syncs first (the past
is integrated with the old settings) and re-solves on exit. Whoever switches the contactors
or injects pack faults should do it in there too; a contactor change made outside is still
noticed at the next sync, but the time since the last sync is then integrated as if it
happened at the start of that interval.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from drivers.sim.clock import TimeSource
from drivers.sim.pack import Pack

Source = Callable[[float], float]
"""``source(terminal_voltage_v) -> current into the pack in A``."""

MAX_RESOLVE_S = 1.0
MAX_RESOLVE_SOC = 0.001
IDLE_RESOLVE_S = 10.0
MAX_STABLE_S = 60.0
PRECHARGE_STEP_S = 0.02
PRECHARGE_WATCH_S = 2.0
"""While precharging (for at most this long), step finely to catch the contactor closing."""
OPEN_TIE_OHM = 1e6
"""How strongly the open-contactor bus holds its own voltage against the sources."""

_FLAT_SPAN = 1e-9
"""Relative span around the last operating point's voltage where unchanged currents count
as flat (wider than bisection's tolerance, so its bracket lies inside it)."""
_BELOW = 1.0 - _FLAT_SPAN
_ABOVE = 1.0 + _FLAT_SPAN
_BISECT_ITERATIONS = 200
_BISECT_TOLERANCE = 1e-12
_BRACKET_DOUBLINGS = 64


class OperatingPoint(NamedTuple):
    """The terminal voltage in V and each source's current into the pack in A.

    (A NamedTuple, immutable: the circuit builds one every clock move, and a frozen
    dataclass costs twice as much to build.)
    """

    voltage_v: float
    currents_a: dict[str, float]
    cell_current_a: float
    """Current through the cells in the pack's convention (> 0 = discharge)."""


@dataclass
class SourceTotals:
    """Net charge (Ah) and energy (Wh) one source put into the cells (< 0: took out)."""

    charge_ah: float = 0.0
    energy_wh: float = 0.0


class PackCircuit:
    """The pack's terminals with the sources connected to them, integrated against ``now``.

    ``pack`` is advanced only here. ``now`` is the station clock (``clock.now``) or a
    :class:`~drivers.sim.clock.ManualTime`; the circuit's time starts at its first reading.
    """

    def __init__(self, pack: Pack, now: TimeSource) -> None:
        self._pack = pack
        self._now = now
        self._lock = threading.RLock()
        self._sources: dict[str, Source] = {}
        self._totals: dict[str, SourceTotals] = {}
        self._time_s = now()
        self._stable_s = MAX_RESOLVE_S
        self._e = self._r = 0.0
        self._solved_for = pack.contactor_state
        self._op = self._solve()

    @property
    def pack(self) -> Pack:
        """Get the pack (read it inside :meth:`locked` for a consistent, up-to-date view)."""
        return self._pack

    @property
    def time_s(self) -> float:
        """Get the time of the last sync in s."""
        with self._lock:
            return self._time_s

    def connect(self, name: str, source: Source) -> None:
        """Connect ``source`` to the terminals under a unique ``name``."""
        with self.locked():
            if name in self._sources:
                raise ValueError(f"a source named {name!r} is already connected")
            self._sources[name] = source
            self._totals.setdefault(name, SourceTotals())

    def disconnect(self, name: str) -> None:
        """Disconnect the source ``name`` (its totals are kept)."""
        with self.locked():
            self._sources.pop(name)

    @contextmanager
    def locked(self) -> Iterator[Pack]:
        """Hold the lock with the pack synced to now; re-solve the operating point on exit.

        Change a source's settings (or the pack's contactors, faults …) only in here.
        """
        with self._lock:
            self._sync()
            try:
                yield self._pack
            finally:
                self._resolve()
                self._stable_s = MAX_RESOLVE_S

    def sync(self) -> None:
        """Integrate the pack up to ``now()``."""
        with self._lock:
            self._sync()

    def operating_point(self) -> OperatingPoint:
        """Get the operating point at ``now()``."""
        with self._lock:
            self._sync()
            return self._op

    def terminal_voltage(self) -> float:
        """Measure the HV terminal voltage in V at ``now()``."""
        return self.operating_point().voltage_v

    def source_current(self, name: str) -> float:
        """Measure the current source ``name`` drives into the pack in A at ``now()``."""
        return self.operating_point().currents_a.get(name, 0.0)

    def totals(self, name: str) -> SourceTotals:
        """Get a copy of the charge and energy ``name`` has put into the cells so far."""
        with self._lock:
            self._sync()
            found = self._totals[name]
            return SourceTotals(found.charge_ah, found.energy_wh)

    def replace_pack(self, pack: Pack) -> Pack:
        """Put another pack on the terminals (the fixture takes the next unit); return the old.

        The old pack is left as it is at ``now()``; the sources stay connected.
        """
        with self.locked():
            old, self._pack = self._pack, pack
            self._solved_for = pack.contactor_state
            return old

    def close_contactors_settled(self, max_s: float = 10.0) -> None:
        """Close the contactors and finish the precharge without moving the circuit's clock.

        For a bench whose BMS is not simulated: the pack's own time moves on by the
        precharge duration (~0.2 s), with no current through the cells.
        """
        with self.locked() as pack:
            pack.close_contactors()
            waited = 0.0
            while pack.contactor_state == "precharge" and waited < max_s:
                pack.advance(0.01, 0.0)
                waited += 0.01
            if not pack.conducting:
                raise RuntimeError(f"contactors did not close (state {pack.contactor_state})")

    # --- internals (lock held) --------------------------------------------------------------

    def _sync(self) -> None:
        if self._pack.contactor_state != self._solved_for:
            self._resolve()  # contactors switched outside locked() (e.g. by the BMS model)
        target = self._now()
        while self._time_s < target:
            remaining = target - self._time_s
            op = self._op
            # min() and max() of two floats: written out, a tenth of the builtins' cost.
            max_step = self._max_step(op)
            step = max_step if max_step < remaining else remaining
            self._pack.advance(step, op.cell_current_a)
            self._time_s = target if step == remaining else self._time_s + step
            self._resolve()
            # The pack is linear at an instant, V = E − I·R, so the new Thevenin values give
            # the end-of-step voltage at the old current without another pass over the cells.
            if op.cell_current_a != 0.0:
                v_mean = 0.5 * (op.voltage_v + self._e - self._r * op.cell_current_a)
                for name, amps in op.currents_a.items():
                    # A source at ±0 A would add ±0 to its totals, which leaves them as they
                    # are (they start at +0 and a sum never makes −0): an idle source is
                    # skipped.
                    if amps:
                        totals = self._totals[name]
                        totals.charge_ah += amps * step / 3600.0
                        totals.energy_wh += amps * v_mean * step / 3600.0
            # Currents that did not move (CC) need no re-solve every second: widen the step.
            if self._op.currents_a == op.currents_a:
                doubled = 2.0 * self._stable_s
                self._stable_s = MAX_STABLE_S if doubled > MAX_STABLE_S else doubled
            else:
                self._stable_s = MAX_RESOLVE_S

    def _max_step(self, op: OperatingPoint) -> float:
        pack = self._pack
        if pack.contactor_state == "precharge" and pack.precharge_elapsed_s < PRECHARGE_WATCH_S:
            return PRECHARGE_STEP_S  # catch the moment the main contactor closes
        if op.cell_current_a == 0.0:
            # A source at zero now may start to conduct as the pack relaxes (a supply in CV
            # just below the pack voltage), so look again now and then.
            return IDLE_RESOLVE_S if self._sources else math.inf
        per_soc_s = 3600.0 * pack.capacity_ah / abs(op.cell_current_a)
        soc_step_s = MAX_RESOLVE_SOC * per_soc_s
        return soc_step_s if soc_step_s < self._stable_s else self._stable_s

    def _resolve(self) -> None:
        self._op = self._solve(self._op)
        # Let the pack report voltages at the current that flows from now on.
        self._pack.advance(0.0, self._op.cell_current_a)

    def _solve(self, last: OperatingPoint | None = None) -> OperatingPoint:
        """Solve the operating point now (``last``: the previous one, a likely answer)."""
        pack = self._pack
        conducting = pack.conducting
        self._solved_for = pack.contactor_state
        if conducting:
            e, r = pack.thevenin()
        else:
            e, r = pack.bus_voltage, OPEN_TIE_OHM
        self._e, self._r = e, r
        if not self._sources:
            return OperatingPoint(e, {}, 0.0)
        flat = None if last is None else _flat_solution(e, r, self._sources, last)
        if flat is not None:
            currents, into_pack = flat
            voltage_v = e + r * into_pack
            # Positional: a third cheaper than keywords, and this is once a clock move.
            return OperatingPoint(
                voltage_v if voltage_v > 0.0 else 0.0, currents, -into_pack if conducting else 0.0
            )
        sources = list(self._sources.items())

        def total(v: float) -> float:
            return sum(source(v) for _, source in sources)

        def excess(v: float) -> float:
            return v - e - r * total(v)

        lo, hi = 0.0, max(2.0 * abs(e), 1.0)
        if excess(lo) >= 0.0:
            hi = lo  # the sources pull the terminals to 0 V or below: clamp at 0 V
        else:
            for _ in range(_BRACKET_DOUBLINGS):
                if excess(hi) > 0.0:
                    break
                lo, hi = hi, 2.0 * hi
            else:
                raise RuntimeError("no operating point: a source does not fall with voltage")
            for _ in range(_BISECT_ITERATIONS):
                mid = 0.5 * (lo + hi)
                if hi - lo <= _BISECT_TOLERANCE * hi or mid in (lo, hi):
                    break
                if excess(mid) > 0.0:
                    hi = mid
                else:
                    lo = mid
        at_lo = {name: source(lo) for name, source in sources}
        at_hi = {name: source(hi) for name, source in sources}
        sum_lo, sum_hi = sum(at_lo.values()), sum(at_hi.values())
        needed = (0.5 * (lo + hi) - e) / r
        share = 0.0
        if sum_lo != sum_hi:
            share = min(1.0, max(0.0, (sum_lo - needed) / (sum_lo - sum_hi)))
        currents = {name: at_lo[name] + share * (at_hi[name] - at_lo[name]) for name, _ in sources}
        into_pack = math.fsum(currents.values())
        return OperatingPoint(
            voltage_v=max(0.0, e + r * into_pack),
            currents_a=currents,
            cell_current_a=-into_pack if conducting else 0.0,
        )


def _flat_solution(
    e: float, r: float, sources: dict[str, Source], last: OperatingPoint
) -> tuple[dict[str, float], float] | None:
    """The sources' currents when the last ones still hold and none moves near there, and
    their sum (``math.fsum`` of them).

    Most of a run the sources sit in a flat stretch (a load or a supply in CC): then
    V = E + R·Σi with the same currents solves the circuit, and since no source rises
    with V, equal currents just below and above V mean they are constant over the
    bracket bisection would close in on, so its answer would be these very currents.
    Returns None otherwise (bisect).
    """
    currents = last.currents_a
    if len(currents) != len(sources):
        return None
    into_pack = math.fsum(currents.values())
    v = e + r * into_pack
    if not v > 0.0:
        return None
    # Each source looked at just below V, then just above; the first that differs from
    # its last current (or has none: another source) ends the search.
    below_v, above_v = v * _BELOW, v * _ABOVE
    below = {}
    for name, source in sources.items():
        amps = source(below_v)
        if currents.get(name) != amps:
            return None
        below[name] = amps
    for name, source in sources.items():
        if source(above_v) != below[name]:
            return None
    # Equal currents have the same exact sum; fsum rounds it alike, but for its sign when
    # it is 0 (the currents may differ in the sign of their zeros): summed again then.
    return below, into_pack if into_pack != 0.0 else math.fsum(below.values())
