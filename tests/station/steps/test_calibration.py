"""BMS voltage and current calibration on the virtual bench, through the real drivers and UDS.

The simulated BMS reports ``k·raw + d`` with a seeded front-end error in raw (bms_spec.md);
a good calibration brings its readings onto the station's references.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drivers.sim.bms_calibration import Calibration
from drivers.sim.bms_diag import DID_CURRENT_CALIBRATION, DID_VOLTAGE_CALIBRATION
from drivers.sim.faults import apply_fault
from station.engine import RunResult
from station.steps.eol.calibration_current import BmsCurrentCalibration
from station.steps.eol.calibration_voltage import BmsVoltageCalibration
from tests.station.steps.simrun import run, sim_run

VOLTAGE = """
[[main]]
type = "bms_voltage_calibration"
name = "Cal V"
params = { points_v = [300, 400], verify_v = 350, samples = 5 }
limits.gain = { comparator = "GELE", low = 0.95, high = 1.05 }
limits.offset = { comparator = "GELE", low = -5, high = 5 }
limits.written = { comparator = "BOOL", expected = true }
limits.readback_matches = { comparator = "BOOL", expected = true }
limits.persisted = { comparator = "BOOL", expected = true }
limits.verify_error_v = { comparator = "GELE", low = -0.5, high = 0.5 }
"""

CURRENT = """
[[main]]
type = "bms_current_calibration"
name = "Cal I"
limits.gain_discharge = { comparator = "GELE", low = 0.95, high = 1.05 }
limits.gain_charge = { comparator = "GELE", low = 0.95, high = 1.05 }
limits.offset = { comparator = "GELE", low = -2, high = 2 }
limits.written = { comparator = "BOOL", expected = true }
limits.readback_matches = { comparator = "BOOL", expected = true }
limits.persisted = { comparator = "BOOL", expected = true }
limits.verify_error_a = { comparator = "GELE", low = -0.3, high = 0.3 }
[main.params]
current_a = 50
verify_a = 30
guard_min_v = 280
guard_max_v = 405
samples = 5
"""


def measured(result: RunResult) -> dict[str, Any]:
    """Each measurement's value (numbers as float, bools as bool, empty as None)."""
    out: dict[str, Any] = {}
    for m in result.steps[0].measurements:
        text = {"true": True, "false": False, "None": None}
        out[m.name] = m.value if m.value is not None else text.get(m.value_text or "None")
    return out


def outcomes(result: RunResult) -> dict[str, str]:
    return {m.name: m.outcome for m in result.steps[0].measurements}


def supply_off(prepared: Any) -> bool:
    return not prepared.bench.get("supply").output_enabled()


def bus_safe(prepared: Any) -> bool:
    return abs(prepared.bench.get("dmm").measure_dc_voltage()) < 60.0


def close_contactors(sim: Any) -> None:
    sim.circuit.close_contactors_settled()


# --- voltage -------------------------------------------------------------------------------


def test_voltage_calibration_brings_the_bms_onto_the_dmm(tmp_path: Path) -> None:
    with sim_run(tmp_path, VOLTAGE) as prepared:
        bms = prepared.bench.simulator.bms
        error = bms.model.error
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        v = measured(result)
        assert v["written"] is True and v["readback_matches"] is True
        assert v["persisted"] is True  # read again after an ECU reset
        # the fit undoes the front end's error: raw = (1+g)·true + o
        assert v["gain"] == pytest.approx(1 / (1 + error.bus_gain), abs=5e-4)
        assert v["offset"] == pytest.approx(-error.bus_offset_v / (1 + error.bus_gain), abs=0.2)
        # as found the BMS was volts off; as left it is within a few tens of mV
        assert abs(v["as_found_error_v"]) > 1.0
        assert abs(v["verify_error_v"]) < 0.1
        assert abs(v["verify_error_v"]) < abs(v["as_found_error_v"]) / 10
        # committed: the NVM holds what the BMS uses, so an ECU reset keeps it
        assert bms.nvm.calibration == bms.calibration
        assert bms.nvm.calibration.voltage_gain == pytest.approx(v["gain"], rel=1e-6)
        assert bms.nvm.calibration.current_gain_discharge == 1.0  # the other channel untouched
        bms.diagnostics.ecu_reset()
        assert bms.calibration.voltage_gain == pytest.approx(v["gain"], rel=1e-6)
        assert supply_off(prepared) and bus_safe(prepared)
        assert result.safe_state_ok


def test_voltage_out_of_calibratable_range_fails_and_writes_nothing(tmp_path: Path) -> None:
    with sim_run(tmp_path, VOLTAGE) as prepared:
        bms = prepared.bench.simulator.bms
        result = run(prepared, lambda sim: apply_fault(sim, "bms_out_of_calibration_range"))
        assert result.outcome == "FAILED"
        v, o = measured(result), outcomes(result)
        assert o["gain"] == "FAILED" and o["offset"] == "FAILED"
        assert v["gain"] < 0.95 and v["offset"] < -5
        assert v["written"] is False and o["written"] == "FAILED"
        assert v["verify_error_v"] is None  # no verification without a write
        assert bms.calibration == Calibration() and bms.nvm.calibration == Calibration()
        assert supply_off(prepared) and bus_safe(prepared)


def test_a_write_the_bms_does_not_apply_fails_verification(tmp_path: Path) -> None:
    """The BMS acknowledges the write and reads it back, but keeps measuring with the old
    calibration: only the re-measurement at the third point catches it."""

    def lose_the_write(sim: Any) -> None:
        diag = sim.bms.diagnostics
        write, read, echoed = diag.write_did, diag.read_did, {}

        def write_did(did: int, data: bytes) -> None:
            before = diag.model.calibration
            write(did, data)
            echoed[did] = bytes(data)
            diag.model.calibration = before  # the measurement task never picks it up

        def read_did(did: int) -> bytes | None:
            return echoed.get(did) or read(did)

        diag.write_did, diag.read_did = write_did, read_did

    with sim_run(tmp_path, VOLTAGE) as prepared:
        result = run(prepared, lose_the_write)
        assert result.outcome == "FAILED"
        v, o = measured(result), outcomes(result)
        assert v["written"] is True and v["readback_matches"] is True
        assert o["verify_error_v"] == "FAILED"
        assert v["verify_error_v"] == pytest.approx(v["as_found_error_v"], abs=0.1)
        assert [name for name, out in o.items() if out == "FAILED"] == ["verify_error_v"]
        assert prepared.bench.simulator.bms.calibration == Calibration()
        assert supply_off(prepared) and bus_safe(prepared)


def test_voltage_calibration_needs_the_contactors_open(tmp_path: Path) -> None:
    with sim_run(tmp_path, VOLTAGE) as prepared:
        result = run(prepared, close_contactors)
        assert result.outcome == "ERROR"
        error = result.steps[0].error or ""
        assert "contactors CLOSED" in error and "needs them OPEN" in error
        assert prepared.bench.simulator.bms.calibration == Calibration()
        assert supply_off(prepared)


# --- current -------------------------------------------------------------------------------


def test_current_calibration_brings_the_bms_onto_the_reference(tmp_path: Path) -> None:
    with sim_run(tmp_path, CURRENT) as prepared:
        bms = prepared.bench.simulator.bms
        error = bms.model.error
        soc_before = prepared.bench.simulator.pack.soc
        result = run(prepared, close_contactors)
        assert result.outcome == "PASSED", result.steps
        v = measured(result)
        assert v["written"] is True and v["readback_matches"] is True
        assert v["persisted"] is True
        # the ECU reset opened the contactors; the step closed them again for the verification
        logs = [e.message for e in prepared.store.get_run(result.run_id).logs]
        assert any("close_contactors: answered" in m for m in logs)
        assert v["gain_discharge"] == pytest.approx(
            1 / (1 + error.current_gain_discharge), abs=2e-3
        )
        assert v["gain_charge"] == pytest.approx(1 / (1 + error.current_gain_charge), abs=2e-3)
        assert v["offset"] == pytest.approx(-error.current_offset_a, abs=0.06)
        assert abs(v["as_found_error_a"]) > 0.3
        assert abs(v["verify_error_a"]) < 0.1
        assert abs(v["verify_error_a"]) < abs(v["as_found_error_a"]) / 3
        cal = bms.nvm.calibration
        assert cal == bms.calibration
        assert (cal.current_gain_discharge, cal.current_gain_charge) == pytest.approx(
            (v["gain_discharge"], v["gain_charge"]), rel=1e-6
        )
        assert cal.voltage_gain == 1.0  # the other channel untouched
        # discharge and charge at the same current cancel; only the verify point remains
        assert prepared.bench.simulator.pack.soc == pytest.approx(soc_before, abs=0.01)
        assert supply_off(prepared)
        assert result.safe_state_ok


def test_current_out_of_calibratable_range_fails_and_writes_nothing(tmp_path: Path) -> None:
    def fault(sim: Any) -> None:
        close_contactors(sim)
        apply_fault(sim, "bms_out_of_calibration_range")

    with sim_run(tmp_path, CURRENT) as prepared:
        bms = prepared.bench.simulator.bms
        result = run(prepared, fault)
        assert result.outcome == "FAILED"
        v, o = measured(result), outcomes(result)
        assert o["gain_discharge"] == "FAILED" and o["gain_charge"] == "FAILED"
        assert o["offset"] == "FAILED"
        assert v["gain_discharge"] < 0.95 < 1.05 < v["gain_charge"] and v["offset"] < -2
        assert v["written"] is False and v["verify_error_a"] is None
        assert bms.calibration == Calibration() and bms.nvm.calibration == Calibration()
        assert supply_off(prepared)


def test_a_current_write_lost_after_the_commit_fails(tmp_path: Path) -> None:
    """The NVM loses the record right after the commit (and RAM follows): the read-back and
    the verification both show it."""

    def lose_after_commit(sim: Any) -> None:
        close_contactors(sim)
        diag = sim.bms.diagnostics
        routine = diag.routine_control

        def routine_control(control: int, rid: int, option: bytes) -> Any:
            answer = routine(control, rid, option)
            diag.model.nvm.calibration = diag.model.calibration = Calibration()
            return answer

        diag.routine_control = routine_control

    with sim_run(tmp_path, CURRENT) as prepared:
        result = run(prepared, lose_after_commit)
        assert result.outcome == "FAILED"
        v, o = measured(result), outcomes(result)
        assert v["written"] is True
        assert v["readback_matches"] is False and o["readback_matches"] == "FAILED"
        assert o["verify_error_a"] == "FAILED"
        assert v["verify_error_a"] == pytest.approx(v["as_found_error_a"], abs=0.15)
        assert supply_off(prepared)


@pytest.mark.parametrize("which", ["voltage", "current"])
def test_a_commit_that_never_reaches_nvm_fails_after_the_reset(tmp_path: Path, which: str) -> None:
    """The commit routine answers positively, the read-back (from RAM) matches, but the ECU
    reset restores the old calibration: before #10 nothing reset the BMS and this passed."""

    def fault(sim: Any) -> None:
        apply_fault(sim, "nvm_not_committed")
        if which == "current":
            close_contactors(sim)

    with sim_run(tmp_path, VOLTAGE if which == "voltage" else CURRENT) as prepared:
        result = run(prepared, fault)
        assert result.outcome == "FAILED"
        v, o = measured(result), outcomes(result)
        assert v["written"] is True and v["readback_matches"] is True
        assert v["persisted"] is False and o["persisted"] == "FAILED"
        error = "verify_error_v" if which == "voltage" else "verify_error_a"
        assert o[error] == "FAILED"  # measured with the calibration the BMS runs after the reset
        assert prepared.bench.simulator.bms.calibration == Calibration()
        assert supply_off(prepared)


def test_current_calibration_needs_the_contactors_closed(tmp_path: Path) -> None:
    with sim_run(tmp_path, CURRENT) as prepared:
        result = run(prepared)  # the bench starts with the contactors open
        assert result.outcome == "ERROR"
        error = result.steps[0].error or ""
        assert "contactors OPEN" in error and "needs them CLOSED" in error
        assert supply_off(prepared)


def test_the_sim_dids_are_the_ones_the_steps_write() -> None:
    # the description file names 0xFD01/0xFD02 voltage_calibration/current_calibration
    from drivers.bms.description import BmsDescription
    from station.runner import SIM_BMS_DESCRIPTION

    dids = BmsDescription.load(SIM_BMS_DESCRIPTION).dids
    assert dids["voltage_calibration"] == DID_VOLTAGE_CALIBRATION
    assert dids["current_calibration"] == DID_CURRENT_CALIBRATION


@pytest.mark.parametrize(
    ("points", "verify", "message"),
    [
        ([300.0], 350.0, "two or more"),
        ([300.0, 300.0], 350.0, "two or more"),
        ([300.0, 400.0], 400.0, "must not be one of"),
    ],
)
def test_voltage_params_need_distinct_fit_points_and_a_third_verify_point(
    points: list[float], verify: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BmsVoltageCalibration.Params(points_v=points, verify_v=verify)


@pytest.mark.parametrize("verify", [0.0, 50.0, -50.0])
def test_current_params_need_a_third_verify_current(verify: float) -> None:
    with pytest.raises(ValueError, match="third current"):
        BmsCurrentCalibration.Params(
            current_a=50.0, verify_a=verify, guard_min_v=280.0, guard_max_v=405.0
        )
