"""The HV tester twins (Chroma 1905x, Kikusui TOS9300) through the real drivers, on manual time."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from drivers.errors import InstrumentReportedError
from drivers.modbus.rtu_io import ModbusRtuInterlocks
from drivers.registry import open_instrument
from drivers.sim.bench import VirtualBench
from drivers.sim.clock import ManualTime
from drivers.sim.instruments.chroma1905x import Chroma1905xTwin
from drivers.sim.instruments.hv_catalogue import HV_TWINS
from drivers.sim.instruments.hv_twins import DISCHARGE_OHM, DISCHARGED_V, SafetyCircuit
from drivers.sim.instruments.modbus_io import K1_COIL, K2_COIL, ModbusIoTwin
from drivers.sim.instruments.tos9300 import Tos9300Twin
from drivers.sim.insulation import InsulationNetwork
from drivers.sim.twin import ServedTwinSpec, TwinSpec

TESTERS = [spec for spec in HV_TWINS if isinstance(spec, TwinSpec)]
R_POLE = 5e9  # nmc96s: 5 GΩ per pole, so 2.5 GΩ with both poles tied


class Rig:
    """A pack with one HV tester twin, the Modbus I/O twin and the safety chain, on manual
    time, with the real drivers opened on them."""

    def __init__(self, spec: TwinSpec, stack: ExitStack) -> None:
        self.time = ManualTime()
        self.bench = stack.enter_context(
            VirtualBench("nmc96s", now=self.time, twins=[spec], contactors_closed=False)
        )
        self.io = stack.enter_context(ModbusIoTwin())
        twin = self.bench.instruments["insulation_tester"]
        assert isinstance(twin, Chroma1905xTwin | Tos9300Twin)
        self.twin = twin
        self.safety = SafetyCircuit.link([twin, self.io])
        self.model, resource = self.bench.resources["insulation_tester"]
        options = self.bench.driver_options["insulation_tester"]
        self.hv: Any = open_instrument(self.model, resource, timeout_s=2.0, options=options)
        stack.callback(self.hv.close)
        self.hv.connect()
        self._stack = stack
        self._il: ModbusRtuInterlocks | None = None

    @property
    def il(self) -> ModbusRtuInterlocks:
        """The interlocks driver, opened on first use (pyserial's socket close takes 0.3 s)."""
        if self._il is None:
            options = self.io.driver_options()
            self._il = open_instrument("modbus.rtu_io", self.io.resource, options=options)
            self._stack.callback(self._il.close)
            self._il.connect()
        return self._il

    @property
    def chroma(self) -> bool:
        return self.model == "chroma.1905x"

    @property
    def net(self) -> InsulationNetwork:
        return self.bench.pack.insulation

    def ir(
        self,
        dwell_s: float,
        judge_delay_s: float,
        low_limit_ohm: float = 100e6,
        high_limit_ohm: float = 50e9,
    ) -> None:
        """Start a 500 V IR test with a 1 s ramp (the Chroma has no judge delay: 0 there)."""
        delay = 0.0 if self.chroma else judge_delay_s
        self.hv.start_insulation(
            500.0,
            ramp_s=1.0,
            dwell_s=dwell_s,
            low_limit_ohm=low_limit_ohm,
            high_limit_ohm=high_limit_ohm,
            judge_delay_s=delay,
        )

    def finish(self) -> None:
        """Move time to the end of the running test's discharge; it must read safe then."""
        assert self.hv.test_running()
        self.time.set(self.twin.output.done_s + 1e-6)
        assert not self.hv.test_running()
        assert self.hv.is_safe()


@pytest.fixture(params=TESTERS, ids=[spec.model for spec in TESTERS])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    with ExitStack() as stack:
        yield Rig(request.param, stack)


def _rig_of(model: str) -> Iterator[Rig]:
    with ExitStack() as stack:
        yield Rig(next(spec for spec in TESTERS if spec.model == model), stack)


@pytest.fixture
def kikusui() -> Iterator[Rig]:
    yield from _rig_of("kikusui.tos9300")


@pytest.fixture
def chroma() -> Iterator[Rig]:
    yield from _rig_of("chroma.1905x")


def test_specs_name_roles_models_and_the_served_io_twin() -> None:
    assert [(spec.role, spec.model) for spec in HV_TWINS] == [
        ("insulation_tester", "chroma.1905x"),
        ("insulation_tester", "kikusui.tos9300"),
        ("interlocks", "modbus.rtu_io"),
    ]
    assert isinstance(HV_TWINS[2], ServedTwinSpec)


# --- insulation resistance ----------------------------------------------------------------


def test_ir_on_a_healthy_pack_settles_to_r_iso(rig: Rig) -> None:
    rig.ir(dwell_s=300.0, judge_delay_s=10.0)
    assert rig.hv.test_running() and not rig.hv.is_safe()
    rig.time.advance(150.0)
    assert rig.hv.test_running()
    rig.finish()
    result = rig.hv.result()
    assert (result.kind, result.verdict) == ("IR", "PASS")
    assert result.reading == pytest.approx(R_POLE / 2, rel=0.01)
    assert abs(result.voltage_v) == pytest.approx(500.0, rel=1e-3)


def test_ir_judged_early_reads_low(rig: Rig) -> None:
    rig.ir(dwell_s=2.0, judge_delay_s=1.0)
    rig.finish()
    result = rig.hv.result()
    expected = rig.net.ir_test("both", 500.0, elapsed_s=3.0, ramp_s=1.0)
    assert result.verdict == "PASS"
    assert result.reading == pytest.approx(expected, rel=1e-5)
    assert result.reading < 0.2 * R_POLE / 2  # the Y-capacitors and absorption still charge


def test_kikusui_judge_delay_decides_pass_or_fail(kikusui: Rig) -> None:
    rig = kikusui
    limit = 100e6
    assert rig.net.ir_test("both", 500.0, elapsed_s=1.1, ramp_s=1.0) < limit
    rig.ir(dwell_s=5.0, judge_delay_s=0.1, low_limit_ohm=limit)
    rig.finish()
    early = rig.hv.result()
    assert (early.verdict, early.raw, early.reading) == ("LOW", "L-FAIL", limit)
    rig.ir(dwell_s=5.0, judge_delay_s=4.0, low_limit_ohm=limit)
    rig.finish()
    assert rig.hv.result().verdict == "PASS"


def test_low_insulation_on_hv_plus_fails_only_on_the_plus_pole(rig: Rig) -> None:
    rig.net.set_pole_resistance("plus", 2e6)
    rig.il.write_coil(K1_COIL, True)  # fixture relay: HV+ alone to the tester
    assert rig.twin.output.pole == "plus"
    rig.ir(dwell_s=5.0, judge_delay_s=2.0)
    rig.finish()
    plus = rig.hv.result()
    assert plus.verdict == "LOW"
    assert plus.reading == pytest.approx(2e6 if rig.chroma else 100e6, rel=0.02)
    rig.il.write_coil(K1_COIL, False)
    rig.il.write_coil(K2_COIL, True)
    assert rig.safety is not None and rig.safety.pole == "minus"
    rig.ir(dwell_s=5.0, judge_delay_s=2.0)
    rig.finish()
    assert rig.hv.result().verdict == "PASS"


# --- withstand ----------------------------------------------------------------------------


def test_dc_withstand_leakage_is_u_over_r_plus_the_absorption_still_flowing(rig: Rig) -> None:
    rig.hv.start_withstand(
        1000.0, ac=False, ramp_s=1.0, dwell_s=2.0, leakage_limit_a=3e-3, low_limit_a=1e-7
    )
    rig.finish()
    result = rig.hv.result()
    assert (result.kind, result.verdict) == ("DCW", "PASS")
    expected = rig.net.tester_current("both", 1000.0, 3.0, ramp_s=1.0)
    assert result.reading == pytest.approx(expected, rel=1e-5)
    assert result.reading > 10 * 1000.0 / (R_POLE / 2)  # a capacitive pack always draws current


def test_ac_withstand_leakage_includes_the_capacitive_current(rig: Rig) -> None:
    # ωC·U = 75 mA on 200 nF at 1 kV, 60 Hz: why AC hipot on a pack needs a high limit.
    rig.hv.start_withstand(
        1000.0,
        ac=True,
        ramp_s=1.0,
        dwell_s=2.0,
        leakage_limit_a=0.1,
        low_limit_a=1e-3,
        frequency_hz=60.0,
    )
    rig.finish()
    result = rig.hv.result()
    assert (result.kind, result.verdict) == ("ACW", "PASS")
    capacitive = 2 * math.pi * 60.0 * (rig.net.c_plus + rig.net.c_minus) * 1000.0
    expected = rig.net.leakage_current(1000.0, ac=True, freq_hz=60.0)
    assert result.reading == pytest.approx(expected, rel=1e-5)
    assert expected > capacitive > 100 * 1000.0 / (R_POLE / 2)
    assert rig.twin.terminal_voltage() == 0.0  # a transformer output holds no charge


def test_leakage_above_the_limit_is_a_high_fail(rig: Rig) -> None:
    rig.net.set_pole_resistance("minus", 100e3)  # 10 mA at 1 kV
    rig.hv.start_withstand(
        1000.0, ac=False, ramp_s=2.0, dwell_s=5.0, leakage_limit_a=3e-3, low_limit_a=1e-7
    )
    rig.time.advance(1.0)  # trips during the ramp, at ~0.6 s
    assert not rig.hv.test_running()
    result = rig.hv.result()
    assert (result.verdict, result.raw) == ("HIGH", "33" if rig.chroma else "U-FAIL")
    assert result.reading == pytest.approx(3e-3, rel=0.05)
    assert result.voltage_v < 400.0


def test_breakdown_is_an_arc_or_upper_fail(rig: Rig) -> None:
    rig.net.breakdown_v = 800.0
    rig.hv.start_withstand(
        1000.0, ac=False, ramp_s=2.0, dwell_s=5.0, leakage_limit_a=3e-3, low_limit_a=1e-7
    )
    rig.time.advance(1.5)  # breaks down at 800 V, 1.6 s into the ramp
    assert rig.hv.test_running()
    rig.finish()
    assert rig.hv.result().voltage_v == pytest.approx(800.0)
    result = rig.hv.result()
    if rig.chroma:
        assert (result.verdict, result.raw) == ("ARC", "35")
        assert math.isnan(result.reading)  # the meter saturated: no measurement
    else:
        assert (result.verdict, result.raw, result.reading) == ("HIGH", "U-FAIL", 3e-3)


# --- safety -------------------------------------------------------------------------------


def test_door_opened_mid_test_stops_it_and_blocks_the_next(rig: Rig) -> None:
    rig.ir(dwell_s=60.0, judge_delay_s=5.0)
    rig.time.advance(5.0)
    assert rig.twin.terminal_voltage() > 400.0
    rig.io.open_door()
    assert not rig.il.read().door_closed
    rig.finish()
    result = rig.hv.result()
    assert result.verdict == ("ABORTED" if rig.chroma else "OTHER")
    assert result.raw == ("112" if rig.chroma else "PROT")
    assert rig.twin.terminal_voltage() < DISCHARGED_V
    if rig.chroma:  # starts without an error, then reports CAN NOT TEST
        rig.ir(dwell_s=5.0, judge_delay_s=0.0)
        assert not rig.hv.test_running()
        assert (rig.hv.result().verdict, rig.hv.result().raw) == ("OTHER", "114")
    else:
        with pytest.raises(InstrumentReportedError) as refused:
            rig.ir(dwell_s=5.0, judge_delay_s=2.0)
        assert refused.value.code == -200
        assert rig.hv.is_safe()  # protection: IDLE, no HV
    assert rig.twin.output.runs == 1
    rig.io.close_door()
    rig.ir(dwell_s=5.0, judge_delay_s=2.0)
    assert rig.hv.test_running()


def test_estop_stops_a_running_withstand(rig: Rig) -> None:
    rig.hv.start_withstand(
        1000.0, ac=False, ramp_s=1.0, dwell_s=10.0, leakage_limit_a=3e-3, low_limit_a=1e-7
    )
    rig.time.advance(3.0)
    rig.io.press_estop()
    state = rig.il.read()
    assert not state.estop_released and not state.safe_for_hv
    rig.finish()
    assert rig.hv.result().verdict != "PASS"


def test_stop_mid_test_aborts_and_discharges(rig: Rig) -> None:
    rig.hv.start_withstand(
        1000.0, ac=False, ramp_s=1.0, dwell_s=10.0, leakage_limit_a=3e-3, low_limit_a=1e-7
    )
    rig.time.advance(2.0)
    rig.hv.stop()
    rig.finish()
    result = rig.hv.result()
    assert (result.verdict, result.raw) == ("ABORTED", "113" if rig.chroma else "ABORT")
    assert math.isnan(result.reading)


def test_output_discharges_below_60_v_and_reads_safe_only_then(rig: Rig) -> None:
    rig.hv.start_withstand(
        1000.0, ac=False, ramp_s=1.0, dwell_s=2.0, leakage_limit_a=3e-3, low_limit_a=1e-7
    )
    states = []

    def state() -> Any:
        return rig.hv.state if rig.chroma else rig.hv.test_condition

    for at in (0.5, 1.5, 2.999):
        rig.time.set(at)
        states.append(state())
    assert rig.twin.terminal_voltage() == pytest.approx(1000.0)
    assert rig.safety is not None and rig.safety.fixture_voltage() == pytest.approx(1000.0)
    to_60_v = rig.net.time_to_safe_voltage_s(1000.0, DISCHARGE_OHM, 60.0)
    rig.time.set(3.0 + to_60_v + 1e-4)
    assert 30.0 < rig.twin.terminal_voltage() < 60.0
    assert not rig.hv.is_safe()  # still discharging
    states.append(state())
    rig.time.set(rig.twin.output.done_s + 1e-6)
    assert rig.hv.is_safe()
    states.append(state())
    assert rig.hv.result().verdict == "PASS"
    if rig.chroma:
        assert states == ["RUNNING"] * 4 + ["STOPPED"]
    else:  # RISE, TEST, TEST, DISCHARGE, PASS held, then READY
        assert states == [16, 32, 32, 128, 1]
        rig.time.advance(1.0)
        assert rig.hv.test_condition == 256


def test_chroma_program_deletes_extra_steps(chroma: Rig) -> None:
    rig = chroma
    rig.hv.send("SAFE:STEP1:AC:LEV 1000")
    rig.hv.send("SAFE:STEP2:DC:LEV 2000")
    assert rig.hv.step_count == 2
    with pytest.raises(InstrumentReportedError) as caught:
        rig.hv.send("SAFE:STAR")  # the twin runs single-step memories only
    assert caught.value.code == -221
    rig.ir(dwell_s=1.0, judge_delay_s=0.0)
    assert rig.hv.step_count == 1
    rig.finish()
    assert rig.hv.result().kind == "IR"


def test_chroma_live_reading_follows_the_settling_insulation(chroma: Rig) -> None:
    rig = chroma
    rig.ir(dwell_s=100.0, judge_delay_s=0.0)
    readings = []
    for at in (2.0, 10.0, 50.0):
        rig.time.set(at)
        readings.append(rig.hv.ask("SAFE:FETC? MMET", float))
        expected = rig.net.ir_test("both", 500.0, elapsed_s=at, ramp_s=1.0)
        assert readings[-1] == pytest.approx(expected, rel=1e-5)
    assert readings == sorted(readings)
    assert rig.hv.ask("SAFE:RES:ALL?", int) == 115  # TESTING


def test_chroma_fetch_of_both_meters_reads_them_as_each_alone(chroma: Rig) -> None:
    rig = chroma
    rig.ir(dwell_s=100.0, judge_delay_s=0.0)
    for at in (0.5, 2.0, 50.0):  # ramping, then settling
        rig.time.set(at)
        both = rig.hv.transport.query("SAFE:FETC? STEP,OMET,MODE,MMET")
        alone = [rig.hv.transport.query(f"SAFE:FETC? {item}") for item in ("OMET", "MMET")]
        assert both.split(",") == ["1", alone[0], "IR", alone[1]]
        assert float(alone[1]) == pytest.approx(
            rig.net.ir_test("both", 500.0, elapsed_s=at, ramp_s=1.0), rel=1e-5
        )


def test_kikusui_upper_ir_limit_fails_when_the_reading_crosses_it(kikusui: Rig) -> None:
    rig = kikusui
    rig.ir(dwell_s=300.0, judge_delay_s=5.0, low_limit_ohm=1e6, high_limit_ohm=1e9)
    rig.finish()
    result = rig.hv.result()
    assert (result.verdict, result.raw, result.reading) == ("HIGH", "U-FAIL", 1e9)
    assert rig.twin.output.done_s < 100.0  # ended when 1 GΩ was crossed, not at 301 s


# --- contact proof (issue #9) ------------------------------------------------------------


def test_an_open_return_lead_reads_over_range_and_fails_the_upper_ir_judgement(rig: Rig) -> None:
    rig.twin.output.return_open = True
    rig.ir(dwell_s=5.0, judge_delay_s=1.0, high_limit_ohm=10e9)
    assert rig.twin.terminal_voltage() == 0.0  # the output floats: a DMM sees nothing
    rig.finish()
    result = rig.hv.result()
    assert result.verdict == "HIGH"  # never a PASS on an infinite reading
    assert result.reading >= 10e9


def test_an_open_return_lead_draws_no_current_and_fails_the_withstand_low_limit(rig: Rig) -> None:
    rig.twin.output.return_open = True
    rig.hv.start_withstand(
        1000.0, ac=False, ramp_s=1.0, dwell_s=2.0, leakage_limit_a=3e-3, low_limit_a=1e-6
    )
    rig.finish()
    assert rig.hv.result().verdict == "LOW"
