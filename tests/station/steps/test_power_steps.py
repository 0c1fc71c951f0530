"""Capacity and DCIR on the virtual bench, through the real drivers and pyvisa."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.station.steps.simrun import run, sim_run, values

GUARDS = "guard_min_v = 250, guard_max_v = 420"

DCIR = f"""
[[main]]
type = "dcir"
name = "DCIR"
params = {{ current_a = 30, pulse_s = 10, {GUARDS}, discharge_with = "load" }}
limits.r0_discharge_ohm = {{ comparator = "LOG" }}
limits.r_discharge_ohm = {{ comparator = "LOG" }}
"""

PARTIAL = """
[[main]]
type = "capacity"
name = "Partial capacity"
limits.discharged_ah = { comparator = "GELE", low = 1.9, high = 2.2 }
limits.energy_wh = { comparator = "LOG" }
limits.start_voltage_v = { comparator = "LOG" }
limits.end_voltage_v = { comparator = "LOG" }
[main.params]
mode = "partial"
partial_ah = 2
discharge_current_a = 40
discharge_cutoff_v = 280
discharge_with = "load"
guard_min_v = 250
guard_max_v = 420
"""

FULL = """
[[main]]
type = "capacity"
name = "Full capacity"
limits.capacity_ah = { comparator = "GE", low = 50 }
limits.charged_ah = { comparator = "LOG" }
limits.energy_wh = { comparator = "LOG" }
limits.duration_s = { comparator = "LOG" }
[main.params]
mode = "full"
charge_current_a = 60
charge_voltage_v = 393
cv_cutoff_a = 3
rest_s = 600
discharge_current_a = 60
discharge_cutoff_v = 300
guard_min_v = 250
guard_max_v = 420
sample_period_s = 10
discharge_with = "load"
"""


def outputs_off(prepared: object) -> bool:
    bench = prepared.bench  # type: ignore[attr-defined]
    return not bench.get("supply").output_enabled() and not bench.get("load").input_enabled()


def test_dcir_matches_the_packs_internal_resistance(tmp_path: Path) -> None:
    with sim_run(tmp_path, DCIR) as prepared:
        expected = prepared.bench.simulator.pack.internal_resistance_ohm
        result = run(prepared)
        assert result.outcome == "PASSED"
        r0 = values(result)["r0_discharge_ohm"]
        assert r0 == pytest.approx(expected, rel=0.05)
        # polarisation adds to the ohmic part by the end of the pulse
        assert values(result)["r_discharge_ohm"] > r0
        assert outputs_off(prepared)


def test_dcir_sees_a_high_resistance_cell(tmp_path: Path) -> None:
    with sim_run(tmp_path, DCIR) as prepared:
        healthy = prepared.bench.simulator.pack.internal_resistance_ohm
        result = run(prepared, lambda sim: sim.pack.high_resistance_cell(10, 20.0))
        assert values(result)["r0_discharge_ohm"] > healthy * 1.15


def test_partial_capacity_counts_the_charge_it_moved(tmp_path: Path) -> None:
    with sim_run(tmp_path, PARTIAL) as prepared:
        pack = prepared.bench.simulator.pack
        soc_before = pack.soc
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        v = values(result)
        moved_by_physics = (soc_before - pack.soc) * pack.capacity_ah
        assert v["discharged_ah"] == pytest.approx(moved_by_physics, rel=0.02)
        assert v["energy_wh"] == pytest.approx(
            v["discharged_ah"] * (v["start_voltage_v"] + v["end_voltage_v"]) / 2, rel=0.02
        )
        samples = prepared.store.samples(result.run_id, channel="pack_current_A")
        assert len(samples) >= 2 * 3600 / 40  # ≥ 1 Hz over the 180 s discharge
        assert outputs_off(prepared)


def test_full_capacity_counts_what_left_the_pack(tmp_path: Path) -> None:
    with sim_run(tmp_path, FULL) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        v = values(result)
        pack = prepared.bench.simulator.pack
        # the station's coulomb count agrees with the charge that physically left the pack
        assert v["capacity_ah"] == pytest.approx(pack.ah_discharged, rel=0.01)
        assert v["charged_ah"] == pytest.approx(pack.ah_charged, rel=0.01)
        assert 0.8 * pack.capacity_ah < v["capacity_ah"] <= pack.capacity_ah
        assert outputs_off(prepared)


def test_a_guard_trip_is_an_error_and_leaves_the_outputs_off(tmp_path: Path) -> None:
    tight = PARTIAL.replace("guard_min_v = 250", "guard_min_v = 345").replace(
        "discharge_cutoff_v = 280", "discharge_cutoff_v = 345"
    )
    with sim_run(tmp_path, tight) as prepared:
        result = run(prepared)
        assert result.outcome == "ERROR"
        assert "guard tripped" in (result.steps[0].error or "")
        assert outputs_off(prepared)
        assert result.safe_state_ok
