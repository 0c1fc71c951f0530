"""Twin of the EA PSB 10000 bidirectional supply (driver: ``drivers.ea.psb10000``).

The subset the driver and the domain spec §3.2 use: ``SYST:LOCK ON|OFF``, ``SYST:LOCK?``,
``SYST:LOCK:OWN?``, ``SYST:NOM:VOLT|CURR|POW?``, ``VOLT``, ``CURR``, ``POW``, ``SINK:CURR``,
``SINK:POW``, ``VOLT|CURR|POW:PROT``, ``VOLT:LIM:HIGH``, ``CURR:LIM:HIGH``,
``SINK:CURR:LIM:HIGH``, ``OUTP``, ``MEAS:VOLT|CURR|POW?``, ``MEAS:ARR?``, ``BATT:TEST?`` and
``SYST:ALAR:COUN:OVOL|OCUR|OPOW|OTEM|PFA?``; every setting has its query.
"""

from __future__ import annotations

from collections.abc import Sequence

from drivers.sim.electrical import OperatingPoint, PackCircuit, SourceTotals
from drivers.sim.instruments.power_stage import REACHED, PowerStageTwin
from drivers.sim.scpi_server import (
    DATA_OUT_OF_RANGE,
    DEVICE_SPECIFIC_ERROR,
    EXECUTION_ERROR,
    SETTINGS_CONFLICT,
    Call,
    CommandFn,
    ScpiError,
)

PROTECTION_HEADROOM = 1.10
"""Protection thresholds reach 110 % of the rating (as the driver assumes)."""
DIGITS = {"V": 2, "A": 2, "W": 1}
"""Decimals of a reply with that unit (``"400.00 V"``)."""

_LEVEL = "[:LEVel][:IMMediate][:AMPLitude]"
SETTINGS: dict[str, tuple[str, str]] = {
    "VOLT": (f"[SOURce:]VOLTage{_LEVEL}", "V"),
    "CURR": (f"[SOURce:]CURRent{_LEVEL}", "A"),
    "POW": (f"[SOURce:]POWer{_LEVEL}", "W"),
    "SINK:CURR": (f"SINK:CURRent{_LEVEL}", "A"),
    "SINK:POW": (f"SINK:POWer{_LEVEL}", "W"),
    "VOLT:PROT": ("[SOURce:]VOLTage:PROTection[:LEVel]", "V"),
    "CURR:PROT": ("[SOURce:]CURRent:PROTection[:LEVel]", "A"),
    "POW:PROT": ("[SOURce:]POWer:PROTection[:LEVel]", "W"),
    "VOLT:LIM:HIGH": ("[SOURce:]VOLTage:LIMit:HIGH", "V"),
    "CURR:LIM:HIGH": ("[SOURce:]CURRent:LIMit:HIGH", "A"),
    "SINK:CURR:LIM:HIGH": ("SINK:CURRent:LIMit:HIGH", "A"),
}
"""Every setting: short name → (pattern, unit)."""
ADJUSTMENT_LIMITS = {
    "VOLT": "VOLT:LIM:HIGH",
    "CURR": "CURR:LIM:HIGH",
    "SINK:CURR": "SINK:CURR:LIM:HIGH",
}
"""Setpoint → the adjustment limit that caps it."""
ALARMS = {
    "OVOL": ("VOLT:PROT", "over-voltage"),
    "OCUR": ("CURR:PROT", "over-current"),
    "OPOW": ("POW:PROT", "over-power"),
}
"""Alarm → the protection threshold that raises it and its name."""
COUNTERS = ("OVOLtage", "OCURrent", "OPOWer", "OTEMperature", "PFAil")
"""Alarm counters (over-temperature and power-fail are counted but never happen here)."""


class Psb10000Twin(PowerStageTwin):
    """A PSB 10000 on the pack terminals: CV with source and sink current and power limits.

    Connected to ``circuit`` as source ``name``. With the output on it holds the terminals at
    ``VOLT``: below it, it sources up to ``CURR`` and ``POW``; above it, it sinks up to
    ``SINK:CURR`` and ``SINK:POW``. Measured current and power are negative while sinking.
    Replies carry units (``"400.00 V"``, ``"-50.00 A"``, ``"-20000.0 W"``).

    Remote lock: settings (every command changing a value, ``OUTP`` included) are refused with
    ``-200,"Execution error;not in remote control…"`` unless this interface holds the lock.
    ``SYST:LOCK ON`` is granted unless the front panel is in Local (``local=True``, or set
    :attr:`local` later, which drops a held lock). A refused lock gives no error itself: the
    owner (``SYST:LOCK:OWN?``) stays ``NONE`` and the refusal surfaces as the error of the next
    setting (domain spec §6.7).

    Limits: a setpoint above its rating, or above its adjustment limit (``VOLT:LIM:HIGH``,
    ``CURR:LIM:HIGH``, ``SINK:CURR:LIM:HIGH``), is refused with ``-222,"Data out of range"``;
    an adjustment limit below its present setpoint with ``-221,"Settings conflict"``.
    Protection thresholds (``VOLT|CURR|POW:PROT``, up to 110 % of the rating, defaulting
    there) are always armed: reaching one switches the output off, counts an alarm
    (``SYST:ALAR:COUN:OVOL?`` …) and queues ``-300,"Device-specific error;over-voltage
    alarm"``; the output may be switched on again. The twin notices an alarm when it next
    handles a command; until then the output already stops at the threshold, so time passing
    cannot push the pack beyond it. The error is queued by the command that notices if it is
    a setting, else by the next setting (a failing query gives no reply).

    ``BATT:TEST?`` reports the charge and energy through the output (magnitudes of the net
    values) and the time since the output was last switched on, frozen when it goes off.

    The alarm error text and the ``-200`` of a setting without the lock are not from an EA
    source; EA's own codes may differ: verify on hardware.
    """

    def __init__(
        self,
        circuit: PackCircuit,
        *,
        name: str = "supply",
        rated_voltage_v: float = 500.0,
        rated_current_a: float = 60.0,
        rated_power_w: float = 15000.0,
        local: bool = False,
        serial: str = "SIM00001",
    ) -> None:
        self._local = local
        self.locked = False
        self.values: dict[str, float] = {}
        self.alarm_counts = {"OVOL": 0, "OCUR": 0, "OPOW": 0, "OTEM": 0, "PFA": 0}
        super().__init__(circuit, name, rated_voltage_v, rated_current_a, rated_power_w)
        model = f"PSB 10{rated_voltage_v:03.0f}-{rated_current_a:g}"
        self.idn = f"EA Elektro-Automatik,{model},{serial},V2.01 08.08.2019,EOL virtual bench"

    @property
    def ratings(self) -> dict[str, float]:
        """Get the ratings by unit: ``V``, ``A`` and ``W``."""
        return {"V": self.rated_voltage_v, "A": self.rated_current_a, "W": self.rated_power_w}

    @property
    def local(self) -> bool:
        """Control whether the front panel is in Local (no remote lock; a held one is lost)."""
        return self._local

    @local.setter
    def local(self, value: bool) -> None:
        self._local = value
        if value:
            self.locked = False

    def _defaults(self) -> None:
        """Switch the output off and return every setting to its default."""
        # Thresholds, adjustment limits and power limits start at their ceiling, so the
        # driver's current-and-voltage settings alone make current flow.
        for key in SETTINGS:
            at_ceiling = key.endswith(("PROT", "HIGH", "POW"))
            self.values[key] = self._ceiling(key) if at_ceiling else 0.0
        self.output_on = False
        self._battery_start: tuple[SourceTotals, float] | None = None
        self._battery_end: tuple[SourceTotals, float] | None = None

    def _ceiling(self, key: str) -> float:
        rated = self.ratings[SETTINGS[key][1]]
        return rated * PROTECTION_HEADROOM if key.endswith("PROT") else rated

    def _source(self, terminal_v: float) -> float:
        if not self.output_on:
            return 0.0
        values = self.values
        # Beyond a protection threshold the output pushes no further; _watch then trips it.
        per_volt = 1.0 / terminal_v if terminal_v > 0.0 else float("inf")
        ceiling = min(values["CURR:PROT"], values["POW:PROT"] * per_volt)
        if terminal_v > values["VOLT"]:
            return -min(values["SINK:CURR"], values["SINK:POW"] * per_volt, ceiling)
        if terminal_v > values["VOLT:PROT"]:
            return 0.0
        return min(values["CURR"], values["POW"] * per_volt, ceiling)

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        """Return the lock, nominal, setting, OUTPut, MEASure, battery-test and alarm commands."""
        on_off = {True: "ON", False: "OFF"}
        any_time: list[tuple[str, CommandFn]] = [
            ("SYSTem:LOCK[:STATe]", self._set_lock),
            ("SYSTem:LOCK[:STATe]?", lambda c: on_off[self.locked]),
            ("SYSTem:LOCK:OWNer?", lambda c: "REMOTE" if self.locked else "NONE"),
            ("SYSTem:NOMinal:VOLTage?", lambda c: _with_unit(self.ratings["V"], "V")),
            ("SYSTem:NOMinal:CURRent?", lambda c: _with_unit(self.ratings["A"], "A")),
            ("SYSTem:NOMinal:POWer?", lambda c: _with_unit(self.ratings["W"], "W")),
            ("OUTPut[:STATe]?", lambda c: on_off[self.output_on]),
            *self._measure_queries(),
            ("MEASure[:SCALar]:ARRay?", self._measure_array),
            ("BATTery:TEST?", self._battery_test),
        ]
        for counter in COUNTERS:
            short = "".join(ch for ch in counter if ch.isupper())
            any_time.append((f"SYSTem:ALARm:COUNt:{counter}?", self._counter(short)))
        remote_only: list[tuple[str, CommandFn]] = [("OUTPut[:STATe]", self._set_output)]
        for key, (pattern, unit) in SETTINGS.items():
            remote_only.append((pattern, self._setter(key)))
            any_time.append((f"{pattern}?", self._getter(key, unit)))
        remote_only = [(pattern, self._remote_only(fn)) for pattern, fn in remote_only]
        return self._all_guarded([*any_time, *remote_only])

    # --- lock, protection ---------------------------------------------------------------------

    def _remote_only(self, function: CommandFn) -> CommandFn:
        """Refuse ``function``, a setting, unless this interface holds the remote lock."""

        def run(call: Call) -> str | None:
            if not self.locked:
                raise ScpiError(EXECUTION_ERROR, "not in remote control; send SYST:LOCK ON")
            return function(call)

        return run

    def _set_lock(self, call: Call) -> None:
        call.expect(1)
        self.locked = call.boolean() and not self._local

    def _counter(self, short: str) -> CommandFn:
        return lambda call: str(self.alarm_counts[short])

    def _watch(self) -> OperatingPoint | None:
        if not self.output_on:
            return None
        op = self.circuit.operating_point()
        amps = op.currents_a.get(self.name, 0.0)
        seen = {"OVOL": op.voltage_v, "OCUR": abs(amps), "OPOW": abs(op.voltage_v * amps)}
        alarms = [a for a, (key, _) in ALARMS.items() if seen[a] >= self.values[key] * REACHED]
        if not alarms:
            return op
        with self.circuit.locked():
            self._switch(False)
        for alarm in alarms:
            self.alarm_counts[alarm] += 1
            self._pending.append((DEVICE_SPECIFIC_ERROR, f"{ALARMS[alarm][1]} alarm"))
        return None

    # --- settings -----------------------------------------------------------------------------

    def _getter(self, key: str, unit: str) -> CommandFn:
        return lambda call: _with_unit(self.values[key], unit)

    def _setter(self, key: str) -> CommandFn:
        limit = ADJUSTMENT_LIMITS.get(key)
        limited = next((k for k, v in ADJUSTMENT_LIMITS.items() if v == key), None)

        def set_value(call: Call) -> None:
            call.expect(1)
            value = call.number(low=0.0, high=self._ceiling(key))
            if limit is not None and value > self.values[limit]:
                raise ScpiError(DATA_OUT_OF_RANGE, f"{key} above its adjustment limit {limit}")
            if limited is not None and value < self.values[limited]:
                raise ScpiError(SETTINGS_CONFLICT, f"{key} below the present {limited}")
            with self.circuit.locked():
                self.values[key] = value

        return set_value

    def _set_output(self, call: Call) -> None:
        call.expect(1)
        on = call.boolean()
        with self.circuit.locked():
            self._switch(on)

    def _switch(self, on: bool) -> None:
        """Switch the output, starting or freezing the battery test (circuit lock held)."""
        if on != self.output_on:
            now = (self.circuit.totals(self.name), self.circuit.time_s)
            if on:
                self._battery_start, self._battery_end = now, None
            else:
                self._battery_end = now
        self.output_on = on

    # --- measurements -------------------------------------------------------------------------

    def _reply(self, value: float, unit: str) -> str:
        """Format a reading with its unit, as the PSB does (``"400.00 V"``)."""
        return _with_unit(value, unit)

    def _measure_array(self, call: Call) -> str:
        readings = zip(self._measure(), "VAW", strict=True)
        return ", ".join(_with_unit(value, unit) for value, unit in readings)

    def _battery_test(self, call: Call) -> str:
        call.expect(0)
        if self._battery_start is None:
            return "0.00Ah, 0.00Wh, 00:00:00"
        (start, started), (end, ended) = self._battery_start, self._battery_end or self._now()
        ah = abs(end.charge_ah - start.charge_ah)
        wh = abs(end.energy_wh - start.energy_wh)
        minutes, seconds = divmod(int(ended - started), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{ah:.2f}Ah, {wh:.2f}Wh, {hours:02d}:{minutes:02d}:{seconds:02d}"

    def _now(self) -> tuple[SourceTotals, float]:
        totals = self.circuit.totals(self.name)  # syncs first, so time_s is now
        return totals, self.circuit.time_s


def _with_unit(value: float, unit: str) -> str:
    digits = DIGITS[unit]
    return f"{round(value, digits) + 0.0:.{digits}f} {unit}"  # + 0.0 turns -0.0 into 0.0
