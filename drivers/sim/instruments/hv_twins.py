"""The HV test cell of the virtual bench: the testers' output, the safety chain, the specs.

**The output** (:class:`HvOutput`) is what both hipot twins share: one test on the pack's
insulation in the circuit's clock time. It ramps over ``ramp_s``, holds for ``dwell_s``,
after a PASS falls over ``fall_s``; then the discharge resistor (:data:`DISCHARGE_OHM`)
empties the Y-capacitors below :data:`DISCHARGED_V`, and only then has the test ended.

* IR reads :meth:`InsulationNetwork.ir_test` at the elapsed time, ramp included, so an early
  judgement reads low. ``judge_delay_s=None`` (Chroma): limits judged once at the end of the
  dwell; with a delay (Kikusui): continuously from ``ramp_s + judge_delay_s`` — the reading
  only rises, so a low fail can only come when judging starts.
* DCW/ACW: the upper limit applies from the start against the steady-state
  :meth:`InsulationNetwork.leakage_current` at the present output voltage (rms for AC, ωC·U
  included), tripping one meter sample (:data:`METER_SAMPLE_S`) after it crosses the limit.
  The DC reading at the end of the test is the whole current the source delivers then
  (:meth:`InsulationNetwork.tester_current`: leakage plus the dielectric-absorption current
  still flowing), so a capacitive pack always draws measurable current; the lower limit
  (the contact proof) is judged on it at the end.
* Return lead open (:attr:`HvOutput.return_open`, the ``ir_lead_open`` fault): the tester's
  return is not on chassis, so no current flows whatever the insulation (IR reads over
  range, withstand 0 A) and the HV terminal is at ~0 V to chassis for a DMM.
* Breakdown (``insulation.breakdown_v``, peak volts) trips the output when the ramp reaches
  it: ARC for withstand (meter saturated, ``inf``), LOW with 0 Ω for IR.
* Insulation and pole are read at the start; faults injected mid-test apply to the next.
* Stop or interlock opening mid-test cuts the output at once (``STOPPED``/``INTERLOCK``,
  reading ``nan``); it discharges from the voltage it had.
* :meth:`HvOutput.terminal_voltage` (magnitude, for a DMM or fixture monitor): IR set voltage
  minus the source-resistance drop; withstand output (rms for AC); then
  ``V·exp(−t/((R_dis ∥ R_iso)·C_Y))``. An AC output (a transformer winding) keeps no charge.

**The safety chain** (:class:`SafetyCircuit`), between the Modbus I/O twin and the testers:
door closed AND e-stop released close every tester's interlock input (the clamp is read by
software only). Fixture relays K1/K2 (coils 1, 2) are changeover relays whose rest position
ties HV+ and HV− to the tester's HI ("both"); K1 alone selects HV+, K2 alone HV−.

The specs that put these twins on a bench are in :mod:`drivers.sim.instruments.hv_catalogue`
(apart, so the tester twins can import :class:`HvOutput` without an import loop).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from drivers.sim.electrical import PackCircuit
from drivers.sim.instruments.modbus_io import ModbusIoTwin
from drivers.sim.insulation import InsulationNetwork, Pole

Kind = Literal["IR", "DCW", "ACW"]
Ending = Literal["PASS", "HIGH", "LOW", "ARC", "STOPPED", "INTERLOCK"]
Phase = Literal["IDLE", "RISE", "TEST", "FALL", "DISCHARGE", "DONE"]

DISCHARGE_OHM = 100e3
"""The testers' internal discharge resistor [E]: τ = 20 ms on 200 nF of Y-capacitance."""
DISCHARGED_V = 30.0
"""Below this the tester ends its discharge (the spec's 60 V with margin, §5.1)."""
METER_SAMPLE_S = 0.01


@dataclass(frozen=True)
class HvProgram:
    """One test: its kind, voltage in V (rms for AC), times in s and limits (0 = off).

    Limits are Ω for IR, A for DCW/ACW. ``judge_delay_s`` None = judge at the end only.
    """

    kind: Kind
    voltage_v: float
    ramp_s: float
    dwell_s: float
    fall_s: float = 0.0
    low_limit: float = 0.0
    high_limit: float = 0.0
    judge_delay_s: float | None = None
    frequency_hz: float = 50.0

    def level(self, t: float) -> float:
        """Get the set output voltage ``t`` s after the start (linear ramp)."""
        if self.ramp_s <= 0.0:
            return self.voltage_v
        return self.voltage_v * min(1.0, t / self.ramp_s)


@dataclass(frozen=True)
class HvOutcome:
    """How a test ended, ``end_s`` after its start, with the output voltage and reading then.

    ``reading``: Ω or A; ``inf`` = meter saturated (breakdown), ``nan`` = none (stopped).
    ``failed_limit`` is the limit that failed (0 when none did).
    """

    ending: Ending
    end_s: float
    voltage_v: float
    reading: float
    failed_limit: float = 0.0


def _breakdown_s(net: InsulationNetwork, p: HvProgram, peak_factor: float) -> float:
    if net.breakdown_v is None or p.ramp_s <= 0.0:
        return 0.0
    return min(p.ramp_s, p.ramp_s * net.breakdown_v / (p.voltage_v * peak_factor))


def _ir_terminal_v(net: InsulationNetwork, pole: Pole, p: HvProgram, t: float) -> float:
    current = net.tester_current(pole, p.voltage_v, t, p.ramp_s)
    return max(0.0, p.level(t) - net.source_ohm * current)


def _plan_ir(p: HvProgram, net: InsulationNetwork, pole: Pole, contact: bool) -> HvOutcome:
    full = p.ramp_s + p.dwell_s

    def reading(t: float) -> float:
        return net.ir_test(pole, p.voltage_v, t, p.ramp_s) if contact else math.inf

    def ended(ending: Ending, t: float, limit: float = 0.0) -> HvOutcome:
        return HvOutcome(ending, t, _ir_terminal_v(net, pole, p, t), reading(t), limit)

    if contact and net.breakdown(p.voltage_v):
        t = _breakdown_s(net, p, 1.0)
        return HvOutcome("LOW", t, p.level(t), 0.0, p.low_limit)
    judge_from = full if p.judge_delay_s is None else min(p.ramp_s + p.judge_delay_s, full)
    if p.low_limit > 0.0 and reading(judge_from) < p.low_limit:
        return ended("LOW", judge_from, p.low_limit)
    if p.high_limit > 0.0 and reading(full) > p.high_limit:
        low, high = judge_from, full  # the reading rises: find where it first crosses
        if reading(low) <= p.high_limit:
            for _ in range(60):
                mid = 0.5 * (low + high)
                low, high = (low, mid) if reading(mid) > p.high_limit else (mid, high)
        else:
            high = low
        return ended("HIGH", high, p.high_limit)
    return ended("PASS", full)


def _plan_withstand(p: HvProgram, net: InsulationNetwork, pole: Pole, contact: bool) -> HvOutcome:
    ac = p.kind == "ACW"
    full = p.ramp_s + p.dwell_s
    if not contact:
        ending: Ending = "LOW" if p.low_limit > 0.0 else "PASS"
        return HvOutcome(ending, full, p.voltage_v, 0.0, p.low_limit if ending == "LOW" else 0.0)
    leak = net.leakage_current(p.voltage_v, ac=ac, freq_hz=p.frequency_hz, pole=pole)
    trips: list[tuple[float, Ending, float, float]] = []
    if net.breakdown(p.voltage_v, ac=ac):
        t = _breakdown_s(net, p, math.sqrt(2.0) if ac else 1.0)
        trips.append((t, "ARC", math.inf, p.high_limit))
    if p.high_limit > 0.0 and leak > p.high_limit:
        t = 0.0
        if p.ramp_s > 0.0:
            t = min(p.ramp_s * p.high_limit / leak + METER_SAMPLE_S, p.ramp_s)
        trips.append((t, "HIGH", leak * p.level(t) / p.voltage_v, p.high_limit))
    if trips:
        t, ending, value, limit = min(trips, key=lambda trip: trip[0])  # ties: ARC first
        return HvOutcome(ending, t, p.level(t), value, limit)
    # DC: the source still feeds the absorption branch at the end; AC: the steady rms.
    final = leak if ac else net.tester_current(pole, p.voltage_v, full, p.ramp_s)
    if p.low_limit > 0.0 and final < p.low_limit:
        return HvOutcome("LOW", full, p.voltage_v, final, p.low_limit)
    return HvOutcome("PASS", full, p.voltage_v, final)


class HvOutput:
    """The HI output of one HV tester on ``circuit``'s pack (see the module docstring).

    ``pole`` is the pole the fixture connects (read at each start). The interlock input
    starts closed; :meth:`set_interlock` opens it. Thread-safe. Read-only attributes:
    ``program`` (of the last test, None before the first), ``started_s`` and ``done_s`` (its
    start and the end of its discharge, circuit time in s) and ``runs`` (tests started).
    ``return_open`` (read at each start) is the tester's return lead off the chassis.
    """

    def __init__(
        self,
        circuit: PackCircuit,
        *,
        discharge_ohm: float = DISCHARGE_OHM,
        discharged_v: float = DISCHARGED_V,
        pole: Pole = "both",
    ) -> None:
        self.circuit = circuit
        self.discharge_ohm = discharge_ohm
        self.discharged_v = discharged_v
        self.pole: Pole = pole
        self.runs = 0
        self.return_open = False
        self._contact = True
        self._interlock_closed = True
        self._lock = threading.RLock()
        self.program: HvProgram | None = None
        self._pole_used: Pole = pole
        self._outcome = HvOutcome("STOPPED", 0.0, 0.0, math.nan)
        self.started_s = self.done_s = self._off = self._v_off = 0.0

    @property
    def net(self) -> InsulationNetwork:
        """Get the pack's insulation."""
        return self.circuit.pack.insulation

    def now(self) -> float:
        """Get the circuit's time in s."""
        self.circuit.sync()
        return self.circuit.time_s

    @property
    def interlock_closed(self) -> bool:
        """Get whether the interlock input is closed (tests may run)."""
        return self._interlock_closed

    def set_interlock(self, closed: bool) -> None:
        """Close or open the interlock input; opening it cuts a running test."""
        with self._lock:
            self._interlock_closed = closed
            if not closed:
                self._interrupt("INTERLOCK")

    def start(
        self,
        kind: Kind,
        voltage_v: float,
        *,
        ramp_s: float,
        dwell_s: float,
        fall_s: float = 0.0,
        low_limit: float = 0.0,
        high_limit: float = 0.0,
        judge_delay_s: float | None = None,
        frequency_hz: float = 50.0,
    ) -> None:
        """Start a test now; RuntimeError if the interlock is open or a test is running."""
        program = HvProgram(
            kind=kind,
            voltage_v=voltage_v,
            ramp_s=ramp_s,
            dwell_s=dwell_s,
            fall_s=fall_s,
            low_limit=low_limit,
            high_limit=high_limit,
            judge_delay_s=judge_delay_s,
            frequency_hz=frequency_hz,
        )
        with self._lock:
            if not self._interlock_closed:
                raise RuntimeError("interlock open")
            now = self.now()
            if self._phase(now) in ("RISE", "TEST", "FALL"):
                raise RuntimeError("a test is running")
            plan = _plan_ir if kind == "IR" else _plan_withstand
            self.program, self._pole_used, self.started_s = program, self.pole, now
            self._contact = not self.return_open
            self._outcome = plan(program, self.net, self.pole, self._contact)
            self.runs += 1
            fall = fall_s if self._outcome.ending == "PASS" else 0.0
            self._cut(
                now + self._outcome.end_s + fall, 0.0 if fall > 0 else self._outcome.voltage_v
            )

    def stop(self) -> None:
        """Cut a running test (ending ``STOPPED``); a discharge under way goes on."""
        with self._lock:
            self._interrupt("STOPPED")

    def phase(self) -> Phase:
        """Get where the last test is now: IDLE, RISE, TEST, FALL, DISCHARGE or DONE."""
        with self._lock:
            return self._phase(self.now())

    def outcome(self) -> HvOutcome | None:
        """Get how the last test ended, once it is DONE (None while running or before)."""
        with self._lock:
            return self._outcome if self._phase(self.now()) == "DONE" else None

    def live(self) -> tuple[float, float]:
        """Measure (output voltage in V, reading in Ω or A) now; after the test, its last."""
        with self._lock:
            p, now = self.program, self.now()
            if p is None:
                return 0.0, math.nan
            rel = now - self.started_s
            if rel >= self._outcome.end_s:
                return self._terminal(now), self._outcome.reading
            if not self._contact:
                return self._terminal(now), math.inf if p.kind == "IR" else 0.0
            if p.kind == "IR":
                return self._terminal(now), self.net.ir_test(
                    self._pole_used, p.voltage_v, rel, p.ramp_s
                )
            ac = p.kind == "ACW"
            return p.level(rel), self.net.leakage_current(
                p.level(rel), ac=ac, freq_hz=p.frequency_hz, pole=self._pole_used
            )

    def terminal_voltage(self) -> float:
        """Measure the voltage in V (magnitude) from the tester's HI terminal to chassis.

        With the return lead open the output floats against chassis: ~0 V.
        """
        with self._lock:
            return self._terminal(self.now()) if self._contact else 0.0

    # --- internals (lock held) ------------------------------------------------------------

    def _phase(self, t: float) -> Phase:
        p = self.program
        if p is None:
            return "IDLE"
        end = self.started_s + self._outcome.end_s
        if t < min(self.started_s + p.ramp_s, end):
            return "RISE"
        if t < end:
            return "TEST"
        if t < self._off:
            return "FALL"
        return "DISCHARGE" if t < self.done_s else "DONE"

    def _controlled(self, p: HvProgram, t: float) -> float:
        """The output voltage while the tester drives it."""
        rel = t - self.started_s
        if rel < self._outcome.end_s:
            if p.kind == "IR":
                return _ir_terminal_v(self.net, self._pole_used, p, rel)
            return p.level(rel)
        end_v = self._outcome.voltage_v  # falling linearly after a PASS
        return max(0.0, end_v * (1.0 - (rel - self._outcome.end_s) / max(p.fall_s, 1e-12)))

    def _terminal(self, t: float) -> float:
        p = self.program
        if p is None:
            return 0.0
        if t < self._off:
            return self._controlled(p, t)
        if p.kind == "ACW":
            return 0.0
        return self.net.residual_voltage(
            self._v_off, t - self._off, self.discharge_ohm, self._pole_used
        )

    def _cut(self, at: float, v_off: float) -> None:
        self._off = at
        self._v_off = 0.0 if self.program is not None and self.program.kind == "ACW" else v_off
        self.done_s = at + self.net.time_to_safe_voltage_s(
            self._v_off, self.discharge_ohm, self.discharged_v, self._pole_used
        )

    def _interrupt(self, ending: Ending) -> None:
        p = self.program
        if p is None:
            return
        now = self.now()
        if now < self.started_s + self._outcome.end_s:
            volts = self._controlled(p, now)
            self._outcome = HvOutcome(ending, now - self.started_s, volts, math.nan)
            self._cut(now, volts)
        elif now < self._off:  # falling after a PASS: the judgement stands
            self._cut(now, self._controlled(p, now))


class SafetyCircuit:
    """The cell's hardware safety chain and HV fixture (see the module docstring).

    Follows ``io`` (a :class:`ModbusIoTwin`): after every input or coil change it sets each
    attached tester output's interlock input and pole.
    """

    def __init__(self, io: ModbusIoTwin, outputs: Iterable[HvOutput] = ()) -> None:
        self.io = io
        self.outputs: list[HvOutput] = []
        io.add_listener(self.update)
        for output in outputs:
            self.attach(output)

    @classmethod
    def link(cls, devices: Iterable[object]) -> SafetyCircuit | None:
        """Wire the I/O twin among ``devices`` to every tester twin (``.output``) among them.

        Return None when there is no I/O twin (the testers' interlocks then stay closed).
        """
        found = list(devices)
        io = next((d for d in found if isinstance(d, ModbusIoTwin)), None)
        if io is None:
            return None
        outputs = [getattr(d, "output", None) for d in found]
        return cls(io, [o for o in outputs if isinstance(o, HvOutput)])

    def attach(self, output: HvOutput) -> None:
        """Wire one more tester output to the chain and the fixture."""
        self.outputs.append(output)
        self.update()

    @property
    def interlock_closed(self) -> bool:
        """Get whether the chain closes the testers' interlock (door closed, e-stop released)."""
        return self.io.door_closed and self.io.estop_released

    @property
    def pole(self) -> Pole:
        """Get the pole the fixture relays select: K1 alone HV+, K2 alone HV−, else both."""
        k1, k2 = self.io.k1, self.io.k2
        return "plus" if k1 and not k2 else "minus" if k2 and not k1 else "both"

    def update(self) -> None:
        """Push the interlock and pole to every attached tester output."""
        closed, pole = self.interlock_closed, self.pole
        for output in self.outputs:
            output.pole = pole
            output.set_interlock(closed)

    def fixture_voltage(self) -> float:
        """Measure the highest HV-to-chassis voltage in V on the fixture (0 with no tester)."""
        return max((output.terminal_voltage() for output in self.outputs), default=0.0)
