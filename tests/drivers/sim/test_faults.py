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
