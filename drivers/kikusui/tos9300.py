"""Kikusui TOS9300 series (TOS9300/9301/9302/9303) electrical safety analyzer."""

from __future__ import annotations

from drivers.roles import HvTestKind, HvTestResult
from drivers.scpi.hv import HvTester, reading_or_overflow
from drivers.scpi.instrument import (
    check_bool,
    format_number,
    in_range,
    measurement,
    one_of,
    parse_float,
    parse_int,
    positive,
    setting,
)
from drivers.scpi.transport import Transport

# STAT:OPER:TEST:COND? bits: 0 PASS, 1 L-FAIL, 2 U-FAIL, 4 RISE, 5 TEST, 6 FALL, 8 READY,
# 9 IDLE (TOS5300 interface manual, same register), 7 DISCHARGE (public TOS9301 script).
PASS_BIT, LFAIL_BIT, UFAIL_BIT = 1, 2, 4
RISE_BIT, TEST_BIT, FALL_BIT, DISCHARGE_BIT = 16, 32, 64, 128
READY_BIT, IDLE_BIT = 256, 512
HV_BITS = RISE_BIT | TEST_BIT | FALL_BIT | DISCHARGE_BIT
"""Any of these set: voltage is (or may still be) on the output."""
ENDED_BITS = PASS_BIT | LFAIL_BIT | UFAIL_BIT | READY_BIT | IDLE_BIT
"""At least one of these set (and no HV bit): the test has ended. Kikusui's sample waits on
READY|IDLE; the judgement bits cover the FAIL hold, which shows neither."""

RESULT_FIELDS = 14
"""RES? fields: test no., step no., mode, year, month, day, hour, minute, second, voltage [V],
current [A], resistance [Ω], elapsed time [s], judgement — as returned by a TOS9301
(``+3,+1,DCW,+2024,+1,+28,+12,+42,+6,+4.85010E+01,+1.91900E-06,+2.52640E+07,+2.00000E+00,
PASS`` in a public script); the TOS5300 manual documents the same order."""

VERDICTS: dict[str, str] = {
    "PASS": "PASS",
    "U-FAIL": "HIGH",
    "L-FAIL": "LOW",
    "ABORT": "ABORTED",
}
"""Judgements from the TOS5300 manual (PASS|U-FAIL|L-FAIL|PROT|ABORT); PROT and anything
else (e.g. a contact-check fail) map to OTHER."""

_KINDS: dict[str, HvTestKind] = {"ACW": "ACW", "DCW": "DCW", "IR": "IR"}


class Tos9300(HvTester):
    """Kikusui TOS9300 series safety analyzer, used for IR, ACW and DCW (role: InsulationTester).

    Constructed as ``Tos9300(transport, *, check_errors=True, max_ac_v=5000, max_dc_v=7200,
    min_withstand_v=50, min_ir_v=25, max_ir_v=1000)``. Ratings from Kikusui's published
    specifications: ACW 0.050–5.000 kV on all models, DCW up to 7.2 kV on the TOS9301/9303
    only — pass ``max_dc_v=0`` for a TOS9300/9302, which have no DC withstand. The IR range
    25–1000 V is the project's conservative default (the IR voltmeter reads up to 7.5 kV on
    some models; raise ``max_ir_v`` only after checking yours). LAN uses VXI-11.

    Command source: Kikusui's own sample class ``tos9300.py`` (© 2018 Kikusui, public id
    8770108506): ``FUNC``, ``{IR|DCW|ACW}:VOLT``, ``:VOLT:SWE:TIM``, ``:VOLT:TIM``,
    ``ACW:VOLT:FREQ``, ``SENS:{ACW|DCW}:JUDG`` (upper current limit),
    ``SENS:{ACW|DCW}:JUDG:LOW:STAT``, ``SENS:IR:JUDG:LOW``, ``SENS:IR:JUDG:LOW:STAT``,
    ``SENS:IR:JUDG:DEL``, ``ABOR``, ``INIT:TEST``, ``STAT:OPER:TEST:COND?``, ``RES?``.
    ``DCW:VOLT:TIM:STAT ON`` comes from a public TOS9301 production script; the same
    command for ACW and IR is inferred by analogy. The ``RES?`` field layout and the
    condition-register bits are from that script and the TOS5300 interface manual (same
    command family); not checked against the TOS93 manual itself.

    Note ``SENS:IR:JUDG`` is the UPPER resistance limit: the IR low limit goes to
    ``SENS:IR:JUDG:LOW``. Both the upper IR judgement and the lower withstand-current
    judgement are programmed on every test: they are the contact proof (an open lead reads
    over range or no current). ``SENS:IR:JUDG:STAT`` (switching the upper IR judgement on)
    is inferred from ``:LOW:STAT`` and from the older TOS9200 series, whose manual has an
    ON/OFF switch on the upper IR judgement (``IR:UPPER <ref>,{ON|OFF}``); check it on a
    TOS93 before relying on it. The TOS93 also has a contact check (CONTACT FAIL shows on
    the U FAIL and L FAIL outputs together, TOS93 user's manual, SIGNAL I/O) whose remote
    commands were not found; it is not used. On a FAIL the TOS5300 manual says
    ``RES?`` returns the judgement limit instead of the measured current/resistance.
    An over-range reading is assumed to be SCPI's 9.9E+37 (not seen in a public TOS93
    reply); see :func:`drivers.scpi.hv.reading_or_overflow`.

    The TOS9300 needs no remote-mode command, so :meth:`connect` sends nothing.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        check_errors: bool = True,
        max_ac_v: float = 5000.0,
        max_dc_v: float = 7200.0,
        min_withstand_v: float = 50.0,
        min_ir_v: float = 25.0,
        max_ir_v: float = 1000.0,
    ) -> None:
        super().__init__(transport, check_errors=check_errors)
        if not 0 < min_withstand_v <= max_ac_v or not 0 < min_ir_v <= max_ir_v:
            raise ValueError("each minimum voltage must be > 0 and not above its maximum")
        if max_dc_v != 0 and max_dc_v < min_withstand_v:
            raise ValueError("max_dc_v must be 0 (no DCW) or at least min_withstand_v")
        self.max_ac_v = max_ac_v
        self.max_dc_v = max_dc_v
        self.min_withstand_v = min_withstand_v
        self.min_ir_v = min_ir_v
        self.max_ir_v = max_ir_v

    function = setting(
        "FUNC {}",
        check=one_of("ACW", "DCW", "IR"),
        doc="Set the test function: ACW, DCW or IR.",
    )
    test_condition = measurement(
        "STAT:OPER:TEST:COND?",
        parse_int,
        doc="Get the TESTing condition register (bits: see HV_BITS and ENDED_BITS).",
    )

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
        """Configure an IR test and start it.

        Both judgements are switched on: the low limit, and the upper limit
        ``high_limit_ohm`` (``SENS:IR:JUDG``), the contact proof — an open lead reads over
        range and fails U-FAIL instead of passing. Both are judged after
        ``judge_delay_s``, which must be shorter than ``dwell_s`` (a delay past the test
        time would let the tester PASS without ever judging the limits).
        """
        in_range(self.min_ir_v, self.max_ir_v)(voltage_v)
        self._check_times(ramp_s, dwell_s)
        positive(low_limit_ohm)
        positive(high_limit_ohm)
        if not high_limit_ohm > low_limit_ohm:
            raise ValueError(
                f"high_limit_ohm={high_limit_ohm!r} must be above low_limit_ohm={low_limit_ohm!r}"
            )
        in_range(0.0, 999.0)(judge_delay_s)
        if judge_delay_s >= dwell_s:
            raise ValueError(f"judge_delay_s={judge_delay_s!r} must be < dwell_s={dwell_s!r}")
        self.function = "IR"
        self.send(f"IR:VOLT {format_number(voltage_v)}")
        self.send(f"IR:VOLT:SWE:TIM {format_number(ramp_s)}")
        self.send(f"IR:VOLT:TIM {format_number(dwell_s)}")
        self.send("IR:VOLT:TIM:STAT ON")
        self.send(f"SENS:IR:JUDG:LOW {format_number(low_limit_ohm)}")
        self.send("SENS:IR:JUDG:LOW:STAT ON")
        self.send(f"SENS:IR:JUDG {format_number(high_limit_ohm)}")
        self.send("SENS:IR:JUDG:STAT ON")
        self.send(f"SENS:IR:JUDG:DEL {format_number(judge_delay_s)}")
        self._start()

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
        """Configure an ACW or DCW test and start it.

        The upper current limit is ``leakage_limit_a``; the lower current judgement is
        switched on at ``low_limit_a``, the contact proof (an open lead draws no current and
        fails L-FAIL). ``frequency_hz`` (50 or 60) applies to AC only.
        """
        check_bool(ac)
        if not ac and self.max_dc_v == 0:
            raise ValueError("this model has no DC withstand test (max_dc_v=0)")
        in_range(self.min_withstand_v, self.max_ac_v if ac else self.max_dc_v)(voltage_v)
        self._check_times(ramp_s, dwell_s)
        positive(leakage_limit_a)
        positive(low_limit_a)
        if not low_limit_a < leakage_limit_a:
            raise ValueError(
                f"low_limit_a={low_limit_a!r} must be below leakage_limit_a={leakage_limit_a!r}"
            )
        if ac:
            one_of(50, 60)(frequency_hz)
        func = "ACW" if ac else "DCW"
        self.function = func
        self.send(f"{func}:VOLT {format_number(voltage_v)}")
        if ac:
            self.send(f"ACW:VOLT:FREQ {format_number(frequency_hz)}")
        self.send(f"{func}:VOLT:SWE:TIM {format_number(ramp_s)}")
        self.send(f"{func}:VOLT:TIM {format_number(dwell_s)}")
        self.send(f"{func}:VOLT:TIM:STAT ON")
        self.send(f"SENS:{func}:JUDG {format_number(leakage_limit_a)}")
        self.send(f"SENS:{func}:JUDG:LOW {format_number(low_limit_a)}")
        self.send(f"SENS:{func}:JUDG:LOW:STAT ON")
        self._start()

    def test_running(self) -> bool:
        """Return whether a test may still hold HV.

        Running while any of RISE/TEST/FALL/DISCHARGE is set, or while none of
        PASS/L-FAIL/U-FAIL/READY/IDLE is (an unknown state counts as running).
        """
        condition = self.test_condition
        return bool(condition & HV_BITS) or not condition & ENDED_BITS

    def result(self) -> HvTestResult:
        """Read the last test's record (``RES?``); ``raw`` is the judgement text."""
        reply = self.transport.query("RES?")
        fields = [f.strip() for f in reply.split(",")]
        if len(fields) != RESULT_FIELDS:
            raise self.bad_reply(
                "RES?", reply, f"expected {RESULT_FIELDS} fields, got {len(fields)}"
            )
        mode = fields[2].upper()
        if mode not in _KINDS:
            raise self.bad_reply("RES?", reply, f"test mode {fields[2]!r} is not ACW, DCW or IR")
        try:
            voltage, current, resistance = (parse_float(f) for f in fields[9:12])
        except ValueError as err:
            raise self.bad_reply("RES?", reply, str(err)) from err
        judgement = fields[13].upper()
        if not judgement:
            raise self.bad_reply("RES?", reply, "empty judgement")
        verdict = VERDICTS.get(judgement, "OTHER")
        value = resistance if mode == "IR" else current
        return HvTestResult(
            kind=_KINDS[mode],
            voltage_v=voltage,
            reading=reading_or_overflow(value, verdict),
            verdict=verdict,
            raw=fields[13],
        )

    def stop(self) -> None:
        """Abort any running test (``ABOR``); the tester switches HV off."""
        self.send("ABOR")

    def _check_times(self, ramp_s: float, dwell_s: float) -> None:
        positive(ramp_s)
        positive(dwell_s)
        in_range(0.0, 999.0)(ramp_s)
        in_range(0.0, 999.0)(dwell_s)

    def _start(self) -> None:
        # Kikusui's sample aborts first so a held PASS/FAIL does not block the new start.
        self.send("ABOR")
        self.send("INIT:TEST")
