"""BMS steps on the virtual bench: identity, CAN, DTCs, balancing, shipping SOC, EOL flag.

Every test runs the real BMS client (CAN frames decoded through the DBC, UDS over ISO-TP)
against the simulated reference BMS, in virtual time.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from drivers.sim.faults import apply_fault
from station.engine import RunResult
from station.events import Progress
from tests.station.steps.simrun import run, sim_run, values

IDENTIFY = """
[[main]]
type = "identify"
name = "Identify"
limits.part_number = { comparator = "STREQ", expected = "NM96-A" }
limits.sw_version = { comparator = "STREQ", expected = "2.4.1" }
limits.serial = { comparator = "REGEX", pattern = "^BMS[0-9]{2}[A-Z][0-9]{7}$" }
limits.hw_number = { comparator = "STREQ", expected = "HW-C3" }
"""

CAN_CHECK = """
[[main]]
type = "can_check"
name = "CAN alive"
on_fail = "continue"
params = { window_s = 1.0 }
limits.missing_messages = { comparator = "EQ", nominal = 0 }
limits.max_period_error_pct = { comparator = "LE", high = 10 }
limits.decode_errors = { comparator = "EQ", nominal = 0 }
limits.alive_counter_errors = { comparator = "EQ", nominal = 0 }
"""

DTC = """
[[main]]
type = "dtc"
name = "DTC read and clear"
params = { settle_s = 5, allowed = ["D10001"] }
limits.dtc_count_before = { comparator = "EQ", nominal = 0 }
limits.dtc_count_after = { comparator = "EQ", nominal = 0 }
"""

BALANCING = """
[[main]]
type = "balancing"
name = "Balancing"
params = { cells = "all", duration_s = 10 }
limits.active_during = { comparator = "BOOL", expected = true }
limits.inactive_after = { comparator = "BOOL", expected = true }
limits.bleed_drop_v = { comparator = "ARRAY", low = 0.02, high = 0.08 }
"""

EOL_FLAG = """
[[main]]
type = "eol_flag"
name = "EOL flag"
params = { station_text = "EOL-01" }
limits.written = { comparator = "BOOL", expected = true }
limits.eol_flag_readback = { comparator = "EQ", nominal = 1 }
"""

CLEAR_EOL_FLAG = """
[[setup]]
type = "eol_flag"
name = "Clear EOL flag"
params = { action = "clear" }
limits.eol_flag_readback = { comparator = "EQ", nominal = 0 }
"""

READ_EOL_FLAG = """
[[cleanup]]
type = "eol_flag"
name = "EOL flag at the end"
params = { action = "read" }
limits.matches_verdict = { comparator = "BOOL", expected = true }
"""

IMPOSSIBLE_OCV = """
[[main]]
type = "dmm_voltage"
name = "Pack OCV"
on_fail = "continue"
params = { nplc = 1 }
limits.voltage = { comparator = "GELE", low = 1000.0, high = 1100.0 }
"""


CELL_GUARD = {"guard_cell_min_v": 3.0, "guard_cell_max_v": 4.2, "guard_cell_max_c": 50}


def set_soc(target: float = 30.0, **extra: Any) -> str:
    params = {
        "target_soc_pct": target,
        "capacity_ah": 60,
        "current_a": 60,
        "guard_min_v": 250,
        "guard_max_v": 420,
        "sample_period_s": 10,
        "rest_s": 300,
        "discharge_with": '"load"',
        **extra,
    }
    table = "\n".join(
        f"{k} = {str(v).lower() if isinstance(v, bool) else v}" for k, v in params.items()
    )
    limits = (
        f'limits.shipping_soc_pct = {{ comparator = "EQ", nominal = {target:g} }}\n'
        if extra.get("write_target")
        else ""
    )
    if "guard_cell_min_v" in extra:
        limits += 'limits.cell_guard = { comparator = "STREQ", expected = "ok" }\n'

    return f"""
[[main]]
type = "set_soc"
name = "Shipping SOC"
limits.final_soc_pct = {{ comparator = "GELE", low = {target - 1}, high = {target + 1} }}
limits.charge_check_pct = {{ comparator = "GELE", low = -2, high = 2 }}
limits.moved_ah = {{ comparator = "LOG" }}
{limits}[main.params]
{table}
"""


def texts(result: RunResult) -> dict[str, str | None]:
    return {m.name: m.value_text for s in result.steps for m in s.measurements}


def outcomes(result: RunResult) -> dict[str, str]:
    return {m.name: m.outcome for s in result.steps for m in s.measurements}


def step(result: RunResult, name: str) -> Any:
    return next(s for s in result.steps if s.name == name)


def outputs_off(prepared: Any) -> bool:
    bench = prepared.bench
    return not bench.get("supply").output_enabled() and not bench.get("load").input_enabled()


def close_contactors(sim: Any) -> None:
    """Stand-in for a contactors step: close them as the BMS routine would."""
    sim.circuit.close_contactors_settled()


# --- identify ---------------------------------------------------------------------------------


def test_identify_reads_the_identity_and_pairs_the_serials(tmp_path: Path) -> None:
    with sim_run(tmp_path, IDENTIFY) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        t = texts(result)
        assert t["part_number"] == "NM96-A"
        assert t["sw_version"] == "2.4.1"
        assert (
            t["bms_serial"]
            == t["serial"]
            == prepared.bench.simulator.bms.diagnostics.identity["serial"]
        )
        assert t["pack_serial"] == "SN1"
        assert outcomes(result)["bms_serial"] == "DONE"


def test_a_wrong_software_version_fails_identify(tmp_path: Path) -> None:
    with sim_run(tmp_path, IDENTIFY) as prepared:
        result = run(prepared, lambda sim: apply_fault(sim, "wrong_sw_version"))
        assert result.outcome == "FAILED"
        assert outcomes(result)["sw_version"] == "FAILED"
        assert texts(result)["sw_version"] == "2.3.0"
        assert outcomes(result)["part_number"] == "PASSED"


# --- CAN --------------------------------------------------------------------------------------


def test_can_check_sees_every_message_on_its_period(tmp_path: Path) -> None:
    with sim_run(tmp_path, CAN_CHECK) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        v = values(result)
        assert v["missing_messages"] == 0
        assert 0 <= v["max_period_error_pct"] < 5
        assert v["decode_errors"] == 0
        assert v["alive_counter_errors"] == 0


def test_a_silent_bms_fails_the_can_check_and_errors_identify(tmp_path: Path) -> None:
    with sim_run(tmp_path, CAN_CHECK + IDENTIFY) as prepared:
        result = run(prepared, lambda sim: apply_fault(sim, "bms_silent"))
        can = step(result, "CAN alive")
        assert can.outcome == "FAILED"
        assert values(result)["missing_messages"] == 5  # every cyclic message of the map
        identify = step(result, "Identify")
        assert identify.outcome == "ERROR"
        assert "the BMS is silent" in (identify.error or "")
        assert result.outcome == "ERROR"


# --- DTC --------------------------------------------------------------------------------------


def provoke_hvil_dtc(sim: Any) -> None:
    """Open the HVIL long enough for the BMS to store its DTC, then mend it (an HVIL test)."""
    sim.set_hvil_fault(True)
    sim.bms.measure()
    sim.set_hvil_fault(False)


def test_dtc_records_clears_and_finds_nothing_back_on_a_healthy_pack(tmp_path: Path) -> None:
    with sim_run(tmp_path, DTC) as prepared:
        result = run(prepared, provoke_hvil_dtc)
        assert result.outcome == "PASSED", result.steps
        v, t = values(result), texts(result)
        assert v["dtc_count_before"] == 0  # D10001 is stored, but allowed
        assert t["dtcs_before"] == "D10001:2E"  # confirmed, no longer failing
        assert v["dtc_count_after"] == 0
        assert t["dtcs_after"] == ""
        assert prepared.bench.simulator.bms.uds.session == 0x01  # back in the default session


def test_a_stored_dtc_is_judged_before_the_clear_hides_it(tmp_path: Path) -> None:
    """A fault that was confirmed and then stopped failing (an insulation dip, a monitor that
    runs only under conditions) does not re-mature in settle_s: judged only after the clear,
    as before #10, it passed."""

    def insulation_dip(sim: Any) -> None:
        # inside the stack: the BMS's monitor sees it with the contactors open
        sim.pack.insulation.set_stack_resistance("plus", 10e3)
        sim.bms.measure()
        sim.pack.insulation.set_stack_resistance("plus", 5e9)

    with sim_run(tmp_path, DTC) as prepared:
        result = run(prepared, insulation_dip)
        assert result.outcome == "FAILED"
        assert outcomes(result)["dtc_count_before"] == "FAILED"
        assert texts(result)["dtcs_before"] == "D10002:2E"
        assert outcomes(result)["dtc_count_after"] == "PASSED"  # gone after the clear


def test_a_stuck_dtc_fails_the_dtc_step(tmp_path: Path) -> None:
    with sim_run(tmp_path, DTC) as prepared:
        result = run(prepared, lambda sim: apply_fault(sim, "stuck_dtc", "0xD10004"))
        assert result.outcome == "FAILED"
        assert outcomes(result)["dtc_count_after"] == "FAILED"
        assert values(result)["dtc_count_after"] == 1
        assert texts(result)["dtcs_after"] == "D10004:2F"


def test_an_allowed_dtc_is_not_counted_before_the_clear_but_is_when_it_comes_back(
    tmp_path: Path,
) -> None:
    allowed = DTC.replace('allowed = ["D10001"]', 'allowed = ["0xD10004"]')
    with sim_run(tmp_path, allowed) as prepared:
        result = run(prepared, lambda sim: apply_fault(sim, "stuck_dtc", "0xD10004"))
        assert outcomes(result)["dtc_count_before"] == "PASSED"
        assert texts(result)["dtcs_before"] == "D10004:2F"
        assert outcomes(result)["dtc_count_after"] == "FAILED"


def test_after_a_clear_the_default_mask_lists_no_dtc_whose_test_is_pending(
    tmp_path: Path,
) -> None:
    """Right after the clear every DTC carries 0x50; the contactor monitors have not run
    again, so a 0xFF read would list them (the old default): 0x09 does not."""
    with sim_run(tmp_path, DTC) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        statuses = dict(prepared.bench.simulator.bms.nvm.dtcs)
        assert statuses[0xD10005] == statuses[0xD10006] == 0x50
        assert texts(result)["dtcs_after"] == ""


def test_a_mask_with_test_not_completed_bits_is_refused(tmp_path: Path) -> None:
    from station.errors import SequenceError
    from station.sequence import load_sequence
    from tests.station.steps.simrun import HEADER

    path = tmp_path / "seq.toml"
    path.write_text(HEADER + DTC.replace("settle_s = 5,", "settle_s = 5, mask = 0xFF,"))
    with pytest.raises(SequenceError, match="test-not-completed bit"):
        load_sequence(path)


def test_a_read_only_dtc_snapshot_judges_what_is_stored(tmp_path: Path) -> None:
    snapshot = """
[[main]]
type = "dtc"
name = "DTC snapshot"
params = { clear = false, mask = 0x09 }
limits.dtc_count = { comparator = "EQ", nominal = 0 }
"""
    with sim_run(tmp_path, snapshot) as prepared:
        result = run(prepared, lambda sim: apply_fault(sim, "stuck_dtc", "0xD10004"))
        assert result.outcome == "FAILED"
        assert texts(result)["dtcs"] == "D10004:2F"
        assert prepared.bench.simulator.bms.nvm.dtcs  # nothing was cleared


# --- balancing --------------------------------------------------------------------------------


def test_balancing_bleeds_odd_then_even_cells_and_sees_each_one_drop(tmp_path: Path) -> None:
    with sim_run(tmp_path, BALANCING) as prepared:
        masks: list[int] = []
        sim_bms = prepared.bench.simulator.bms
        command = sim_bms.diagnostics.routine_control

        def spy(control: int, rid: int, option: bytes) -> Any:
            if control == 1 and rid == 0x0203:
                masks.append(int.from_bytes(option, "little"))
            return command(control, rid, option)

        sim_bms.diagnostics.routine_control = spy
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        assert texts(result)["active_during"] == "true"
        assert texts(result)["inactive_after"] == "true"
        odd, even = sum(1 << i for i in range(1, 96, 2)), sum(1 << i for i in range(0, 96, 2))
        assert masks == [odd, even]  # every bleed FET exercised
        assert sim_bms.balancing_mask == 0
        assert prepared.bench.simulator.pack.bleeding == frozenset()
        [drops] = [m.values for s in result.steps for m in s.measurements if m.values]
        assert len(drops) == 96
        assert min(drops) > 0.03  # 4 × 0.1 Ω × ~0.095 A


def test_an_open_balancing_fet_fails_and_names_its_cell(tmp_path: Path) -> None:
    """The BMS still reports balancing active: before #10 the flag alone passed the pack."""
    with sim_run(tmp_path, BALANCING) as prepared:
        result = run(prepared, lambda sim: apply_fault(sim, "balancing_fet_open", "7"))
        assert result.outcome == "FAILED"
        [m] = [m for s in result.steps for m in s.measurements if m.name == "bleed_drop_v"]
        assert m.outcome == "FAILED" and m.failed_elements == (7,)
        assert m.values is not None and m.values[7] < 0.015
        assert "element 7" in m.detail
        assert texts(result)["active_during"] == "true"  # the flag could not tell


def test_balancing_a_listed_set_of_cells(tmp_path: Path) -> None:
    listed = BALANCING.replace('cells = "all"', "cells = [0, 7, 95]")
    with sim_run(tmp_path, listed) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        [drops] = [m.values for s in result.steps for m in s.measurements if m.values]
        assert len(drops) == 3  # cells 0, 7, 95 in that order
        assert prepared.bench.simulator.bms.balancing_mask == 0


# --- shipping SOC -----------------------------------------------------------------------------


def test_set_soc_discharges_to_the_shipping_soc(tmp_path: Path) -> None:
    with sim_run(tmp_path, set_soc(35.0, write_target=True)) as prepared:
        pack = prepared.bench.simulator.pack
        soc_before = pack.soc
        result = run(prepared, close_contactors)
        assert result.outcome == "PASSED", result.steps
        v = values(result)
        assert v["final_soc_pct"] == pytest.approx(35.0, abs=1.0)
        assert 100 * pack.soc == pytest.approx(35.0, abs=2.5)  # BMS SOC error ±1 %
        assert v["moved_ah"] == pytest.approx((soc_before - pack.soc) * pack.capacity_ah, rel=0.02)
        assert v["moved_ah"] > 0  # discharged
        assert prepared.bench.simulator.bms.nvm.shipping_soc_pct == 35
        assert v["shipping_soc_pct"] == 35
        assert outputs_off(prepared)
        assert prepared.store.samples(result.run_id, channel="bms_soc_pct")


NMC_OCV = {
    "cells": 96,
    "ocv_soc_pct": "[0, 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]",
    "ocv_cell_v": "[2.644, 2.716, 3.003, 3.202, 3.392, 3.501, 3.568, 3.636, 3.735, 3.840, "
    "3.939, 4.024, 4.123]",
}
OCV_LIMITS = """limits.ocv_soc_pct = { comparator = "LE", high = 28.5 }
limits.soc_deviation_pct = { comparator = "GELE", low = -3, high = 3 }
"""


@pytest.mark.parametrize(("bias", "outcome"), [(0, "PASSED"), (2, "PASSED"), (5, "FAILED")])
def test_the_rested_ocv_catches_a_bms_whose_soc_reads_low(
    tmp_path: Path, bias: int, outcome: str
) -> None:
    """Before #10 the step stopped on the BMS SOC alone: a BMS reading 5 points low
    stopped at 25 % with the pack at 30 %, and passed."""
    steps = set_soc(25.0, **NMC_OCV).replace("[main.params]", OCV_LIMITS + "[main.params]")

    def fault(sim: Any) -> None:
        close_contactors(sim)
        if bias:
            apply_fault(sim, "soc_bias", str(bias))

    with sim_run(tmp_path, steps) as prepared:
        result = run(prepared, fault)
        assert result.outcome == outcome, result.steps
        v = values(result)
        true_soc = 100 * prepared.bench.simulator.pack.soc
        assert v["ocv_soc_pct"] == pytest.approx(true_soc, abs=0.7)
        assert v["soc_deviation_pct"] == pytest.approx(v["final_soc_pct"] - v["ocv_soc_pct"])
        assert v["soc_deviation_pct"] == pytest.approx(-bias, abs=1.5)
        if bias == 5:
            assert outcomes(result)["soc_deviation_pct"] == "FAILED"
            assert outcomes(result)["ocv_soc_pct"] == "FAILED"  # the pack is at ~30 %
        assert outputs_off(prepared)


def test_a_bms_soc_falling_faster_than_the_charge_fails_the_charge_check(tmp_path: Path) -> None:
    """A BMS that counts against a capacity 20 % too small: its SOC falls 1.25 × as fast, so
    it stops early with the pack fuller than it says (review finding 20 c)."""

    def fast_soc(sim: Any) -> None:
        close_contactors(sim)
        model = sim.bms.model
        measure = model.measure
        start = 100 * sim.pack.soc

        def measured() -> Any:
            reading = measure()
            return dataclasses.replace(reading, soc_pct=start - 1.25 * (start - 100 * sim.pack.soc))

        model.measure = measured

    with sim_run(tmp_path, set_soc(30.0)) as prepared:
        result = run(prepared, fast_soc)
        assert result.outcome == "FAILED"
        assert outcomes(result)["charge_check_pct"] == "FAILED"
        assert values(result)["charge_check_pct"] == pytest.approx(0.25 * 20, abs=1.0)


def test_a_bms_soc_over_a_usable_window_is_mapped_onto_the_rated_capacity(
    tmp_path: Path,
) -> None:
    """BMS SOC 0…100 % spanning 0…90 % of rated: the step stops at BMS 27.8 % = 25 % of rated.
    (The simulated BMS reports SOC of the full capacity, so the OCV then disagrees.)"""
    steps = set_soc(25.0, **NMC_OCV, bms_soc_window_pct="[0, 90]").replace(
        "[main.params]", OCV_LIMITS + "[main.params]"
    )
    with sim_run(tmp_path, steps) as prepared:
        result = run(prepared, close_contactors)
        v = values(result)
        assert v["final_soc_pct"] == pytest.approx(25.0, abs=1.0)
        assert 100 * prepared.bench.simulator.pack.soc == pytest.approx(25.0 / 0.9, abs=1.2)


def test_set_soc_approaches_the_target_from_above(tmp_path: Path) -> None:
    """Below the target the pack is charged past it, then discharged onto it: the OCV ends
    on the discharge branch of the cells' hysteresis."""
    with sim_run(tmp_path, set_soc(60.0, current_a=45)) as prepared:
        result = run(prepared, close_contactors)
        assert result.outcome == "PASSED", result.steps
        soc = [row.value for row in prepared.store.samples(result.run_id, channel="bms_soc_pct")]
        assert max(soc) >= 62.5 and soc[-1] <= 60.0
        assert prepared.bench.simulator.pack.current_a == 0.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ocv_soc_pct": "[0, 50]", "ocv_cell_v": "[3.0, 3.6]"}, "params.cells"),
        ({"cells": 96, "ocv_soc_pct": "[0, 50, 40]", "ocv_cell_v": "[3.0, 3.6, 3.7]"}, "rise"),
        ({"cells": 96, "ocv_soc_pct": "[0, 50]", "ocv_cell_v": "[3.0]"}, "same length"),
        ({"finish_current_a": 80}, "finish_current_a"),
    ],
)
def test_set_soc_refuses_a_bad_ocv_table_or_finish_current(
    tmp_path: Path, extra: dict[str, Any], message: str
) -> None:
    from station.errors import SequenceError
    from station.sequence import load_sequence
    from tests.station.steps.simrun import HEADER

    path = tmp_path / "seq.toml"
    path.write_text(HEADER + set_soc(25.0, **extra), encoding="utf-8")
    with pytest.raises(SequenceError) as err:
        load_sequence(path)
    assert any(message in p.message for p in err.value.problems), err.value.problems


def test_set_soc_reports_progress_with_an_eta(tmp_path: Path) -> None:
    with sim_run(tmp_path, set_soc(30.0)) as prepared:
        seen: list[Progress] = []
        prepared.engine.listeners.append(
            lambda event: seen.append(event) if isinstance(event, Progress) else None
        )
        result = run(prepared, close_contactors)
        assert result.outcome == "PASSED", result.steps
        assert len(seen) > 10
        assert seen[0].eta_s is not None and 600 < seen[0].eta_s < 800  # 12 Ah at 60 A
        assert seen[-1].fraction == pytest.approx(1.0, abs=0.05)
        assert "SOC" in seen[-1].text


def test_a_bms_going_silent_stops_set_soc_with_the_outputs_off(tmp_path: Path) -> None:
    def silent_after_100_s(sim: Any) -> None:
        close_contactors(sim)
        tick = sim.bms.tick

        def tick_then_maybe_fall_silent() -> int:
            if sim.now() > 100.0:
                sim.bms.faults.silent = True
            return int(tick())

        sim.bms.tick = tick_then_maybe_fall_silent

    with sim_run(tmp_path, set_soc(30.0)) as prepared:
        result = run(prepared, silent_after_100_s)
        assert result.outcome == "ERROR"
        assert "the BMS stopped reporting its SOC" in (result.steps[0].error or "")
        assert outputs_off(prepared)
        assert 0.45 < prepared.bench.simulator.pack.soc < 0.49  # it stopped soon after 100 s
    # With the cell guard the BMS is read every 0.25 s: its silence is caught there first.
    with sim_run(tmp_path / "guarded", set_soc(30.0, **CELL_GUARD)) as prepared:
        result = run(prepared, silent_after_100_s)
        assert result.outcome == "ERROR"
        assert "the BMS went silent while current flowed" in (result.steps[0].error or "")
        assert outputs_off(prepared)
        assert 0.45 < prepared.bench.simulator.pack.soc < 0.49


def test_set_soc_charges_when_the_pack_is_below_the_target(tmp_path: Path) -> None:
    # Charging always uses the supply: 45 A, what its 18 kW deliver at ~350 V.
    with sim_run(tmp_path, set_soc(60.0, current_a=45)) as prepared:
        pack = prepared.bench.simulator.pack
        result = run(prepared, close_contactors)
        assert result.outcome == "PASSED", result.steps
        v = values(result)
        assert v["final_soc_pct"] == pytest.approx(60.0, abs=1.0)
        assert 100 * pack.soc == pytest.approx(60.0, abs=2.5)
        assert v["moved_ah"] < 0  # charged
        assert outputs_off(prepared)


def test_set_soc_refuses_to_run_with_the_contactors_open(tmp_path: Path) -> None:
    with sim_run(tmp_path, set_soc(30.0)) as prepared:
        result = run(prepared)
        assert result.outcome == "ERROR"
        assert "close the contactors first" in (result.steps[0].error or "")
        assert outputs_off(prepared)


def test_set_soc_stops_on_a_guard_with_the_outputs_off(tmp_path: Path) -> None:
    with sim_run(tmp_path, set_soc(30.0, guard_min_v=345)) as prepared:
        result = run(prepared, close_contactors)
        assert result.outcome == "ERROR"
        assert "guard tripped" in (result.steps[0].error or "")
        assert outputs_off(prepared)


def test_a_weak_cell_during_the_soc_move_fails_the_pack_with_the_current_off(
    tmp_path: Path,
) -> None:
    """Before #10 set_soc watched only the pack voltage: cell 11 at 20× R0 sat ~1 V below its
    neighbours (under 3 V) for the whole 12 Ah move while the pack stayed inside 250…420 V."""

    def weak_cell(sim: Any) -> None:
        close_contactors(sim)
        sim.pack.high_resistance_cell(10, 20.0)

    with sim_run(tmp_path, set_soc(30.0, write_target=True, **CELL_GUARD)) as prepared:
        sim = prepared.bench.simulator
        shipping_before = sim.bms.nvm.shipping_soc_pct
        result = run(prepared, weak_cell)
        assert result.outcome == "FAILED", result.steps
        guard = next(m for s in result.steps for m in s.measurements if m.name == "cell_guard")
        assert guard.outcome == "FAILED"
        assert guard.value_text is not None and "(index 10)" in guard.value_text
        assert "below 3 V" in guard.value_text
        # the current flowed less than 0.5 s (virtual time) before the guard switched it off
        assert 0 < sim.pack.ah_discharged < 60 * 0.5 / 3600
        assert outputs_off(prepared)
        v = values(result)
        assert v["final_soc_pct"] is None  # never judged: the move did not finish
        assert sim.bms.nvm.shipping_soc_pct == shipping_before  # nothing written
    with sim_run(tmp_path / "healthy", set_soc(30.0, **CELL_GUARD)) as prepared:
        result = run(prepared, close_contactors)
        assert result.outcome == "PASSED", result.steps
        assert texts(result)["cell_guard"] == "ok"


def test_a_soc_move_the_supply_cannot_deliver_is_an_error_with_both_currents_recorded(
    tmp_path: Path,
) -> None:
    # Charging uses the supply, an 18 kW model: 60 A at ~350 V would need 21 kW.
    with sim_run(tmp_path, set_soc(60.0)) as prepared:
        result = run(prepared, close_contactors)
        assert result.outcome == "ERROR"
        assert "could not do the test" in (result.steps[0].error or "")
        v = values(result)
        assert v["requested_current_a"] == 60
        assert v["delivered_current_a"] is not None and 45 < v["delivered_current_a"] < 55
        assert v["final_soc_pct"] is not None  # recorded before the ERROR
        assert outputs_off(prepared)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"guard_cell_min_v": 3.0}, "go together"),
        ({**CELL_GUARD, "guard_period_s": 2.0}, "guard_period_s"),
        ({"min_delivery_fraction": 1.5}, "min_delivery_fraction"),
    ],
)
def test_set_soc_checks_its_guard_and_delivery_parameters(
    changes: dict[str, float], message: str
) -> None:
    from station.steps.eol.set_soc import SetSoc

    with pytest.raises(ValueError, match=message):
        SetSoc.Params(capacity_ah=60, current_a=45, guard_min_v=280, guard_max_v=405, **changes)  # type: ignore[arg-type]


# --- EOL flag ---------------------------------------------------------------------------------


def test_the_eol_flag_is_written_and_read_back_when_everything_passed(tmp_path: Path) -> None:
    with sim_run(tmp_path, IDENTIFY + DTC + EOL_FLAG) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        nvm = prepared.bench.simulator.bms.nvm
        assert nvm.eol_flag == 1
        today = prepared.clock.utcnow().strftime("%Y%m%d")
        record = f"SN1 {result.run_id} {today} EOL-01"  # pack serial and run id link back
        assert nvm.eol_record == record.encode().ljust(96)
        assert values(result)["eol_flag_readback"] == 1
        assert texts(result)["written"] == "true"
        assert texts(result)["eol_record"] == record


def test_the_eol_flag_is_not_written_after_a_failed_step(tmp_path: Path) -> None:
    with sim_run(tmp_path, IMPOSSIBLE_OCV + IDENTIFY + EOL_FLAG) as prepared:
        result = run(prepared)
        assert step(result, "Pack OCV").outcome == "FAILED"
        assert step(result, "Identify").outcome == "PASSED"
        flag = step(result, "EOL flag")
        assert flag.outcome == "FAILED"
        assert texts(result)["written"] == "false"
        assert outcomes(result)["written"] == "FAILED"
        assert values(result)["eol_flag_readback"] == 0
        assert prepared.bench.simulator.bms.nvm.eol_flag == 0
        assert prepared.bench.simulator.bms.nvm.eol_record == b" " * 96


class Answers:
    """A prompter that gives the next of ``answers`` each time it is asked."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)

    def ask(self, request: Any, abort: Any) -> str | None:
        return self.answers.pop(0)


CONFIRM = """
[[setup]]
type = "prompt"
name = "Reworked?"
params = { kind = "confirm", text = "Pack fit to test?" }
limits.answer = { comparator = "BOOL", expected = true }
"""


def test_a_pack_that_passed_and_then_fails_its_retest_ends_with_the_flag_cleared(
    tmp_path: Path,
) -> None:
    """Same virtual pack, same BMS: before #10 the retest left the flag of the first pass."""
    steps = CLEAR_EOL_FLAG + CONFIRM + IDENTIFY + EOL_FLAG + READ_EOL_FLAG
    with sim_run(tmp_path, steps) as prepared:
        prepared.engine.prompter = Answers("yes", "no")
        nvm = prepared.bench.simulator.bms.nvm
        first = run(prepared)
        assert first.outcome == "PASSED", first.steps
        assert nvm.eol_flag == 1
        retest = run(prepared)
        assert retest.outcome == "FAILED"
        assert step(retest, "Reworked?").outcome == "FAILED"
        assert "EOL flag" not in {s.name for s in retest.steps}  # the run stopped early
        assert nvm.eol_flag == 0
        cleared = step(retest, "Clear EOL flag").measurements
        assert {m.name: m.value for m in cleared} == {"eol_flag_before": 1, "eol_flag_readback": 0}
        final = {
            m.name: (m.value, m.value_text)
            for m in step(retest, "EOL flag at the end").measurements
        }
        assert final == {"eol_flag_readback": (0, None), "matches_verdict": (None, "true")}


def test_the_final_flag_is_judged_against_the_verdict_in_cleanup(tmp_path: Path) -> None:
    """No clear at the start: the read in cleanup sees the stale 1 of a failed run."""
    with sim_run(tmp_path, CONFIRM + READ_EOL_FLAG) as prepared:
        prepared.engine.prompter = Answers("no")
        prepared.bench.simulator.bms.nvm.eol_flag = 1  # an earlier pass
        result = run(prepared)
        assert step(result, "EOL flag at the end").outcome == "FAILED"
        assert texts(result)["matches_verdict"] == "false"


def test_station_check_refuses_a_judged_step_after_the_eol_flag(tmp_path: Path) -> None:
    from station.errors import SequenceError
    from station.sequence import load_sequence
    from tests.station.steps.simrun import HEADER

    path = tmp_path / "seq.toml"
    path.write_text(HEADER + EOL_FLAG + DTC + READ_EOL_FLAG, encoding="utf-8")
    with pytest.raises(SequenceError) as err:
        load_sequence(path)
    [problem] = err.value.problems
    assert problem.file == str(path) and problem.where == "main[1] 'DTC read and clear'"
    assert "judged after main[0] 'EOL flag' writes the verdict into the pack" in problem.message
    # the same step before the flag, and a cleanup step after it, are fine
    path.write_text(HEADER + DTC + EOL_FLAG + READ_EOL_FLAG, encoding="utf-8")
    assert load_sequence(path).all_steps()


def test_the_final_flag_is_judged_against_setup_and_main_only(tmp_path: Path) -> None:
    """A cleanup step that fails after a passing main does not make the written flag wrong."""
    failing_cleanup = IMPOSSIBLE_OCV.replace("[[main]]", "[[cleanup]]")
    with sim_run(tmp_path, IDENTIFY + EOL_FLAG + failing_cleanup + READ_EOL_FLAG) as prepared:
        result = run(prepared)
        assert step(result, "Pack OCV").outcome == "FAILED"
        assert step(result, "EOL flag at the end").outcome == "PASSED"
        assert prepared.bench.simulator.bms.nvm.eol_flag == 1


OPEN_DISCHARGED = """
[[main]]
type = "contactors"
name = "Open, discharge verified"
params = { action = "open", discharged_below_v = 60.0, discharge_timeout_s = 30.0 }
limits.state = { comparator = "STREQ", expected = "OPEN" }
limits.fixture_voltage_v = { comparator = "LE", high = 60.0, unit = "V" }
"""


def test_opening_waits_until_the_fixture_reads_touch_safe(tmp_path: Path) -> None:
    with sim_run(tmp_path, OPEN_DISCHARGED) as prepared:
        sim = prepared.bench.simulator
        result = run(prepared, close_contactors)
        assert sim.pack.terminal_voltage() > 300.0  # the bus started at pack voltage
    assert result.outcome == "PASSED", result.steps[0].error
    assert values(result)["fixture_voltage_v"] < 60.0


def test_a_fixture_that_stays_live_after_opening_is_an_error(tmp_path: Path) -> None:
    def welded(sim: Any) -> None:
        close_contactors(sim)
        apply_fault(sim, "contactor_welded")

    with sim_run(tmp_path, OPEN_DISCHARGED) as prepared:
        result = run(prepared, welded)
    assert result.outcome == "ERROR"
    error = result.steps[0].error or ""
    assert "still reads" in error and "do not open the door" in error


def test_discharged_below_v_is_checked_against_the_touch_safe_ceiling() -> None:
    from station.steps.eol.contactors import Contactors

    with pytest.raises(ValueError, match=r"discharged_below_v must be in \(0, 60\] V"):
        Contactors.Params(action="open", discharged_below_v=400.0)
    with pytest.raises(ValueError, match="action"):
        Contactors.Params(action="close", discharged_below_v=30.0)
