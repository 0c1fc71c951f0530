"""EA Elektro-Automatik PSB 10000 bidirectional DC supply (source and regenerative sink)."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from drivers.errors import InstrumentConnectionError, InstrumentProtocolError
from drivers.roles import Identity
from drivers.scpi.instrument import in_range, measurement, parse_float, parse_int, rating
from drivers.scpi.power import ScpiSupply
from drivers.scpi.transport import Transport

PROTECTION_HEADROOM = 1.10
"""EA protection thresholds reach 110 % of the nominal rating (EA driver tests)."""


@dataclass(frozen=True)
class PsbReading:
    """One batched ``MEAS:ARR?`` reading; current and power are negative while sinking."""

    voltage_v: float
    current_a: float
    power_w: float


@dataclass(frozen=True)
class BatteryTestResult:
    """The ``BATT:TEST?`` result of the built-in battery test mode."""

    capacity_ah: float
    energy_wh: float
    elapsed_s: int


_BATTERY_TEST = re.compile(
    r"^\s*(?P<ah>[-+]?\d+(?:\.\d*)?)\s*Ah\s*,"
    r"\s*(?P<wh>[-+]?\d+(?:\.\d*)?)\s*Wh\s*,"
    r"\s*(?P<h>\d+):(?P<m>[0-5]\d):(?P<s>[0-5]\d)\s*$"
)
_OWNER = re.compile(r"^[A-Z_]+$")


def _optional_rating(name: str, value: float | None) -> float | None:
    """Check an optional model rating: None (read at connect), or as :func:`rating`."""
    return None if value is None else rating(name, value)


def parse_owner(reply: str) -> str:
    """Parse ``SYST:LOCK:OWN?`` (``REMOTE``, ``NONE``, …) into an upper-case word."""
    owner = reply.strip().upper()
    if not _OWNER.match(owner):
        raise ValueError(f"not a lock owner: {reply!r}")
    return owner


def parse_reading(reply: str) -> PsbReading:
    """Parse ``MEAS:ARR?`` such as ``"400.00 V, -50.00 A, -20000 W"``."""
    fields = reply.split(",")
    if len(fields) != 3:
        raise ValueError(f"expected 3 fields (V, I, P), got {len(fields)} in {reply!r}")
    voltage, current, power = (parse_float(field) for field in fields)
    return PsbReading(voltage, current, power)


def parse_battery_test(reply: str) -> BatteryTestResult:
    """Parse ``BATT:TEST?`` such as ``"1.25Ah, 33.5Wh, 00:01:02"``."""
    match = _BATTERY_TEST.match(reply)
    if match is None:
        raise ValueError(f"expected '<x>Ah, <y>Wh, hh:mm:ss', got {reply!r}")
    elapsed = int(match["h"]) * 3600 + int(match["m"]) * 60 + int(match["s"])
    return BatteryTestResult(float(match["ah"]), float(match["wh"]), elapsed)


class Psb10000(ScpiSupply):
    """EA Elektro-Automatik PSB 10000 bidirectional DC supply (source and regenerative sink).

    Plays the ``PowerSupply`` role. ``VOLT`` is the CV setpoint for both directions,
    ``CURR``/``POW`` limit sourcing (charging) and ``SINK:CURR``/``SINK:POW`` limit
    sinking (discharging). Replies may carry units (``"500.0 V"``); every number is
    parsed leniently.

    Constructed as ``Psb10000(transport, *, check_errors=True, max_voltage_v=None,
    max_current_a=None, max_power_w=None, lock_attempts=3, lock_retry_s=0.15)``.

    Ratings: a rating given as an option is used as is; a rating left as ``None`` is read
    from the instrument (``SYST:NOM:VOLT?``, ``:CURR?``, ``:POW?``) by :meth:`connect`.
    Until a rating is known, setpoints that depend on it raise
    ``InstrumentConnectionError`` without sending anything. Giving all three ratings makes
    the driver usable (and testable) without the nominal queries; reading them keeps one
    driver right for every PSB 10000 model. Setpoints are bounded to 0 … rating,
    protection thresholds to 0 … 110 % of the rating.

    :meth:`connect` must be called first: the PSB ignores settings until it holds the
    remote lock. It sends ``*CLS``, ``SYST:LOCK ON``, waits on ``*OPC?`` and checks
    ``SYST:LOCK:OWN?`` reads ``REMOTE``. The lock can be refused (front panel in Local,
    setup menu open, another interface holds it), and the refusal only appears as an error
    on a later command, so the owner is re-read up to ``lock_attempts`` times,
    ``lock_retry_s`` apart (it may lag behind a granted lock), and the error queue is
    checked before anything else is sent. :meth:`close` releases the lock
    (``SYST:LOCK OFF``).

    Command sources (see ``battery_eol.md`` §3.2): public EA PS 9000 / PSB driver code
    and its tests, and a PSB client script (``SYST:LOCK ON|OFF``, ``SYST:LOCK:OWN?``,
    ``*OPC?``, ``SYST:NOM:*?``, ``VOLT``, ``CURR``, ``POW``, ``SINK:CURR``, ``SINK:POW``,
    ``VOLT:PROT``, ``CURR:PROT``, ``POW:PROT``, ``VOLT:LIM:HIGH``, ``CURR:LIM:HIGH``,
    ``OUTP ON|OFF``, ``OUTP?``, ``MEAS:VOLT?``/``CURR?``/``POW?``, ``MEAS:ARR?``,
    ``BATT:TEST?``, ``SYST:ERR?``).

    No public source found, verify on hardware:

    * ``*CLS`` (IEEE 488.2 common command, assumed supported).
    * The sign of ``MEAS:CURR?`` / ``MEAS:POW?`` while sinking: the sources show it
      negative for ``MEAS:ARR?`` and the Modbus readings; assumed the same here.
    """

    # The current limits go to zero before the voltage: should the output have stayed on, a
    # zero CV setpoint with a live sink limit would discharge the pack.
    safe_commands = ("OUTP OFF", "CURR 0", "SINK:CURR 0", "VOLT 0")

    voltage_setpoint = measurement("VOLT?", parse_float, doc="Get the CV setpoint in V.")
    current_setpoint = measurement(
        "CURR?", parse_float, doc="Get the source (charge) current limit in A."
    )
    sink_current_setpoint = measurement(
        "SINK:CURR?", parse_float, doc="Get the sink (discharge) current limit in A."
    )
    lock_owner = measurement(
        "SYST:LOCK:OWN?",
        parse_owner,
        doc="Get who holds the remote lock: REMOTE (this interface), NONE, or another.",
    )
    battery_test_result = measurement(
        "BATT:TEST?",
        parse_battery_test,
        doc="Get the battery-test result: capacity in Ah, energy in Wh, elapsed time in s.",
    )

    def __init__(
        self,
        transport: Transport,
        *,
        check_errors: bool = True,
        max_voltage_v: float | None = None,
        max_current_a: float | None = None,
        max_power_w: float | None = None,
        lock_attempts: int = 3,
        lock_retry_s: float = 0.15,
    ) -> None:
        self.max_voltage_v = _optional_rating("max_voltage_v", max_voltage_v)
        self.max_current_a = _optional_rating("max_current_a", max_current_a)
        self.max_power_w = _optional_rating("max_power_w", max_power_w)
        if isinstance(lock_attempts, bool) or not isinstance(lock_attempts, int):
            raise TypeError(f"lock_attempts must be an int, got {lock_attempts!r}")
        if lock_attempts < 1:
            raise ValueError(f"lock_attempts must be at least 1, got {lock_attempts!r}")
        in_range(0, 10)(lock_retry_s)
        self.lock_attempts = lock_attempts
        self.lock_retry_s = float(lock_retry_s)
        super().__init__(transport, check_errors=check_errors)

    def connect(self) -> None:
        """Take the remote lock, verify it, then read any rating not given as an option."""
        self.send("*CLS")
        # Not send(): a refused lock is reported on a later command, checked below.
        self.transport.write("SYST:LOCK ON")
        self.ask("*OPC?", parse_int)
        owner = self.lock_owner
        attempts = 1
        while owner != "REMOTE" and attempts < self.lock_attempts:
            if self.lock_retry_s:
                time.sleep(self.lock_retry_s)
            owner = self.lock_owner
            attempts += 1
        if owner != "REMOTE":
            raise InstrumentConnectionError(
                f"remote lock refused: SYST:LOCK:OWN? reads {owner!r} after {attempts} "
                "tries; put the front panel out of Local, close its setup menu and release "
                "any other interface, then reconnect",
                resource=self.resource,
            )
        if self.check_errors:
            self.raise_on_error("SYST:LOCK ON")
        if self.max_voltage_v is None:
            self.max_voltage_v = self._nominal("SYST:NOM:VOLT?")
        if self.max_current_a is None:
            self.max_current_a = self._nominal("SYST:NOM:CURR?")
        if self.max_power_w is None:
            self.max_power_w = self._nominal("SYST:NOM:POW?")

    def _nominal(self, query: str) -> float:
        value = self.ask(query, parse_float)
        if not math.isfinite(value) or value <= 0:
            raise InstrumentProtocolError(
                f"unexpected rating {value!r} from {query!r}", resource=self.resource
            )
        return value

    def _known(self, rating: float | None, name: str) -> float:
        if rating is None:
            raise InstrumentConnectionError(
                f"{name} is not known yet: call connect() first or give {name}",
                resource=self.resource,
            )
        return rating

    def identity(self) -> Identity:
        """Ask ``*IDN?``; EA adds a fifth, user-text field, which is dropped."""
        reply = self.transport.query("*IDN?")
        fields = [field.strip() for field in reply.split(",", 4)]
        if len(fields) < 4 or not fields[0] or not fields[1]:
            raise InstrumentProtocolError(
                f"unexpected *IDN? reply {reply!r} (expected maker,model,serial,firmware[,text])",
                resource=self.resource,
            )
        return Identity(fields[0], fields[1], fields[2], fields[3])

    def set_voltage(self, volts: float) -> None:
        """Set the CV setpoint in V (0 … ``max_voltage_v``); also the sink CV level."""
        in_range(0, self._known(self.max_voltage_v, "max_voltage_v"))(volts)
        self.send(f"VOLT {volts:.4f}")

    def set_current(self, amps: float) -> None:
        """Set the source (charge) current limit in A (0 … ``max_current_a``)."""
        in_range(0, self._known(self.max_current_a, "max_current_a"))(amps)
        self.send(f"CURR {amps:.4f}")

    def set_sink_current(self, amps: float) -> None:
        """Set the sink (discharge) current limit in A (0 … ``max_current_a``)."""
        in_range(0, self._known(self.max_current_a, "max_current_a"))(amps)
        self.send(f"SINK:CURR {amps:.4f}")

    def set_power(self, watts: float) -> None:
        """Set the source (charge) power limit in W (0 … ``max_power_w``)."""
        in_range(0, self._known(self.max_power_w, "max_power_w"))(watts)
        self.send(f"POW {watts:.4f}")

    def set_sink_power(self, watts: float) -> None:
        """Set the sink (discharge) power limit in W (0 … ``max_power_w``)."""
        in_range(0, self._known(self.max_power_w, "max_power_w"))(watts)
        self.send(f"SINK:POW {watts:.4f}")

    def set_protection(
        self,
        *,
        ovp_v: float | None = None,
        ocp_a: float | None = None,
        opp_w: float | None = None,
    ) -> None:
        """Set the hardware trips: OVP in V, OCP in A, OPP in W (each 0 … 110 % of rating).

        The station sets these ceilings before switching the output on. Every value is
        checked before anything is sent.
        """
        commands = []
        for value, rated, name, header in (
            (ovp_v, self.max_voltage_v, "max_voltage_v", "VOLT:PROT"),
            (ocp_a, self.max_current_a, "max_current_a", "CURR:PROT"),
            (opp_w, self.max_power_w, "max_power_w", "POW:PROT"),
        ):
            if value is not None:
                in_range(0, self._known(rated, name) * PROTECTION_HEADROOM)(value)
                commands.append(f"{header} {value:.4f}")
        if not commands:
            raise ValueError("give ovp_v, ocp_a and/or opp_w")
        for command in commands:
            self.send(command)

    def set_adjustment_limits(
        self, *, voltage_high_v: float | None = None, current_high_a: float | None = None
    ) -> None:
        """Clamp what may be set later: the highest CV setpoint in V and/or current in A.

        Unlike the protection trips these make the instrument refuse larger setpoints.
        Every value is checked (0 … rating) before anything is sent.
        """
        commands = []
        if voltage_high_v is not None:
            in_range(0, self._known(self.max_voltage_v, "max_voltage_v"))(voltage_high_v)
            commands.append(f"VOLT:LIM:HIGH {voltage_high_v:.4f}")
        if current_high_a is not None:
            in_range(0, self._known(self.max_current_a, "max_current_a"))(current_high_a)
            commands.append(f"CURR:LIM:HIGH {current_high_a:.4f}")
        if not commands:
            raise ValueError("give voltage_high_v and/or current_high_a")
        for command in commands:
            self.send(command)

    def measure_all(self) -> PsbReading:
        """Measure voltage, current and power in one query (``MEAS:ARR?``)."""
        return self.ask("MEAS:ARR?", parse_reading)

    def measure_voltage_and_current(self) -> tuple[float, float]:
        """Measure the voltage in V and the current in A in one query (``MEAS:ARR?``).

        The PSB's own batched reading gives both from one instant; the power is dropped.
        """
        reading = self.measure_all()
        return reading.voltage_v, reading.current_a

    def close(self) -> None:
        """Release the remote lock (``SYST:LOCK OFF``), then the transport."""
        try:
            self.send("SYST:LOCK OFF")
        finally:
            self.transport.close()
