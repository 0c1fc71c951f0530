"""Chroma 63200A high-power DC electronic load."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Literal, TypeVar

from drivers.roles import LoadMode
from drivers.scpi.instrument import (
    ScpiInstrument,
    check_bool,
    in_range,
    measurement,
    one_of,
    parse_bool,
    parse_float,
    positive,
    rating,
)
from drivers.scpi.power import parse_voltage_and_current
from drivers.scpi.transport import Transport

T = TypeVar("T")
RangeLetter = Literal["L", "M", "H"]

_RANGES = ("L", "M", "H")
_LEVEL_HEADERS = {
    "CC": "CURR:STAT:L1",
    "CV": "VOLT:STAT:L1",
    "CR": "RES:STAT:L1",
    "CP": "POW:STAT:L1",
}
_MODE_REPLY = re.compile(r"^[A-Z]+$")

# Any word starting with SHOR (LOAD:SHORt, its queries and sub-nodes), in any case, anywhere
# in a ;-joined message. Short mode on a battery is a dead short across the pack.
_SHORT = re.compile(r"\bSHOR", re.IGNORECASE)


class ShortModeRefused(ValueError):
    """A message would have touched the load's short mode, which this driver never does."""


def parse_mode(reply: str) -> str:
    """Parse ``MODE?`` (``"CCH"``, ``"CRL"``, …) into an upper-case word."""
    mode = reply.strip().upper()
    if not _MODE_REPLY.match(mode):
        raise ValueError(f"not a load mode: {reply!r}")
    return mode


class Chroma63200a(ScpiInstrument):
    """Chroma 63200A high-power DC electronic load (e.g. 63206A, 63210A).

    Plays the ``ElectronicLoad`` role. ``MODE`` takes the mode and its range letter in one
    word (``CCH`` = constant current, high range); each mode has its own static level
    (``CURR:STAT:L1``, ``VOLT:STAT:L1``, ``RES:STAT:L1``, ``POW:STAT:L1``). The dynamic
    current mode (``MODE CCDx`` with ``CURR:DYN:…``) gives the base/pulse profile of a
    DCIR test.

    Never short mode: the driver has no way to send ``LOAD:SHORt`` (short mode on a
    battery is a dead short across the pack). :meth:`send`, :meth:`send_batch` and
    :meth:`ask` refuse any message touching a ``SHOR`` header with
    :class:`ShortModeRefused` (a ``ValueError``) before anything is written. Only writing
    to ``transport`` directly bypasses this.

    Constructed as ``Chroma63200a(transport, *, check_errors=True, max_voltage_v=150.0,
    max_current_a=600.0, max_power_w=6000.0, range_letter="H")``. The ratings default to
    the 63206A-150-600 (150 V, 600 A, 6 kW, from the model name); give the ratings of the
    model on the bench. ``range_letter`` is the range used when a call does not name one:
    ``H`` covers the full rating at the coarsest resolution.

    The constructor sends nothing; call :meth:`connect` once after construction (clears
    the error queue).

    Command sources (see ``battery_eol.md`` §3.3): the PythonEquipmentDrivers
    ``Chroma_63206A`` driver (``MODE CC|CR|CP|CCD`` + ``L|M|H``, ``MODE?``,
    ``CURR:STAT:L1``/``L2``, ``RES:STAT:L1``, ``VOLT:STAT:L1``, ``VOLT:STAT:ILIM``,
    ``POW:STAT:L1``, ``CURR:DYN:L1``/``L2``/``T1``/``T2``/``REP``/``RISE``/``FALL`` with
    times in s and slew rates in A/µs, ``LOAD 1|0`` and ``LOAD?`` replying ON/OFF,
    ``MEAS:…?`` and ``FETC:…?``). ``LOAD ON|OFF`` is in ``battery_eol.md`` §3.3.

    No public source found, verify on hardware:

    * ``MODE CVL|CVM|CVH``: ``VOLT:STAT:L1`` is sourced but the driver above lists only
      CC/CR/CP/CCD modes; CV appears only in an unattributed SCPI summary.
    * The ``L2`` level and the repeat count's upper bound (``CURR:DYN:REP`` 0 … 65535,
      0 = repeat until the input is switched off).
    * ``*CLS`` (IEEE 488.2 common command, assumed supported).
    * A compound query, ``MEAS:VOLT?;:FETC:CURR?`` in one message (IEEE 488.2, assumed
      supported), answered on one line as ``<V>;<A>``.
    """

    mode = measurement("MODE?", parse_mode, doc="Get the mode and range word, e.g. CCH.")
    cv_current_limit_setpoint = measurement(
        "VOLT:STAT:ILIM?", parse_float, doc="Get the current limit in CV mode in A."
    )

    def __init__(
        self,
        transport: Transport,
        *,
        check_errors: bool = True,
        max_voltage_v: float = 150.0,
        max_current_a: float = 600.0,
        max_power_w: float = 6000.0,
        range_letter: RangeLetter = "H",
    ) -> None:
        self.max_voltage_v = rating("max_voltage_v", max_voltage_v)
        self.max_current_a = rating("max_current_a", max_current_a)
        self.max_power_w = rating("max_power_w", max_power_w)
        one_of(*_RANGES)(range_letter)
        self.range_letter: RangeLetter = range_letter
        super().__init__(transport, check_errors=check_errors)

    def send(self, command: str) -> None:
        """Write a command (never one touching short mode), then check the error queue."""
        _refuse_short(command)
        super().send(command)

    def send_batch(self, commands: Iterable[str], *, label: str) -> None:
        """Write commands back to back (none touching short mode), then check errors once."""
        batch = list(commands)
        for command in batch:
            _refuse_short(command)
        super().send_batch(batch, label=label)

    def ask(self, command: str, parse: Callable[[str], T]) -> T:
        """Query and parse (never a query touching short mode)."""
        _refuse_short(command)
        return super().ask(command, parse)

    def connect(self) -> None:
        """Clear the error queue so the first checked command sees only its own errors."""
        self.send("*CLS")

    def _range(self, range_letter: RangeLetter | None) -> RangeLetter:
        if range_letter is None:
            return self.range_letter
        one_of(*_RANGES)(range_letter)
        return range_letter

    def set_mode(
        self, mode: LoadMode, level: float, *, range_letter: RangeLetter | None = None
    ) -> None:
        """Select CC (A), CV (V), CR (Ω) or CP (W) and set its static level.

        ``range_letter`` (L, M or H) picks the range; by default the constructor's. The
        level is checked against the model rating (CR: above zero) before anything is sent.
        In CV mode the load draws whatever current holds the voltage down: set
        :meth:`set_cv_current_limit` first.
        """
        one_of(*_LEVEL_HEADERS)(mode)
        letter = self._range(range_letter)
        if mode == "CC":
            in_range(0, self.max_current_a)(level)
        elif mode == "CV":
            in_range(0, self.max_voltage_v)(level)
        elif mode == "CP":
            in_range(0, self.max_power_w)(level)
        else:
            positive(level)
        self.send(f"MODE {mode}{letter}")
        self.send(f"{_LEVEL_HEADERS[mode]} {level:.4f}")

    def set_cv_current_limit(self, amps: float) -> None:
        """Set the current limit in CV mode in A (0 … ``max_current_a``)."""
        in_range(0, self.max_current_a)(amps)
        self.send(f"VOLT:STAT:ILIM {amps:.4f}")

    def configure_pulse(
        self,
        *,
        base_a: float,
        pulse_a: float,
        base_s: float,
        pulse_s: float,
        rise_a_per_us: float,
        fall_a_per_us: float,
        repeat: int = 1,
        range_letter: RangeLetter | None = None,
    ) -> None:
        """Select dynamic CC and set a base/pulse profile for DCIR; the input stays as is.

        The load holds ``base_a`` (L1) for ``base_s`` (T1), then ``pulse_a`` (L2) for
        ``pulse_s`` (T2), slewing at ``rise_a_per_us`` / ``fall_a_per_us``, ``repeat``
        times (0 = until the input is switched off). Switch the input on with
        :meth:`set_input` to start. Everything is checked before anything is sent.
        """
        letter = self._range(range_letter)
        in_range(0, self.max_current_a)(base_a)
        in_range(0, self.max_current_a)(pulse_a)
        for value in (base_s, pulse_s, rise_a_per_us, fall_a_per_us):
            positive(value)
        if isinstance(repeat, bool) or not isinstance(repeat, int):
            raise TypeError(f"repeat must be an int, got {repeat!r}")
        in_range(0, 65535)(repeat)
        for command in (
            f"MODE CCD{letter}",
            f"CURR:DYN:L1 {base_a:.4f}",
            f"CURR:DYN:L2 {pulse_a:.4f}",
            f"CURR:DYN:T1 {base_s:.6f}",
            f"CURR:DYN:T2 {pulse_s:.6f}",
            f"CURR:DYN:RISE {rise_a_per_us:.4f}",
            f"CURR:DYN:FALL {fall_a_per_us:.4f}",
            f"CURR:DYN:REP {repeat:d}",
        ):
            self.send(command)

    def set_input(self, on: bool) -> None:
        """Switch the load input on or off."""
        check_bool(on)
        self.send("LOAD ON" if on else "LOAD OFF")

    def input_enabled(self) -> bool:
        """Return whether the load input is on."""
        return self.ask("LOAD?", parse_bool)

    def measure_voltage(self, *, latest: bool = False) -> float:
        """Measure the input voltage in V (``latest``: the last sample, no new one)."""
        return self._measure("VOLT", latest)

    def measure_current(self, *, latest: bool = False) -> float:
        """Measure the input current in A (``latest``: the last sample, no new one)."""
        return self._measure("CURR", latest)

    def measure_power(self, *, latest: bool = False) -> float:
        """Measure the input power in W (``latest``: the last sample, no new one)."""
        return self._measure("POW", latest)

    def measure_voltage_and_current(self, *, latest: bool = False) -> tuple[float, float]:
        """Measure the input voltage in V and current in A from one sample, in one exchange.

        Sends ``MEAS:VOLT?;:FETC:CURR?``: the current is fetched from the sample that
        measured the voltage (``latest``: ``FETC:VOLT?;:FETC:CURR?``, no new sample).
        """
        check_bool(latest)
        verb = "FETC" if latest else "MEAS"
        return self.ask(f"{verb}:VOLT?;:FETC:CURR?", parse_voltage_and_current)

    def _measure(self, quantity: str, latest: bool) -> float:
        check_bool(latest)
        verb = "FETC" if latest else "MEAS"
        return self.ask(f"{verb}:{quantity}?", parse_float)

    def safe_state(self) -> None:
        """Switch the input off, then leave the load in CC at 0 A.

        Only current levels are zeroed: a zero CR or CV level would be a short. Sent as one
        batch (:meth:`send_batch`): every command is attempted, errors are checked once.
        """
        self.send_batch(
            ("LOAD OFF", "MODE CCH", "CURR:STAT:L1 0", "CURR:STAT:L2 0"), label="safe_state"
        )

    def is_safe(self) -> bool:
        """Read back that the load input is off."""
        return not self.input_enabled()


def _refuse_short(command: str) -> None:
    if _SHORT.search(command):
        raise ShortModeRefused(
            f"refusing to send {command!r}: this driver never touches the load's short "
            "mode (a dead short across the battery)"
        )
