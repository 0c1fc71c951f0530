"""Twin of a SCPI DC electronic load (driver: ``drivers.generic.scpi_load``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drivers.sim.electrical import PackCircuit
from drivers.sim.scpi_server import Call, CommandFn, ScpiDevice

FULLY_ON_OHM = 0.005
"""The load's resistance with its stage fully on: the most it can draw at a low voltage."""

_FUNCTIONS = ("CURRent", "VOLTage", "RESistance", "POWer")


class GenericLoadTwin(ScpiDevice):
    """A CC/CV/CR/CP electronic load on the pack terminals (sinks only).

    Connected to ``circuit`` as source ``name``. With the input on it draws: CC its current
    level; CR V/R; CP P/V; CV whatever holds the terminals down at its voltage level (nothing
    below it). The draw is always limited by ``rated_current_a``, ``rated_power_w`` and the
    fully-on resistance. Levels outside the ratings (CR: ``min_resistance_ohm`` …
    ``max_resistance_ohm``) are refused with ``-222,"Data out of range"``; an unknown
    function with ``-224,"Illegal parameter value"``.
    """

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
        self.circuit = circuit
        self.name = name
        self.rated_voltage_v = rated_voltage_v
        self.rated_current_a = rated_current_a
        self.rated_power_w = rated_power_w
        self.min_resistance_ohm = min_resistance_ohm
        self.max_resistance_ohm = max_resistance_ohm
        self.idn = (
            f"EOL-Station,SimLoad {rated_voltage_v:g}V {rated_current_a:g}A "
            f"{rated_power_w:g}W,{serial},1.0"
        )
        self.function = "CURR"
        self.levels = {"CURR": 0.0, "VOLT": rated_voltage_v, "RES": max_resistance_ohm, "POW": 0.0}
        self.input_on = False
        circuit.connect(name, self._source)

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
        limit = min(
            self.rated_current_a, self.rated_power_w / terminal_v, terminal_v / FULLY_ON_OHM
        )
        return -min(draw, limit)

    def reset(self) -> None:
        """Switch the input off and return to CC at 0 A (``*RST``)."""
        with self.circuit.locked():
            self.input_on = False
            self.function = "CURR"
            self.levels.update(
                CURR=0.0, VOLT=self.rated_voltage_v, RES=self.max_resistance_ohm, POW=0.0
            )

    def driver_options(self) -> dict[str, Any]:
        """Return the ratings for ``GenericScpiLoad(max_current_a=…, …)``."""
        return {
            "max_current_a": self.rated_current_a,
            "max_voltage_v": self.rated_voltage_v,
            "max_power_w": self.rated_power_w,
            "min_resistance_ohm": self.min_resistance_ohm,
            "max_resistance_ohm": self.max_resistance_ohm,
        }

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        """Return the FUNCtion, level, INPut and MEASure commands."""
        level = "[:LEVel][:IMMediate][:AMPLitude]"
        table: list[tuple[str, CommandFn]] = [
            ("[SOURce:]FUNCtion[:MODE]", self._set_function),
            ("[SOURce:]FUNCtion[:MODE]?", lambda c: self.function),
            ("INPut[:STATe]", self._set_input),
            ("INPut[:STATe]?", lambda c: "1" if self.input_on else "0"),
            ("MEASure[:SCALar]:VOLTage[:DC]?", lambda c: _number(self._measure()[0])),
            ("MEASure[:SCALar]:CURRent[:DC]?", lambda c: _number(self._measure()[1])),
            ("MEASure[:SCALar]:POWer[:DC]?", lambda c: _number(self._measure()[2])),
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
        return lambda call: _number(self.levels[key])

    def _set_function(self, call: Call) -> None:
        call.expect(1)
        function = call.choice(_FUNCTIONS)
        with self.circuit.locked():
            self.function = function

    def _set_input(self, call: Call) -> None:
        call.expect(1)
        on = call.boolean()
        with self.circuit.locked():
            self.input_on = on

    def _measure(self) -> tuple[float, float, float]:
        op = self.circuit.operating_point()
        amps = max(0.0, -op.currents_a.get(self.name, 0.0))
        return op.voltage_v, amps, op.voltage_v * amps


def _number(value: float) -> str:
    return f"{value + 0.0:.6f}"  # + 0.0 turns -0.0 into 0.0
