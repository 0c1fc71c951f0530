"""Chroma 1905x (19052/53/54/55/56/57) hipot and insulation-resistance tester."""

from __future__ import annotations

import math

from drivers.roles import HvTestKind, HvTestResult
from drivers.scpi.hv import HvTester, reading_or_overflow
from drivers.scpi.instrument import (
    OVERFLOW,
    check_bool,
    control,
    format_number,
    in_range,
    measurement,
    one_of,
    parse_float,
    parse_int,
    positive,
)
from drivers.scpi.transport import Transport

PASS_CODE = 116

# Judgement codes of SAFE:RES:ALL? (decimal). 112-116 and the DC (0x2n) / IR (0x3n) codes are
# in the public sources (manual table in the reference header, a battery EOL program that maps
# them). AC fail codes (probably 0x1n) are not legible in any public source: they map to OTHER.
VERDICTS: dict[int, str] = {
    112: "ABORTED",  # STOP
    113: "ABORTED",  # USER STOP
    114: "OTHER",  # CAN NOT TEST
    115: "OTHER",  # TESTING (result asked for while running)
    116: "PASS",
    33: "HIGH",  # DC HIGH FAIL
    34: "LOW",  # DC LOW FAIL
    35: "ARC",  # DC ARC FAIL
    49: "HIGH",  # IR HIGH FAIL
    50: "LOW",  # IR LOW FAIL
}

_KINDS: dict[str, HvTestKind] = {"AC": "ACW", "DC": "DCW", "IR": "IR"}


def _parse_state(reply: str) -> str:
    text = reply.strip().upper()
    if text not in ("RUNNING", "STOPPED"):
        raise ValueError(f"expected RUNNING or STOPPED, got {reply!r}")
    return text


class Chroma1905x(HvTester):
    """Chroma 1905x hipot / insulation tester (role: InsulationTester).

    Constructed as ``Chroma1905x(transport, *, check_errors=True, max_ac_v=5000,
    max_dc_v=6000, max_ir_v=1000, min_test_v=50, fall_s=0)``. The voltage ratings default
    to the 19055 (5 kV AC, 6 kV DC, IR up to 1 kV) as given in the project brief; they
    could not be confirmed from a public datasheet, so set them for your model. ``fall_s``
    is the fall (ramp-down) time programmed into every test, 0 = off. The constructor
    sends nothing; call :meth:`connect` once after construction (``SYST:REM``, remote mode).

    Command source: the SAFEty subsystem as documented in the Chroma 19056/19057
    programming manual (public reference header, id 11426337859) and a public battery EOL
    program driving a 19053 over RS-232 (id 29535573770): ``SYST:REM``, ``SAFE:STOP``,
    ``SAFE:SNUM?``, ``SAFE:STEP<n>:DEL``, ``SAFE:STEP1:{AC|DC|IR}:LEV``,
    ``:{AC|DC}:LIM``, ``:{AC|DC}:LIM:LOW``, ``:IR:LIM:LOW``, ``:IR:LIM:HIGH``,
    ``:TIME:RAMP``, ``:TIME``, ``:TIME:FALL``, ``:IR:RANG:AUTO``, ``SAFE:PRES:AC:FREQ``,
    ``SAFE:STAR``, ``SAFE:STAT?``, ``SAFE:RES:ALL?``, ``SAFE:RES:ALL:MODE?``,
    ``SAFE:RES:ALL:OMET?``, ``SAFE:RES:ALL:MMET?``, ``SAFE:FETC?`` (live values). The
    upper IR limit (``:IR:LIM:HIGH``, 0 = off) and the withstand low limit
    (``:{AC|DC}:LIM:LOW``) are in the 19032 user's manual (same SAFEty tree, public copy
    at easymanua.ls, chapter 5); the driver always programs both as the contact proof.

    Not in a public source, assumed: that the 19055 accepts the same tree as the 19056/57
    (the manual marks AC commands "19056 only" and DC/IR "19057 only" because it covers
    those two models); that writing ``SAFE:STEP1:<mode>:LEV`` to an empty or other-mode
    step makes step 1 a step of that mode; that ``SYST:ERR?`` answers ``0,"No error"``.
    The AC frequency is a preset for all steps (``SAFE:PRES:AC:FREQ``), not a per-step
    ``:AC:FREQ``. The numeric AC fail codes are not public (verdict OTHER, raw code kept).

    Single step: every start stops any test, deletes steps 2…n (``SAFE:SNUM?`` then
    ``SAFE:STEP<n>:DEL`` from the last down) and reprograms step 1, so one test = one step.

    Judge delay: the 1905x has no public judge-delay command (DWELl exists on the 19057
    DC mode only), so ``start_insulation`` refuses ``judge_delay_s`` other than 0; make the
    test longer (``dwell_s``) instead.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        check_errors: bool = True,
        max_ac_v: float = 5000.0,
        max_dc_v: float = 6000.0,
        max_ir_v: float = 1000.0,
        min_test_v: float = 50.0,
        fall_s: float = 0.0,
    ) -> None:
        super().__init__(transport, check_errors=check_errors)
        if not 0 < min_test_v <= min(max_ac_v, max_dc_v, max_ir_v):
            raise ValueError("min_test_v must be > 0 and below every maximum voltage")
        if fall_s != 0:
            in_range(0.1, 999.0)(fall_s)
        self.max_ac_v = max_ac_v
        self.max_dc_v = max_dc_v
        self.max_ir_v = max_ir_v
        self.min_test_v = min_test_v
        self.fall_s = fall_s

    state = measurement("SAFE:STAT?", _parse_state, doc="Get the test state: RUNNING or STOPPED.")
    step_count = measurement(
        "SAFE:SNUM?", parse_int, doc="Get how many steps the working memory holds."
    )
    ac_frequency_hz = control(
        "SAFE:PRES:AC:FREQ?",
        "SAFE:PRES:AC:FREQ {:g}",
        parse_float,
        check=one_of(50, 60),
        doc="Control the AC withstand output frequency in Hz (50 or 60), for all steps.",
    )

    def connect(self) -> None:
        """Put the tester in remote mode (``SYST:REM``)."""
        self.send("SYST:REM")

    def start_insulation(
        self,
        voltage_v: float,
        *,
        ramp_s: float,
        dwell_s: float,
        low_limit_ohm: float,
        high_limit_ohm: float,
        judge_delay_s: float = 0.0,
    ) -> None:
        """Program step 1 as an IR test and start it.

        ``high_limit_ohm`` is the upper resistance judgement (``IR:LIM:HIGH``), the contact
        proof: an open lead reads over range and fails HIGH instead of passing. It must be
        above ``low_limit_ohm``. The current range is automatic. ``judge_delay_s`` must be
        0 (see the class docstring).
        """
        in_range(self.min_test_v, self.max_ir_v)(voltage_v)
        self._check_times(ramp_s, dwell_s)
        positive(low_limit_ohm)
        positive(high_limit_ohm)
        if not high_limit_ohm > low_limit_ohm:
            raise ValueError(
                f"high_limit_ohm={high_limit_ohm!r} must be above low_limit_ohm={low_limit_ohm!r}"
            )
        in_range(-math.inf, math.inf)(judge_delay_s)
        if judge_delay_s != 0:
            raise ValueError(
                f"judge_delay_s={judge_delay_s!r}: the Chroma 1905x has no judge-delay "
                "command; use 0 and make dwell_s long enough instead"
            )
        self._single_step()
        self.send(f"SAFE:STEP1:IR:LEV {format_number(voltage_v)}")
        self.send(f"SAFE:STEP1:IR:LIM:LOW {format_number(low_limit_ohm)}")
        self.send(f"SAFE:STEP1:IR:LIM:HIGH {format_number(high_limit_ohm)}")
        self.send(f"SAFE:STEP1:IR:TIME:RAMP {format_number(ramp_s)}")
        self.send(f"SAFE:STEP1:IR:TIME {format_number(dwell_s)}")
        self.send(f"SAFE:STEP1:IR:TIME:FALL {format_number(self.fall_s)}")
        self.send("SAFE:STEP1:IR:RANG:AUTO ON")
        self.send("SAFE:STAR")

    def start_withstand(
        self,
        voltage_v: float,
        *,
        ac: bool,
        ramp_s: float,
        dwell_s: float,
        leakage_limit_a: float,
        low_limit_a: float,
        frequency_hz: float = 50.0,
    ) -> None:
        """Program step 1 as an AC or DC withstand test and start it.

        ``low_limit_a`` is the leakage low limit (``LIM:LOW``), the contact proof: a pack's
        capacitance and insulation always draw some current, an open lead draws none and
        fails LOW. It must be below ``leakage_limit_a``. The ARC setting is left as
        configured on the instrument. For AC the preset frequency is set first.
        """
        check_bool(ac)
        in_range(self.min_test_v, self.max_ac_v if ac else self.max_dc_v)(voltage_v)
        self._check_times(ramp_s, dwell_s)
        positive(leakage_limit_a)
        positive(low_limit_a)
        if not low_limit_a < leakage_limit_a:
            raise ValueError(
                f"low_limit_a={low_limit_a!r} must be below leakage_limit_a={leakage_limit_a!r}"
            )
        if ac:
            one_of(50, 60)(frequency_hz)
        self._single_step()
        mode = "AC" if ac else "DC"
        if ac:
            self.ac_frequency_hz = frequency_hz
        self.send(f"SAFE:STEP1:{mode}:LEV {format_number(voltage_v)}")
        self.send(f"SAFE:STEP1:{mode}:LIM {format_number(leakage_limit_a)}")
        self.send(f"SAFE:STEP1:{mode}:LIM:LOW {format_number(low_limit_a)}")
        self.send(f"SAFE:STEP1:{mode}:TIME:RAMP {format_number(ramp_s)}")
        self.send(f"SAFE:STEP1:{mode}:TIME {format_number(dwell_s)}")
        self.send(f"SAFE:STEP1:{mode}:TIME:FALL {format_number(self.fall_s)}")
        self.send("SAFE:STAR")

    def test_running(self) -> bool:
        """Return whether a test is running (``SAFE:STAT?`` reads RUNNING)."""
        return self.state == "RUNNING"

    def result(self) -> HvTestResult:
        """Read judgement, mode, output voltage and meter value of step 1.

        ``raw`` is the judgement code (116 = PASS). A meter overflow (9.9E+37, also seen as
        9.9000001E+37) becomes ``inf`` or ``nan`` (see :func:`reading_or_overflow`).
        """
        code_text = self._single_field("SAFE:RES:ALL?")
        try:
            code = int(code_text)
        except ValueError:
            raise self.bad_reply("SAFE:RES:ALL?", code_text, "not a judgement code") from None
        verdict = VERDICTS.get(code, "OTHER")
        mode = self._single_field("SAFE:RES:ALL:MODE?").upper()
        if mode not in _KINDS:
            raise self.bad_reply("SAFE:RES:ALL:MODE?", mode, "expected AC, DC or IR")
        voltage = self._single_float("SAFE:RES:ALL:OMET?")
        meter = self._single_float("SAFE:RES:ALL:MMET?")
        return HvTestResult(
            kind=_KINDS[mode],
            voltage_v=voltage,
            reading=reading_or_overflow(meter, verdict),
            verdict=verdict,
            raw=str(code),
        )

    def live_reading(self) -> tuple[float, float]:
        """Measure the running test's output in V and meter value (Ω for IR, A otherwise).

        ``SAFE:FETC? OMET,MMET``; a meter over range (9.9E+37) reads ``inf``.
        """
        command = "SAFE:FETC? OMET,MMET"
        reply = self.transport.query(command)
        fields = [f.strip() for f in reply.split(",")]
        if len(fields) != 2:
            raise self.bad_reply(command, reply, "expected output voltage and meter value")
        try:
            volts, meter = (parse_float(f) for f in fields)
        except ValueError as err:
            raise self.bad_reply(command, reply, str(err)) from err
        return volts, math.inf if abs(meter) >= OVERFLOW else meter

    def stop(self) -> None:
        """Stop any running test (``SAFE:STOP``); the instrument removes HV."""
        self.send("SAFE:STOP")

    def _check_times(self, ramp_s: float, dwell_s: float) -> None:
        # 0 would mean "ramp off" and "test time CONTINUE" (endless HV): both refused.
        in_range(0.1, 999.0)(ramp_s)
        in_range(0.3, 999.0)(dwell_s)

    def _single_step(self) -> None:
        self.send("SAFE:STOP")
        for step in range(self.step_count, 1, -1):
            self.send(f"SAFE:STEP{step}:DEL")

    def _single_field(self, command: str) -> str:
        reply = self.transport.query(command)
        fields = [f.strip() for f in reply.split(",")]
        if len(fields) != 1 or not fields[0]:
            raise self.bad_reply(command, reply, "expected one value for one step")
        return fields[0]

    def _single_float(self, command: str) -> float:
        text = self._single_field(command)
        try:
            return parse_float(text)
        except ValueError as err:
            raise self.bad_reply(command, text, str(err)) from err
