"""The IT6000C, PSB 10000 and Chroma 63200A twins, reached through their real drivers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from drivers.errors import (
    InstrumentConnectionError,
    InstrumentProtocolError,
    InstrumentReportedError,
    InstrumentTimeout,
)
from drivers.registry import open_instrument
from drivers.scpi.power import parse_voltage_and_current
from drivers.scpi.transport import Tracer
from drivers.sim.bench import TWINS, VirtualBench
from drivers.sim.clock import ManualTime
from drivers.sim.instruments.chroma63200a import Chroma63200aTwin
from drivers.sim.instruments.power_twins import POWER_TWINS
from drivers.sim.instruments.psb10000 import Psb10000Twin
from drivers.sim.scpi_server import GARBAGE
from drivers.sim.twin import TwinSpec

TIMEOUT_S = 2.0
SPECS = {spec.model: spec for spec in POWER_TWINS}
DMM = next(spec for spec in TWINS if spec.role == "dmm")
ITECH, EA, CHROMA = "itech.it6000c", "ea.psb10000", "chroma.63200a"


class Rig:
    """A virtual bench on manual time whose drivers close before it does."""

    def __init__(self, bench: VirtualBench, time: ManualTime, stack: ExitStack) -> None:
        self.bench = bench
        self.time = time
        self.pack = bench.pack
        self.circuit = bench.circuit
        self._stack = stack

    def open(
        self,
        role: str,
        *,
        connect: bool = True,
        timeout_s: float = TIMEOUT_S,
        tracer: Tracer | None = None,
        **options: Any,
    ) -> Any:
        """Open the real driver for ``role`` through the registry, then connect it."""
        model, resource = self.bench.resources[role]
        given = {**self.bench.driver_options[role], **options}
        driver = open_instrument(model, resource, timeout_s=timeout_s, tracer=tracer, options=given)
        self._stack.callback(driver.close)
        if connect:
            driver.connect()
        return driver

    def thevenin(self) -> tuple[float, float]:
        """Return the pack's zero-current voltage E and resistance R right now."""
        with self.circuit.locked() as pack:
            return pack.terminal_voltage(0.0), pack.internal_resistance_ohm


@pytest.fixture
def rig_with() -> Iterator[Callable[..., Rig]]:
    """Build a rig from twin specs (model names of :data:`POWER_TWINS` or TwinSpecs)."""
    with ExitStack() as stack:

        def build(*twins: str | TwinSpec) -> Rig:
            specs = [SPECS[twin] if isinstance(twin, str) else twin for twin in twins]
            time = ManualTime()
            bench = stack.enter_context(VirtualBench("nmc96s", now=time, twins=[*specs, DMM]))
            return Rig(bench, time, stack)

        yield build


def reported(code: int) -> Any:
    """Expect InstrumentReportedError with ``code``."""
    return pytest.raises(InstrumentReportedError, match=f"error {code},")


def assert_charge_conserved(rig: Rig, socs_before: list[float], role: str) -> float:
    """Check each block's ΔSOC × capacity equals the Ah the source put in; return it."""
    charge = rig.circuit.totals(role).charge_ah
    after, capacities = rig.pack.block_socs(), rig.pack.block_capacities_ah()
    for before, now, capacity in zip(socs_before, after, capacities, strict=True):
        assert (now - before) * capacity == pytest.approx(charge, rel=1e-9)
    return charge


# --- ITECH IT6000C -----------------------------------------------------------------------


def test_it6000c_charging_raises_soc_and_conserves_charge(rig_with: Callable[..., Rig]) -> None:
    rig = rig_with(ITECH)
    supply = rig.open("supply")
    assert supply.identity().model == "IT6018C-1500-90"
    socs = rig.pack.block_socs()
    supply.set_voltage(450.0)
    supply.set_current(20.0)
    supply.set_output(True)
    assert supply.measure_current() == pytest.approx(20.0)
    rig.time.advance(900.0)
    assert supply.measure_current() == pytest.approx(20.0)
    supply.set_output(False)
    assert assert_charge_conserved(rig, socs, "supply") == pytest.approx(5.0, rel=1e-12)
    assert rig.pack.soc > sum(socs) / len(socs)


def test_it6000c_sinks_down_to_its_negative_limit(rig_with: Callable[..., Rig]) -> None:
    rig = rig_with(ITECH)
    supply = rig.open("supply")
    socs = rig.pack.block_socs()
    supply.set_voltage(300.0)  # below the pack: voltage priority sinks
    supply.set_current(10.0)
    supply.set_sink_current(30.0)
    assert supply.sink_current_limit == 30.0
    supply.set_output(True)
    volts, amps = supply.measure_voltage(), supply.measure_current()
    assert amps == pytest.approx(-30.0)
    assert supply.measure_power() == pytest.approx(volts * amps, rel=1e-5)
    rig.time.advance(600.0)
    supply.set_output(False)
    assert assert_charge_conserved(rig, socs, "supply") == pytest.approx(-5.0, rel=1e-12)
    assert rig.pack.ah_discharged == pytest.approx(5.0, rel=1e-12)


@pytest.mark.parametrize("offset_v", [1.0, -1.0])
def test_it6000c_holds_its_setpoint_in_both_directions(
    rig_with: Callable[..., Rig], offset_v: float
) -> None:
    rig = rig_with(ITECH)
    supply = rig.open("supply")
    e, r = rig.thevenin()
    setpoint = round(e + offset_v, 3)
    supply.set_voltage(setpoint)
    supply.set_current(50.0)
    supply.set_sink_current(50.0)
    supply.set_output(True)
    assert supply.measure_voltage() == pytest.approx(setpoint, abs=1e-5)
    assert supply.measure_current() == pytest.approx((setpoint - e) / r, rel=1e-6)


def test_it6000c_ocp_switches_off_and_latches_until_cleared(rig_with: Callable[..., Rig]) -> None:
    rig = rig_with(ITECH)
    supply = rig.open("supply")
    supply.set_protection(ocp_a=10.0)
    supply.set_voltage(450.0)
    supply.set_current(20.0)
    with pytest.raises(InstrumentReportedError, match="over-current protection tripped"):
        supply.set_output(True)
    assert supply.is_safe()
    assert rig.circuit.source_current("supply") == 0.0
    assert supply.transport.query("STAT:QUES:COND?") == "2"
    with reported(-221):
        supply.set_output(True)
    supply.send("PROT:CLE")
    supply.set_current(5.0)
    supply.set_output(True)
    assert supply.measure_current() == pytest.approx(5.0)


def charging_towards_its_ovp(rig: Rig) -> tuple[Any, float]:
    """The rig's supply charging the pack at 5 A with its OVP 1.5 V above the pack's E
    (e + 5 A × ~0.1 Ω is below it at first); return the supply and E."""
    supply = rig.open("supply")
    e, _ = rig.thevenin()
    supply.set_protection(ovp_v=round(e + 1.5, 3))
    supply.set_voltage(450.0)
    supply.set_current(5.0)
    supply.set_output(True)
    return supply, e


def test_it6000c_ovp_reached_over_time_reads_back_then_reports(
    rig_with: Callable[..., Rig],
) -> None:
    rig = rig_with(ITECH)
    supply, e = charging_towards_its_ovp(rig)
    assert supply.output_enabled()
    rig.time.advance(600.0)  # the pack charges up to it (~500 s) and no further
    assert rig.circuit.terminal_voltage() == pytest.approx(e + 1.5, abs=2e-3)
    assert not supply.output_enabled()
    assert supply.measure_current() == 0.0
    with pytest.raises(InstrumentReportedError, match="over-voltage protection tripped"):
        supply.set_current(5.0)  # the next setting carries the trip
    assert supply.transport.query("STAT:QUES:COND?") == "1"


def test_a_reading_that_notices_a_trip_reads_the_circuit_after_it(
    rig_with: Callable[..., Rig],
) -> None:
    # The reading takes the operating point its protection check read, unless that check
    # tripped the output: then it reads the circuit again, with the output off.
    rig = rig_with(ITECH)
    supply, _ = charging_towards_its_ovp(rig)
    assert supply.measure_current() == pytest.approx(5.0)
    rig.time.advance(600.0)
    volts, amps = supply.measure_voltage_and_current()  # the first command since the trip
    assert amps == 0.0
    assert volts == pytest.approx(rig.circuit.terminal_voltage(), abs=1e-6)
    assert not supply.output_enabled()


def test_it6000c_refuses_setpoints_beyond_its_ratings(rig_with: Callable[..., Rig]) -> None:
    rig = rig_with(ITECH)
    supply = rig.open("supply", max_voltage_v=2000.0, max_current_a=200.0)  # looser driver
    supply.set_voltage(400.0)
    supply.set_sink_current(20.0)
    with reported(-222):
        supply.set_voltage(1600.0)
    with reported(-222):
        supply.set_current(95.0)
    with reported(-222):
        supply.set_sink_current(95.0)
    assert supply.voltage_setpoint == 400.0
    assert supply.sink_current_limit == 20.0


# --- EA PSB 10000 ------------------------------------------------------------------------


def test_psb_connect_takes_the_lock_and_reads_the_nominals(rig_with: Callable[..., Rig]) -> None:
    rig = rig_with(EA)
    twin = rig.bench.instruments["supply"]
    assert isinstance(twin, Psb10000Twin)
    model, resource = rig.bench.resources["supply"]
    supply = open_instrument(model, resource, timeout_s=TIMEOUT_S)  # no ratings given
    try:
        supply.connect()
        assert (supply.max_voltage_v, supply.max_current_a, supply.max_power_w) == (500, 60, 15000)
        assert supply.lock_owner == "REMOTE"
        assert supply.transport.query("SYST:NOM:VOLT?") == "500.00 V"
    finally:
        supply.close()
    assert not twin.locked


def test_psb_charges_with_units_in_replies_and_counts_the_battery_test(
    rig_with: Callable[..., Rig],
) -> None:
    rig = rig_with(EA)
    supply = rig.open("supply")
    socs = rig.pack.block_socs()
    supply.set_voltage(450.0)
    supply.set_current(20.0)
    supply.set_output(True)
    assert supply.transport.query("MEAS:CURR?") == "20.00 A"
    reading = supply.measure_all()
    assert reading.current_a == pytest.approx(20.0)
    assert reading.power_w == pytest.approx(reading.voltage_v * 20.0, abs=0.5)  # rounding
    rig.time.advance(900.0)
    supply.set_output(False)
    assert assert_charge_conserved(rig, socs, "supply") == pytest.approx(5.0, rel=1e-12)
    result = supply.battery_test_result
    assert (result.capacity_ah, result.elapsed_s) == (5.0, 900)
    assert result.energy_wh == pytest.approx(rig.circuit.totals("supply").energy_wh, abs=0.01)


def test_psb_sinks_with_negative_current_and_the_test_freezes_at_off(
    rig_with: Callable[..., Rig],
) -> None:
    rig = rig_with(EA)
    supply = rig.open("supply")
    socs = rig.pack.block_socs()
    supply.set_voltage(300.0)
    supply.set_sink_current(30.0)
    supply.set_output(True)
    reading = supply.measure_all()
    assert reading.current_a == pytest.approx(-30.0)
    assert reading.power_w < 0
    rig.time.advance(600.0)
    supply.set_output(False)
    assert assert_charge_conserved(rig, socs, "supply") == pytest.approx(-5.0, rel=1e-12)
    rig.time.advance(600.0)
    result = supply.battery_test_result
    assert (result.capacity_ah, result.elapsed_s) == (5.0, 600)


def test_psb_adjustment_limits_refuse_what_is_above_them(rig_with: Callable[..., Rig]) -> None:
    rig = rig_with(EA)
    supply = rig.open("supply")
    supply.set_voltage(390.0)
    supply.set_adjustment_limits(voltage_high_v=400.0, current_high_a=30.0)
    with reported(-222):
        supply.set_voltage(450.0)
    with reported(-222):
        supply.set_current(40.0)
    supply.set_current(30.0)
    with reported(-221):  # a limit below the present setpoint
        supply.set_adjustment_limits(voltage_high_v=380.0)
    assert supply.voltage_setpoint == 390.0


def test_psb_refuses_setpoints_beyond_its_ratings(rig_with: Callable[..., Rig]) -> None:
    rig = rig_with(EA)
    supply = rig.open("supply", max_voltage_v=1000.0, max_current_a=100.0)
    with reported(-222):
        supply.set_voltage(600.0)
    with reported(-222):
        supply.set_sink_current(61.0)


def test_psb_protection_alarm_switches_off_and_counts(rig_with: Callable[..., Rig]) -> None:
    rig = rig_with(EA)
    supply = rig.open("supply")
    supply.set_protection(ocp_a=10.0)
    supply.set_voltage(450.0)
    supply.set_current(20.0)
    with pytest.raises(InstrumentReportedError, match="over-current alarm"):
        supply.set_output(True)
    assert supply.is_safe()
    assert rig.circuit.source_current("supply") == 0.0
    assert supply.transport.query("SYST:ALAR:COUN:OCUR?") == "1"


def test_psb_in_local_refuses_the_lock_and_every_setting(rig_with: Callable[..., Rig]) -> None:
    local = TwinSpec("supply", EA, lambda circuit, seed: Psb10000Twin(circuit, local=True))
    rig = rig_with(local)
    supply = rig.open("supply", connect=False, lock_retry_s=0)
    with pytest.raises(InstrumentConnectionError, match="remote lock refused"):
        supply.connect()
    assert supply.lock_owner == "NONE"
    with reported(-200):
        supply.set_voltage(400.0)
    with reported(-200):
        supply.set_output(True)
    assert rig.circuit.source_current("supply") == 0.0
    twin = rig.bench.instruments["supply"]
    assert isinstance(twin, Psb10000Twin)
    twin.local = False  # the operator leaves Local
    supply.connect()
    supply.set_voltage(400.0)


# --- Chroma 63200A -----------------------------------------------------------------------


def test_load_in_cc_discharges_at_its_setpoint(rig_with: Callable[..., Rig]) -> None:
    rig = rig_with(CHROMA)
    load = rig.open("load")
    socs = rig.pack.block_socs()
    e, r = rig.thevenin()
    load.set_mode("CC", 30.0)
    load.set_input(True)
    assert load.mode == "CCH"
    assert load.measure_current() == pytest.approx(30.0)
    assert load.measure_voltage(latest=True) == pytest.approx(e - 30.0 * r, rel=1e-6)
    rig.time.advance(600.0)
    assert load.measure_current() == pytest.approx(30.0)
    load.set_input(False)
    assert assert_charge_conserved(rig, socs, "load") == pytest.approx(-5.0, rel=1e-12)


def test_dcir_pulse_gives_the_pack_resistance_in_virtual_time(
    rig_with: Callable[..., Rig],
) -> None:
    rig = rig_with(CHROMA)
    load = rig.open("load")
    load.configure_pulse(
        base_a=5.0, pulse_a=60.0, base_s=10.0, pulse_s=10.0, rise_a_per_us=0.5, fall_a_per_us=0.5
    )
    load.set_input(True)
    rig.time.advance(9.9)
    v_base, i_base = load.measure_voltage(), load.measure_current()
    rig.time.advance(0.2)  # 0.1 s into the pulse
    v_pulse, i_pulse = load.measure_voltage(), load.measure_current()
    assert (i_base, i_pulse) == (pytest.approx(5.0), pytest.approx(60.0))
    with rig.circuit.locked() as pack:
        expected = pack.internal_resistance_ohm
    assert (v_base - v_pulse) / (i_pulse - i_base) == pytest.approx(expected, rel=0.02)
    rig.time.advance(10.3)  # the one repeat is over: back to the base level
    assert load.measure_current() == pytest.approx(5.0)


def test_load_levels_beyond_the_range_or_rating_are_refused(rig_with: Callable[..., Rig]) -> None:
    rig = rig_with(CHROMA)
    load = rig.open("load", max_voltage_v=1000.0, max_current_a=1000.0)  # looser driver
    load.set_mode("CC", 20.0, range_letter="L")  # low range: 10 % of 240 A
    with reported(-222):
        load.set_mode("CC", 30.0, range_letter="L")
    with reported(-222):
        load.set_mode("CC", 300.0)
    with reported(-222):
        load.set_mode("CV", 700.0)
    assert load.mode == "CVH"


def test_load_never_shorts_the_pack(rig_with: Callable[..., Rig]) -> None:
    rig = rig_with(CHROMA)
    load = rig.open("load")
    load.transport.write("LOAD:SHOR ON")  # past the driver, which refuses to send it
    with reported(-221):
        load.raise_on_error()
    assert rig.circuit.source_current("load") == 0.0


def test_load_over_its_voltage_rating_switches_off(rig_with: Callable[..., Rig]) -> None:
    low_voltage = TwinSpec("load", CHROMA, lambda circuit, seed: Chroma63200aTwin(circuit))
    rig = rig_with(low_voltage)  # a 150 V load on a ~355 V pack
    load = rig.open("load")
    load.set_mode("CC", 10.0)
    with pytest.raises(InstrumentReportedError, match="over-voltage"):
        load.set_input(True)
    assert load.is_safe()
    assert rig.circuit.source_current("load") == 0.0


# --- every model -------------------------------------------------------------------------


def _start(driver: Any, model: str) -> None:
    if model == CHROMA:
        driver.set_mode("CC", 10.0)
        driver.set_input(True)
    else:
        driver.set_voltage(300.0)
        driver.set_sink_current(10.0)
        driver.set_output(True)


@pytest.mark.parametrize("model", [ITECH, EA, CHROMA])
def test_safe_state_leaves_no_current(rig_with: Callable[..., Rig], model: str) -> None:
    rig = rig_with(model)
    role = SPECS[model].role
    driver = rig.open(role)
    _start(driver, model)
    assert rig.circuit.source_current(role) == pytest.approx(-10.0)
    driver.safe_state()
    assert driver.is_safe()
    rig.time.advance(60.0)
    assert rig.circuit.operating_point().cell_current_a == 0.0


@pytest.mark.parametrize("model", [ITECH, EA, CHROMA])
def test_unknown_command_is_undefined_header(rig_with: Callable[..., Rig], model: str) -> None:
    rig = rig_with(model)
    driver = rig.open(SPECS[model].role)
    with reported(-113) as caught:
        driver.send("VOLT:FOO 1")
    assert caught.value.code == -113
    assert "Undefined header" in str(caught.value)


# --- voltage and current in one exchange --------------------------------------------------


@pytest.mark.parametrize(
    ("model", "message"),
    [(ITECH, "MEAS:VOLT?;:FETC:CURR?"), (EA, "MEAS:ARR?"), (CHROMA, "MEAS:VOLT?;:FETC:CURR?")],
)
def test_voltage_and_current_are_one_exchange_equal_to_the_single_readings(
    rig_with: Callable[..., Rig], model: str, message: str
) -> None:
    rig = rig_with(model)
    sent: list[str] = []
    driver = rig.open(
        SPECS[model].role, tracer=lambda _, way, text: sent.append(text) if way == ">" else None
    )
    _start(driver, model)
    rig.time.advance(5.0)
    sent.clear()
    voltage, current = driver.measure_voltage_and_current()
    assert sent == [message]
    assert (voltage, current) == (driver.measure_voltage(), driver.measure_current())
    assert 300.0 < voltage < 410.0
    assert abs(current) == pytest.approx(10.0)


@pytest.mark.parametrize("model", [ITECH, CHROMA])
def test_a_query_after_a_semicolon_takes_the_implied_path(
    rig_with: Callable[..., Rig], model: str
) -> None:
    rig = rig_with(model)
    driver = rig.open(SPECS[model].role)
    _start(driver, model)
    implied = driver.transport.query("MEAS:VOLT?;CURR?")
    assert implied == driver.transport.query("MEAS:VOLT?;:MEAS:CURR?")
    volts, amps = parse_voltage_and_current(implied)
    assert (volts, amps) == driver.measure_voltage_and_current()


def test_a_failing_second_query_gives_an_error_never_a_number(
    rig_with: Callable[..., Rig],
) -> None:
    rig = rig_with(ITECH)
    supply = rig.open("supply")
    with pytest.raises(InstrumentProtocolError, match="expected two readings"):
        supply.ask("MEAS:VOLT?;:MEAS:BOGUS?", parse_voltage_and_current)
    with reported(-113):
        supply.raise_on_error()


@pytest.mark.parametrize("model", [ITECH, EA, CHROMA])
def test_compound_reading_faults_give_the_right_errors(
    rig_with: Callable[..., Rig], model: str
) -> None:
    rig = rig_with(model)
    role = SPECS[model].role
    driver = rig.open(role, timeout_s=0.2)
    rig.bench.inject(role, garbage_reply=True)
    with pytest.raises(InstrumentProtocolError, match=re.escape(GARBAGE)) as caught:
        driver.measure_voltage_and_current()
    assert caught.value.resource == rig.bench.resources[role][1]
    rig.bench.inject(role, garbage_reply=False, not_answering=True)
    with pytest.raises(InstrumentTimeout):
        driver.measure_voltage_and_current()
    rig.bench.inject(role, not_answering=False)  # the PSB releases its lock at close
