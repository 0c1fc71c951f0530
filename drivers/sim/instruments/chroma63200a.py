"""Twin of the Chroma 63200A electronic load (driver: ``drivers.chroma.chroma63200a``).

The subset the driver and the domain spec §3.3 use: ``MODE CC|CR|CP|CV|CCD`` + ``L|M|H`` and
``MODE?``; static levels ``CURR|RES|VOLT|POW:STAT:L1|L2`` and ``VOLT:STAT:ILIM``; the
dynamic (pulse) profile ``CURR:DYN:L1|L2|T1|T2|RISE|FALL|REP``; ``LOAD ON|OFF|1|0`` and
``LOAD?``; ``MEAS:…?`` and ``FETC:…?`` for volts, amps and watts; every setting has its query.
``LOAD:SHOR ON`` is refused: this twin never shorts the pack.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from drivers.sim.electrical import OperatingPoint, PackCircuit
from drivers.sim.instruments.power_stage import PowerStageTwin, load_current, reply_number
from drivers.sim.scpi_server import (
    DEVICE_SPECIFIC_ERROR,
    HEADER_SUFFIX_OUT_OF_RANGE,
    ILLEGAL_PARAMETER_VALUE,
    SETTINGS_CONFLICT,
    Call,
    CommandFn,
    ScpiError,
)

RANGE_SHARES = {"L": 0.1, "M": 0.3, "H": 1.0}
"""Each range letter's full scale as a share of the rated current (assumed: verify)."""
PULSE_TIME_S = (25e-6, 50.0)
SLEW_A_PER_US = (1e-4, 100.0)
MAX_REPEAT = 65535
_MODE = re.compile(r"^(CCD|CC|CR|CP|CV)([LMH])$")
_STATIC = {"CURR": "CURRent", "RES": "RESistance", "VOLT": "VOLTage", "POW": "POWer"}


@dataclass
class Pulse:
    """The dynamic-CC profile: ``l1_a`` for ``t1_s``, then ``l2_a`` for ``t2_s``, ``repeat``
    times (0 = until the input goes off), slewing at ``rise``/``fall`` A/µs."""

    l1_a: float = 0.0
    l2_a: float = 0.0
    t1_s: float = 1.0
    t2_s: float = 1.0
    rise_a_per_us: float = 1.0
    fall_a_per_us: float = 1.0
    repeat: int = 0

    def level(self, since_start_s: float) -> float:
        """Return the current in A the profile asks for ``since_start_s`` after it started."""
        cycle, phase = divmod(max(0.0, since_start_s), self.t1_s + self.t2_s)
        if self.repeat and cycle >= self.repeat:
            return self.l1_a  # done: hold the base level
        if phase < self.t1_s:
            before, after, since = (self.l2_a if cycle else self.l1_a), self.l1_a, phase
        else:
            before, after, since = self.l1_a, self.l2_a, phase - self.t1_s
        slew = self.rise_a_per_us if after > before else self.fall_a_per_us
        moved = slew * 1e6 * since
        if moved >= abs(after - before):
            return after
        return before + math.copysign(moved, after - before)


class Chroma63200aTwin(PowerStageTwin):
    """A 63200A load on the pack terminals: CC, CR, CP, CV and dynamic CC (CCD), sinking only.

    Connected to ``circuit`` as source ``name``. With the input on it draws: CC its L1
    level; CR V/R; CP P/V; CV up to ``VOLT:STAT:ILIM`` while the terminals are above its L1
    voltage; CCD the :class:`Pulse` profile, timed from when the input went on in CCD (or CCD
    was selected with the input on) on the circuit's clock, so a DCIR pulse runs in virtual
    time. The draw never exceeds the range's full scale (:data:`RANGE_SHARES` of
    ``rated_current_a``), ``rated_power_w`` or the fully-on resistance. L2 static levels are
    stored but not used. ``FETC`` reads the same as ``MEAS`` (both at the present instant).

    Limits: current levels above the range's full scale, and other levels outside the ratings,
    are refused with ``-222,"Data out of range"``; switching to a smaller range lowers current
    levels above its full scale to it. Over-voltage: with the input on and the terminals
    above ``rated_voltage_v`` the input switches off and ``-300,"Device-specific
    error;over-voltage protection tripped"`` is queued (by the command that noticed, if a
    setting, else by the next setting); the input may be switched on again.
    ``LOAD:SHOR ON`` gives ``-221,"Settings conflict"`` and changes nothing.

    The range shares, the pulse time and slew bounds and the protection error are not from a
    Chroma source: verify on hardware.
    """

    is_load = True

    def __init__(
        self,
        circuit: PackCircuit,
        *,
        name: str = "load",
        rated_voltage_v: float = 150.0,
        rated_current_a: float = 600.0,
        rated_power_w: float = 6000.0,
        min_resistance_ohm: float = 0.01,
        max_resistance_ohm: float = 10_000.0,
        serial: str = "SIM00001",
    ) -> None:
        self.min_resistance_ohm = min_resistance_ohm
        self.max_resistance_ohm = max_resistance_ohm
        self._pulse_start_s = 0.0
        super().__init__(circuit, name, rated_voltage_v, rated_current_a, rated_power_w)
        model = f"632{rated_power_w / 1000:02.0f}A-{rated_voltage_v:g}-{rated_current_a:g}"
        self.idn = f"CHROMA,{model},{serial},1.10"

    def _defaults(self) -> None:
        """Switch the input off and return to CC high range at 0 A."""
        self.mode, self.range_letter = "CC", "H"
        self.static: dict[str, list[float]] = {
            "CURR": [0.0, 0.0],
            "RES": [self.max_resistance_ohm] * 2,
            "VOLT": [self.rated_voltage_v] * 2,
            "POW": [0.0, 0.0],
        }
        self.cv_current_limit_a = self.rated_current_a
        self.pulse = Pulse()
        self.input_on = False

    @property
    def range_current_a(self) -> float:
        """Get the full scale in A of the present range."""
        return self.rated_current_a * RANGE_SHARES[self.range_letter]

    def _source(self, terminal_v: float) -> float:
        if not self.input_on or terminal_v <= 0.0:
            return 0.0
        if self.mode == "CC":
            draw = self.static["CURR"][0]
        elif self.mode == "CCD":
            draw = self.pulse.level(self.circuit.time_s - self._pulse_start_s)
        elif self.mode == "CR":
            draw = terminal_v / self.static["RES"][0]
        elif self.mode == "CP":
            draw = self.static["POW"][0] / terminal_v
        else:
            draw = self.cv_current_limit_a if terminal_v > self.static["VOLT"][0] else 0.0
        return load_current(draw, terminal_v, max_a=self.range_current_a, max_w=self.rated_power_w)

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        """Return the MODE, level, pulse, LOAD and MEASure/FETCh commands."""
        on_off = {True: "ON", False: "OFF"}
        dyn = "CURRent:DYNamic"
        table: list[tuple[str, CommandFn]] = [
            ("MODE", self._set_mode),
            ("MODE?", lambda c: f"{self.mode}{self.range_letter}"),
            ("VOLTage:STATic:ILIMit", self._set_cv_limit),
            ("VOLTage:STATic:ILIMit?", lambda c: reply_number(self.cv_current_limit_a)),
            (f"{dyn}:L#", self._set_pulse_level),
            (f"{dyn}:L#?", self._pulse_level),
            (f"{dyn}:T#", self._set_pulse_time),
            (f"{dyn}:T#?", self._pulse_time),
            (f"{dyn}:RISE", lambda c: self._set_slew(c, "rise_a_per_us")),
            (f"{dyn}:RISE?", lambda c: reply_number(self.pulse.rise_a_per_us)),
            (f"{dyn}:FALL", lambda c: self._set_slew(c, "fall_a_per_us")),
            (f"{dyn}:FALL?", lambda c: reply_number(self.pulse.fall_a_per_us)),
            (f"{dyn}:REPeat", self._set_repeat),
            (f"{dyn}:REPeat?", lambda c: str(self.pulse.repeat)),
            ("LOAD[:STATe]", self._set_input),
            ("LOAD[:STATe]?", lambda c: on_off[self.input_on]),
            ("LOAD:SHORt[:STATe]", self._refuse_short),
            ("LOAD:SHORt[:STATe]?", lambda c: "OFF"),
        ]
        for key, node in _STATIC.items():
            table += [
                (f"{node}:STATic:L#", self._static_setter(key)),
                (f"{node}:STATic:L#?", self._static_getter(key)),
            ]
        table += self._measure_queries(("MEASure", "FETCh"), suffix="")
        return self._all_guarded(table)

    # --- protection ---------------------------------------------------------------------------

    def _watch(self) -> OperatingPoint | None:
        if not self.input_on:
            return None
        op = self.circuit.operating_point()
        if not op.voltage_v > self.rated_voltage_v:
            return op
        with self.circuit.locked():
            self.input_on = False
        self._pending.append((DEVICE_SPECIFIC_ERROR, "over-voltage protection tripped"))
        return None

    def _refuse_short(self, call: Call) -> None:
        call.expect(1)
        if call.boolean():
            raise ScpiError(SETTINGS_CONFLICT, "short mode refused: a short across the pack")

    # --- settings -----------------------------------------------------------------------------

    def _set_mode(self, call: Call) -> None:
        call.expect(1)
        match = _MODE.match(call.params[0].strip().upper())
        if match is None:
            raise ScpiError(ILLEGAL_PARAMETER_VALUE)
        with self.circuit.locked():
            restart = match[1] == "CCD" and self.mode != "CCD"
            self.mode, self.range_letter = match[1], match[2]
            full_scale = self.range_current_a
            currents = self.static["CURR"]
            currents[:] = [min(level, full_scale) for level in currents]
            self.cv_current_limit_a = min(self.cv_current_limit_a, full_scale)
            self.pulse.l1_a = min(self.pulse.l1_a, full_scale)
            self.pulse.l2_a = min(self.pulse.l2_a, full_scale)
            if restart:
                self._pulse_start_s = self.circuit.time_s

    def _set_input(self, call: Call) -> None:
        call.expect(1)
        on = call.boolean()
        with self.circuit.locked():
            if on and not self.input_on:
                self._pulse_start_s = self.circuit.time_s
            self.input_on = on

    def _bounds(self, key: str) -> tuple[float, float]:
        if key == "CURR":
            return 0.0, self.range_current_a
        if key == "RES":
            return self.min_resistance_ohm, self.max_resistance_ohm
        return 0.0, self.rated_voltage_v if key == "VOLT" else self.rated_power_w

    def _static_setter(self, key: str) -> CommandFn:
        def set_level(call: Call) -> None:
            call.expect(1)
            index = _level_index(call)
            low, high = self._bounds(key)
            value = call.number(low=low, high=high)
            with self.circuit.locked():
                self.static[key][index] = value

        return set_level

    def _static_getter(self, key: str) -> CommandFn:
        return lambda call: reply_number(self.static[key][_level_index(call)])

    def _set_cv_limit(self, call: Call) -> None:
        call.expect(1)
        amps = call.number(low=0.0, high=self.range_current_a)
        with self.circuit.locked():
            self.cv_current_limit_a = amps

    def _set_pulse_level(self, call: Call) -> None:
        call.expect(1)
        index = _level_index(call)
        amps = call.number(low=0.0, high=self.range_current_a)
        with self.circuit.locked():
            if index == 0:
                self.pulse.l1_a = amps
            else:
                self.pulse.l2_a = amps

    def _pulse_level(self, call: Call) -> str:
        return reply_number((self.pulse.l1_a, self.pulse.l2_a)[_level_index(call)])

    def _set_pulse_time(self, call: Call) -> None:
        call.expect(1)
        index = _level_index(call)
        seconds = call.number(low=PULSE_TIME_S[0], high=PULSE_TIME_S[1])
        with self.circuit.locked():
            if index == 0:
                self.pulse.t1_s = seconds
            else:
                self.pulse.t2_s = seconds

    def _pulse_time(self, call: Call) -> str:
        return f"{(self.pulse.t1_s, self.pulse.t2_s)[_level_index(call)]:.6f}"

    def _set_slew(self, call: Call, attribute: str) -> None:
        call.expect(1)
        slew = call.number(low=SLEW_A_PER_US[0], high=SLEW_A_PER_US[1])
        with self.circuit.locked():
            setattr(self.pulse, attribute, slew)

    def _set_repeat(self, call: Call) -> None:
        call.expect(1)
        count = call.number(low=0, high=MAX_REPEAT)
        if count != int(count):
            raise ScpiError(ILLEGAL_PARAMETER_VALUE)
        with self.circuit.locked():
            self.pulse.repeat = int(count)


def _level_index(call: Call) -> int:
    """Return 0 for an ``L1``/``T1`` header, 1 for ``L2``/``T2``; refuse other suffixes."""
    suffix = call.suffixes[-1]
    if suffix not in (1, 2):
        raise ScpiError(HEADER_SUFFIX_OUT_OF_RANGE)
    return suffix - 1
