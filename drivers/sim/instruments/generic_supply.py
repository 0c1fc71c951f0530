"""Twin of a source-only SCPI-99 DC supply (driver: ``drivers.generic.scpi_supply``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from drivers.sim.electrical import PackCircuit
from drivers.sim.instruments.power_stage import PowerStageTwin, reply_number
from drivers.sim.scpi_server import CommandFn


class GenericSupplyTwin(PowerStageTwin):
    """A CV/CC supply on the pack terminals that can source but not sink.

    Connected to ``circuit`` as source ``name``. With the output on it delivers its current
    limit while the terminals are below the voltage setpoint (CC) and holds them at the
    setpoint otherwise (CV); above the setpoint it gives nothing, as it cannot sink.
    Setpoints above ``rated_voltage_v`` / ``rated_current_a`` are refused with
    ``-222,"Data out of range"``. It has no power limit. Measurements are at the output
    terminals, so the voltage reads the pack even with the output off.
    """

    def __init__(
        self,
        circuit: PackCircuit,
        *,
        name: str = "supply",
        rated_voltage_v: float = 600.0,
        rated_current_a: float = 100.0,
        serial: str = "SIM00001",
    ) -> None:
        super().__init__(circuit, name, rated_voltage_v, rated_current_a, math.inf)
        self.idn = f"EOL-Station,SimSupply {rated_voltage_v:g}V {rated_current_a:g}A,{serial},1.0"

    def _defaults(self) -> None:
        """Switch the output off and zero the setpoints."""
        self.voltage_setpoint_v = 0.0
        self.current_limit_a = 0.0
        self.output_on = False

    def _source(self, terminal_v: float) -> float:
        if not self.output_on:
            return 0.0
        return self.current_limit_a if terminal_v <= self.voltage_setpoint_v else 0.0

    def driver_options(self) -> dict[str, Any]:
        """Return the ratings for ``GenericScpiSupply(max_voltage_v=…, max_current_a=…)``."""
        return {"max_voltage_v": self.rated_voltage_v, "max_current_a": self.rated_current_a}

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        """Return the SOURce, OUTPut and MEASure commands."""
        level = "[:LEVel][:IMMediate][:AMPLitude]"
        volts, amps = self.rated_voltage_v, self.rated_current_a
        return [
            (f"[SOURce:]VOLTage{level}", self._number_setter("voltage_setpoint_v", 0.0, volts)),
            (f"[SOURce:]VOLTage{level}?", lambda c: reply_number(self.voltage_setpoint_v)),
            (f"[SOURce:]CURRent{level}", self._number_setter("current_limit_a", 0.0, amps)),
            (f"[SOURce:]CURRent{level}?", lambda c: reply_number(self.current_limit_a)),
            ("OUTPut[:STATe]", self._switch_setter("output_on")),
            ("OUTPut[:STATe]?", lambda c: "1" if self.output_on else "0"),
            *self._measure_queries(),
        ]
