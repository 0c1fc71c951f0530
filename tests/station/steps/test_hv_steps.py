"""Insulation resistance, withstand and the contactor steps on the virtual bench.

Everything goes through the real drivers: the Chroma 1905x over SCPI, the interlock I/O over
Modbus RTU, the DMM over SCPI and the BMS over CAN/UDS, in virtual time. After every HV test
the tester must be safe, the HV lamp off, the fixture relays at rest and the run's safe state
confirmed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from drivers.sim.faults import apply_fault
from station.engine import RunResult
from tests.station.steps.simrun import run, sim_run

OPEN_FIRST = """
[[setup]]
type = "contactors"
name = "Open contactors"
params = { action = "open" }
limits.state = { comparator = "STREQ", expected = "OPEN" }
"""


def ir(pole: str, *, dwell_s: float = 5, extra: str = "") -> str:
    return f"""
[[main]]
type = "insulation_resistance"
name = "IR {pole}"
on_fail = "continue"
params = {{ pole = "{pole}", voltage_v = 500, ramp_s = 1, dwell_s = {dwell_s}{extra} }}
limits.riso_ohm = {{ comparator = "GE", low = 100e6 }}
limits.test_voltage_v = {{ comparator = "GE", low = 475 }}
"""


HIPOT_DC = """
[[main]]
type = "withstand"
name = "Hipot DC"
on_fail = "continue"
params = { voltage_v = 1000, ramp_s = 1, dwell_s = 3, leakage_limit_a = 3e-3 }
limits.leakage_a = { comparator = "LE", high = 1e-3 }
limits.breakdown = { comparator = "BOOL", expected = false }
limits.test_voltage_v = { comparator = "GE", low = 950 }
limits.residual_voltage_v = { comparator = "LT", high = 60 }
"""

HIPOT_AC = """
[[main]]
type = "withstand"
name = "Hipot AC"
limits.leakage_a = { comparator = "LE", high = 0.04 }
limits.breakdown = { comparator = "BOOL", expected = false }
limits.test_voltage_v = { comparator = "GE", low = 475 }
[main.params]
ac = true
frequency_hz = 50
voltage_v = 500
ramp_s = 1
dwell_s = 2
leakage_limit_a = 0.05
"""

PRECHARGE = """
[[main]]
type = "contactors_precharge"
name = "Precharge"
on_fail = "continue"
params = { leave_closed = LEAVE }
limits.closed = { comparator = "BOOL", expected = true }
limits.precharge_time_s = { comparator = "LE", high = 0.5 }
limits.bus_voltage_v = { comparator = "GELE", low = 320, high = 403 }
limits.bus_to_pack_ratio = { comparator = "GE", low = 0.95 }
"""

OPENED = """
limits.opened = { comparator = "BOOL", expected = true }
limits.bus_decay_ratio = { comparator = "LE", high = 0.8 }
"""


def precharge(*, leave_closed: bool) -> str:
    text = PRECHARGE.replace("LEAVE", "true" if leave_closed else "false")
    return text if leave_closed else text + OPENED


def contactors(group: str, action: str, expected: str) -> str:
    return f"""
[[{group}]]
type = "contactors"
name = "Contactors {action}"
params = {{ action = "{action}" }}
limits.state = {{ comparator = "STREQ", expected = "{expected}" }}
"""


def fault(name: str, value: str = "") -> Any:
    return lambda sim: apply_fault(sim, name, value)


def step(result: RunResult, name: str) -> Any:
    found = [s for s in result.steps if s.name == name]
    assert found, f"no step {name!r}"
    return found[0]


def measured(result: RunResult, name: str, measurement: str) -> Any:
    found = [m for m in step(result, name).measurements if m.name == measurement]
    assert found, f"{name}: no {measurement}"
    return found[0]


def assert_hv_safe(prepared: Any, result: RunResult) -> None:
    """Tester safe, HV lamp off, fixture relays at rest, the run's safe state confirmed."""
    io = prepared.bench.simulator._io()
    assert prepared.bench.get("insulation_tester").is_safe()
    assert not io.hv_lamp
    assert not io.k1 and not io.k2
    assert result.safe_state_ok, result.safe_state_detail


def test_healthy_pack_passes_ir_on_each_pole_and_a_dc_hipot(tmp_path: Path) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus") + ir("minus") + HIPOT_DC) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        for pole in ("plus", "minus"):
            assert measured(result, f"IR {pole}", "riso_ohm").value > 100e6
            assert measured(result, f"IR {pole}", "residual_voltage_v").value < 60
        net = prepared.bench.simulator.pack.insulation
        leak = measured(result, "Hipot DC", "leakage_a").value
        # U/R_iso plus the absorption current still flowing at the end of the 3 s dwell
        assert leak > 10 * 1000 / net.pole_rc("both")[0]
        assert leak == pytest.approx(net.tester_current("both", 1000, 4.0, 1.0), rel=0.01)
        for name in ("IR plus", "IR minus", "Hipot DC"):
            assert measured(result, name, "contact_ok").value_text == "true"
            assert measured(result, name, "dmm_live_v").value >= 5.0  # the live threshold
        assert measured(result, "Hipot DC", "breakdown").value_text == "false"
        tester = prepared.bench.simulator.instruments["insulation_tester"]
        assert tester.output.runs == 3
        assert_hv_safe(prepared, result)


def test_low_insulation_on_hv_plus_fails_that_pole_only(tmp_path: Path) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus") + ir("minus")) as prepared:
        result = run(prepared, fault("low_insulation_plus", "2e6"))
        assert result.outcome == "FAILED"
        plus = measured(result, "IR plus", "riso_ohm")
        assert plus.outcome == "FAILED" and plus.value == pytest.approx(2e6, rel=0.05)
        assert step(result, "IR minus").outcome == "PASSED"
        assert_hv_safe(prepared, result)


def test_judged_before_the_y_capacitors_settle_a_healthy_pack_reads_low(tmp_path: Path) -> None:
    # τ ≈ 20 s on this pack: judged 0.4 s after the start the reading is still rising.
    early = ir("plus", dwell_s=0.3).replace("ramp_s = 1", "ramp_s = 0.1")
    early = early.replace('name = "IR plus"', 'name = "IR early"')
    steps = (OPEN_FIRST + early + ir("plus")).replace("low = 100e6", "low = 200e6")
    with sim_run(tmp_path, steps) as prepared:
        result = run(prepared)
        early_riso = measured(result, "IR early", "riso_ohm")
        settled_riso = measured(result, "IR plus", "riso_ohm")
        assert early_riso.outcome == "FAILED" and settled_riso.outcome == "PASSED"
        assert early_riso.value < 0.7 * settled_riso.value
        assert_hv_safe(prepared, result)


def test_a_breakdown_fails_the_hipot(tmp_path: Path) -> None:
    with sim_run(tmp_path, OPEN_FIRST + HIPOT_DC) as prepared:
        result = run(prepared, fault("breakdown", "800"))
        assert result.outcome == "FAILED"
        assert measured(result, "Hipot DC", "breakdown").outcome == "FAILED"
        leakage = measured(result, "Hipot DC", "leakage_a")
        assert leakage.outcome == "FAILED"  # no reading after an arc: it can never pass
        assert_hv_safe(prepared, result)


def test_an_ac_hipot_sees_the_y_capacitors(tmp_path: Path) -> None:
    with sim_run(tmp_path, OPEN_FIRST + HIPOT_AC) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        c_y = prepared.bench.simulator.pack.insulation.pole_rc("both")[1]
        capacitive = 2 * math.pi * 50 * c_y * 500
        assert measured(result, "Hipot AC", "leakage_a").value > capacitive
        assert_hv_safe(prepared, result)


def test_the_door_opening_mid_test_aborts_the_run_and_leaves_it_safe(tmp_path: Path) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus") + ir("minus")) as prepared:
        result = run(prepared, fault("door_opened_mid_test"))
        assert result.outcome == "ABORTED"
        aborted = step(result, "IR plus")
        assert aborted.outcome == "ABORTED" and "door open" in (aborted.error or "")
        assert [s.name for s in result.steps] == ["Open contactors", "IR plus"]
        assert_hv_safe(prepared, result)


def test_an_operator_abort_mid_test_stops_the_tester_and_leaves_it_safe(tmp_path: Path) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus")) as prepared:
        output = prepared.bench.simulator.instruments["insulation_tester"].output
        start = output.start

        def abort_after_start(*args: Any, **kwargs: Any) -> None:
            start(*args, **kwargs)
            prepared.engine.request_abort("operator abort")

        output.start = abort_after_start
        result = run(prepared)
        assert result.outcome == "ABORTED"
        assert step(result, "IR plus").outcome == "ABORTED"
        outcome = output.outcome()
        assert outcome is not None and outcome.ending == "STOPPED"  # cut by stop(), not run out
        assert_hv_safe(prepared, result)


def test_a_pressed_estop_refuses_the_test_before_any_hv(tmp_path: Path) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus")) as prepared:
        result = run(prepared, fault("estop_pressed"))
        assert result.outcome == "ABORTED"
        assert "e-stop pressed" in (step(result, "IR plus").error or "")
        assert prepared.bench.simulator.instruments["insulation_tester"].output.runs == 0
        assert_hv_safe(prepared, result)


def test_an_ir_test_with_the_contactors_closed_is_refused(tmp_path: Path) -> None:
    with sim_run(tmp_path, precharge(leave_closed=True) + ir("plus") + OPEN_FIRST) as prepared:
        result = run(prepared)
        assert result.outcome == "ERROR"
        assert "contactors CLOSED" in (step(result, "IR plus").error or "")
        assert prepared.bench.simulator.instruments["insulation_tester"].output.runs == 0
        assert_hv_safe(prepared, result)


def test_a_judge_delay_on_the_chroma_is_refused_and_leaves_the_fixture_at_rest(
    tmp_path: Path,
) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus", extra=", judge_delay_s = 2")) as prepared:
        result = run(prepared)
        assert result.outcome == "ERROR"
        assert "judge-delay" in (step(result, "IR plus").error or "")
        assert_hv_safe(prepared, result)


def test_precharge_closes_times_and_opens_again(tmp_path: Path) -> None:
    with sim_run(tmp_path, precharge(leave_closed=False)) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        assert 0 < measured(result, "Precharge", "precharge_time_s").value < 0.5
        assert prepared.bench.simulator.pack.contactor_state == "open"
        assert result.safe_state_ok, result.safe_state_detail


@pytest.mark.parametrize("name", ["contactor_wont_close", "precharge_timeout"])
def test_contactors_that_do_not_close_fail_the_pack(tmp_path: Path, name: str) -> None:
    with sim_run(tmp_path, precharge(leave_closed=True)) as prepared:
        result = run(prepared, fault(name))
        assert result.outcome == "FAILED"  # the BMS's NRC 0x22 is the pack's failure
        assert measured(result, "Precharge", "closed").outcome == "FAILED"
        assert math.isnan(measured(result, "Precharge", "precharge_time_s").value)
        assert prepared.bench.simulator.pack.contactor_state == "open"
        assert result.safe_state_ok, result.safe_state_detail


def test_a_welded_contactor_fails_opened_and_the_safe_state_says_so(tmp_path: Path) -> None:
    with sim_run(tmp_path, precharge(leave_closed=False)) as prepared:
        result = run(prepared, fault("contactor_welded"))
        assert measured(result, "Precharge", "closed").outcome == "PASSED"
        assert measured(result, "Precharge", "opened").outcome == "FAILED"
        assert measured(result, "Precharge", "bus_decay_ratio").outcome == "FAILED"
        # the engine cannot confirm the pack safe: the run is an ERROR, never a PASS
        assert result.outcome == "ERROR"
        assert not result.safe_state_ok and "WELDED" in result.safe_state_detail


def test_contactors_close_needs_the_door_but_open_in_cleanup_does_not(tmp_path: Path) -> None:
    steps = contactors("setup", "close", "CLOSED") + contactors("cleanup", "open", "OPEN")
    with sim_run(tmp_path, steps) as prepared:
        result = run(prepared, lambda sim: sim._io().open_door())
        assert result.outcome == "ABORTED"
        assert "door open" in (step(result, "Contactors close").error or "")
        assert step(result, "Contactors open").outcome == "PASSED"


def test_contactors_close_then_open_in_cleanup(tmp_path: Path) -> None:
    steps = contactors("setup", "close", "CLOSED") + contactors("cleanup", "open", "OPEN")
    with sim_run(tmp_path, steps) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        assert [measured(result, s.name, "state").value_text for s in result.steps] == [
            "CLOSED",
            "OPEN",
        ]
        assert prepared.bench.simulator.pack.contactor_state == "open"


# --- contact proof, live-terminal guard, DMM proof (issue #9) -----------------------------


def test_an_open_return_lead_is_an_error_on_ir_never_an_over_range_pass(tmp_path: Path) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus")) as prepared:
        result = run(prepared, fault("ir_lead_open"))
        assert result.outcome == "ERROR"
        failed = step(result, "IR plus")
        assert failed.outcome == "ERROR" and "check the test leads" in (failed.error or "")
        assert measured(result, "IR plus", "contact_ok").value_text == "false"
        assert not [m for m in failed.measurements if m.name == "riso_ohm"]
        # The contact proof needs the test voltage; the DMM was proven before it, saw
        # nothing (the pack was never energised), was proven again after the tester
        # stopped, and confirmed the discharge at once: lamp off, relays at rest.
        text = transcript(tmp_path)
        assert text.index(PROOF_OFF) < text.index("SAFE:STAR")
        assert text.count(PROOF_ON) == 2
        assert text.index("SAFE:STOP", text.index("SAFE:STAR")) < text.rindex(PROOF_ON)
        assert measured(result, "IR plus", "residual_voltage_v").value < 5
        assert_hv_safe(prepared, result)


def test_an_open_return_lead_is_an_error_on_the_hipot(tmp_path: Path) -> None:
    with sim_run(tmp_path, OPEN_FIRST + HIPOT_DC) as prepared:
        result = run(prepared, fault("ir_lead_open"))
        assert result.outcome == "ERROR"
        failed = step(result, "Hipot DC")
        assert "check the test leads" in (failed.error or "")
        assert measured(result, "Hipot DC", "contact_ok").value_text == "false"


def test_the_chroma_is_told_the_contact_limits(tmp_path: Path) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus") + HIPOT_DC) as prepared:
        tester = prepared.bench.simulator.instruments["insulation_tester"]
        programs: list[Any] = []
        start = tester.output.start

        def spy(*args: Any, **kwargs: Any) -> None:
            start(*args, **kwargs)
            programs.append(tester.output.program)

        tester.output.start = spy
        assert run(prepared).outcome == "PASSED"
        ir_program, hipot_program = programs
        assert ir_program.high_limit == 10e9  # the upper IR judgement is never off
        assert hipot_program.low_limit == 1e-6  # nor the withstand's lower current limit


def transcript(tmp_path: Path) -> str:
    [log] = tmp_path.glob("attachments/*/instruments.log")
    return log.read_text(encoding="utf-8")


def assert_tester_never_programmed(text: str) -> None:
    """The Chroma 1905x's traffic is in the transcript, but no test was set up or started."""
    assert "SAFE:STAT?" in text
    assert "SAFE:STEP1" not in text and "SAFE:STAR" not in text


PROOF_ON, PROOF_OFF = "> 01 05 00 05 FF 00", "> 01 05 00 05 00 00"  # coil 5 requests


def test_the_dmm_is_proven_on_the_fixture_reference_before_any_hv_command(
    tmp_path: Path,
) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus") + HIPOT_DC) as prepared:
        result = run(prepared)
        assert result.outcome == "PASSED", result.steps
        for name in ("IR plus", "Hipot DC"):
            assert measured(result, name, "dmm_proof_v").value == pytest.approx(24.0, abs=0.01)
            assert measured(result, name, "dmm_live_v").value >= 5  # the last leg still runs
        text = transcript(tmp_path)
        # relay on, relay off, then the tester programmed: per test, in that order
        assert text.count(PROOF_ON) == 2 and text.count(PROOF_OFF) == 2
        first_test = text.index("SAFE:STEP1")
        assert text.index(PROOF_ON) < text.index(PROOF_OFF) < first_test
        assert not prepared.bench.simulator._io().dmm_proof
        assert_hv_safe(prepared, result)


def test_an_open_dmm_lead_is_an_error_before_any_hv_command(tmp_path: Path) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus")) as prepared:
        result = run(prepared, fault("dmm_lead_open"))
        assert result.outcome == "ERROR"
        error = step(result, "IR plus").error or ""
        assert "DMM not proven before the HV test" in error and "no HV was applied" in error
        assert "check the DMM leads" in error
        assert abs(measured(result, "IR plus", "dmm_proof_v").value) < 0.01
        assert prepared.bench.simulator.instruments["insulation_tester"].output.runs == 0
        assert not prepared.bench.simulator._io().dmm_proof  # the relay is off again
        assert_tester_never_programmed(transcript(tmp_path))
        assert_hv_safe(prepared, result)


def test_without_the_relay_an_open_dmm_lead_is_found_only_after_energising(
    tmp_path: Path,
) -> None:
    steps = OPEN_FIRST + ir("plus", extra=', dmm_proof = "test_voltage"')
    with sim_run(tmp_path, steps) as prepared:
        result = run(prepared, fault("dmm_lead_open"))
        assert result.outcome == "ERROR"
        failed = step(result, "IR plus")
        assert "DMM never saw the test voltage" in (failed.error or "")
        assert "proof relay" not in (failed.error or "")  # there is none to speak of
        assert measured(result, "IR plus", "dmm_live_v").value < 1.0
        assert not [m for m in failed.measurements if m.name == "dmm_proof_v"]
        assert prepared.bench.simulator._io().hv_lamp  # discharge not confirmed by the DMM
        assert prepared.bench.get("insulation_tester").is_safe()
        text = transcript(tmp_path)
        assert "SAFE:STAR" in text and PROOF_ON not in text  # energised, never proven first


def test_an_abort_during_the_dmm_proof_switches_the_relay_off_and_sends_no_hv(
    tmp_path: Path,
) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus")) as prepared:
        io = prepared.bench.get("interlocks")
        set_dmm_proof = io.set_dmm_proof

        def abort_once_on(on: bool) -> None:
            set_dmm_proof(on)
            if on:
                prepared.engine.request_abort("operator abort")

        io.set_dmm_proof = abort_once_on
        result = run(prepared)
        assert result.outcome == "ABORTED"
        assert step(result, "IR plus").outcome == "ABORTED"
        assert not prepared.bench.simulator._io().dmm_proof
        assert prepared.bench.simulator.instruments["insulation_tester"].output.runs == 0
        assert_hv_safe(prepared, result)


def test_a_dmm_that_fails_during_the_proof_leaves_the_relay_off_and_sends_no_hv(
    tmp_path: Path,
) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus")) as prepared:
        io = prepared.bench.get("interlocks")
        set_dmm_proof = io.set_dmm_proof
        server = prepared.bench.simulator.servers["dmm"]

        def dmm_dies_on(on: bool) -> None:
            set_dmm_proof(on)
            server.not_answering = on  # the DMM stops answering just as the relay closes

        io.set_dmm_proof = dmm_dies_on
        result = run(prepared)
        assert result.outcome == "ERROR"
        assert step(result, "IR plus").outcome == "ERROR"
        assert not prepared.bench.simulator._io().dmm_proof
        assert prepared.bench.simulator.instruments["insulation_tester"].output.runs == 0


class WithoutProofRelay:
    """Interlocks whose fixture has no DMM proof relay (delegates everything else)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name.startswith("set_dmm_proof") or name.startswith("dmm_proof"):
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_relay_proof_on_interlocks_without_the_relay_is_refused_before_any_hv(
    tmp_path: Path,
) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus")) as prepared:
        bench = prepared.bench
        bench.instruments["interlocks"] = WithoutProofRelay(bench.instruments["interlocks"])
        result = run(prepared)
        assert result.outcome == "ERROR"
        error = step(result, "IR plus").error or ""
        assert 'dmm_proof = "relay" needs a DMM proof relay' in error
        assert (
            'set dmm_proof = "test_voltage"' in error and "after the fixture is energised" in error
        )
        assert bench.simulator.instruments["insulation_tester"].output.runs == 0


def test_a_dmm_whose_probe_points_miss_the_hv_fixture_is_an_error(tmp_path: Path) -> None:
    """Proven good on the relay before and after, yet blind to the test voltage."""
    with sim_run(tmp_path, OPEN_FIRST + ir("plus")) as prepared:
        sim = prepared.bench.simulator
        io_twin, dmm_twin = sim._io(), sim.instruments["dmm"]
        dmm_twin.fixture_probe = lambda: 24.0 if io_twin.dmm_proof else 0.0
        result = run(prepared)
        assert result.outcome == "ERROR"
        error = step(result, "IR plus").error or ""
        assert "probe points are not on the HV fixture" in error, error
        assert measured(result, "IR plus", "contact_ok").value_text == "true"
        assert_hv_safe(prepared, result)  # proven again after the test: discharge confirmed


BMS_ONLINE = """
[[setup]]
type = "can_check"
name = "CAN"
params = { window_s = 1.0 }
limits.missing_messages = { comparator = "LOG" }
limits.max_period_error_pct = { comparator = "LOG" }
limits.decode_errors = { comparator = "LOG" }
limits.alive_counter_errors = { comparator = "LOG" }
"""


def test_a_low_voltage_pack_live_behind_a_lying_bms_is_refused_before_any_hv(
    tmp_path: Path,
) -> None:
    with sim_run(tmp_path, BMS_ONLINE + ir("plus"), pack="lfp16s") as prepared:
        result = run(prepared, fault("bms_reports_contactors_open"))
        assert result.outcome == "ERROR"
        error = step(result, "IR plus").error or ""
        assert "live" in error and "refused" in error, error
        assert prepared.bench.simulator.instruments["insulation_tester"].output.runs == 0


def test_the_live_threshold_follows_the_pack(tmp_path: Path) -> None:
    from station.steps.eol.insulation import InsulationResistance, live_threshold_v

    params = InsulationResistance.Params(voltage_v=500, dwell_s=5, pack_min_voltage_v=40)
    assert live_threshold_v(params) == pytest.approx(4.0)  # 10 % of a 16S LFP's minimum
    high = InsulationResistance.Params(voltage_v=500, dwell_s=5, pack_min_voltage_v=240)
    assert live_threshold_v(high) == 5.0
    with pytest.raises(ValueError, match="live_threshold_v"):
        InsulationResistance.Params(voltage_v=500, dwell_s=5, live_threshold_v=60)


def test_settled_ir_is_judged_before_the_maximum_dwell(tmp_path: Path) -> None:
    settling = ir("plus", dwell_s=60, extra=", settle_rate_pct_per_s = 0.2")
    with sim_run(tmp_path, OPEN_FIRST + settling) as prepared:
        net = prepared.bench.simulator.pack.insulation
        result = run(prepared, fault("low_insulation_plus", "110e6"))
        assert result.outcome == "PASSED", result.steps
        riso = measured(result, "IR plus", "riso_ohm").value
        assert 100e6 < riso < 110e6
        tester = prepared.bench.simulator.instruments["insulation_tester"]
        outcome = tester.output.outcome()
        assert outcome is not None and outcome.ending == "STOPPED"  # judged early, then stopped
        assert outcome.end_s < 60
        assert net.r_plus == 110e6
        assert_hv_safe(prepared, result)


KIKUSUI_CONFIG = """
[station]
id = "TEST"
[instruments.insulation_tester]
model = "kikusui.tos9300"
resource = "TCPIP0::192.0.2.1::5025::SOCKET"
serial = "TOS1"
cal_due = 2030-01-01
[interlocks]
required_for_hv = false
"""


def kikusui_run(tmp_path: Path, steps: str, before: Any = None) -> tuple[RunResult, Any]:
    from station.runner import RunOptions, prepare_run
    from tests.station.steps.simrun import HEADER

    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "seq.toml").write_text(HEADER + steps, encoding="utf-8")
    (tmp_path / "station.toml").write_text(KIKUSUI_CONFIG, encoding="utf-8")
    options = RunOptions(
        sequence=tmp_path / "seq.toml",
        config=tmp_path / "station.toml",
        db=tmp_path / "r.db",
        sim=True,
        pack="nmc96s",
    )
    prepared = prepare_run(options)
    try:
        twin = prepared.bench.simulator.instruments["insulation_tester"]
        return run(prepared, before), twin
    finally:
        prepared.close()


def test_the_kikusui_proves_contact_too(tmp_path: Path) -> None:
    result, twin = kikusui_run(tmp_path / "ok", OPEN_FIRST + ir("plus") + HIPOT_DC)
    assert type(twin).__name__ == "Tos9300Twin"
    assert result.outcome == "PASSED", result.steps
    result, _ = kikusui_run(tmp_path / "open", OPEN_FIRST + ir("plus"), fault("ir_lead_open"))
    assert result.outcome == "ERROR"
    assert "check the test leads" in (step(result, "IR plus").error or "")


def test_settling_on_a_tester_without_a_live_reading_is_refused_before_hv(tmp_path: Path) -> None:
    settling = ir("plus", dwell_s=60, extra=", settle_rate_pct_per_s = 0.2")
    result, twin = kikusui_run(tmp_path, OPEN_FIRST + settling)
    assert result.outcome == "ERROR"
    assert "live reading" in (step(result, "IR plus").error or "")
    assert twin.output.runs == 0


def test_an_over_range_pass_from_a_tester_that_ignores_its_upper_limit_is_still_an_error(
    tmp_path: Path,
) -> None:
    with sim_run(tmp_path, OPEN_FIRST + ir("plus")) as prepared:
        output = prepared.bench.simulator.instruments["insulation_tester"].output
        start = output.start

        def without_upper_limit(*args: Any, **kwargs: Any) -> None:
            start(*args, **{**kwargs, "high_limit": 0.0})

        output.start = without_upper_limit
        result = run(prepared, fault("ir_lead_open"))
        outcome = output.outcome()
        assert outcome is not None and outcome.ending == "PASS"  # the tester passed it …
        assert result.outcome == "ERROR"  # … the station does not
        assert "no contact proven" in (step(result, "IR plus").error or "")
