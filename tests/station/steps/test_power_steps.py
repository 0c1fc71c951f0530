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


def commands_sent(prepared: object, result: object, role: str) -> list[str]:
    """Every message the run's transcript shows the station sending to ``role``."""
    record = prepared.store.get_run(result.run_id)  # type: ignore[attr-defined]
    [attachment] = [a for a in record.attachments if a.name == "instrument transcript"]
    resource = prepared.bench.get(role).resource  # type: ignore[attr-defined]
    marker = f" {resource} > "
    lines = Path(attachment.path).read_text(encoding="utf-8").splitlines()
    return [line.split(marker, 1)[1] for line in lines if marker in line]


@pytest.mark.parametrize("role", ["load", "supply"])
def test_each_sample_reads_voltage_and_current_in_one_exchange(tmp_path: Path, role: str) -> None:
    steps = PARTIAL.replace('discharge_with = "load"', f'discharge_with = "{role}"')
    with sim_run(tmp_path, steps) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        sent = commands_sent(prepared, result, role)
    # The default bench's IT6000C and 63200A both take MEAS, then FETCh of that acquisition.
    assert sent.count("MEAS:VOLT?;:FETC:CURR?") >= 180  # ≥ 1 Hz over the 180 s discharge
    assert "MEAS:VOLT?" not in sent and "MEAS:CURR?" not in sent


def test_with_the_dmm_for_voltage_the_source_reads_only_the_current(tmp_path: Path) -> None:
    with sim_run(tmp_path, DCIR) as prepared:  # DCIR reads the voltage with the DMM
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        sent = commands_sent(prepared, result, "load")
    assert sent.count("MEAS:CURR?") >= 10
    assert not [message for message in sent if "VOLT?" in message]


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


# --- verdict integrity: capacity that discriminates, 25 °C normalisation, delivery, guards --

CLOSE = """
[[setup]]
type = "contactors_precharge"
name = "Close contactors"
params = { leave_closed = true }
limits.closed = { comparator = "BOOL", expected = true }
limits.precharge_time_s = { comparator = "LOG" }
limits.bus_voltage_v = { comparator = "LOG" }
limits.bus_to_pack_ratio = { comparator = "LOG" }
"""

CELL_GUARD = "guard_cell_min_v = 3.0, guard_cell_max_v = 4.2, guard_cell_max_c = 50"

# The NMC reference's partial capacity with its limits (sequences/nmc96s/limits/nm96-a.toml).
PARTIAL_60AH = """
[[main]]
type = "capacity"
name = "Partial capacity"
limits.discharged_ah = { comparator = "GELE", low = 2.95, high = 3.1 }
limits.energy_wh = { comparator = "LOG" }
limits.start_voltage_v = { comparator = "LOG" }
limits.end_voltage_v = { comparator = "LOG" }
limits.bms_soc_delta_pct = { comparator = "LOG" }
limits.soc_capacity_ah = { comparator = "GELE", low = 56.5, high = 63.5 }
limits.bms_ah_error_pct = { comparator = "GELE", low = -25, high = 25 }
limits.ocv_slope_v_per_ah = { comparator = "GELE", low = 1.30, high = 1.42 }
[main.params]
mode = "partial"
partial_ah = 3
rated_capacity_ah = 60
discharge_current_a = 45
discharge_cutoff_v = 300
guard_min_v = 280
guard_max_v = 405
"""

DCIR_25C = """
[[main]]
type = "dcir"
name = "DCIR"
limits.r0_discharge_ohm = { comparator = "NOMTOL", nominal = 0.096, tolerance_pct = 15 }
limits.r_discharge_ohm = { comparator = "LOG" }
limits.temperature_c = { comparator = "LOG" }
limits.r0_discharge_25c_ohm = { comparator = "NOMTOL", nominal = 0.096, tolerance_pct = 15 }
limits.r_discharge_25c_ohm = { comparator = "LE", high = 0.13 }
[main.params]
current_a = 45
pulse_s = 10
guard_min_v = 280
guard_max_v = 405
temp_coeff_pct_per_k = 2.8
temperature_sensors = 12
"""


def outcome_of(result: object, name: str) -> str:
    steps = result.steps  # type: ignore[attr-defined]
    return next(m.outcome for s in steps for m in s.measurements if m.name == name)


@pytest.mark.parametrize(
    ("fade", "verdict"), [(0.7, "FAILED"), (0.9, "FAILED"), (0.98, "PASSED"), (1.0, "PASSED")]
)
def test_partial_capacity_judges_what_its_stop_condition_does_not_fix(
    tmp_path: Path, fade: float, verdict: str
) -> None:
    with sim_run(tmp_path, CLOSE + PARTIAL_60AH) as prepared:
        result = run(prepared, lambda sim: sim.pack.capacity_fade(fade))
        v = values(result)
        # Before: only discharged_ah was judged, and it is the stop condition: it passes
        # whatever the pack's capacity (a 30 % fade passed).
        assert outcome_of(result, "discharged_ah") == "PASSED"
        assert v["soc_capacity_ah"] == pytest.approx(60 * fade, rel=0.025)
        assert outcome_of(result, "soc_capacity_ah") == verdict
        assert outcome_of(result, "ocv_slope_v_per_ah") == verdict
        assert abs(v["bms_ah_error_pct"]) < 3  # the BMS counts the same charge
        assert result.outcome == verdict
        assert outputs_off(prepared)


@pytest.mark.parametrize("room_c", [18.0, 32.0])
def test_dcir_normalised_to_25c_passes_a_good_pack_and_fails_a_resistive_one(
    tmp_path: Path, room_c: float
) -> None:
    with sim_run(tmp_path, CLOSE + DCIR_25C) as prepared:
        result = run(prepared, lambda sim: sim.pack.set_ambient(room_c))
        v = values(result)
        assert v["temperature_c"] == pytest.approx(room_c, abs=1.5)
        # Before: the raw value was judged: a good pack FAILS outside about 19.5–31.5 °C.
        assert outcome_of(result, "r0_discharge_ohm") == "FAILED"
        assert outcome_of(result, "r0_discharge_25c_ohm") == "PASSED"
        assert v["r0_discharge_25c_ohm"] == pytest.approx(0.0966, rel=0.04)
    with sim_run(tmp_path / "r", CLOSE + DCIR_25C) as prepared:

        def resistive(sim: object) -> None:
            sim.pack.set_ambient(room_c)  # type: ignore[attr-defined]
            sim.pack.scale_resistance(1.25)  # type: ignore[attr-defined]

        result = run(prepared, resistive)
        assert outcome_of(result, "r0_discharge_25c_ohm") == "FAILED"


def test_a_current_the_station_cannot_deliver_is_an_error_with_both_values_recorded(
    tmp_path: Path,
) -> None:
    # The IT6000C twin is an 18 kW model: 60 A at ~350 V would need 21 kW.
    sixty = DCIR.replace("current_a = 30", "current_a = 60").replace(
        ', discharge_with = "load"', ""
    )
    with sim_run(tmp_path, sixty) as prepared:
        result = run(prepared)
        assert result.outcome == "ERROR"
        assert "could not do the test" in (result.steps[0].error or "")
        v = values(result)
        assert v["requested_current_a"] == 60
        assert 45 < v["delivered_current_a"] < 55
        assert outputs_off(prepared)


GUARDED_DCIR = f"""
[[main]]
type = "dcir"
name = "DCIR"
params = {{ current_a = 45, pulse_s = 10, guard_min_v = 280, guard_max_v = 405, {CELL_GUARD} }}
limits.r0_discharge_ohm = {{ comparator = "LOG" }}
limits.r_discharge_ohm = {{ comparator = "LOG" }}
limits.cell_guard = {{ comparator = "STREQ", expected = "ok" }}
"""


def test_a_cell_below_its_window_under_load_stops_the_current_and_is_named(
    tmp_path: Path,
) -> None:
    # Cell 10 at 20× R0: under 45 A it drops ~0.8 V (to ~2.8 V) while the pack stays ~345 V.
    with sim_run(tmp_path, CLOSE + GUARDED_DCIR) as prepared:
        pack = prepared.bench.simulator.pack
        result = run(prepared, lambda sim: sim.pack.high_resistance_cell(10, 20.0))
        assert result.outcome == "FAILED"
        guard = next(m for s in result.steps for m in s.measurements if m.name == "cell_guard")
        assert guard.outcome == "FAILED"
        assert guard.value_text is not None and "(index 10)" in guard.value_text
        assert "below 3 V" in guard.value_text
        # the current flowed less than 0.5 s (virtual time) before the guard switched it off
        assert 0 < pack.ah_discharged < 45 * 0.5 / 3600
        assert values(result)["r0_discharge_ohm"] > 0.11  # measured before the trip
        assert values(result)["r_discharge_ohm"] is None  # never measured
        assert outputs_off(prepared)
    # Before: nothing watched the cells; the whole 10 s pulse ran with the cell below 3 V.
    with sim_run(tmp_path / "unguarded", CLOSE + DCIR_25C) as prepared:
        pack = prepared.bench.simulator.pack
        run(prepared, lambda sim: sim.pack.high_resistance_cell(10, 20.0))
        assert pack.ah_discharged > 45 * 9.9 / 3600


def test_a_bms_that_falls_silent_while_current_flows_is_an_error(tmp_path: Path) -> None:
    with sim_run(tmp_path, CLOSE + GUARDED_DCIR) as prepared:
        sim = prepared.bench.simulator

        def silence_under_load(event: object) -> None:
            under_load = getattr(event, "channel", "") == "pack_current_A"
            if under_load and getattr(event, "value", 0.0) > 1:
                sim.bms.model.faults.silent = True

        prepared.engine.listeners.append(silence_under_load)
        result = run(prepared)
        dcir = next(s for s in result.steps if s.name == "DCIR")
        assert dcir.outcome == "ERROR"
        assert "BMS went silent while current flowed" in (dcir.error or "")
        # the BMS read timeout is 1 s on the run's clock: the current stopped within ~1.5 s
        assert sim.pack.ah_discharged < 45 * 2 / 3600
        assert outputs_off(prepared)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"guard_cell_min_v": 3.0}, "go together"),
        (
            {"guard_cell_min_v": 4.3, "guard_cell_max_v": 4.2, "guard_cell_max_c": 50.0},
            "below guard_cell_max_v",
        ),
        ({"guard_period_s": 2.0}, "guard_period_s"),
        ({"temp_coeff_pct_per_k": 2.8}, "temperature_sensors"),
        ({"min_delivery_fraction": 0.0}, "min_delivery_fraction"),
    ],
)
def test_guard_normalisation_and_delivery_parameters_are_checked(
    changes: dict[str, float], message: str
) -> None:
    from station.steps.eol.dcir import Dcir

    with pytest.raises(ValueError, match=message):
        Dcir.Params(current_a=45, guard_min_v=280, guard_max_v=405, **changes)  # type: ignore[arg-type]
