"""Twin of a source-only SCPI-99 DC supply (driver: ``drivers.generic.scpi_supply``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drivers.sim.electrical import PackCircuit
from drivers.sim.scpi_server import Call, CommandFn, ScpiDevice


class GenericSupplyTwin(ScpiDevice):
    """A CV/CC supply on the pack terminals that can source but not sink.

    Connected to ``circuit`` as source ``name``. With the output on it delivers its current
    limit while the terminals are below the voltage setpoint (CC) and holds them at the
    setpoint otherwise (CV); above the setpoint it gives nothing, as it cannot sink.
    Setpoints above ``rated_voltage_v`` / ``rated_current_a`` are refused with
    ``-222,"Data out of range"``. Measurements are at the output terminals, so the voltage
    reads the pack even with the output off.
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
        self.circuit = circuit
        self.name = name
        self.rated_voltage_v = rated_voltage_v
        self.rated_current_a = rated_current_a
        self.idn = f"EOL-Station,SimSupply {rated_voltage_v:g}V {rated_current_a:g}A,{serial},1.0"
        self.voltage_setpoint_v = 0.0
        self.current_limit_a = 0.0
        self.output_on = False
        circuit.connect(name, self._source)

    def _source(self, terminal_v: float) -> float:
        if not self.output_on:
            return 0.0
        return self.current_limit_a if terminal_v <= self.voltage_setpoint_v else 0.0

    def reset(self) -> None:
        """Switch the output off and zero the setpoints (``*RST``)."""
        with self.circuit.locked():
            self.output_on = False
            self.voltage_setpoint_v = 0.0
            self.current_limit_a = 0.0

    def driver_options(self) -> dict[str, Any]:
        """Return the ratings for ``GenericScpiSupply(max_voltage_v=…, max_current_a=…)``."""
        return {"max_voltage_v": self.rated_voltage_v, "max_current_a": self.rated_current_a}

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        """Return the SOURce, OUTPut and MEASure commands."""
        level = "[:LEVel][:IMMediate][:AMPLitude]"
        return [
            (f"[SOURce:]VOLTage{level}", self._set_voltage),
            (f"[SOURce:]VOLTage{level}?", lambda c: _number(self.voltage_setpoint_v)),
            (f"[SOURce:]CURRent{level}", self._set_current),
            (f"[SOURce:]CURRent{level}?", lambda c: _number(self.current_limit_a)),
            ("OUTPut[:STATe]", self._set_output),
            ("OUTPut[:STATe]?", lambda c: "1" if self.output_on else "0"),
            ("MEASure[:SCALar]:VOLTage[:DC]?", lambda c: _number(self._measure()[0])),
            ("MEASure[:SCALar]:CURRent[:DC]?", lambda c: _number(self._measure()[1])),
            ("MEASure[:SCALar]:POWer[:DC]?", lambda c: _number(self._measure()[2])),
        ]

    def _set_voltage(self, call: Call) -> None:
        call.expect(1)
        volts = call.number(low=0.0, high=self.rated_voltage_v)
        with self.circuit.locked():
            self.voltage_setpoint_v = volts

    def _set_current(self, call: Call) -> None:
        call.expect(1)
        amps = call.number(low=0.0, high=self.rated_current_a)
        with self.circuit.locked():
            self.current_limit_a = amps

    def _set_output(self, call: Call) -> None:
        call.expect(1)
        on = call.boolean()
        with self.circuit.locked():
            self.output_on = on

    def _measure(self) -> tuple[float, float, float]:
        op = self.circuit.operating_point()
        amps = op.currents_a.get(self.name, 0.0)
        return op.voltage_v, amps, op.voltage_v * amps


def _number(value: float) -> str:
    return f"{value + 0.0:.6f}"  # + 0.0 turns -0.0 into 0.0
