"""A plain SCPI-99 DC power supply (source only)."""

from __future__ import annotations

from typing import Any

from drivers.errors import InstrumentError
from drivers.scpi.instrument import in_range, measurement, parse_bool, parse_float, rating
from drivers.scpi.power import ScpiSupply
from drivers.scpi.transport import Transport


def required_rating(name: str, value: Any) -> float:
    """Check a rating as :func:`~drivers.scpi.instrument.rating` does, as ValueError only.

    The generic drivers report every bad rating, a non-number included, as ValueError
    naming the option.
    """
    try:
        return rating(name, value)
    except TypeError as err:
        raise ValueError(str(err)) from err


class GenericScpiSupply(ScpiSupply):
    """Any DC supply that speaks the SCPI-99 DCPSUPPLY basics; plays the PowerSupply role.

    Commands: ``VOLT <V>``, ``CURR <A>``, ``OUTP ON|OFF``, ``OUTP?``, ``VOLT?``, ``CURR?``,
    ``MEAS:VOLT?``, ``MEAS:CURR?``, ``MEAS:POW?`` and ``SYST:ERR?`` — the SCPI-99 standard
    (Vol. 2 "Command Reference", SOURce/OUTPut/MEASure subsystems, and the DCPSUPPLY
    instrument class). ``MEAS:POW?`` is not in the DCPSUPPLY class but is what most
    supplies that measure power accept; a supply without it reports an error. Voltage and
    current together are one IEEE 488.2 compound query, ``MEAS:VOLT?;:MEAS:CURR?``.

    It cannot sink: :meth:`set_sink_current` refuses any non-zero value without sending
    anything, so a discharge step fails loudly on a source-only supply instead of doing
    nothing. Configure a bidirectional model (``itech.it6000c``, ``ea.psb10000``) to sink.

    A generic supply has no known rating, so ``max_voltage_v`` and ``max_current_a`` are
    required: setpoints above them raise ValueError before any I/O. Neither the
    constructor nor :meth:`connect` sends anything.
    """

    safe_commands = ("OUTP OFF", "VOLT 0", "CURR 0")

    voltage_setpoint = measurement(
        "VOLT?", parse_float, doc="Get the voltage setpoint in V as the supply holds it."
    )
    current_setpoint = measurement(
        "CURR?", parse_float, doc="Get the current limit in A as the supply holds it."
    )
    measured_voltage = measurement("MEAS:VOLT?", parse_float, doc="Measure the output in V.")
    measured_current = measurement("MEAS:CURR?", parse_float, doc="Measure the output in A.")
    measured_power = measurement("MEAS:POW?", parse_float, doc="Measure the output in W.")
    output_state = measurement("OUTP?", parse_bool, doc="Get whether the output is on.")

    def __init__(
        self,
        transport: Transport,
        *,
        check_errors: bool = True,
        max_voltage_v: float,
        max_current_a: float,
    ) -> None:
        super().__init__(transport, check_errors=check_errors)
        self.max_voltage_v = required_rating("max_voltage_v", max_voltage_v)
        self.max_current_a = required_rating("max_current_a", max_current_a)

    def set_voltage(self, volts: float) -> None:
        """Set the voltage setpoint in V (0 … max_voltage_v)."""
        in_range(0, self.max_voltage_v)(volts)
        self.send(f"VOLT {volts:.4f}")

    def set_current(self, amps: float) -> None:
        """Set the current limit in A (0 … max_current_a)."""
        in_range(0, self.max_current_a)(amps)
        self.send(f"CURR {amps:.4f}")

    def set_sink_current(self, amps: float) -> None:
        """Refuse any sink current but 0 A, sending nothing (this supply cannot sink)."""
        in_range(0, float("inf"))(amps)
        if amps != 0:
            raise InstrumentError(
                "this generic supply cannot sink; configure a bidirectional model",
                resource=self.resource,
            )
