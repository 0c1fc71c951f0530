"""The circuit's operating point: a flat stretch of the sources is solved without bisection."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.sim.clock import ManualTime
from drivers.sim.electrical import PackCircuit, Source
from drivers.sim.pack import Pack
from drivers.sim.packs import get_pack_spec


def supply(setpoint_v: float, limit_a: float) -> Source:
    """A supply in CV at ``setpoint_v`` with a current limit (a step at the setpoint)."""
    return lambda v: limit_a if v < setpoint_v else (0.0 if v > setpoint_v else limit_a / 2)


def load(amps: float) -> Source:
    """A load in CC above 1 V."""
    return lambda v: -amps if v > 1.0 else 0.0


def circuit_with(*sources: tuple[str, Source]) -> tuple[PackCircuit, ManualTime]:
    clock = ManualTime()
    spec = dataclasses.replace(get_pack_spec("nmc96s"), series=8)
    circuit = PackCircuit(Pack(spec), clock)
    circuit.close_contactors_settled()
    for name, source in sources:
        circuit.connect(name, source)
    return circuit, clock


@settings(max_examples=40, deadline=None)
@given(
    amps=st.floats(min_value=0.0, max_value=200.0),
    setpoint=st.floats(min_value=20.0, max_value=40.0),
    limit=st.floats(min_value=0.0, max_value=100.0),
    steps=st.integers(min_value=1, max_value=20),
)
def test_solving_from_the_last_point_gives_what_bisection_gives(
    amps: float, setpoint: float, limit: float, steps: int
) -> None:
    circuit, clock = circuit_with(("load", load(amps)), ("supply", supply(setpoint, limit)))
    for _ in range(steps):
        clock.advance(0.25)
        circuit.sync()
        with circuit.locked():
            last = circuit._op
            warm = circuit._solve(last)
            cold = circuit._solve(None)
        assert warm == cold


def test_a_load_in_cc_is_solved_in_three_looks_at_the_sources() -> None:
    calls = 0

    def counted(v: float) -> float:
        nonlocal calls
        calls += 1
        return -50.0

    circuit, clock = circuit_with(("load", counted))
    calls = 0
    clock.advance(0.25)
    op = circuit.operating_point()
    assert calls <= 3  # the last currents checked just below and above the new voltage
    assert op.currents_a == {"load": -50.0}
    assert op.voltage_v == pytest.approx(
        circuit.pack.terminal_voltage(0.0) - 50.0 * circuit.pack.internal_resistance_ohm
    )


def test_a_source_swapped_for_another_is_solved_afresh() -> None:
    # The same number of sources, another name: the last currents say nothing about it.
    circuit, clock = circuit_with(("a", load(50.0)))
    with circuit.locked():
        circuit.disconnect("a")
        circuit.connect("b", load(20.0))
    clock.advance(0.25)
    op = circuit.operating_point()
    assert op.currents_a == {"b": -20.0}
    assert op.cell_current_a == 20.0


@pytest.mark.parametrize("amps", [0.0, 30.0])
def test_a_flat_solution_is_bisection_s_to_the_bit_with_zeros_of_either_sign(amps: float) -> None:
    # Sources at zero that alternate the sign of their zero (a load set to 0 A returns −0.0):
    # the flat solution's sum is the one of the currents it returns, as bisection's is.
    flips = [0.0, -0.0]

    def zero(v: float) -> float:
        flips.reverse()
        return flips[0]

    circuit, clock = circuit_with(("z1", zero), ("z2", zero), ("load", load(amps)))
    for _ in range(4):
        clock.advance(0.25)
        op = circuit.operating_point()
        with circuit.locked():
            cold = circuit._solve(None)
        into_pack = math.fsum(op.currents_a.values())
        assert op.cell_current_a.hex() == (-into_pack).hex()
        assert op.voltage_v.hex() == cold.voltage_v.hex()
        assert op.cell_current_a == amps


def test_each_source_s_totals_are_the_sum_of_its_own_steps_and_an_idle_one_stays_at_zero() -> None:
    # The circuit skips a source at ±0 A when it counts charge and energy; its totals must
    # stay +0.0 (a zero of either sign added would leave them so) and the others count on.
    flips = [0.0, -0.0]

    def idle(v: float) -> float:
        flips.reverse()
        return flips[0]

    circuit, clock = circuit_with(("idle", idle), ("load", load(40.0)))
    for _ in range(20):
        clock.advance(0.25)
        circuit.sync()
    idle_totals, taken = circuit.totals("idle"), circuit.totals("load")
    assert (idle_totals.charge_ah.hex(), idle_totals.energy_wh.hex()) == ("0x0.0p+0", "0x0.0p+0")
    assert taken.charge_ah == pytest.approx(-40.0 * 5.0 / 3600.0, rel=1e-12)
    assert taken.charge_ah == pytest.approx(-circuit.pack.ah_discharged, rel=1e-12)
    assert taken.energy_wh < 0.0
