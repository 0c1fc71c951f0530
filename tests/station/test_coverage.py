"""``station coverage``: the catalogue, how cases are planned and judged, and small real runs.

The full coverage of the reference sequences takes minutes (about 40 runs each); CI runs a
reduced set through the real command: the healthy baseline and a few faults on the virtual
bench, plus a deliberately weak sequence that must show its escapes and exit non-zero.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.sim.faults import FAULTS
from station.cli import main
from station.coverage import Case, classify, pack_for, plan, serial_for, table
from station.coverage_catalogue import CATALOGUE, Catch, Entry, FromLimit
from station.errors import StationError
from station.events import Measurement
from station.results import RunResult, StepResult
from station.runner import load_plugins
from station.sequence import Sequence, load_sequence

ROOT = Path(__file__).resolve().parent.parent.parent
NMC = ROOT / "sequences" / "nmc96s" / "eol.toml"
LFP = ROOT / "sequences" / "lfp16s" / "eol.toml"

WEAK = """
[sequence]
name = "weak"
version = "0.1"
products = ["NM96-A"]
serial_pattern = "^NM96[A-Z][0-9]{7}$"

[[setup]]
type = "identify"
name = "BMS identity"
params = { dids = ["sw_version"] }
limits.sw_version = { comparator = "STREQ", expected = "2.4.1" }

[[main]]
type = "dtc"
name = "DTCs"
params = { settle_s = 1 }
limits.dtc_count_before = { comparator = "LOG" }
limits.dtc_count_after = { comparator = "EQ", nominal = 0 }
"""


def loaded(path: Path) -> Sequence:
    load_plugins(())
    return load_sequence(path)


def test_every_catalogue_fault_is_a_virtual_bench_fault_and_every_fault_is_covered() -> None:
    in_catalogue = {entry.fault for entry in CATALOGUE}
    assert in_catalogue <= set(FAULTS)
    assert set(FAULTS) - in_catalogue == set()  # a new fault needs a catalogue entry


@pytest.mark.parametrize(("path", "pack"), [(NMC, "nmc96s"), (LFP, "lfp16s")])
def test_the_reference_sequences_plan_at_least_30_cases(path: Path, pack: str) -> None:
    sequence = loaded(path)
    assert pack_for(sequence, None) == pack
    cases = plan(sequence, pack=pack, part=sequence.products[0])
    assert len(cases) >= 30
    assert cases[0].kind == "baseline" and cases[0].fault == ""
    assert {c.kind for c in cases} == {"baseline", "bad", "good"}
    last = "95" if pack == "nmc96s" else "15"
    assert Case("weak_cell", last, "bad", cases[8].catches, "declared") in cases


def test_insulation_magnitudes_derive_from_the_sequences_own_limit() -> None:
    sequence = loaded(NMC)
    cases = plan(sequence, pack="nmc96s", part="NM96-A", faults=["low_insulation_plus"])
    bad, good = cases[1:]
    assert (bad.value, bad.kind, good.value, good.kind) == ("9e+07", "bad", "1.1e+08", "good")
    assert "'IR HV+ to chassis' riso_ohm low 1e+08" in bad.source
    breakdown = plan(sequence, pack="nmc96s", part="NM96-A", faults=["breakdown"])[1:]
    assert [c.value for c in breakdown] == ["1350", "1650"]


def test_derived_magnitudes_take_the_strictest_bound_for_bad_and_the_loosest_for_good(
    tmp_path: Path,
) -> None:
    # IR HV- measures both poles with a 200 MΩ limit written in MOhm; IR HV+ keeps 100 MΩ.
    text = NMC.read_text(encoding="utf-8")
    text = text.replace('params = { pole = "minus"', 'params = { pole = "both"')
    ir_minus = text.index('name = "IR HV- to chassis"')
    text = text[:ir_minus] + text[ir_minus:].replace(
        "low = 100e6 }", 'low = 200, unit = "MOhm" }', 1
    )
    (tmp_path / "limits").mkdir()
    table = NMC.parent / "limits" / "nm96-a.toml"
    (tmp_path / "limits" / "nm96-a.toml").write_text(table.read_text("utf-8"), "utf-8")
    path = tmp_path / "eol.toml"
    path.write_text(text, "utf-8")
    sequence = loaded(path)
    cases = plan(sequence, pack="nmc96s", part="NM96-A", faults=["low_insulation_plus"])
    assert [c.value for c in cases[1:]] == ["9e+07", "2.2e+08"]
    assert "(good: 'IR HV- to chassis' riso_ohm low 2e+08)" in cases[1].source
    entry = Entry(
        "low_insulation_plus",
        (Catch("insulation_resistance", "riso_ohm"),),
        derive=FromLimit("insulation_resistance", "riso_ohm", "low", 0.5, 2.0),
    )
    custom = plan(
        sequence, pack="nmc96s", part="NM96-A", faults=["low_insulation_plus"], catalogue=[entry]
    )
    assert [c.value for c in custom[1:]] == ["5e+07", "4e+08"]


def test_a_serial_is_made_up_from_the_pattern() -> None:
    assert serial_for(loaded(NMC)) == "NM96A0000000"
    assert serial_for(loaded(LFP)) == "LF16A0000000"


def test_an_unknown_fault_filter_says_what_the_catalogue_has() -> None:
    with pytest.raises(StationError, match="--fault hvil_opn: not in the coverage catalogue"):
        plan(loaded(NMC), pack="nmc96s", part="NM96-A", faults=["hvil_opn"])


def step(
    name: str, outcome: str, failed: tuple[str, ...] = (), error: str | None = None
) -> StepResult:
    measurements = [
        Measurement(run_id="r", step_id="s", name=m, unit="", comparator="BOOL", outcome="FAILED")
        for m in failed
    ]
    return StepResult("main", name, "", outcome, error, measurements)


def run_of(outcome: str, *steps: StepResult) -> RunResult:
    return RunResult("r", outcome, "NM96A0000000", "NM96-A", list(steps), True, "")


HVIL = Case("hvil_open", "", "bad", (Catch("hvil", "closed_at_rest"),), "declared")


def test_a_bad_case_caught_by_the_expected_step_and_measurement_is_caught() -> None:
    sequence = loaded(NMC)
    result = run_of(
        "FAILED", step("BMS identity", "PASSED"), step("HVIL", "FAILED", ("closed_at_rest",))
    )
    assert classify(HVIL, result, sequence)[:2] == ("caught", "HVIL: FAILED closed_at_rest")


def test_a_bad_case_that_passes_or_fails_elsewhere_is_an_escape() -> None:
    sequence = loaded(NMC)
    passed = run_of("PASSED", step("HVIL", "PASSED"))
    assert classify(HVIL, passed, sequence)[0::2] == ("ESCAPE", "the pack PASSED")
    wrong_measurement = run_of("FAILED", step("HVIL", "FAILED", ("detect_time_s",)))
    assert classify(HVIL, wrong_measurement, sequence)[0] == "ESCAPE"
    wrong_step = run_of("ERROR", step("DTCs", "ERROR", error="no answer"))
    verdict, caught_by, detail = classify(HVIL, wrong_step, sequence)
    assert (verdict, caught_by, detail) == ("ESCAPE", "DTCs: ERROR", "wrong step: no answer")


def test_a_good_case_that_does_not_pass_is_a_false_fail() -> None:
    sequence = loaded(NMC)
    good = Case("low_insulation_plus", "1.1e+08", "good", (), "limit")
    failing = run_of("FAILED", step("IR HV+ to chassis", "FAILED", ("riso_ohm",)))
    assert classify(good, failing, sequence)[0] == "FALSE FAIL"
    assert classify(good, run_of("PASSED"), sequence)[0] == "ok"


def test_a_catch_by_role_needs_the_step_to_use_that_instrument() -> None:
    sequence = loaded(NMC)
    dmm = Case("not_answering", "dmm", "bad", (Catch(None, outcome="ERROR", role="dmm"),), "")
    ir = run_of("ERROR", step("IR HV+ to chassis", "ERROR", error="timeout"))
    assert classify(dmm, ir, sequence)[0] == "caught"
    hvil = run_of("ERROR", step("HVIL", "ERROR", error="timeout"))
    assert classify(dmm, hvil, sequence)[0] == "ESCAPE"


def test_the_table_ends_with_the_summary_line() -> None:
    from station.coverage import CaseResult

    ok = CaseResult(Case("", "", "baseline", (), "healthy"), "PASSED", "", "ok", "", 1.0, True)
    escape = CaseResult(HVIL, "PASSED", "", "ESCAPE", "the pack PASSED", 1.0, True)
    lines = table([ok, escape])
    assert lines[0].split() == [
        "fault",
        "magnitude",
        "case",
        "expected",
        "verdict",
        "run",
        "caught",
        "by",
        "detail",
    ]
    assert lines[-1] == "coverage: 2 cases, 1 escapes, 0 false fails"


# -- real runs on the virtual bench (the reduced CI set) ----------------------------------


def test_station_coverage_proves_a_few_faults_of_the_96s_reference(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["coverage", str(NMC), "--fault", "hvil_open", "--fault", "wrong_sw_version", "--jobs", "2"]
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "coverage: 3 cases, 0 escapes, 0 false fails"
    rows = {
        line.split()[0]: line
        for line in lines
        if line.split() and line.split()[0] in ("(none)", "hvil_open", "wrong_sw_version")
    }
    assert "ok" in rows["(none)"].split()
    assert (
        "caught" in rows["hvil_open"].split() and "HVIL: FAILED closed_at_rest" in rows["hvil_open"]
    )
    assert "BMS identity: FAILED sw_version" in rows["wrong_sw_version"]
    assert code == 0


def test_a_weak_sequence_shows_its_escapes_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "weak.toml"
    path.write_text(WEAK, encoding="utf-8")
    code = main(["coverage", str(path), "--fault", "hvil_open", "--fault", "low_insulation_plus"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[-1] == "coverage: 3 cases, 2 escapes, 0 false fails"
    escapes = [line for line in lines if " ESCAPE " in line]
    assert [line.split()[0] for line in escapes] == ["low_insulation_plus", "hvil_open"]
    # nothing looks at insulation: it passes; the broken HVIL leaves a DTC that the DTC
    # step fails on, which is the wrong step: the HVIL itself was never tested
    assert "the pack PASSED" in escapes[0]
    assert "DTCs: FAILED dtc_count_after" in escapes[1] and "wrong step:" in escapes[1]
    assert "low_insulation_plus: declared: no step to derive from" in out
    assert code == 1


def test_a_case_that_cannot_run_is_never_taken_for_a_catch() -> None:
    from station.coverage import Job, run_case

    case = Case("weak_cell", "x", "bad", (Catch(None, outcome="ERROR"),), "declared")
    result = run_case(Job(case, NMC, "nmc96s", "NM96-A", "NM96A0000000", 1))
    assert (result.verdict, result.outcome) == ("ESCAPE", "ERROR")
    assert result.detail.startswith("not run: --fault weak_cell=x: INDEX must be a whole number")


def test_a_nomtol_or_two_sided_limit_gives_its_bound_too(tmp_path: Path) -> None:
    text = NMC.read_text(encoding="utf-8").replace(
        'limits.riso_ohm = { comparator = "GE", low = 100e6 }',
        'limits.riso_ohm = { comparator = "NOMTOL", nominal = 5e8, tolerance = 4e8 }',
        1,
    )
    (tmp_path / "limits").mkdir()
    table = NMC.parent / "limits" / "nm96-a.toml"
    (tmp_path / "limits" / "nm96-a.toml").write_text(table.read_text("utf-8"), "utf-8")
    path = tmp_path / "eol.toml"
    path.write_text(text, "utf-8")
    cases = plan(loaded(path), pack="nmc96s", part="NM96-A", faults=["low_insulation_plus"])
    assert [c.value for c in cases[1:]] == ["9e+07", "1.1e+08"]
