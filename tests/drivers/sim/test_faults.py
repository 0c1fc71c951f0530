"""Named faults that take a magnitude: the cell faults' optional INDEX:FACTOR (issue #9)."""

from __future__ import annotations

import re

import pytest

from drivers.sim.bench import VirtualBench
from drivers.sim.faults import FAULTS, apply_fault


@pytest.fixture
def bench() -> VirtualBench:
    sim = VirtualBench("lfp16s", seed=1)
    yield sim  # type: ignore[misc]
    sim.close()


def test_a_weak_cell_takes_an_optional_capacity_factor(bench: VirtualBench) -> None:
    before = bench.pack.block_capacities_ah()
    apply_fault(bench, "weak_cell", "3:0.97")
    apply_fault(bench, "weak_cell", "5")  # the default factor, 0.7
    after = bench.pack.block_capacities_ah()
    assert after[3] == pytest.approx(0.97 * before[3])
    assert after[5] == pytest.approx(0.7 * before[5])
    assert [a for k, a in enumerate(after) if k not in (3, 5)] == [
        b for k, b in enumerate(before) if k not in (3, 5)
    ]


def test_a_high_resistance_cell_takes_an_optional_factor(bench: VirtualBench) -> None:
    r_before = bench.pack.internal_resistance_ohm
    apply_fault(bench, "high_resistance_cell", "0:1.5")
    r_mild = bench.pack.internal_resistance_ohm
    apply_fault(bench, "high_resistance_cell", "1")  # 20×
    assert r_before < r_mild < bench.pack.internal_resistance_ohm
    assert FAULTS["high_resistance_cell"].value == "INDEX[:FACTOR]"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("3:1.5", "capacity_factor must be in (0, 1]"),
        ("3:x", "could not convert"),
        ("-1", "0 or more"),
    ],
)
def test_a_bad_cell_factor_says_what_is_wrong(
    bench: VirtualBench, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=rf"fault weak_cell={value}: .*{re.escape(message)}"):
        apply_fault(bench, "weak_cell", value)


@pytest.mark.parametrize("lead_open", [False, True], ids=["healthy", "dmm_lead_open"])
def test_the_dmm_proof_relay_puts_the_fixture_reference_on_the_dmm(
    bench: VirtualBench, lead_open: bool
) -> None:
    from drivers.registry import open_instrument

    if lead_open:
        apply_fault(bench, "dmm_lead_open", "")
    bench.circuit.close_contactors_settled()  # the terminals live at the pack voltage
    opened = [
        open_instrument(model, bench.resources[role][1], options=bench.driver_options[role])
        for role, model in (("interlocks", "modbus.rtu_io"), ("dmm", "keysight.34465a"))
    ]
    io, dmm = opened
    try:
        live = dmm.measure_dc_voltage(nplc=1.0)
        io.set_dmm_proof(True)
        proof = dmm.measure_dc_voltage(nplc=1.0)
        io.set_dmm_proof(False)
        after = dmm.measure_dc_voltage(nplc=1.0)
    finally:
        for driver in opened:
            driver.close()
    if lead_open:
        assert max(abs(live), abs(proof), abs(after)) < 0.01  # the DMM sees nothing at all
    else:
        assert proof == pytest.approx(io.dmm_proof_v, abs=0.01)  # the changeover: reference only
        assert live == pytest.approx(after, rel=1e-3) and live > 40  # the 16S pack again
