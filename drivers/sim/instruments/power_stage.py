"""What every supply and load twin on the pack's terminals shares.

A power-stage twin is one source on the :class:`~drivers.sim.electrical.PackCircuit`: it
holds its ratings, answers ``MEASure``-style queries from the circuit's operating point, and
changes what it pushes into the terminals only with the circuit locked. Twins with a
hardware protection notice a trip between commands (:meth:`PowerStageTwin._watch`) and
queue its error for the next setting, as a failing query gives no reply.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from drivers.sim.electrical import OperatingPoint, PackCircuit
from drivers.sim.scpi_server import Call, CommandFn, ScpiDevice, ScpiError

FULLY_ON_OHM = 0.005
"""A load's resistance with its stage fully on: the most it can draw at a low voltage."""

REACHED = 1.0 - 1e-9
"""A protection level counts as reached at this share of it (the circuit solves to ~1e-12)."""

_QUANTITIES = (("VOLTage", "V"), ("CURRent", "A"), ("POWer", "W"))


def reply_number(value: float) -> str:
    """Format a number as the twins reply (``"12.500000"``), never as ``-0.000000``."""
    return f"{value + 0.0:.6f}"  # + 0.0 turns -0.0 into 0.0


def load_current(draw_a: float, terminal_v: float, *, max_a: float, max_w: float) -> float:
    """Return the source current of a load asked to draw ``draw_a`` (≤ 0: it sinks).

    The draw is capped by the load's current and power ratings and by its fully-on
    resistance (:data:`FULLY_ON_OHM`); ``terminal_v`` must be above zero.
    """
    return -min(draw_a, max_a, max_w / terminal_v, terminal_v / FULLY_ON_OHM)


class PowerStageTwin(ScpiDevice, ABC):
    """Base of a supply or load twin connected to ``circuit`` as source ``name``.

    A subclass gives :meth:`_source` (the current in A it pushes into the terminals at a
    terminal voltage, < 0 when sinking) and :meth:`_defaults` (its power-on settings),
    and creates before calling this constructor anything :meth:`_defaults` fills in:
    the constructor applies the defaults, then connects the source.

    Readings (:meth:`_measure`): a supply reports the current it delivers (< 0 sinking), a
    load (:attr:`is_load`) the current it draws (≥ 0).
    """

    is_load = False

    def __init__(
        self,
        circuit: PackCircuit,
        name: str,
        rated_voltage_v: float,
        rated_current_a: float,
        rated_power_w: float,
    ) -> None:
        self.circuit = circuit
        self.name = name
        self.rated_voltage_v = rated_voltage_v
        self.rated_current_a = rated_current_a
        self.rated_power_w = rated_power_w
        self._pending: deque[tuple[tuple[int, str], str]] = deque()
        """Protection errors noticed but not yet reported, as ``(error, detail)``."""
        self._defaults()
        circuit.connect(name, self._source)

    @abstractmethod
    def _source(self, terminal_v: float) -> float: ...

    @abstractmethod
    def _defaults(self) -> None:
        """Return every setting to its power-on value (circuit lock held, or construction)."""

    def reset(self) -> None:
        """Return to the power-on settings, output or input off, no trip pending (``*RST``)."""
        with self.circuit.locked():
            self._defaults()
            self._pending.clear()

    def driver_options(self) -> dict[str, Any]:
        """Return the ratings for the driver (``max_voltage_v``, ``max_current_a``, …)."""
        return {
            "max_voltage_v": self.rated_voltage_v,
            "max_current_a": self.rated_current_a,
            "max_power_w": self.rated_power_w,
        }

    # --- settings ---------------------------------------------------------------------------

    def _number_setter(self, attribute: str, low: float, high: float) -> CommandFn:
        """Return a command setting ``attribute`` to its one number in [low, high] (V, A …)."""

        def set_number(call: Call) -> None:
            call.expect(1)
            value = call.number(low=low, high=high)
            with self.circuit.locked():
                setattr(self, attribute, value)

        return set_number

    def _switch_setter(self, attribute: str) -> CommandFn:
        """Return a command switching ``attribute`` (an output or input) ON or OFF."""

        def set_switch(call: Call) -> None:
            call.expect(1)
            on = call.boolean()
            with self.circuit.locked():
                setattr(self, attribute, on)

        return set_switch

    # --- readings -----------------------------------------------------------------------------

    def _measure(self, op: OperatingPoint | None = None) -> tuple[float, float, float]:
        """Measure volts, amps and watts at the terminals now (at ``op`` if read just now)."""
        if op is None:
            op = self.circuit.operating_point()
        amps = op.currents_a.get(self.name, 0.0)
        if self.is_load:
            amps = max(0.0, -amps)
        return op.voltage_v, amps, op.voltage_v * amps

    def _reply(self, value: float, unit: str) -> str:
        """Format a reading in ``unit`` (V, A or W) as the model replies."""
        return reply_number(value)

    def _measure_queries(
        self, verbs: Sequence[str] = ("MEASure",), suffix: str = "[:DC]"
    ) -> list[tuple[str, CommandFn]]:
        """Return ``<verb>[:SCALar]:VOLTage|CURRent|POWer<suffix>?`` for every verb."""
        return [
            (f"{verb}[:SCALar]:{node}{suffix}?", self._reading(index, unit))
            for verb in verbs
            for index, (node, unit) in enumerate(_QUANTITIES)
        ]

    def _reading(self, index: int, unit: str) -> CommandFn:
        return _Reading(self, index, unit)

    # --- protection ---------------------------------------------------------------------------

    def _watch(self) -> OperatingPoint | None:
        """Notice a protection trip: act on it and queue its error in ``_pending``.

        Return the operating point it read if nothing tripped (a reading at this instant
        is that one), else None.
        """
        return None

    def _guarded(self, function: CommandFn, query: bool) -> CommandFn:
        """Check the protection around ``function``; a setting carries a queued trip error."""
        watch = self._watch  # a query runs once a power sample: bound once, here
        if isinstance(function, _Reading):
            # Two units of every power sample come here: the reading takes the operating
            # point the watch has just read rather than asking the circuit again.
            measure, reply, index, unit = self._measure, self._reply, function.index, function.unit

            def read(call: Call) -> str | None:
                return reply(measure(watch())[index], unit)

            return read

        def ask(call: Call) -> str | None:
            watch()
            return function(call)

        def run(call: Call) -> str | None:
            watch()
            reply = function(call)
            watch()
            if self._pending:
                raise ScpiError(*self._pending.popleft())
            return reply

        return ask if query else run

    def _all_guarded(self, table: Iterable[tuple[str, CommandFn]]) -> list[tuple[str, CommandFn]]:
        """Return ``table`` with every command :meth:`_guarded`."""
        return [(pattern, self._guarded(fn, pattern.endswith("?"))) for pattern, fn in table]


class _Reading:
    """A ``MEASure``-style query of ``twin``: quantity ``index`` of its :meth:`_measure`.

    A class rather than a closure, so that :meth:`PowerStageTwin._guarded` knows it.
    """

    __slots__ = ("index", "twin", "unit")

    def __init__(self, twin: PowerStageTwin, index: int, unit: str) -> None:
        self.twin, self.index, self.unit = twin, index, unit

    def __call__(self, call: Call) -> str | None:
        return self.twin._reply(self.twin._measure()[self.index], self.unit)
