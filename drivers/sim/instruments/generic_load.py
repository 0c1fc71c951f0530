"""Twin of a SCPI DC electronic load (driver: ``drivers.generic.scpi_load``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drivers.sim.electrical import PackCircuit
from drivers.sim.instruments.power_stage import PowerStageTwin, load_current, reply_number
from drivers.sim.scpi_server import Call, CommandFn

_FUNCTIONS = ("CURRent", "VOLTage", "RESistance", "POWer")


class GenericLoadTwin(PowerStageTwin):
    """A CC/CV/CR/CP electronic load on the pack terminals (sinks only).

    Connected to ``circuit`` as source ``name``. With the input on it draws: CC its current
    level; CR V/R; CP P/V; CV whatever holds the terminals down at its voltage level (nothing
    below it). The draw is always limited by ``rated_current_a``, ``rated_power_w`` and the
    fully-on resistance. Levels outside the ratings (CR: ``min_resistance_ohm`` …
    ``max_resistance_ohm``) are refused with ``-222,"Data out of range"``; an unknown
    function with ``-224,"Illegal parameter value"``.
    """

    is_load = True

    def __init__(
        self,
        circuit: PackCircuit,
        *,
        name: str = "load",
        rated_voltage_v: float = 600.0,
        rated_current_a: float = 200.0,
        rated_power_w: float = 20_000.0,
        min_resistance_ohm: float = 0.01,
        max_resistance_ohm: float = 10_000.0,
        serial: str = "SIM00001",
    ) -> None:
        self.min_resistance_ohm = min_resistance_ohm
        self.max_resistance_ohm = max_resistance_ohm
        self.levels: dict[str, float] = {}
        super().__init__(circuit, name, rated_voltage_v, rated_current_a, rated_power_w)
        self.idn = (
            f"EOL-Station,SimLoad {rated_voltage_v:g}V {rated_current_a:g}A "
            f"{rated_power_w:g}W,{serial},1.0"
        )

    def _defaults(self) -> None:
        """Switch the input off and return to CC at 0 A."""
        self.input_on = False
        self.function = "CURR"
        self.levels.update(
            CURR=0.0, VOLT=self.rated_voltage_v, RES=self.max_resistance_ohm, POW=0.0
        )

    def _source(self, terminal_v: float) -> float:
        if not self.input_on or terminal_v <= 0.0:
            return 0.0
        level = self.levels[self.function]
        if self.function == "CURR":
            draw = level
        elif self.function == "RES":
            draw = terminal_v / level
        elif self.function == "POW":
            draw = level / terminal_v
        else:
            draw = self.rated_current_a if terminal_v > level else 0.0
        return load_current(draw, terminal_v, max_a=self.rated_current_a, max_w=self.rated_power_w)

    def driver_options(self) -> dict[str, Any]:
        """Return the ratings for ``GenericScpiLoad(max_current_a=…, …)``."""
        return {
            **super().driver_options(),
            "min_resistance_ohm": self.min_resistance_ohm,
            "max_resistance_ohm": self.max_resistance_ohm,
        }

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        """Return the FUNCtion, level, INPut and MEASure commands."""
        level = "[:LEVel][:IMMediate][:AMPLitude]"
        table: list[tuple[str, CommandFn]] = [
            ("[SOURce:]FUNCtion[:MODE]", self._set_function),
            ("[SOURce:]FUNCtion[:MODE]?", lambda c: self.function),
            ("INPut[:STATe]", self._switch_setter("input_on")),
            ("INPut[:STATe]?", lambda c: "1" if self.input_on else "0"),
            *self._measure_queries(),
        ]
        limits = {
            "CURRent": (0.0, self.rated_current_a),
            "VOLTage": (0.0, self.rated_voltage_v),
            "RESistance": (self.min_resistance_ohm, self.max_resistance_ohm),
            "POWer": (0.0, self.rated_power_w),
        }
        for function, (low, high) in limits.items():
            key = function.rstrip("abcdefghijklmnopqrstuvwxyz")
            table.append((f"[SOURce:]{function}{level}", self._setter(key, low, high)))
            table.append((f"[SOURce:]{function}{level}?", self._getter(key)))
        return table

    def _setter(self, key: str, low: float, high: float) -> CommandFn:
        def set_level(call: Call) -> None:
            call.expect(1)
            value = call.number(low=low, high=high)
            with self.circuit.locked():
                self.levels[key] = value

        return set_level

    def _getter(self, key: str) -> CommandFn:
        return lambda call: reply_number(self.levels[key])

    def _set_function(self, call: Call) -> None:
        call.expect(1)
        function = call.choice(_FUNCTIONS)
        with self.circuit.locked():
            self.function = function
