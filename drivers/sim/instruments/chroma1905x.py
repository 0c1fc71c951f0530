"""Twin of the Chroma 1905x hipot / IR tester (driver: ``drivers.chroma.chroma1905x``).

The SAFEty subsystem as the driver and domain spec §3.4 use it: step memory
(``SAFE:STEP<n>:{AC|DC|IR}:…``, ``SAFE:STEP<n>:DEL``, ``SAFE:SNUM?``), ``SAFE:STAR``,
``SAFE:STOP``, ``SAFE:STAT?``, ``SAFE:RES:ALL[:MODE|:OMET|:MMET]?``, ``SAFE:RES:COMP?``,
``SAFE:RES:LAST?``, ``SAFE:FETC?``, ``SAFE:PRES:AC:FREQ``, ``SYST:REM``/``SYST:LOC``. The
test itself runs on an :class:`~drivers.sim.instruments.hv_twins.HvOutput`.

Modelled behaviour, partly assumed (no public manual covers it; documented so the station is
tested against a stated model):

* IR is judged once, at the end of the test time (the 1905x has no judge delay).
* ``SAFE:STAT?`` reads RUNNING until the output has discharged below 30 V (ramp, test, fall
  and discharge), then STOPPED.
* Interlock open at ``SAFE:STAR``: no error, the test does not start and step 1 reads 114
  CAN NOT TEST. Interlock opening mid-test: the test stops with 112 STOP. ``SAFE:STOP``
  mid-test gives 113 USER STOP, with OMET 0 and MMET 9.9E+37 (as in a public log).
* Result codes: 116 PASS, 115 TESTING (asked while running), DC 33/34/35 HIGH/LOW/ARC,
  IR 49/50 HIGH/LOW (public); AC 17/18/19 HIGH/LOW/ARC by analogy (0x1n; not public).
  A breakdown is an ARC fail (ARC detection taken as on); under IR it is a LOW fail.
* Meter over range (IR above 50 GΩ, a saturated or absent reading) is ``9.9E+37``.
* One step per run: ``SAFE:STAR`` with more than one step is refused (-221); a twin
  limitation, the driver always runs one. Settings are refused (-200) while a test runs.
* Ranges (19055 [E]): AC 50–5000 V, DC 50–6000 V, IR 50–1000 V; AC limit ≤ 0.1 A, DC
  ≤ 0.02 A; IR limits 0.1 MΩ–50 GΩ (high 0 = off); test time 0.3–999 s, ramp 0.1–999 s,
  fall 0 (off) or 0.1–999 s. Out of range: ``-222,"Data out of range"``, setting kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drivers.sim.instruments.hv_tester import TESTING_PHASES, HvTesterTwin
from drivers.sim.scpi_server import (
    DATA_OUT_OF_RANGE,
    DATA_STALE,
    EXECUTION_ERROR,
    ILLEGAL_PARAMETER_VALUE,
    MISSING_PARAMETER,
    OVERFLOW,
    SETTINGS_CONFLICT,
    Call,
    CommandFn,
    ScpiError,
)

if TYPE_CHECKING:
    from drivers.sim.instruments.hv_twins import HvOutput, Kind

IR_MAX_OHM = 50e9

PASS, TESTING, CAN_NOT_TEST, USER_STOP, STOP = 116, 115, 114, 113, 112
FAIL_CODES = {
    ("AC", "HIGH"): 17,
    ("AC", "LOW"): 18,
    ("AC", "ARC"): 19,
    ("DC", "HIGH"): 33,
    ("DC", "LOW"): 34,
    ("DC", "ARC"): 35,
    ("IR", "HIGH"): 49,
    ("IR", "LOW"): 50,
}
_KIND: dict[str, Kind] = {"AC": "ACW", "DC": "DCW", "IR": "IR"}
_LEVEL_V = {"AC": (50.0, 5000.0), "DC": (50.0, 6000.0), "IR": (50.0, 1000.0)}
_LIMIT = {"AC": (0.0, 0.1), "DC": (0.0, 0.02), "IR": (1e5, IR_MAX_OHM)}


@dataclass
class Step:
    """One step of the memory: mode (AC, DC, IR), level in V, limits (A or Ω), times in s."""

    mode: str
    level_v: float
    high: float
    low: float
    time_s: float = 3.0
    ramp_s: float = 0.1
    fall_s: float = 0.0
    auto_range: bool = True

    @classmethod
    def default(cls, mode: str) -> Step:
        """Return a new step of ``mode`` with the twin's defaults."""
        if mode == "IR":
            return cls(mode, level_v=500.0, high=0.0, low=1e6)
        return cls(mode, level_v=1000.0, high=0.01 if mode == "AC" else 0.003, low=0.0)


def _meter(value: float, mode: str) -> str:
    if not math.isfinite(value) or (mode == "IR" and value > IR_MAX_OHM):
        value = OVERFLOW
    return f"{value:.6E}"


class Chroma1905xTwin(HvTesterTwin):
    """A Chroma 19055 whose HI terminal is ``output`` (see the module docstring)."""

    def __init__(self, output: HvOutput, *, serial: str = "SIM00001") -> None:
        super().__init__(output)
        self.idn = f"Chroma ATE,19055,{serial},1.20"
        self.steps: list[Step] = []
        self.ac_frequency_hz = 50.0
        self.remote = False
        self._ran_mode: str | None = None
        self._refused = False

    def reset(self) -> None:
        """Stop any test and clear the step memory (``*RST``)."""
        self.output.stop()
        self.steps = []
        self.ac_frequency_hz = 50.0

    def driver_options(self) -> dict[str, Any]:
        """Return the ratings for ``Chroma1905x(...)``."""
        return {"max_ac_v": 5000.0, "max_dc_v": 6000.0, "max_ir_v": 1000.0, "min_test_v": 50.0}

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        """Return the SAFEty subsystem and SYSTem:REMote/LOCal."""
        root = "[SOURce:]SAFEty"
        table: list[tuple[str, CommandFn]] = []
        for mode in ("AC", "DC", "IR"):
            node = f"{root}:STEP#:{mode}"
            high, low = (
                ("LIMit:HIGH", "LIMit[:LOW]") if mode == "IR" else ("LIMit[:HIGH]", "LIMit:LOW")
            )
            fields = [
                ("[:LEVel]", "level_v", *_LEVEL_V[mode]),
                (f":{high}", "high", 0.0 if mode == "IR" else _LIMIT[mode][0], _LIMIT[mode][1]),
                (f":{low}", "low", *_LIMIT[mode]),
                (":TIME[:TEST]", "time_s", 0.3, 999.0),
                (":TIME:RAMP", "ramp_s", 0.1, 999.0),
                (":TIME:FALL", "fall_s", 0.0, 999.0),
            ]
            for suffix, field, lo, hi in fields:
                table.append((node + suffix, self._setter(mode, field, lo, hi)))
                table.append((node + suffix + "?", self._getter(mode, field)))
        table += [
            (f"{root}:STEP#:IR:RANGe:AUTO", self._set_auto_range),
            (f"{root}:STEP#:DELete", self._delete),
            (f"{root}:SNUMber?", lambda c: str(len(self.steps))),
            (f"{root}:STARt", self._start),
            (f"{root}:STOP", self._stop),
            (f"{root}:STATus?", lambda c: "RUNNING" if self._running() else "STOPPED"),
            (f"{root}:RESult:ALL[:JUDGment]?", lambda c: str(self._code())),
            (f"{root}:RESult:LAST[:JUDGment]?", lambda c: str(self._code())),
            (f"{root}:RESult:ALL:MODE?", lambda c: self._result_mode()),
            (f"{root}:RESult:ALL:OMETer?", lambda c: self._omet()),
            (f"{root}:RESult:ALL:MMETer?", lambda c: self._mmet()),
            (f"{root}:RESult:COMPleted?", lambda c: "0" if self._code() == TESTING else "1"),
            (f"{root}:FETCh?", self._fetch),
            (f"{root}:PRESet:AC:FREQuency", self._set_frequency),
            (f"{root}:PRESet:AC:FREQuency?", lambda c: f"{self.ac_frequency_hz:.6E}"),
            ("SYSTem:REMote", lambda c: self._set_remote(c, True)),
            ("SYSTem:LOCal", lambda c: self._set_remote(c, False)),
        ]
        return table

    # --- step memory -----------------------------------------------------------------------

    def _step_for_write(self, number: int, mode: str) -> Step:
        self._require_idle()
        if number == len(self.steps) + 1:
            self.steps.append(Step.default(mode))
        elif not 1 <= number <= len(self.steps):
            raise ScpiError(DATA_OUT_OF_RANGE, f"no step {number}")
        elif self.steps[number - 1].mode != mode:
            self.steps[number - 1] = Step.default(mode)  # writing another mode retypes it
        return self.steps[number - 1]

    def _setter(self, mode: str, field: str, low: float, high: float) -> CommandFn:
        def set_value(call: Call) -> None:
            call.expect(1)
            value = call.number(low=low, high=high)
            if field == "fall_s" and 0.0 < value < 0.1:
                raise ScpiError(DATA_OUT_OF_RANGE)
            if field == "high" and mode == "IR" and 0.0 < value < _LIMIT["IR"][0]:
                raise ScpiError(DATA_OUT_OF_RANGE)
            setattr(self._step_for_write(call.suffixes[0], mode), field, value)

        return set_value

    def _getter(self, mode: str, field: str) -> CommandFn:
        def get_value(call: Call) -> str:
            call.expect(0)
            number = call.suffixes[0]
            if not 1 <= number <= len(self.steps) or self.steps[number - 1].mode != mode:
                raise ScpiError(SETTINGS_CONFLICT, f"step {number} is not {mode}")
            return f"{getattr(self.steps[number - 1], field):.6E}"

        return get_value

    def _set_auto_range(self, call: Call) -> None:
        on = call.boolean()
        self._step_for_write(call.suffixes[0], "IR").auto_range = on

    def _delete(self, call: Call) -> None:
        call.expect(0)
        self._require_idle()
        number = call.suffixes[0]
        if not 1 <= number <= len(self.steps):
            raise ScpiError(DATA_OUT_OF_RANGE, f"no step {number}")
        del self.steps[number - 1]

    def _set_frequency(self, call: Call) -> None:
        self.ac_frequency_hz = self._ac_frequency(call)

    def _set_remote(self, call: Call, remote: bool) -> None:
        call.expect(0)
        self.remote = remote

    # --- running -------------------------------------------------------------------------

    def _start(self, call: Call) -> None:
        call.expect(0)
        if not self.steps:
            raise ScpiError(EXECUTION_ERROR, "no test step")
        if len(self.steps) > 1:
            raise ScpiError(SETTINGS_CONFLICT, "the twin runs single-step memories only")
        self._require_idle()
        step = self.steps[0]
        self._ran_mode, self._refused = step.mode, False
        try:
            self.output.start(
                _KIND[step.mode],
                step.level_v,
                ramp_s=step.ramp_s,
                dwell_s=step.time_s,
                fall_s=step.fall_s,
                low_limit=step.low,
                high_limit=step.high,
                frequency_hz=self.ac_frequency_hz,
            )
        except RuntimeError:  # interlock open: the instrument cannot test
            self._refused = True

    def _stop(self, call: Call) -> None:
        call.expect(0)
        self.output.stop()

    def _running(self) -> bool:
        return self.output.phase() in (*TESTING_PHASES, "DISCHARGE")

    # --- results -------------------------------------------------------------------------

    def _ran(self) -> str:
        if self._ran_mode is None:
            raise ScpiError(DATA_STALE, "no test has run")
        return self._ran_mode

    def _code(self) -> int:
        mode = self._ran()
        if self._refused:
            return CAN_NOT_TEST
        outcome = self.output.outcome()
        if outcome is None:
            return TESTING
        ending = outcome.ending
        if ending == "PASS":
            return PASS
        if ending == "STOPPED":
            return USER_STOP
        if ending == "INTERLOCK":
            return STOP
        return FAIL_CODES[(mode, ending)]

    def _result_mode(self) -> str:
        return self._ran()

    def _omet(self) -> str:
        self._ran()
        outcome = self.output.outcome()
        if self._refused:
            volts = 0.0
        elif outcome is None:
            volts = self.output.live()[0]
        else:
            volts = 0.0 if outcome.ending in ("STOPPED", "INTERLOCK") else outcome.voltage_v
        return f"{volts:.6E}"

    def _mmet(self) -> str:
        mode = self._ran()
        outcome = self.output.outcome()
        if self._refused:
            return _meter(math.nan, mode)
        value = self.output.live()[1] if outcome is None else outcome.reading
        return _meter(value, mode)

    def _fetch(self, call: Call) -> str:
        if not call.params:
            raise ScpiError(MISSING_PARAMETER)
        # Both meters of one fetch are one measurement: the output is read once (the IR
        # steps' every poll asks for both, and a reading solves the insulation's modes).
        live: tuple[float, float] | None = None
        replies = []
        for item in call.params:
            name = item.strip().upper()
            if name == "STEP":
                replies.append("1")
            elif name == "MODE":
                replies.append(self._ran_mode or (self.steps[0].mode if self.steps else "IR"))
            elif name in ("OMET", "MMET"):
                if live is None:
                    live = self.output.live()
                if name == "OMET":
                    replies.append(f"{live[0]:.6E}")
                else:
                    replies.append(_meter(live[1], self._ran_mode or "IR"))
            else:
                raise ScpiError(ILLEGAL_PARAMETER_VALUE, item)
        return ",".join(replies)
