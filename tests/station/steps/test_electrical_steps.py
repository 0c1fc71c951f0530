"""OCV and cells, temperatures and HVIL on the virtual bench, through the real drivers and CAN."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from drivers.sim.faults import apply_fault
from station.engine import RunResult
from tests.station.steps.simrun import run, sim_run

CLOSE = """
[[setup]]
type = "contactors_precharge"
name = "Close contactors"
limits.closed = { comparator = "BOOL", expected = true }
limits.precharge_time_s = { comparator = "LE", high = 0.5 }
limits.bus_voltage_v = { comparator = "LOG" }
limits.bus_to_pack_ratio = { comparator = "GE", low = 0.95 }
"""

OCV = """
[[main]]
type = "ocv_and_cells"
name = "OCV and cells"
on_fail = "continue"
limits.dmm_voltage_v = { comparator = "GELE", low = 320, high = 403 }
limits.bms_voltage_v = { comparator = "LOG" }
limits.voltage_delta_v = { comparator = "LE", high = 2 }
limits.cell_voltages = { comparator = "ARRAY", low = 3.0, high = 4.2, max_spread = 0.03 }
limits.cell_spread_v = { comparator = "LE", high = 0.03 }
limits.sum_vs_pack_v = { comparator = "NOMTOL", nominal = 0, tolerance = 0.5 }
"""

TEMPERATURES = """
[[main]]
type = "temperatures"
name = "Temperatures"
on_fail = "continue"
params = { sensors = 12 }
limits.ambient_c = { comparator = "GELE", low = 10, high = 40 }
limits.temperatures = { comparator = "ARRAY", low = 15, high = 35, max_spread = 4 }
limits.max_deviation_from_ambient_c = { comparator = "LE", high = 3 }
limits.temperature_spread_c = { comparator = "LE", high = 4 }
"""

HVIL = """
[[main]]
type = "hvil"
name = "HVIL"
on_fail = "continue"
params = { detect_s = 0.5 }
limits.closed_at_rest = { comparator = "BOOL", expected = true }
limits.opens_when_broken = { comparator = "BOOL", expected = true }
limits.detect_time_s = { comparator = "LE", high = 0.2 }
limits.closed_after_restore = { comparator = "BOOL", expected = true }
"""

SOAK = """
[[setup]]
type = "wait"
name = "Soak"
params = { seconds = 1 }
"""

OPEN = """
[[cleanup]]
type = "contactors"
name = "Open contactors"
params = { action = "open" }
limits.state = { comparator = "STREQ", expected = "OPEN" }
"""


def measurement(result: RunResult, step: str, name: str) -> Any:
    found = [m for s in result.steps if s.name == step for m in s.measurements if m.name == name]
    assert found, f"{step}: no {name}"
    return found[0]


def values(result: RunResult) -> dict[str, Any]:
    """Every measurement by name; arrays as lists."""
    return {
        m.name: list(m.values) if m.values is not None else m.value
        for s in result.steps
        for m in s.measurements
    }


def fault(name: str, value: str = "") -> Any:
    return lambda sim: apply_fault(sim, name, value)


def test_healthy_pack_passes_with_the_packs_own_values(tmp_path: Path) -> None:
    with sim_run(tmp_path, CLOSE + OCV + TEMPERATURES + HVIL + OPEN) as prepared:
        sim = prepared.bench.simulator
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        v = values(result)
        pack = sim.pack
        assert v["dmm_voltage_v"] == pytest.approx(pack.open_circuit_voltage, abs=0.05)
        cells = v["cell_voltages"]
        assert isinstance(cells, list) and len(cells) == 96
        assert cells == pytest.approx(pack.cell_voltages(), abs=0.005)
        assert v["cell_spread_v"] == pytest.approx(max(cells) - min(cells))
        assert len(v["temperatures"]) == 12
        assert 0 < v["detect_time_s"] <= 0.2
        # the fixture relay is back at rest and the cleanup opened the contactors
        assert not sim._io().coil(3)
        assert pack.contactor_state == "open"
        assert result.safe_state_ok, result.safe_state_detail


def test_an_open_sense_wire_fails_the_cell_and_its_neighbour(tmp_path: Path) -> None:
    with sim_run(tmp_path, CLOSE + OCV + OPEN) as prepared:
        result = run(prepared, fault("sense_wire_open", "20"))
        assert result.outcome == "FAILED"
        cells = measurement(result, "OCV and cells", "cell_voltages")
        assert cells.outcome == "FAILED"
        assert cells.failed_elements == (20, 21)
        assert "element 20 is not a number" in cells.detail
        # the valid cells still agree with each other; the sum cannot be checked
        assert measurement(result, "OCV and cells", "cell_spread_v").outcome == "PASSED"
        total = measurement(result, "OCV and cells", "sum_vs_pack_v")
        assert total.outcome == "FAILED" and math.isnan(total.value)
        assert result.safe_state_ok


@pytest.mark.parametrize(("name", "block", "sensor"), [("ntc_open", 3, 0), ("ntc_short", 50, 6)])
def test_an_open_or_shorted_ntc_fails_naming_its_sensor(
    tmp_path: Path, name: str, block: int, sensor: int
) -> None:
    # The fault is there before the step (the BMS sends pages of its last 100 ms
    # measurement cycle, and the pack has been on the fixture a while).
    with sim_run(tmp_path, SOAK + TEMPERATURES) as prepared:
        result = run(prepared, fault(name, str(block)))
        assert result.outcome == "FAILED"
        temps = measurement(result, "Temperatures", "temperatures")
        assert temps.failed_elements == (sensor,)
        assert f"element {sensor} = " in temps.detail
        assert measurement(result, "Temperatures", "max_deviation_from_ambient_c").outcome == (
            "FAILED"
        )


@pytest.mark.parametrize("room_c", [18.0, 32.0])
def test_temperatures_are_compared_with_the_measured_room(tmp_path: Path, room_c: float) -> None:
    # Before: the step compared every sensor with a fixed ambient_c = 25, so a soaked pack in
    # an 18 °C room failed max_deviation_from_ambient_c (7 °C > 3 °C).
    with sim_run(tmp_path, SOAK + TEMPERATURES) as prepared:
        result = run(prepared, fault("ambient_c", str(room_c)))
        assert result.outcome == "PASSED", result.steps
        v = values(result)
        assert v["ambient_c"] == pytest.approx(room_c, abs=0.5)
        assert all(abs(t - room_c) < 2.5 for t in v["temperatures"])


def test_a_pack_warmer_than_the_room_fails_its_deviation(tmp_path: Path) -> None:
    def warm_pack(sim: Any) -> None:
        apply_fault(sim, "ambient_c", "25")
        with sim.circuit.locked():
            sim.pack.ambient_c = 18.0  # the room cooled; the pack has not soaked yet

    with sim_run(tmp_path, SOAK + TEMPERATURES) as prepared:
        result = run(prepared, warm_pack)
        assert measurement(result, "Temperatures", "ambient_c").value == pytest.approx(18, abs=0.5)
        deviation = measurement(result, "Temperatures", "max_deviation_from_ambient_c")
        assert deviation.outcome == "FAILED" and deviation.value > 5


def test_a_broken_hvil_loop_fails_closed_at_rest(tmp_path: Path) -> None:
    with sim_run(tmp_path, HVIL) as prepared:
        result = run(prepared, fault("hvil_open"))
        assert result.outcome == "FAILED"
        assert measurement(result, "HVIL", "closed_at_rest").outcome == "FAILED"
        assert measurement(result, "HVIL", "closed_after_restore").outcome == "FAILED"
        assert not prepared.bench.simulator._io().coil(3)


def test_an_hvil_break_the_bms_never_reports_fails_with_no_detect_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sim_run(tmp_path, HVIL) as prepared:
        # A loop wired past the fixture relay: opening the relay breaks nothing.
        sim = prepared.bench.simulator
        monkeypatch.setattr(sim, "_follow_fixture_relays", lambda io: None)
        result = run(prepared)
        assert result.outcome == "FAILED"
        assert measurement(result, "HVIL", "opens_when_broken").outcome == "FAILED"
        detect = measurement(result, "HVIL", "detect_time_s")
        assert detect.outcome == "FAILED" and math.isnan(detect.value)
        assert measurement(result, "HVIL", "closed_at_rest").outcome == "PASSED"


def test_ocv_with_the_contactors_open_is_an_error_not_a_fail(tmp_path: Path) -> None:
    with sim_run(tmp_path, OCV) as prepared:
        result = run(prepared)
        assert result.outcome == "ERROR"
        assert "needs the contactors closed" in (result.steps[0].error or "")
        assert result.safe_state_ok


def test_a_16s_pack_takes_its_cell_and_sensor_counts_from_the_params(tmp_path: Path) -> None:
    steps = (
        CLOSE
        + OCV.replace("low = 320, high = 403", "low = 40, high = 58")
        .replace("low = 3.0, high = 4.2", "low = 2.8, high = 3.6")
        .replace('name = "OCV and cells"', 'name = "OCV and cells"\nparams = { cells = 16 }')
        + TEMPERATURES.replace("sensors = 12", "sensors = 4")
        + OPEN
    )
    with sim_run(tmp_path, steps, pack="lfp16s") as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        v = values(result)
        assert len(v["cell_voltages"]) == 16
        assert len(v["temperatures"]) == 4
        assert all(math.isfinite(x) for x in v["cell_voltages"])
