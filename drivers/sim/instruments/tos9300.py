"""Twin of the Kikusui TOS9300 series safety analyzer (driver: ``drivers.kikusui.tos9300``).

The commands of Kikusui's sample class and the driver (domain spec §3.4): ``FUNC``,
``{ACW|DCW|IR}:VOLT``, ``:VOLT:SWE:TIM`` (rise), ``:VOLT:TIM`` (test time),
``:VOLT:TIM:STAT``, ``ACW:VOLT:FREQ``, ``SENS:{ACW|DCW|IR}:JUDG`` (upper limit),
``SENS:…:JUDG:LOW``, ``SENS:…:JUDG:LOW:STAT``, ``SENS:IR:JUDG:DEL``, ``INIT:TEST``,
``ABOR``, ``STAT:OPER:TEST:COND?`` and ``RES?``; errors read ``+0,"No error"``. The test
itself runs on an :class:`~drivers.sim.instruments.hv_twins.HvOutput`.

Modelled behaviour, partly assumed (documented so the station is tested against a stated
model):

* IR: judged from the end of the rise plus the judge delay, continuously to the end of the
  test time; a lower-limit fail ends the test at once. A judge delay not shorter than the
  test time means the limits are never judged (the test PASSes) — the hazard the driver
  refuses. ``SENS:IR:JUDG`` is the upper limit, applied only with ``SENS:IR:JUDG:STAT ON``
  (off at power-on; the STAT node is inferred from ``:LOW:STAT``). ACW/DCW: the upper
  current limit always applies, from the start of the rise.
* ``STAT:OPER:TEST:COND?``: RISE 16, TEST 32, FALL 64, DISCHARGE 128 while HV may be on
  (the discharge lasts until the output is below 30 V); then PASS 1 for the pass hold
  (0.5 s) and READY 256; L-FAIL 2 / U-FAIL 4 held until ``ABOR`` or the next test; READY
  after an abort; IDLE 512 while the interlock is open (protection).
* Interlock open at ``INIT:TEST``: refused with ``-200,"Execution error"``; opening
  mid-test ends the test with judgement PROT. ``ABOR`` mid-test: ABORT.
* ``RES?``: the 14-field record of the last test once it has ended (``-230`` and no reply
  before that). IR reports negative voltage (Kikusui IR output is negative). On a FAIL
  the reading field holds the limit that failed (TOS5300 manual, per the driver); a
  breakdown is a U-FAIL. Readings after ABORT/PROT, and IR above 100 GΩ, read 9.9E+37.
* Ranges [E]: ACW 50–5000 V, DCW 50–7200 V, IR 25–1000 V; rise 0.1–200 s, test time
  0.3–999 s, judge delay 0–999 s; upper/lower current ACW ≤ 0.11 A, DCW ≤ 0.011 A; IR
  limits 10 kΩ–100 GΩ. ``:VOLT:TIM:STAT OFF`` (no timer) is accepted, but ``INIT:TEST``
  then answers ``-221`` (the twin needs a test time).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drivers.sim.instruments.hv_tester import HvTesterTwin
from drivers.sim.scpi_server import (
    DATA_STALE,
    EXECUTION_ERROR,
    OVERFLOW,
    SETTINGS_CONFLICT,
    Call,
    CommandFn,
    ScpiError,
)

if TYPE_CHECKING:
    from drivers.sim.instruments.hv_twins import HvOutput, Kind

IR_MAX_OHM = 100e9
PASS_HOLD_S = 0.5
PASS_BIT, LFAIL_BIT, UFAIL_BIT = 1, 2, 4
READY_BIT, IDLE_BIT = 256, 512
_PHASE_BITS = {"RISE": 16, "TEST": 32, "FALL": 64, "DISCHARGE": 128}
_JUDGEMENTS = {
    "PASS": "PASS",
    "HIGH": "U-FAIL",
    "ARC": "U-FAIL",
    "LOW": "L-FAIL",
    "STOPPED": "ABORT",
    "INTERLOCK": "PROT",
}
_VOLTS = {"ACW": (50.0, 5000.0), "DCW": (50.0, 7200.0), "IR": (25.0, 1000.0)}
_LIMITS = {"ACW": (0.0, 0.11), "DCW": (0.0, 0.011), "IR": (1e4, IR_MAX_OHM)}
_EPOCH = datetime.datetime(2024, 1, 1)
"""The date the record shows for circuit time 0."""


@dataclass
class Settings:
    """The settings of one function: volts, rise and test time in s, limits (A or Ω)."""

    voltage_v: float
    upper: float
    lower: float
    ramp_s: float = 0.1
    time_s: float = 1.0
    timer_on: bool = True
    upper_on: bool = True
    lower_on: bool = False
    judge_delay_s: float = 0.1

    @classmethod
    def default(cls, function: str) -> Settings:
        """Return the twin's power-on settings of ``function``."""
        if function == "IR":
            return cls(500.0, upper=10e9, lower=1e6, upper_on=False)
        return cls(1000.0, upper=0.01 if function == "ACW" else 0.003, lower=0.0)


def _number(value: float) -> str:
    return f"{value:+.5E}" if math.isfinite(value) else f"{OVERFLOW:+.5E}"


class Tos9300Twin(HvTesterTwin):
    """A TOS9301 (ACW, DCW and IR) whose HI terminal is ``output`` (see the module docstring)."""

    no_error = '+0,"No error"'

    def __init__(self, output: HvOutput, *, serial: str = "SIM00001") -> None:
        super().__init__(output)
        self.idn = f"KIKUSUI,TOS9301,{serial},1.20"
        self.function: Kind = "ACW"
        self.settings: dict[str, Settings] = {}
        self.frequency_hz = 50.0
        self.tests = 0
        self._hold_cleared = False
        self.reset()

    def reset(self) -> None:
        """Abort any test and return to the power-on settings (``*RST``)."""
        self.output.stop()
        self.function = "ACW"
        self.settings = {name: Settings.default(name) for name in _VOLTS}
        self.frequency_hz = 50.0

    def format_error(self, code: int, message: str) -> str:
        """Format an error as the TOS9300 does: ``+0,"No error"``, ``-222,"…"``."""
        return f'{code:+d},"{message}"'

    def driver_options(self) -> dict[str, Any]:
        """Return the ratings for ``Tos9300(...)`` (TOS9301: ACW, DCW and IR)."""
        return {
            "max_ac_v": 5000.0,
            "max_dc_v": 7200.0,
            "min_withstand_v": 50.0,
            "min_ir_v": 25.0,
            "max_ir_v": 1000.0,
        }

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        """Return FUNC, the per-function settings, INIT:TEST, ABOR and the status/result."""
        table: list[tuple[str, CommandFn]] = [
            ("FUNCtion", self._set_function),
            ("FUNCtion?", lambda c: self.function),
            ("ACW:VOLTage:FREQuency", self._set_frequency),
            ("ACW:VOLTage:FREQuency?", lambda c: _number(self.frequency_hz)),
            ("INITiate[:IMMediate]:TEST", self._start),
            ("ABORt", self._abort),
            ("STATus:OPERation:TESTing:CONDition?", lambda c: f"{self._condition():+d}"),
            ("RESult?", self._result),
        ]
        for name in _VOLTS:
            volts, limits = _VOLTS[name], _LIMITS[name]
            numbers = [
                (f"{name}:VOLTage[:LEVel]", "voltage_v", *volts),
                (f"{name}:VOLTage:SWEep:TIMe", "ramp_s", 0.1, 200.0),
                (f"{name}:VOLTage:TIMe", "time_s", 0.3, 999.0),
                (f"[SENSe:]{name}:JUDGment", "upper", *limits),
                (f"[SENSe:]{name}:JUDGment:LOW", "lower", *limits),
            ]
            if name == "IR":
                numbers.append(("[SENSe:]IR:JUDGment:DELay", "judge_delay_s", 0.0, 999.0))
            for pattern, field, low, high in numbers:
                table.append((pattern, self._number_setter(name, field, low, high)))
                table.append((f"{pattern}?", self._getter(name, field)))
            switches = [
                (f"{name}:VOLTage:TIMe:STATe", "timer_on"),
                (f"[SENSe:]{name}:JUDGment:LOW:STATe", "lower_on"),
            ]
            if name == "IR":
                switches.append(("[SENSe:]IR:JUDGment:STATe", "upper_on"))
            for pattern, field in switches:
                table.append((pattern, self._switch_setter(name, field)))
                table.append((f"{pattern}?", self._getter(name, field)))
        return table

    # --- settings --------------------------------------------------------------------------

    def _set_function(self, call: Call) -> None:
        choice = call.choice(("ACW", "DCW", "IR"))
        self._require_idle()
        self.function = "ACW" if choice == "ACW" else "DCW" if choice == "DCW" else "IR"

    def _set_frequency(self, call: Call) -> None:
        self.frequency_hz = self._ac_frequency(call)

    def _number_setter(self, name: str, field: str, low: float, high: float) -> CommandFn:
        def set_value(call: Call) -> None:
            call.expect(1)
            value = call.number(low=low, high=high)
            self._require_idle()
            setattr(self.settings[name], field, value)

        return set_value

    def _switch_setter(self, name: str, field: str) -> CommandFn:
        def set_switch(call: Call) -> None:
            on = call.boolean()
            self._require_idle()
            setattr(self.settings[name], field, on)

        return set_switch

    def _getter(self, name: str, field: str) -> CommandFn:
        def get_value(call: Call) -> str:
            call.expect(0)
            value = getattr(self.settings[name], field)
            return ("1" if value else "0") if isinstance(value, bool) else _number(value)

        return get_value

    # --- testing ---------------------------------------------------------------------------

    def _start(self, call: Call) -> None:
        call.expect(0)
        self._require_idle()
        if not self.output.interlock_closed:
            raise ScpiError(EXECUTION_ERROR, "interlock open")
        s = self.settings[self.function]
        if not s.timer_on:
            raise ScpiError(SETTINGS_CONFLICT, "the twin needs a test time (TIM:STAT ON)")
        judged = self.function != "IR" or s.judge_delay_s < s.time_s
        upper_on = s.upper_on or self.function != "IR"
        try:
            self.output.start(
                self.function,
                s.voltage_v,
                ramp_s=s.ramp_s,
                dwell_s=s.time_s,
                low_limit=s.lower if s.lower_on and judged else 0.0,
                high_limit=s.upper if upper_on and judged else 0.0,
                judge_delay_s=s.judge_delay_s if self.function == "IR" else None,
                frequency_hz=self.frequency_hz,
            )
        except RuntimeError as err:  # the interlock opened just now
            raise ScpiError(EXECUTION_ERROR, str(err)) from None
        self.tests += 1
        self._hold_cleared = False

    def _abort(self, call: Call) -> None:
        call.expect(0)
        self.output.stop()
        self._hold_cleared = True

    def _condition(self) -> int:
        phase = self.output.phase()
        if phase in _PHASE_BITS:
            return _PHASE_BITS[phase]
        if not self.output.interlock_closed:
            return IDLE_BIT
        outcome = self.output.outcome()
        if outcome is None or self._hold_cleared:
            return READY_BIT
        if outcome.ending == "PASS":
            held = self.output.now() < self.output.done_s + PASS_HOLD_S
            return PASS_BIT if held else READY_BIT
        if outcome.ending in ("HIGH", "ARC"):
            return UFAIL_BIT
        if outcome.ending == "LOW":
            return LFAIL_BIT
        return READY_BIT

    def _result(self, call: Call) -> str:
        call.expect(0)
        outcome, program = self.output.outcome(), self.output.program
        if self.tests == 0 or outcome is None or program is None:
            raise ScpiError(DATA_STALE, "no finished test")
        judgement = _JUDGEMENTS[outcome.ending]
        value = outcome.reading
        if judgement.endswith("FAIL") and outcome.failed_limit > 0.0:
            value = outcome.failed_limit
        volts = outcome.voltage_v
        if program.kind == "IR":
            if value > IR_MAX_OHM:
                value = math.inf
            current = volts / value if math.isfinite(value) and value > 0.0 else math.inf
            resistance, volts = value, -volts
        else:
            current = value
            resistance = volts / value if math.isfinite(value) and value > 0.0 else math.inf
        if not math.isfinite(value):
            current = resistance = math.inf
        when = _EPOCH + datetime.timedelta(seconds=self.output.started_s)
        stamp = f"+{when.year},+{when.month},+{when.day},+{when.hour},+{when.minute},+{when.second}"
        fields = [_number(v) for v in (volts, current, resistance, outcome.end_s)]
        return f"+{self.tests},+1,{program.kind},{stamp},{','.join(fields)},{judgement}"
