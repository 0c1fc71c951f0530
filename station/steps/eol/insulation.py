"""HV safety tests: insulation resistance and dielectric withstand (hipot), discharge verified.

Both run the same way (domain spec §1 steps 5–6, §5.1):

1. **Refuse live terminals.** The contactors must be open: if the bench has a BMS that
   reports them anything but OPEN, or the DMM on the fixture reads ``safe_voltage_v`` or
   more, the step raises before any HV (ERROR). The interlocks must read safe (the engine
   checks them before the step and monitors them during it; the step checks again before
   starting and at every poll).
2. **Test.** Route the tester to the pole (fixture relays), red HV lamp on, start the test,
   poll ``test_running()`` every ``poll_s`` on the run's clock (an abort stops the tester at
   once), then read the instrument's result. A test the instrument stopped by itself (its
   interlock input opened) or could not run is never a measurement: the step raises.
3. **Verify the discharge.** Wait until the tester reports itself safe *and* the DMM on the
   fixture reads below ``safe_voltage_v``, within ``discharge_timeout_s``; the reading is
   recorded as ``residual_voltage_v``. Not confirmed in time → ERROR, lamp left on.
4. **On every way out**: ``stop()`` the tester, verify the discharge (also after an abort,
   with a bounded wait that an abort cannot cut short), HV lamp off only once the discharge
   is confirmed, fixture relays back to rest (both poles).

The IR reading settles as the Y-capacitors (and the slower dielectric absorption) charge, τ =
R_iso·C_Y: judged too early it reads low. The dwell (and a judge delay where the tester has
one) must exceed about 5τ; the Chroma 1905x has no judge delay, so it refuses
``judge_delay_s`` ≠ 0: make ``dwell_s`` long enough instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from drivers.roles import HvTestResult
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.cells import fresh

Pole = Literal["plus", "minus", "both"]

TOUCH_SAFE_V = 60.0
"""The ceiling of ``safe_voltage_v``: DC voltage class A (ISO 6469-3), domain spec §5.1."""
RUN_MARGIN_S = 30.0
"""How much longer than ramp + dwell a test may report running before the step gives up."""
BREAKDOWN_VERDICTS = frozenset({"ARC", "BREAKDOWN"})
DISCHARGE_POLL_S = 0.01
"""How often the discharge is checked: it takes tens of ms (τ ≈ 20 ms on a pack's
Y-capacitors through the tester's discharge resistor), so polling it at the test's
``poll_s`` (0.2 s) would leave the safe state unconfirmed long after it is reached."""


def check_common(params: Any) -> None:
    """Validate the parameters both HV step types share."""
    if params.voltage_v <= 0:
        raise ValueError("params.voltage_v must be > 0")
    if params.dwell_s <= 0:
        raise ValueError("params.dwell_s must be > 0")
    if params.ramp_s < 0:
        raise ValueError("params.ramp_s must be ≥ 0")
    if params.poll_s <= 0:
        raise ValueError("params.poll_s must be > 0")
    if not 0 < params.safe_voltage_v <= TOUCH_SAFE_V:
        raise ValueError(
            f"params.safe_voltage_v must be > 0 and ≤ {TOUCH_SAFE_V:g} V (touch-safe ceiling)"
        )
    if params.discharge_timeout_s <= 0:
        raise ValueError("params.discharge_timeout_s must be > 0")


class HvTest:
    """One HV test on the fixture, from the live-terminal check to the verified discharge."""

    def __init__(self, ctx: StepContext, params: Any) -> None:
        self.ctx = ctx
        self.params = params
        self.tester: Any = ctx.instrument("insulation_tester")
        self.io: Any = ctx.instrument("interlocks")
        self.dmm: Any = ctx.instrument("dmm")

    def run(self, start: Callable[[Any], None]) -> tuple[HvTestResult, float]:
        """Run the test ``start(tester)`` begins; return its result and the residual voltage."""
        ctx, p = self.ctx, self.params
        self._refuse_live_terminals()
        ctx.require_interlocks_safe()
        verified = False
        try:
            self.io.select_hv_pole(p.pole)
            self.io.set_hv_lamp(True)
            start(self.tester)
            result = self._await_result(p.ramp_s + p.dwell_s)
            residual = self._verify_discharge(ctx.wait)
            verified = True
        except BaseException:
            for problem in self._make_safe(verified):
                ctx.log(problem, "ERROR")
            raise
        problems = self._make_safe(verified)
        if problems:
            raise StationError("; ".join(problems))
        return result, residual

    def _refuse_live_terminals(self) -> None:
        bms = _optional(self.ctx, "bms")
        if bms is not None and "contactor_state" in bms.monitor.roles():
            state = str(bms.contactor_state(after=fresh(self.ctx)))
            if state.upper() != "OPEN":
                raise StationError(
                    f"the BMS reports the contactors {state}: an HV test with the contactors "
                    "closed is refused; open them first (contactors step, action open)"
                )
        volts = abs(self.dmm.measure_dc_voltage(nplc=1.0))
        if volts >= self.params.safe_voltage_v:
            raise StationError(
                f"the DMM reads {volts:.1f} V on the fixture before the HV test "
                f"(≥ {self.params.safe_voltage_v:g} V): the terminals are live; HV test "
                "refused — open the contactors and check the fixture"
            )

    def _await_result(self, duration_s: float) -> HvTestResult:
        ctx, tester = self.ctx, self.tester
        started = ctx.now()
        while tester.test_running():
            ctx.require_interlocks_safe()
            elapsed = ctx.now() - started
            if elapsed > duration_s + RUN_MARGIN_S:
                raise StationError(
                    f"the insulation tester still reports a test running {elapsed:.0f} s after "
                    f"the start (ramp + dwell {duration_s:g} s); check the tester"
                )
            ctx.progress(elapsed / duration_s, max(0.0, duration_s - elapsed), "HV on")
            ctx.wait(self.params.poll_s)
        result: HvTestResult = tester.result()
        ctx.log(
            f"insulation tester: {result.kind} {result.verdict} (code {result.raw}), "
            f"reading {result.reading:g} at {result.voltage_v:g} V"
        )
        if result.verdict == "ABORTED":
            ctx.require_interlocks_safe()  # the door or e-stop cut it: ABORTED, not ERROR
            raise StationError(
                f"the insulation tester stopped the {result.kind} test itself (code "
                f"{result.raw}) with the interlocks safe; check its front panel and interlock input"
            )
        if result.verdict == "OTHER":
            raise StationError(
                f"the insulation tester could not run the {result.kind} test (code "
                f"{result.raw}); check its interlock input and settings"
            )
        return result

    def _verify_discharge(self, wait: Callable[[float], object]) -> float:
        """Wait for tester safe and fixture < safe_voltage_v; return the DMM reading in V."""
        ctx, p = self.ctx, self.params
        end = ctx.now() + p.discharge_timeout_s
        while True:
            # The DMM (three exchanges) is read only once the tester (one) says it has
            # discharged: a lighter poll follows the discharge more closely.
            tester_safe = self.tester.is_safe()
            timed_out = ctx.now() >= end
            if tester_safe or timed_out:
                volts = abs(self.dmm.measure_dc_voltage(nplc=1.0))
                if tester_safe and volts < p.safe_voltage_v:
                    return float(volts)
            if timed_out:
                raise StationError(
                    f"HV discharge not confirmed within {p.discharge_timeout_s:g} s: tester "
                    f"{'safe' if tester_safe else 'still running'}, fixture {volts:.1f} V "
                    f"(must be < {p.safe_voltage_v:g} V); keep the door closed and check "
                    "the tester's discharge"
                )
            wait(min(p.poll_s, DISCHARGE_POLL_S))

    def _make_safe(self, verified: bool) -> list[str]:
        """Stop, confirm the discharge, lamp off, relays to rest; return what went wrong."""
        problems: list[str] = []

        def attempt(what: str, action: Callable[[], object]) -> bool:
            try:
                action()
            except Exception as err:
                problems.append(f"could not {what}: {err}")
                return False
            return True

        attempt("stop the insulation tester", self.tester.stop)
        if not verified:
            # After an abort too: bounded, and an abort may not cut it short.
            never = threading.Event()
            verified = attempt(
                "confirm the HV discharge (HV lamp left on)",
                lambda: self._verify_discharge(lambda s: self.ctx.clock.wait(s, never)),
            )
        if verified:
            attempt("switch the HV lamp off", lambda: self.io.set_hv_lamp(False))
        attempt("put the HV fixture relays to rest", lambda: self.io.select_hv_pole("both"))
        return problems


def _optional(ctx: StepContext, role: str) -> Any:
    try:
        return ctx.instrument(role)
    except StationError:  # the bench has no such role
        return None


@register
class InsulationResistance(StepType):
    """Insulation resistance of HV+, HV− or both poles to chassis, discharge verified."""

    name = "insulation_resistance"
    roles = ("insulation_tester", "interlocks", "dmm")
    energises = True
    measurements = (
        MeasurementSpec("riso_ohm", "Ohm", doc="the tester's reading; inf = above its range"),
        MeasurementSpec("test_voltage_v", "V", doc="output voltage the tester reports"),
        MeasurementSpec(
            "residual_voltage_v",
            "V",
            requires_limit=False,
            doc="fixture voltage by the DMM once discharged",
        ),
    )

    @dataclass(frozen=True)
    class Params:
        voltage_v: float
        dwell_s: float
        pole: Pole = "both"
        ramp_s: float = 1.0
        instrument_floor_ohm: float = 1e6
        judge_delay_s: float = 0.0
        poll_s: float = 0.2
        safe_voltage_v: float = 60.0
        discharge_timeout_s: float = 10.0

        def __post_init__(self) -> None:
            check_common(self)
            if self.instrument_floor_ohm <= 0:
                raise ValueError("params.instrument_floor_ohm must be > 0")
            if self.judge_delay_s < 0:
                raise ValueError("params.judge_delay_s must be ≥ 0")

    def run(self, ctx: StepContext, params: Any) -> None:
        def start(tester: Any) -> None:
            tester.start_insulation(
                params.voltage_v,
                ramp_s=params.ramp_s,
                dwell_s=params.dwell_s,
                low_limit_ohm=params.instrument_floor_ohm,
                judge_delay_s=params.judge_delay_s,
            )

        result, residual = HvTest(ctx, params).run(start)
        ctx.measure("riso_ohm", result.reading)
        ctx.measure("test_voltage_v", result.voltage_v)
        ctx.measure("residual_voltage_v", residual)


@register
class Withstand(StepType):
    """Dielectric withstand (hipot), DC or AC: leakage and breakdown, discharge verified."""

    name = "withstand"
    roles = ("insulation_tester", "interlocks", "dmm")
    energises = True
    measurements = (
        MeasurementSpec("leakage_a", "A", doc="leakage current (rms for AC) the tester reads"),
        MeasurementSpec("breakdown", "", kind="bool", doc="the tester reported ARC/breakdown"),
        MeasurementSpec("test_voltage_v", "V", doc="output voltage the tester reports"),
        MeasurementSpec(
            "residual_voltage_v",
            "V",
            requires_limit=False,
            doc="fixture voltage by the DMM once discharged",
        ),
    )

    @dataclass(frozen=True)
    class Params:
        voltage_v: float
        dwell_s: float
        leakage_limit_a: float
        ac: bool = False
        frequency_hz: float = 50.0
        pole: Pole = "both"
        ramp_s: float = 1.0
        poll_s: float = 0.2
        safe_voltage_v: float = 60.0
        discharge_timeout_s: float = 10.0

        def __post_init__(self) -> None:
            check_common(self)
            if self.leakage_limit_a <= 0:
                raise ValueError("params.leakage_limit_a must be > 0")
            if self.frequency_hz <= 0:
                raise ValueError("params.frequency_hz must be > 0")

    def run(self, ctx: StepContext, params: Any) -> None:
        def start(tester: Any) -> None:
            tester.start_withstand(
                params.voltage_v,
                ac=params.ac,
                ramp_s=params.ramp_s,
                dwell_s=params.dwell_s,
                leakage_limit_a=params.leakage_limit_a,
                frequency_hz=params.frequency_hz,
            )

        result, residual = HvTest(ctx, params).run(start)
        ctx.measure("leakage_a", result.reading)
        ctx.measure("breakdown", result.verdict in BREAKDOWN_VERDICTS)
        ctx.measure("test_voltage_v", result.voltage_v)
        ctx.measure("residual_voltage_v", residual)
