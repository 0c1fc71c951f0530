"""Insulation network: IR tester reading over time, pole faults, hipot leakage, discharge."""

import itertools
import math

import pytest

from drivers.sim.insulation import InsulationNetwork, Pole
from drivers.sim.pack import Pack
from drivers.sim.packs import get_pack_spec


def spec_example() -> InsulationNetwork:
    """The domain spec's pitfall example: 500 MΩ with 200 nF per pole."""
    return InsulationNetwork(r_plus=500e6, r_minus=500e6, c_plus=200e-9, c_minus=200e-9)


@pytest.mark.parametrize("pole", ["plus", "minus", "both"])
def test_apparent_resistance_settles_to_configured_value(pole: Pole) -> None:
    net = spec_example()
    r_true = net.pole_rc(pole)[0]
    tau = net.settling_time_constant_s(pole)
    assert tau == pytest.approx(net.absorption_tau_s, rel=0.1)  # absorption is the slow mode
    assert net.ir_test(pole, 500.0, 10 * tau) == pytest.approx(r_true, rel=0.01)
    assert net.ir_test(pole, 500.0, 100 * tau) == pytest.approx(r_true, rel=1e-9)
    assert net.ir_test(pole, 500.0, tau) < 0.9 * r_true


def test_apparent_resistance_rises_monotonically_from_zero() -> None:
    net = spec_example()
    readings = [net.ir_test("plus", 1000.0, t / 10) for t in range(0, 3000)]
    assert readings[0] == pytest.approx(0.0, abs=1e-6)
    assert all(b > a for a, b in itertools.pairwise(readings))


def test_judge_delay_decides_pass_or_fail_on_a_healthy_pack() -> None:
    net = Pack(get_pack_spec("nmc96s")).insulation
    limit_ohm = 100e6
    assert net.ir_test("plus", 500.0, elapsed_s=0.1) < limit_ohm  # Y-caps still charging
    assert net.ir_test("plus", 500.0, elapsed_s=5.0) > limit_ohm
    assert net.ir_test("plus", 500.0, elapsed_s=5.0) < 0.1 * net.r_plus  # absorption still on


def test_judging_during_the_ramp_reads_low() -> None:
    net = spec_example()
    during = net.ir_test("both", 1000.0, elapsed_s=1.0, ramp_s=2.0)
    at_once = net.ir_test("both", 1000.0, elapsed_s=1.0)
    assert during < 0.5 * at_once  # the C·dV/dt current adds while the voltage rises
    late_ramp = net.ir_test("both", 1000.0, elapsed_s=600.0, ramp_s=2.0)
    assert late_ramp == pytest.approx(250e6, rel=1e-6)
    assert net.tester_current("both", 1000.0, 0.0, ramp_s=2.0) == 0.0
    assert math.isinf(net.ir_test("both", 1000.0, 0.0, ramp_s=2.0))


def test_closed_form_matches_numerical_integration() -> None:
    net = InsulationNetwork(
        50e6, 50e6, 200e-9, 200e-9, absorption_c_factor=5.0, absorption_tau_s=2.0
    )
    r, c = net.pole_rc("plus")
    c_a = 5.0 * c
    r_a = 2.0 / c_a
    u, dt, v, v_a = 500.0, 2e-6, 0.0, 0.0
    for _ in range(int(0.5 / dt)):  # explicit Euler, dt ≪ R_src·C = 0.1 s
        i_src = (u - v) / net.source_ohm
        i_a = (v - v_a) / r_a
        v += dt * (i_src - v / r - i_a) / c
        v_a += dt * i_a / c_a
    assert net.tester_current("plus", u, 0.5) == pytest.approx((u - v) / net.source_ohm, rel=1e-3)
    assert net.ir_test("plus", u, 0.5) == pytest.approx(v / ((u - v) / net.source_ohm), rel=1e-3)


def test_without_absorption_the_reading_is_first_order() -> None:
    net = InsulationNetwork(1e9, 1e9, 100e-9, 100e-9, absorption_c_factor=0.0)
    tau = net.settling_time_constant_s("plus")
    assert tau == pytest.approx(100e-9 / (1 / 500e3 + 1 / 1e9))
    i0 = net.tester_current("plus", 500.0, 0.0)
    assert i0 == pytest.approx(500.0 / 500e3)


def test_low_insulation_on_one_pole_shows_on_that_pole_only() -> None:
    net = spec_example()
    net.set_pole_resistance("minus", 1e6)
    t = 20 * net.settling_time_constant_s("both")
    assert net.ir_test("minus", 500.0, t) == pytest.approx(1e6, rel=1e-3)
    assert net.ir_test("plus", 500.0, t) == pytest.approx(500e6, rel=1e-3)
    assert net.ir_test("both", 500.0, t) == pytest.approx(1e6 * 500e6 / 501e6, rel=1e-3)
    with pytest.raises(ValueError):
        net.set_pole_resistance("chassis", 1e6)  # type: ignore[arg-type]


def test_dc_leakage_is_voltage_over_resistance() -> None:
    net = spec_example()
    assert net.leakage_current(1000.0) == pytest.approx(1000.0 / 250e6)
    assert net.leakage_current(1000.0, pole="plus") == pytest.approx(1000.0 / 500e6)


def test_ac_leakage_adds_capacitive_current_vectorially() -> None:
    # Domain spec §6.5: 50 Hz, 1 µF, 2 kV → 0.63 A.
    net = InsulationNetwork(1e9, 1e9, 0.5e-6, 0.5e-6, absorption_c_factor=0.0)
    omega_c_u = 2 * math.pi * 50 * 1e-6 * 2000
    expected = math.hypot(2000 / 0.5e9, omega_c_u)
    assert net.leakage_current(2000.0, ac=True, freq_hz=50.0) == pytest.approx(expected, rel=1e-12)
    assert net.leakage_current(2000.0, ac=True) == pytest.approx(0.628, abs=0.001)
    assert net.leakage_current(2000.0, ac=True, freq_hz=60.0) > net.leakage_current(2000.0, ac=True)
    with_absorption = spec_example().leakage_current(1000.0, ac=True)
    assert with_absorption > 2 * math.pi * 50 * 400e-9 * 1000


def test_breakdown_threshold_on_peak_voltage() -> None:
    net = spec_example()
    assert not net.breakdown(5000.0)
    net.breakdown_v = 1500.0
    assert not net.breakdown(1499.0)
    assert net.breakdown(1500.0)
    assert net.breakdown(1100.0, ac=True)  # 1100 V rms = 1556 V peak
    assert not net.breakdown(1000.0, ac=True)


def test_residual_voltage_falls_below_60_v_after_the_computed_time() -> None:
    net = spec_example()
    t_safe = net.time_to_safe_voltage_s(1000.0, discharge_ohm=1e6)
    tau = net.discharge_time_constant_s(1e6)
    assert tau == pytest.approx((1e6 * 250e6 / (1e6 + 250e6)) * 400e-9)
    assert t_safe == pytest.approx(tau * math.log(1000 / 60))
    assert net.residual_voltage(1000.0, t_safe * 1.001, 1e6) < 60.0
    assert net.residual_voltage(1000.0, t_safe * 0.999, 1e6) > 60.0
    assert net.residual_voltage(1000.0, 0.0, 1e6) == 1000.0
    assert net.time_to_safe_voltage_s(50.0, 1e6) == 0.0


def test_invalid_values_are_refused_not_clipped() -> None:
    with pytest.raises(ValueError, match="r_plus"):
        InsulationNetwork(-1.0, 1e9, 1e-7, 1e-7)
    net = spec_example()
    with pytest.raises(ValueError, match="pole"):
        net.ir_test("earth", 500.0, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="elapsed_s"):
        net.ir_test("plus", 500.0, -1.0)


# --- the stack behind the contactors (issue #9) ------------------------------------------


def test_a_stack_fault_is_invisible_at_the_terminals_with_the_contactors_open() -> None:
    pack = Pack(get_pack_spec("nmc96s"))
    net = pack.insulation
    net.set_stack_resistance("plus", 2e6)
    assert pack.contactor_state == "open"
    assert net.pole_rc("plus")[0] == 5e9  # only the conductors outside the contactors
    assert net.imd_ohm() == pytest.approx(2e6)  # the BMS's monitor sits inside
    pack.close_contactors()
    for _ in range(100):
        pack.advance(0.01, 0.0)
    assert pack.contactor_state == "closed"
    assert net.pole_rc("minus")[0] < 2e6  # now every path to chassis is in parallel


def test_the_fixture_test_resistor_reaches_the_imd_only_through_closed_contactors() -> None:
    net = Pack(get_pack_spec("nmc96s")).insulation
    net.test_resistor_ohm = 1e6
    assert net.imd_ohm() == 5e9
    net.stack_connected = True
    assert net.imd_ohm() == pytest.approx(1e6, rel=1e-3)
