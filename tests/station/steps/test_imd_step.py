"""The insulation-monitor functional test on the virtual bench (issue #9).

Real drivers throughout: the BMS over CAN, the fixture relay over Modbus RTU, in virtual time.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from drivers.sim.faults import apply_fault
from tests.station.steps.simrun import run, sim_run

CLOSE = """
[[setup]]
type = "contactors_precharge"
name = "Close"
params = { leave_closed = true }
limits.closed = { comparator = "BOOL", expected = true }
limits.precharge_time_s = { comparator = "LOG" }
limits.bus_voltage_v = { comparator = "LOG" }
limits.bus_to_pack_ratio = { comparator = "LOG" }
"""

IMD = """
[[main]]
type = "imd_function"
name = "IMD"
on_fail = "continue"
params = { test_resistor_ohm = 1e6, detect_below_ohm = 2e6 }
limits.insulation_at_rest_ohm = { comparator = "GE", low = 100e6 }
limits.insulation_with_resistor_ohm = { comparator = "GELE", low = 0.8e6, high = 1.2e6 }
limits.detect_time_s = { comparator = "LE", high = 2.0 }
limits.recovered = { comparator = "BOOL", expected = true }
"""

OPEN_AFTER = """
[[cleanup]]
type = "contactors"
name = "Open"
params = { action = "open" }
limits.state = { comparator = "STREQ", expected = "OPEN" }
"""


def measured(result: Any, name: str) -> Any:
    return next(
        m for s in result.steps if s.name == "IMD" for m in s.measurements if m.name == name
    )


def test_a_healthy_pack_and_monitor_pass_and_the_relay_ends_off(tmp_path: Path) -> None:
    with sim_run(tmp_path, CLOSE + IMD + OPEN_AFTER) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        assert math.isinf(measured(result, "insulation_at_rest_ohm").value)  # above its range
        with_resistor = measured(result, "insulation_with_resistor_ohm").value
        assert with_resistor == 1e6 or abs(with_resistor - 1e6) < 2e4  # 10 kΩ resolution
        assert 0 < measured(result, "detect_time_s").value < 2.0
        assert not prepared.bench.simulator._io().coil(4)
        assert prepared.bench.simulator.pack.insulation.test_resistor_ohm is None


def test_a_stack_fault_the_ir_tests_cannot_see_fails_at_rest(tmp_path: Path) -> None:
    with sim_run(tmp_path, CLOSE + IMD + OPEN_AFTER) as prepared:
        result = run(prepared, lambda sim: apply_fault(sim, "low_insulation_stack", "90e6"))
        assert result.outcome == "FAILED"
        at_rest = measured(result, "insulation_at_rest_ohm")
        assert at_rest.outcome == "FAILED" and 80e6 < at_rest.value < 90e6


def test_a_blind_monitor_fails_the_test_resistor(tmp_path: Path) -> None:
    with sim_run(tmp_path, CLOSE + IMD + OPEN_AFTER) as prepared:
        result = run(prepared, lambda sim: apply_fault(sim, "imd_blind"))
        assert result.outcome == "FAILED"
        assert measured(result, "insulation_at_rest_ohm").outcome == "PASSED"
        detect = measured(result, "detect_time_s")
        assert detect.outcome == "FAILED" and math.isnan(detect.value)
        assert measured(result, "insulation_with_resistor_ohm").outcome == "FAILED"
        assert not prepared.bench.simulator._io().coil(4)


def test_with_the_contactors_open_the_test_is_refused(tmp_path: Path) -> None:
    with sim_run(tmp_path, IMD.replace('on_fail = "continue"\n', "")) as prepared:
        result = run(prepared)
        assert result.outcome == "ERROR"
        assert "closed contactors" in (result.steps[0].error or "")
        assert not prepared.bench.simulator._io().coil(4)
