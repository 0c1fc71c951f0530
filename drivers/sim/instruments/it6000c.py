"""Twin of the ITECH IT6000C bidirectional supply (driver: ``drivers.itech.it6000c``).

The subset the driver and the domain spec §3.2 use: ``SYST:REM``/``SYST:LOC``,
``[SOUR:]FUNC VOLT``, ``VOLT``, ``CURR:LIM[:POS]``, ``CURR:LIM:NEG``, OVP/OCP
(``SOUR:VOLT|CURR:OVER:PROT[:LEV]`` and ``…:STAT``), ``OUTP``, ``MEAS:…?`` / ``FETC:…?``,
plus ``[SOUR:]PROT:CLE`` and ``STAT:QUES:COND?`` to clear and read a latched trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.sim.electrical import OperatingPoint, PackCircuit
from drivers.sim.instruments.power_stage import REACHED, PowerStageTwin, reply_number
from drivers.sim.scpi_server import (
    DEVICE_SPECIFIC_ERROR,
    SETTINGS_CONFLICT,
    Call,
    CommandFn,
    ScpiError,
)

PROTECTION_HEADROOM = 1.10
"""OVP/OCP levels may be set up to 110 % of the rating."""


@dataclass
class Protection:
    """One hardware trip: its ``level`` (V or A), whether it is ``armed`` and has ``tripped``.

    ``bit`` is its ``STAT:QUES:COND?`` bit (SCPI-99 order: voltage 1, current 2).
    """

    what: str
    bit: int
    level: float = 0.0
    armed: bool = False
    tripped: bool = False


class It6000cTwin(PowerStageTwin):
    """An IT6000C on the pack terminals, in voltage priority, sourcing and sinking.

    Connected to ``circuit`` as source ``name``. With the output on it holds the terminals at
    ``VOLT``: below it, it sources up to ``CURR:LIM``; above it, it sinks up to the magnitude of
    ``CURR:LIM:NEG`` (a number ≤ 0). Both directions are also limited to ``rated_power_w``/V.
    Setpoints outside the ratings are refused with ``-222,"Data out of range"``; current
    priority (``FUNC CURR``) is not simulated and is refused with ``-221,"Settings conflict"``.

    Protection (:attr:`ovp`, :attr:`ocp`): an armed OVP (terminal voltage reaching its level)
    or OCP (output current reaching its level, either direction) switches the output off and
    latches, readable with ``STAT:QUES:COND?`` (bit 0 OV, bit 1 OC); ``OUTP ON`` is refused
    with ``-221`` until ``PROT:CLE`` (or ``*RST``). Each trip is queued as
    ``-300,"Device-specific error;over-voltage protection tripped"``. The circuit only asks a
    source for its current, so the twin notices a trip when it next handles a command; until
    then the output already stops at the limit (it sources nothing above the OVP level and
    holds the current at the OCP level), so time passing cannot push the pack beyond it. The
    error is queued by the command that notices if it is a setting, else by the next setting:
    a failing query gives no reply, so a query cannot carry it.

    The ``PROT:CLE``, ``STAT:QUES:COND?`` and OVP headers and the error of a trip come from no
    public IT6000C source (battery_eol.md §7 item 3): verify on hardware.
    """

    def __init__(
        self,
        circuit: PackCircuit,
        *,
        name: str = "supply",
        rated_voltage_v: float = 1500.0,
        rated_current_a: float = 90.0,
        rated_power_w: float = 18000.0,
        serial: str = "SIM00001",
    ) -> None:
        self.remote = False
        self.ovp = Protection("over-voltage", 1)
        self.ocp = Protection("over-current", 2)
        super().__init__(circuit, name, rated_voltage_v, rated_current_a, rated_power_w)
        model = f"IT60{rated_power_w / 1000:02.0f}C-{rated_voltage_v:g}-{rated_current_a:g}"
        self.idn = f"ITECH Ltd.,{model},{serial},1.00-1.00"

    def _defaults(self) -> None:
        """Switch the output off, zero the setpoints, disarm and clear the trips."""
        self.voltage_setpoint_v = self.source_limit_a = 0.0
        self.sink_limit_a = 0.0
        """The sink current limit as a positive number (``CURR:LIM:NEG`` is its negative)."""
        self.output_on = False
        for trip, rating in ((self.ovp, self.rated_voltage_v), (self.ocp, self.rated_current_a)):
            trip.level = rating * PROTECTION_HEADROOM
            trip.armed = trip.tripped = False

    def _source(self, terminal_v: float) -> float:
        if not self.output_on:
            return 0.0
        power_cap = self.rated_power_w / terminal_v if terminal_v > 0.0 else float("inf")
        if terminal_v > self.voltage_setpoint_v:
            amps = -min(self.sink_limit_a, power_cap)
        elif self.ovp.armed and terminal_v > self.ovp.level:
            amps = 0.0  # tripping: push no further (the latch follows in _watch)
        else:
            amps = min(self.source_limit_a, power_cap)
        if self.ocp.armed:
            amps = max(-self.ocp.level, min(self.ocp.level, amps))
        return amps

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        """Return the SYSTem, SOURce, protection, OUTPut and MEASure/FETCh commands."""
        level = "[:LEVel][:IMMediate][:AMPLitude]"
        volts, amps = self.rated_voltage_v, self.rated_current_a
        sink = "[SOURce:]CURRent:LIMit:NEGative[:IMMediate]"
        source = "[SOURce:]CURRent:LIMit[:POSitive][:IMMediate]"
        table: list[tuple[str, CommandFn]] = [
            ("SYSTem:REMote", lambda c: self._set_remote(c, True)),
            ("SYSTem:LOCal", lambda c: self._set_remote(c, False)),
            ("[SOURce:]FUNCtion", self._set_function),
            ("[SOURce:]FUNCtion?", lambda c: "VOLT"),
            (f"[SOURce:]VOLTage{level}", self._number_setter("voltage_setpoint_v", 0.0, volts)),
            (f"[SOURce:]VOLTage{level}?", lambda c: reply_number(self.voltage_setpoint_v)),
            (sink, self._set_sink_limit),
            (f"{sink}?", lambda c: reply_number(-self.sink_limit_a)),
            (source, self._number_setter("source_limit_a", 0.0, amps)),
            (f"{source}?", lambda c: reply_number(self.source_limit_a)),
            ("[SOURce:]PROTection:CLEar", self._clear_protection),
            ("STATus:QUEStionable:CONDition?", lambda c: str(self._questionable())),
            ("OUTPut[:STATe]", self._set_output),
            ("OUTPut[:STATe]?", lambda c: "1" if self.output_on else "0"),
        ]
        for node, trip, rating in (
            ("VOLTage", self.ovp, self.rated_voltage_v),
            ("CURRent", self.ocp, self.rated_current_a),
        ):
            prot = f"[SOURce:]{node}:OVER:PROTection"
            table += [
                (f"{prot}[:LEVel]", self._level_setter(trip, rating * PROTECTION_HEADROOM)),
                (f"{prot}[:LEVel]?", self._level_getter(trip)),
                (f"{prot}:STATe", self._state_setter(trip)),
                (f"{prot}:STATe?", self._state_getter(trip)),
            ]
        table += self._measure_queries(("MEASure", "FETCh"))
        return self._all_guarded(table)

    # --- protection ---------------------------------------------------------------------------

    def _watch(self) -> OperatingPoint | None:
        if not self.output_on:
            return None
        op = self.circuit.operating_point()  # also brings the circuit to now, armed or not
        ovp, ocp = self.ovp, self.ocp
        if not (ovp.armed or ocp.armed):
            return op  # the usual case, on every command of a power sample
        seen = ((ovp, op.voltage_v), (ocp, abs(op.currents_a.get(self.name, 0.0))))
        trips = [trip for trip, value in seen if trip.armed and value >= trip.level * REACHED]
        if not trips:
            return op
        with self.circuit.locked():
            self.output_on = False
        for trip in trips:
            trip.tripped = True
            self._pending.append((DEVICE_SPECIFIC_ERROR, f"{trip.what} protection tripped"))
        return None

    def _questionable(self) -> int:
        return sum(trip.bit for trip in (self.ovp, self.ocp) if trip.tripped)

    def _clear_protection(self, call: Call) -> None:
        call.expect(0)
        self.ovp.tripped = self.ocp.tripped = False

    def _level_setter(self, trip: Protection, high: float) -> CommandFn:
        def set_level(call: Call) -> None:
            call.expect(1)
            trip.level = call.number(low=0.0, high=high)

        return set_level

    def _level_getter(self, trip: Protection) -> CommandFn:
        return lambda call: reply_number(trip.level)

    def _state_getter(self, trip: Protection) -> CommandFn:
        return lambda call: "1" if trip.armed else "0"

    def _state_setter(self, trip: Protection) -> CommandFn:
        def set_state(call: Call) -> None:
            call.expect(1)
            trip.armed = call.boolean()

        return set_state

    # --- settings -----------------------------------------------------------------------------

    def _set_remote(self, call: Call, remote: bool) -> None:
        call.expect(0)
        self.remote = remote

    def _set_function(self, call: Call) -> None:
        call.expect(1)
        if call.choice(("VOLTage", "CURRent")) != "VOLT":
            raise ScpiError(SETTINGS_CONFLICT, "current priority is not simulated")

    def _set_sink_limit(self, call: Call) -> None:
        call.expect(1)
        amps = call.number(low=-self.rated_current_a, high=0.0)
        with self.circuit.locked():
            self.sink_limit_a = 0.0 - amps

    def _set_output(self, call: Call) -> None:
        call.expect(1)
        on = call.boolean()
        latched = [trip.what for trip in (self.ovp, self.ocp) if trip.tripped]
        if on and latched:
            raise ScpiError(
                SETTINGS_CONFLICT, f"{' and '.join(latched)} protection latched; send PROT:CLE"
            )
        with self.circuit.locked():
            self.output_on = on
