"""A plain SCPI DC electronic load."""

from __future__ import annotations

from typing import Any, Final

from drivers.generic.scpi_supply import required_rating
from drivers.roles import LoadMode
from drivers.scpi.instrument import check_bool, in_range, measurement, parse_bool, parse_float
from drivers.scpi.power import ScpiPowerStage
from drivers.scpi.transport import Transport

_FUNCTION: Final[dict[str, str]] = {"CC": "CURR", "CV": "VOLT", "CR": "RES", "CP": "POW"}
_MODE_REPLIES: Final[dict[str, str]] = {
    "CURR": "CC",
    "CURRENT": "CC",
    "CC": "CC",
    "VOLT": "CV",
    "VOLTAGE": "CV",
    "CV": "CV",
    "RES": "CR",
    "RESISTANCE": "CR",
    "CR": "CR",
    "POW": "CP",
    "POWER": "CP",
    "CP": "CP",
}


def parse_mode(reply: str) -> str:
    """Map a ``FUNC?`` reply (``CURR``, ``CURRENT``, ``"VOLT"``, …) to CC/CV/CR/CP."""
    key = reply.strip().strip('"').upper()
    if key not in _MODE_REPLIES:
        raise ValueError(f"not a load function: {reply!r}")
    return _MODE_REPLIES[key]


class GenericScpiLoad(ScpiPowerStage):
    """Any DC electronic load with the common SCPI load commands; plays ElectronicLoad.

    Commands: ``FUNC CURR|VOLT|RES|POW``, ``FUNC?``, ``CURR <A>``, ``VOLT <V>``,
    ``RES <Ω>``, ``POW <W>``, ``INP ON|OFF``, ``INP?``, ``MEAS:VOLT?``, ``MEAS:CURR?``,
    ``MEAS:POW?``, ``SYST:ERR?``. These follow SCPI-99 command syntax and are the command
    set of the ITECH IT8900 and EA EL loads (battery_eol.md §3.3 [E]/[S]); there is no
    SCPI-99 instrument class for electronic loads, so no single public standard defines
    them: check your load's programming guide before relying on this driver. Voltage and
    current together are one IEEE 488.2 compound query, ``MEAS:VOLT?;:MEAS:CURR?``.

    A generic load has no known rating, so ``max_current_a``, ``max_voltage_v`` and
    ``max_power_w`` are required; the CR range defaults to 0.01 … 10 000 Ω. Levels out of
    range raise ValueError before any I/O; CV and CR levels must be > 0 because 0 V or
    0 Ω on a battery is a short circuit. Neither the constructor nor
    :meth:`connect` sends anything.
    """

    # Not "zero every setpoint": 0 V in CV or 0 Ω in CR would be a short on the pack.
    safe_commands = ("INP OFF", "CURR 0", "FUNC CURR")

    function = measurement("FUNC?", parse_mode, doc="Get the operating mode as CC, CV, CR or CP.")
    input_state = measurement("INP?", parse_bool, doc="Get whether the load input is on.")
    measured_voltage = measurement("MEAS:VOLT?", parse_float, doc="Measure the input in V.")
    measured_current = measurement("MEAS:CURR?", parse_float, doc="Measure the input in A.")
    measured_power = measurement("MEAS:POW?", parse_float, doc="Measure the input in W.")

    def __init__(
        self,
        transport: Transport,
        *,
        check_errors: bool = True,
        max_current_a: float,
        max_voltage_v: float,
        max_power_w: float,
        min_resistance_ohm: float = 0.01,
        max_resistance_ohm: float = 10_000.0,
    ) -> None:
        super().__init__(transport, check_errors=check_errors)
        self.max_current_a = required_rating("max_current_a", max_current_a)
        self.max_voltage_v = required_rating("max_voltage_v", max_voltage_v)
        self.max_power_w = required_rating("max_power_w", max_power_w)
        self.min_resistance_ohm = required_rating("min_resistance_ohm", min_resistance_ohm)
        self.max_resistance_ohm = required_rating("max_resistance_ohm", max_resistance_ohm)
        if self.min_resistance_ohm >= self.max_resistance_ohm:
            raise ValueError(
                f"min_resistance_ohm {min_resistance_ohm!r} must be below "
                f"max_resistance_ohm {max_resistance_ohm!r}"
            )

    def set_mode(self, mode: LoadMode, level: float) -> None:
        """Set the level of ``mode`` (A, V, Ω or W), then select that mode.

        The level goes first so that switching the function never runs, even briefly, at
        a level left over from an earlier test.
        """
        if mode not in _FUNCTION:
            raise ValueError(f"{mode!r} is not one of 'CC', 'CV', 'CR', 'CP'")
        self._check_level(mode, level)
        function = _FUNCTION[mode]
        self.send(f"{function} {level:.4f}")
        self.send(f"FUNC {function}")

    def set_input(self, on: bool) -> None:
        """Switch the load input on or off."""
        check_bool(on)
        self.send("INP ON" if on else "INP OFF")

    def input_enabled(self) -> bool:
        """Return whether the load input is on."""
        return self.input_state

    def is_safe(self) -> bool:
        """Read back that the input is off."""
        return not self.input_state

    def _check_level(self, mode: str, level: Any) -> None:
        if mode == "CC":
            in_range(0, self.max_current_a)(level)
        elif mode == "CP":
            in_range(0, self.max_power_w)(level)
        elif mode == "CV":
            in_range(0, self.max_voltage_v)(level)
            if level == 0:
                raise ValueError("a CV level of 0 V would short the pack; give a level > 0")
        else:
            in_range(self.min_resistance_ohm, self.max_resistance_ohm)(level)
