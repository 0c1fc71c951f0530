"""What the DC supplies and electronic loads share: readings, switch and safe state.

Every model keeps its own setpoint commands; what is the same contract on the wire is here.
:class:`ScpiPowerStage` reads ``MEAS:VOLT?``, ``MEAS:CURR?`` and ``MEAS:POW?``, voltage and
current together in one compound query, and sends its safe state as one batch;
:class:`ScpiSupply` adds the ``OUTP`` switch of a supply.
"""

from __future__ import annotations

import re
from typing import ClassVar

from drivers.scpi.instrument import (
    NUMBER_TEXT,
    ScpiInstrument,
    check_bool,
    parse_bool,
    parse_float,
)

_TWO_NUMBERS = re.compile(f"{NUMBER_TEXT};{NUMBER_TEXT}")
"""Two :func:`parse_float` numbers joined by ``;`` (a number's text holds no ``;``)."""
_PLAIN = "0123456789.+-eE; "
"""The characters of two plain numbers: with only these (no unit, no ``inf``, ``nan`` or
``_``), the text ``float()`` takes is exactly the text :data:`NUMBER_TEXT` matches."""


def parse_voltage_and_current(reply: str) -> tuple[float, float]:
    """Parse the reply to a compound voltage-then-current query (``"401.25;-50.5"``).

    IEEE 488.2 joins the replies to a compound query with ``;``; anything but exactly two
    numbers (a unit of the reply missing because its query failed, a third one) is refused.
    """
    # Every power sample comes here: two plain numbers are two float() calls (a third of
    # the pattern's cost); anything else goes to the pattern, which decides.
    volts, sep, amps = reply.partition(";")
    if sep and not reply.strip(_PLAIN):
        try:
            return float(volts), float(amps)
        except ValueError:
            pass
    match = _TWO_NUMBERS.fullmatch(reply)
    if match is not None:
        return float(match.group(1)), float(match.group(3))
    units = reply.split(";")
    if len(units) != 2:
        raise ValueError(f"expected two readings joined by ';' (V;A), got {len(units)}")
    return parse_float(units[0]), parse_float(units[1])


class ScpiPowerStage(ScpiInstrument):
    """Base of a DC supply or load measured with ``MEAS:VOLT?``, ``MEAS:CURR?``, ``MEAS:POW?``.

    :meth:`safe_state` sends :attr:`safe_commands`, which each model lists with its switch-off
    first.
    """

    safe_commands: ClassVar[tuple[str, ...]] = ()
    """The commands that make the model safe, switch-off first (see :meth:`safe_state`)."""

    voltage_and_current_query: ClassVar[str] = "MEAS:VOLT?;:MEAS:CURR?"
    """Voltage then current in one message: an IEEE 488.2 compound query, the second unit
    from the root (``;:``) so it needs no implied-path rule. A sample costs one exchange
    instead of two; a model with a read-back of the same acquisition overrides it."""

    def measure_voltage(self) -> float:
        """Measure the terminal voltage in V."""
        return self.ask("MEAS:VOLT?", parse_float)

    def measure_current(self) -> float:
        """Measure the current in A (a supply's: > 0 sourcing, < 0 sinking)."""
        return self.ask("MEAS:CURR?", parse_float)

    def measure_power(self) -> float:
        """Measure the power in W (a supply's: > 0 sourcing, < 0 sinking)."""
        return self.ask("MEAS:POW?", parse_float)

    def measure_voltage_and_current(self) -> tuple[float, float]:
        """Measure the voltage in V and the current in A in one exchange."""
        return self.ask(self.voltage_and_current_query, parse_voltage_and_current)

    def safe_state(self) -> None:
        """Switch off first, then leave setpoints that cannot move energy (:attr:`safe_commands`).

        Sent as one batch (:meth:`send_batch`): an error already queued cannot stop the
        sequence half-way, every command is attempted and errors are checked once at the end.
        """
        self.send_batch(self.safe_commands, label="safe_state")


class ScpiSupply(ScpiPowerStage):
    """Base of a DC supply whose output is switched with ``OUTP ON|OFF`` and read with ``OUTP?``."""

    def set_output(self, on: bool) -> None:
        """Switch the output on or off."""
        check_bool(on)
        self.send("OUTP ON" if on else "OUTP OFF")

    def output_enabled(self) -> bool:
        """Return whether the output is on."""
        return self.ask("OUTP?", parse_bool)

    def is_safe(self) -> bool:
        """Read back that the output is off."""
        return not self.output_enabled()
