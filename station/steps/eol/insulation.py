"""HV safety tests: insulation resistance and dielectric withstand (hipot), discharge verified.

Both run the same way (domain spec §1 steps 5–6, §5.1):

0. **Prove the DMM on a known source (live–dead–live, first leg).** With ``dmm_proof =
   "relay"`` (the default) the fixture's DMM proof relay puts its reference voltage
   (``dmm_proof_v`` of the interlocks, e.g. the fixture's 24 V auxiliary) on the DMM's leads;
   the DMM must read it within ``dmm_proof_tolerance_v`` (recorded as ``dmm_proof_v``), then
   the relay goes off again (on every way out). Otherwise: ERROR, no HV command sent. With
   ``dmm_proof = "test_voltage"`` (a fixture without the relay) this leg is skipped and the
   DMM is proven only by seeing the test voltage in step 4 — after the fixture is energised.
1. **Refuse live terminals (dead).** Every source of truth must say dead before any HV: the
   BMS must report the contactors OPEN (checked before step 0) and its bus (HV connector)
   voltage below half the pack's minimum voltage (its sense is not calibrated yet; never
   below the live threshold), and the DMM on the fixture must read below the live
   threshold. The threshold is relative to the pack, not the 60 V touch limit:
   ``live_threshold_v`` (a few volts: open contactors leave ~0 V), lowered to
   :data:`LIVE_FRACTION` of ``pack_min_voltage_v`` when given — so a 16S LFP pack
   (51–58 V) behind welded or misreported contactors is refused. The
   interlocks must read safe (the engine checks them before the step and monitors them
   during it; the step checks again before starting and at every poll).
2. **Test.** Route the tester to the pole (fixture relays), red HV lamp on, start the test,
   poll ``test_running()`` every ``poll_s`` on the run's clock (an abort stops the tester at
   once) while the DMM watches the fixture, then read the instrument's result. A test the
   instrument stopped by itself (its interlock input opened) or could not run is never a
   measurement: the step raises.
3. **Prove contact.** Over range is never a PASS by itself. IR programs an upper judgement
   (``contact_limit_ohm``): a reading above it, or over range, means the tester never saw the
   pack (open lead) and the step is an ERROR telling the operator to check the test leads.
   The withstand programs a lower current judgement (``contact_leakage_a``): a capacitive
   pack always draws some current, an open lead none. Recorded as ``contact_ok``.
4. **Watch with the DMM (live–dead–live, last leg).** The DMM must see the test voltage on
   the fixture during the test (a reading ≥ the live threshold, recorded as ``dmm_live_v``;
   it is not read again until the discharge once it has). If it never did, with the relay
   the tester is stopped and the DMM proven on the reference again: proven, it confirms the
   discharge (an open test lead leaves the pack unenergised), though if the tester proved
   contact its probe points cannot be on the HV fixture (ERROR). Not proven again, or
   without the relay (an open DMM lead), it cannot confirm the discharge: ERROR, HV lamp
   left on.
5. **Verify the discharge.** Wait until the tester reports itself safe *and* the DMM on the
   fixture reads below ``safe_voltage_v``, within ``discharge_timeout_s``; the reading is
   recorded as ``residual_voltage_v``. Not confirmed in time → ERROR, lamp left on.
6. **On every way out**: ``stop()`` the tester, verify the discharge (also after an abort,
   with a bounded wait that an abort cannot cut short), HV lamp off only once the discharge
   is confirmed, fixture relays back to rest (both poles).

**Why the contact proof needs the test voltage.** An open *test* lead (``ir_lead_open``) can
only be told from a very well insulated pack by the current the tester drives: the upper IR
judgement and the withstand's lower current limit judge at the test voltage, and the tester
contact checks that work without it are not in a public command set (see the drivers). So
that proof is made with the output on, and the step stops the tester and verifies the
discharge at once after the judgement. The DMM, which vouches for that discharge, is proven
before any HV (step 0).

**Settling.** A constant-voltage tester charges the Y-capacitors through its own source
resistance: τ = R_src·C_Y, tens of milliseconds (500 kΩ × 100 nF = 50 ms). What keeps the
reading rising for tens of seconds afterwards is dielectric absorption, not R_iso·C_Y (that time
constant belongs to the self-discharge and voltmeter methods, where nothing drives the
node). Judged early, the reading is low. Either make the dwell long enough for the pack's
absorption, or set ``settle_rate_pct_per_s``: the step then watches the live reading and
judges as soon as it rises by less than that (in % of the reading per second, over
``settle_window_s``), with ``dwell_s`` as the maximum; it needs a tester that reports a live
reading (Chroma 1905x). The Chroma 1905x has no judge delay, so it refuses
``judge_delay_s`` ≠ 0.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from drivers.errors import MeterOverload
from drivers.roles import DmmProofRelay, HvTestResult, InsulationTester, LiveHvReadout, PackBms
from station.errors import StationError
from station.limits import bounds
from station.steps.api import CheckContext, MeasurementSpec, StepContext, StepType, register
from station.steps.eol.cells import fresh
from station.steps.params import AtLeast, Finite, NonNegative, Positive, Range, StepParams

Pole = Literal["plus", "minus", "both"]
DmmProof = Literal["relay", "test_voltage"]

TOUCH_SAFE_V = 60.0
"""The ceiling of ``safe_voltage_v``: DC voltage class A (ISO 6469-3), domain spec §5.1."""
LIVE_FRACTION = 0.1
"""With ``pack_min_voltage_v`` given, the live threshold is at most this fraction of it."""
BMS_LIVE_FRACTION = 0.5
"""The BMS's bus sense is not calibrated yet (volts of offset before the EOL calibration):
it says live at half the pack's minimum voltage (never below the live threshold)."""
RUN_MARGIN_S = 30.0
"""How much longer than ramp + dwell a test may report running before the step gives up."""
BREAKDOWN_VERDICTS = frozenset({"ARC", "BREAKDOWN"})
DISCHARGE_POLL_S = 0.01
"""How often the discharge is checked: it takes tens of ms (τ ≈ 20 ms on a pack's
Y-capacitors through the tester's discharge resistor), so polling it at the test's
``poll_s`` (0.2 s) would leave the safe state unconfirmed long after it is reached."""
SETTLE_SAMPLES = 4
"""Live IR readings taken per ``settle_window_s`` (at most one per poll)."""
RELAY_SETTLE_S = 0.05
"""Given to the DMM proof relay before the DMM reads (a signal relay operates and stops
bouncing within ~10 ms)."""
TEST_VOLTAGE_MEANS = (
    "the DMM is proven only during the test, by seeing the test voltage — after the fixture "
    "is energised, so its reading of the terminals as dead before the test is unproven (an "
    'open DMM lead reads 0 V); fit a DMM proof relay and use "relay" where you can'
)
TEST_VOLTAGE_PROOF = f'dmm_proof = "test_voltage": {TEST_VOLTAGE_MEANS}'
CHECK_LEADS = (
    "check the test leads: the HI lead on the pole and the return lead on the chassis point"
)


@dataclass(frozen=True, kw_only=True)
class HvParams(StepParams):
    """The parameters both HV step types share (keyword-only, so a step's own required
    parameters may follow them)."""

    voltage_v: Annotated[float, Positive]
    dwell_s: Annotated[float, Positive]
    pole: Pole = "both"
    ramp_s: Annotated[float, NonNegative] = 1.0
    poll_s: Annotated[float, Positive] = 0.2
    safe_voltage_v: Annotated[
        float, Range(0, TOUCH_SAFE_V, low_open=True, unit="V", note="touch-safe ceiling")
    ] = 60.0
    live_threshold_v: Annotated[float, Positive] = 5.0
    pack_min_voltage_v: Annotated[float, AtLeast(0, note="0 = not given")] = 0.0
    discharge_timeout_s: Annotated[float, Positive] = 10.0
    residual_wait_s: Annotated[float, NonNegative, Finite] = 60.0
    dmm_proof: DmmProof = "relay"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.live_threshold_v < self.safe_voltage_v:
            raise ValueError("params.live_threshold_v must be > 0 and below params.safe_voltage_v")


def live_threshold_v(params: HvParams) -> float:
    """The voltage at or above which the fixture counts as live, relative to the pack."""
    threshold = float(params.live_threshold_v)
    if params.pack_min_voltage_v > 0:
        threshold = min(threshold, LIVE_FRACTION * params.pack_min_voltage_v)
    return threshold


@dataclass(frozen=True)
class HvRun:
    """What one HV test gave: the instrument's result (None when the step judged a settled
    live reading itself), the reading and output voltage judged, the DMM's highest reading
    during the test, the residual voltage once discharged (nan: not confirmed), what went
    wrong making safe (the step must raise when there is anything) and whether the DMM never
    saw the test voltage though the proof relay proved it good again after the test."""

    result: HvTestResult | None
    reading: float
    voltage_v: float
    dmm_live_v: float
    residual_v: float
    problems: tuple[str, ...] = ()
    dmm_blind: bool = False


class HvTest:
    """One HV test on the fixture, from the live-terminal check to the verified discharge."""

    def __init__(self, ctx: StepContext, params: HvParams) -> None:
        self.ctx = ctx
        self.params = params
        self.tester = ctx.instrument("insulation_tester")
        self.io = ctx.instrument("interlocks")
        self.dmm = ctx.instrument("dmm")
        self.threshold_v = live_threshold_v(params)
        self.dmm_live_v = 0.0
        self._dmm_saw_hv = False  # the DMM read the test voltage on the fixture
        self._dmm_trusted = False  # … or the proof relay proved it again after the test
        self._completed = False  # the test ran its course (not cut short)

    def run(
        self,
        start: Callable[[InsulationTester], None],
        *,
        settle: Callable[[], float | None] | None = None,
    ) -> HvRun:
        """Run the test ``start(tester)`` begins and return what it gave.

        ``settle`` (IR only) is polled during the dwell; once it returns a reading the step
        judges that reading and stops the test. A test that ran its course comes back even
        when making safe went wrong (``problems``: the step records its proofs, then raises).
        """
        ctx, p = self.ctx, self.params
        relay = self._proof_relay()
        bms = ctx.optional_instrument("bms")
        self._refuse_closed_contactors(bms)
        if relay is not None:
            self._prove_dmm(relay, "before the HV test", record=True)
        self._refuse_live_terminals(bms)
        ctx.require_interlocks_safe()
        verified = False
        residual = math.nan
        try:
            self.io.select_hv_pole(p.pole)
            self.io.set_hv_lamp(True)
            start(self.tester)
            result, settled = self._await_result(p.ramp_s + p.dwell_s, settle)
            self._completed = True
            self._watch_fixture()  # one more look: a short test may end between polls
            if not self._dmm_saw_hv and relay is not None:
                # The last leg on the known source: an open test lead leaves the pack
                # unenergised, and a DMM proven again can vouch for that.
                self.tester.stop()
                self._prove_dmm(relay, "after an HV test in which it never saw the test voltage")
                self._dmm_trusted = True
            if self._dmm_trusted:
                residual = self._verify_discharge(ctx.wait)
                verified = True
        except BaseException:
            for problem in self._make_safe(verified):
                ctx.log(problem, "ERROR")
            raise
        problems = tuple(self._make_safe(verified))
        blind = self._dmm_trusted and not self._dmm_saw_hv
        if settled is not None:
            reading, volts = settled
            return HvRun(None, reading, volts, self.dmm_live_v, residual, problems, blind)
        assert result is not None
        return HvRun(
            result, result.reading, result.voltage_v, self.dmm_live_v, residual, problems, blind
        )

    def _proof_relay(self) -> DmmProofRelay | None:
        """The fixture's DMM proof relay (None with ``dmm_proof = "test_voltage"``)."""
        if self.params.dmm_proof == "test_voltage":
            self.ctx.log(TEST_VOLTAGE_PROOF, "WARNING")
            return None
        if not isinstance(self.io, DmmProofRelay):
            raise StationError(
                f'params.dmm_proof = "relay" needs a DMM proof relay on the fixture I/O, and '
                f"the interlocks ({type(self.io).__name__}) have none; no HV was applied — fit "
                f'one, or set dmm_proof = "test_voltage" ({TEST_VOLTAGE_MEANS})'
            )
        return self.io

    def _prove_dmm(self, relay: DmmProofRelay, when: str, *, record: bool = False) -> None:
        """Put the fixture's reference on the DMM's leads, read it (``record``: as
        ``dmm_proof_v``), switch it off again; raise if it did not read the reference."""
        expected, tolerance = relay.dmm_proof_v, relay.dmm_proof_tolerance_v
        try:
            relay.set_dmm_proof(True)
            self.ctx.wait(RELAY_SETTLE_S)
            volts = self._fixture_v()
        finally:
            relay.set_dmm_proof(False)  # on every way out; if this fails, that error wins
        if record:
            self.ctx.measure("dmm_proof_v", volts)
        if not abs(volts - expected) <= tolerance:
            raise StationError(
                f"DMM not proven {when}: it read {volts:.2f} V with the DMM proof relay on, "
                f"where the fixture's reference is {expected:g} V ± {tolerance:g} V, so it "
                "cannot be trusted to read the HV terminals dead; no HV was applied — check "
                "the DMM leads, the fixture's probe points and the proof relay"
            )
        self.ctx.log(f"DMM proven {when}: {volts:.2f} V on the fixture's {expected:g} V reference")

    def _fixture_v(self) -> float:
        """Read the fixture with the DMM in V (magnitude; ``inf`` above the DMM's range)."""
        try:
            return abs(float(self.dmm.measure_dc_voltage(nplc=1.0)))
        except MeterOverload:
            return math.inf

    def _refuse_closed_contactors(self, bms: PackBms | None) -> None:
        if bms is not None and "contactor_state" in bms.monitor.roles():
            state = str(bms.contactor_state(after=fresh(self.ctx)))
            if state.upper() != "OPEN":
                raise StationError(
                    f"the BMS reports the contactors {state}: an HV test with the "
                    "contactors closed is refused; open them first (contactors step, "
                    "action open)"
                )

    def _refuse_live_terminals(self, bms: PackBms | None) -> None:
        refuse = "HV test refused — open the contactors and check the fixture"
        # With the contactors reported open, a fixture that still reads live may be charge
        # left on the bus (e.g. after an aborted run): give it residual_wait_s to bleed
        # down, reading again every poll_s, before calling the terminals live.
        end = self.ctx.now() + self.params.residual_wait_s
        while (live := self._live_reading(bms)) is not None:
            if self.ctx.now() >= end:
                raise StationError(f"{live}; {refuse}")
            self.ctx.wait(self.params.poll_s)

    def _live_reading(self, bms: PackBms | None) -> str | None:
        """Why the terminals read live (the BMS bus voltage, then the DMM), or None if dead."""
        threshold = self.threshold_v
        if bms is not None and "bus_voltage" in bms.monitor.roles():
            bus_v = abs(float(bms.bus_voltage(after=fresh(self.ctx))))
            bms_threshold = max(threshold, BMS_LIVE_FRACTION * self.params.pack_min_voltage_v)
            if not bus_v < bms_threshold:
                return (
                    f"the BMS reads {bus_v:.1f} V on the HV connector (≥ {bms_threshold:g} V) "
                    f"after {self.params.residual_wait_s:g} s: the terminals are live whatever "
                    "the contactor state says"
                )
        volts = self._fixture_v()
        if not volts < threshold:
            return (
                f"the DMM reads {volts:.1f} V on the fixture before the HV test (≥ "
                f"{threshold:g} V) after {self.params.residual_wait_s:g} s: the terminals are live"
            )
        return None

    def _await_result(
        self, duration_s: float, settle: Callable[[], float | None] | None
    ) -> tuple[HvTestResult | None, tuple[float, float] | None]:
        ctx, tester = self.ctx, self.tester
        started = ctx.now()
        while tester.test_running():
            ctx.require_interlocks_safe()
            self._watch_fixture()
            elapsed = ctx.now() - started
            if elapsed > duration_s + RUN_MARGIN_S:
                raise StationError(
                    f"the insulation tester still reports a test running {elapsed:.0f} s after "
                    f"the start (ramp + dwell {duration_s:g} s); check the tester"
                )
            if settle is not None and elapsed < duration_s:
                settled = settle()
                if settled is not None:
                    volts = self._settled_voltage()
                    ctx.log(f"IR reading settled at {settled:g} Ω after {elapsed:.1f} s")
                    tester.stop()
                    return None, (settled, volts)
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
        return result, None

    def _settled_voltage(self) -> float:
        assert isinstance(self.tester, LiveHvReadout)  # run() settles only with a live reading
        volts, _ = self.tester.live_reading()
        return float(volts)

    def _watch_fixture(self) -> None:
        """Let the DMM watch the fixture while HV is on: it is trusted once it sees it."""
        if self._dmm_saw_hv:
            return  # seen once is enough; spare the DMM (and the poll) from then on
        volts = self._fixture_v()
        self.dmm_live_v = max(self.dmm_live_v, volts)
        if volts >= self.threshold_v:
            self._dmm_saw_hv = self._dmm_trusted = True

    def _verify_discharge(self, wait: Callable[[float], object]) -> float:
        """Wait for tester safe and fixture < safe_voltage_v; return the DMM reading in V."""
        ctx, p = self.ctx, self.params
        end = ctx.now() + p.discharge_timeout_s
        while True:
            # The DMM (three exchanges) is read only once the tester (one) says it has
            # discharged: a lighter poll follows the discharge more closely.
            tester_safe = self.tester.is_safe()
            timed_out = ctx.now() >= end
            volts = float("nan")
            if tester_safe or timed_out:
                volts = self._fixture_v()
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
        if not verified and self._completed and not self._dmm_trusted:
            # HV was on for the whole test and the DMM never saw it: it cannot vouch for
            # the discharge, so the lamp stays on.
            problems.append(
                f"the DMM never saw the test voltage on the fixture (at most "
                f"{self.dmm_live_v:.2f} V, needs ≥ {self.threshold_v:g} V): either the tester "
                "never reached the pack or the DMM's own path is open, so the DMM cannot "
                "confirm the discharge; HV lamp left on — keep the door closed, check the "
                "DMM leads and the fixture wiring"
            )
        elif not verified:
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


COMMON_MEASUREMENTS = (
    MeasurementSpec(
        "dmm_proof_v",
        "V",
        requires_limit=False,
        doc="the DMM's reading of the fixture's reference with the proof relay on, before any "
        'HV (dmm_proof = "relay"; outside dmm_proof_tolerance_v: ERROR, no HV)',
    ),
    MeasurementSpec(
        "contact_ok",
        "",
        kind="bool",
        requires_limit=False,
        doc="the tester proved contact (false: ERROR, check the test leads)",
    ),
    MeasurementSpec(
        "dmm_live_v",
        "V",
        requires_limit=False,
        doc="fixture voltage by the DMM that proved its path while HV was on (highest seen "
        "if it never did)",
    ),
    MeasurementSpec(
        "residual_voltage_v",
        "V",
        requires_limit=False,
        doc="fixture voltage by the DMM once discharged",
    ),
)


def record_common(
    ctx: StepContext, run: HvRun, contact: bool, no_contact: str, *, energised: bool
) -> None:
    """Record the proofs and the residual voltage; raise if contact or safety is unproven.

    ``no_contact`` is the operator's message when ``contact`` is False; ``energised``: the
    tester held its test voltage on the pack, so the DMM must have seen it.
    """
    ctx.measure("contact_ok", contact)
    ctx.measure("dmm_live_v", run.dmm_live_v)
    ctx.measure("residual_voltage_v", run.residual_v)
    errors = ([] if contact else [no_contact]) + list(run.problems)
    if energised and run.dmm_blind:
        errors.append(
            f"the DMM never saw the test voltage on the fixture (at most {run.dmm_live_v:.2f} "
            "V) although the tester reached the pack and the DMM proved good on the proof "
            "relay before and after: its probe points are not on the HV fixture — check the "
            "fixture wiring"
        )
    if errors:
        raise StationError("; ".join(errors))


def settle_watch(
    ctx: StepContext, tester: LiveHvReadout, params: InsulationResistanceParams
) -> Callable[[], float | None]:
    """Return a poll that gives the live IR reading once it rises slower than the threshold."""
    started = ctx.now()
    history: list[tuple[float, float]] = []

    def poll() -> float | None:
        now = ctx.now()
        if history and now - history[-1][0] < params.settle_window_s / SETTLE_SAMPLES:
            return None
        _, ohms = tester.live_reading()
        history.append((now, float(ohms)))
        if now - started < params.ramp_s + params.settle_window_s:
            return None
        older = [h for h in history if h[0] <= now - params.settle_window_s]
        if not older or not math.isfinite(ohms) or ohms <= 0:
            return None
        then, before = older[-1]
        rate_pct_per_s = 100.0 * (ohms - before) / ohms / (now - then)
        return float(ohms) if rate_pct_per_s < params.settle_rate_pct_per_s else None

    return poll


@dataclass(frozen=True)
class InsulationResistanceParams(HvParams):
    instrument_floor_ohm: Annotated[float, Positive] = 1e6
    contact_limit_ohm: float = 10e9
    judge_delay_s: Annotated[float, NonNegative] = 0.0
    settle_rate_pct_per_s: Annotated[float, AtLeast(0, note="0 = off")] = 0.0
    settle_window_s: Annotated[float, Positive] = 2.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.contact_limit_ohm > self.instrument_floor_ohm:
            raise ValueError("params.contact_limit_ohm must be above params.instrument_floor_ohm")


@register
class InsulationResistance(StepType[InsulationResistanceParams]):
    """Insulation resistance of HV+, HV− or both poles to chassis, contact proven, discharge
    verified."""

    name = "insulation_resistance"
    roles = ("insulation_tester", "interlocks", "dmm")
    optional_roles = ("bms",)  # contactor and bus read-back when present
    energises = True
    rated = (("voltage_v", "insulation_tester", "max_voltage_v"),)
    measurements = (
        MeasurementSpec("riso_ohm", "Ohm", doc="the tester's reading (judged only with contact)"),
        MeasurementSpec("test_voltage_v", "V", doc="output voltage the tester reports (magnitude)"),
        *COMMON_MEASUREMENTS,
    )

    def run(self, ctx: StepContext, params: InsulationResistanceParams) -> None:
        def start(tester: InsulationTester) -> None:
            tester.start_insulation(
                params.voltage_v,
                ramp_s=params.ramp_s,
                dwell_s=params.dwell_s,
                low_limit_ohm=params.instrument_floor_ohm,
                high_limit_ohm=params.contact_limit_ohm,
                judge_delay_s=params.judge_delay_s,
            )

        test = HvTest(ctx, params)
        settle = None
        if params.settle_rate_pct_per_s > 0:
            if not isinstance(test.tester, LiveHvReadout):
                raise StationError(
                    "params.settle_rate_pct_per_s needs a tester that reports a live reading "
                    "(Chroma 1905x); this one does not: use a fixed dwell_s instead"
                )
            settle = settle_watch(ctx, test.tester, params)
        run = test.run(start, settle=settle)
        reading = run.reading
        contact = (run.result is None or run.result.verdict != "HIGH") and (
            math.isfinite(reading) and reading < params.contact_limit_ohm
        )
        record_common(
            ctx,
            run,
            contact,
            f"no contact proven: the IR reading ({reading:g} Ω) is over range or above the "
            f"contact limit {params.contact_limit_ohm:g} Ω, which is what an open lead "
            f"reads; the pack is not judged — {CHECK_LEADS}",
            energised=contact,
        )
        ctx.measure("riso_ohm", reading)
        # Magnitude: the Kikusui's IR output (and its report) is negative to chassis.
        ctx.measure("test_voltage_v", abs(run.voltage_v))


@dataclass(frozen=True)
class WithstandParams(HvParams):
    leakage_limit_a: Annotated[float, Positive]
    contact_leakage_a: Annotated[float, Positive] = 1e-6
    ac: bool = False
    frequency_hz: Annotated[float, Positive] = 50.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.contact_leakage_a < self.leakage_limit_a:
            raise ValueError(
                "params.contact_leakage_a must be > 0 and below params.leakage_limit_a"
            )


@register
class Withstand(StepType[WithstandParams]):
    """Dielectric withstand (hipot), DC or AC: leakage and breakdown, contact proven,
    discharge verified."""

    name = "withstand"
    roles = ("insulation_tester", "interlocks", "dmm")
    optional_roles = ("bms",)  # contactor and bus read-back when present
    energises = True
    rated = (
        ("voltage_v", "insulation_tester", "max_voltage_v"),
        ("leakage_limit_a", "insulation_tester", "max_current_a"),
    )
    measurements = (
        MeasurementSpec("leakage_a", "A", doc="leakage current (rms for AC) the tester reads"),
        MeasurementSpec("breakdown", "", kind="bool", doc="the tester reported ARC/breakdown"),
        MeasurementSpec("test_voltage_v", "V", doc="output voltage the tester reports"),
        *COMMON_MEASUREMENTS,
    )

    def check(self, params: WithstandParams, context: CheckContext) -> list[tuple[str, str]]:
        # The tester stops at its trip current and reports a breakdown: below the judged
        # leakage limit it fails packs whose leakage the limit passes.
        limit = context.limits.get("leakage_a")
        high = bounds(limit)[1] if limit is not None else None
        if isinstance(high, float) and params.leakage_limit_a < high:
            return [
                (
                    "params.leakage_limit_a",
                    f"the tester trips at {params.leakage_limit_a:g} A, below the {high:g} A "
                    "that limits.leakage_a passes, so it would fail packs the limit passes: "
                    "raise the trip current to at least the limit",
                )
            ]
        return []

    def run(self, ctx: StepContext, params: WithstandParams) -> None:
        def start(tester: InsulationTester) -> None:
            tester.start_withstand(
                params.voltage_v,
                ac=params.ac,
                ramp_s=params.ramp_s,
                dwell_s=params.dwell_s,
                leakage_limit_a=params.leakage_limit_a,
                low_limit_a=params.contact_leakage_a,
                frequency_hz=params.frequency_hz,
            )

        run = HvTest(ctx, params).run(start)
        assert run.result is not None  # a withstand is always judged by the tester
        verdict = run.result.verdict
        tripped = verdict in BREAKDOWN_VERDICTS or verdict == "HIGH"
        contact = tripped or (verdict != "LOW" and run.reading >= params.contact_leakage_a)
        record_common(
            ctx,
            run,
            contact,
            f"no contact proven: the {run.result.kind} leakage ({run.reading:g} A) is below "
            f"the contact limit {params.contact_leakage_a:g} A — a pack's capacitance and "
            f"insulation always draw some current, an open lead none; the pack is not "
            f"judged — {CHECK_LEADS}",
            energised=contact and not tripped,
        )
        ctx.measure("leakage_a", run.reading)
        ctx.measure("breakdown", verdict in BREAKDOWN_VERDICTS)
        ctx.measure("test_voltage_v", run.voltage_v)
