"""`station results export`: OpenHTF-style JSON, CSV per measurement, JUnit XML for CI."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from station.cli import main
from tests.station.recorded_runs import sample_db

# The common JUnit schema (tests/data/junit.xsd, written for this project from the
# format's published rules) decides what a JUnit export may contain.
JUNIT_XSD = Path(__file__).resolve().parents[1] / "data" / "junit.xsd"


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(JUNIT_XSD)


def schema_problems(schema: xmlschema.XMLSchema, text: str) -> list[str]:
    """Where ``text`` breaks the JUnit schema, one line per error ([] when it is valid)."""
    return [f"{error.path}: {error.reason}" for error in schema.iter_errors(text)]


def count_mismatches(text: str) -> list[str]:
    """A testsuite's counts that differ from its testcases ([] when they all agree).

    Not a rule of the schema (it only types the counts) but what every dashboard relies on.
    """
    problems = []
    for suite in ET.fromstring(text).iter("testsuite"):
        cases = suite.findall("testcase")
        counted = {
            "tests": len(cases),
            "failures": sum(c.find("failure") is not None for c in cases),
            "errors": sum(c.find("error") is not None for c in cases),
            "skipped": sum(c.find("skipped") is not None for c in cases),
        }
        for key, value in counted.items():
            if suite.get(key) is not None and suite.get(key) != str(value):
                problems.append(f"testsuite@{key}={suite.get(key)} but {value} counted")
    return problems


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return sample_db(tmp_path / "r.db")


def export(db: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["results", "--db", str(db), "export", *args]) == 0
    return capsys.readouterr().out


def test_junit_export_validates_against_the_junit_schema(db, capsys, junit_schema) -> None:
    # The recorded runs: PASSED with a SKIPPED step, FAILED with a measurement out of its
    # limits (and a SKIPPED step), ERROR with a step that timed out.
    text = export(db, capsys, "--format", "junit")
    root = ET.fromstring(text)
    outcomes = [p.get("value") for p in root.iter("property") if p.get("name") == "outcome"]
    assert outcomes == ["PASSED", "FAILED", "ERROR"]
    verdicts = {v.tag for case in root.iter("testcase") for v in case}
    assert verdicts == {"failure", "error", "skipped", "system-out"}
    assert schema_problems(junit_schema, text) == []
    assert count_mismatches(text) == []


def test_junit_has_a_suite_per_run_and_a_case_per_step(db, capsys) -> None:
    text = export(db, capsys, "--format", "junit")
    root = ET.fromstring(text)
    suites = root.findall("testsuite")
    assert [s.get("id") for s in suites] == ["run-0001-aaaa", "run-0002-bbbb", "run-0003-cccc"]
    passed, failed, errored = suites
    assert [c.get("name") for c in passed.findall("testcase")] == ["Identify", "Pack OCV", "Heater"]
    assert passed.get("failures") == "0" and passed.get("skipped") == "1"
    failure = failed.find("testcase[@name='Pack OCV']/failure")
    assert failure is not None and failure.get("message") == "out of limits: voltage"
    assert "voltage = 420.0 V [300 <= x <= 400] FAILED" in (failure.text or "")
    error = errored.find("testcase[@name='IR']/error")
    assert error is not None and error.get("message") == "tester timed out"
    assert root.get("tests") == "10" and root.get("failures") == "1" and root.get("errors") == "1"
    chain = passed.find("properties/property[@name='chain_sha256']")
    assert chain is not None and len(chain.get("value", "")) == 64


def test_the_schema_refuses_a_broken_junit_document(junit_schema) -> None:
    good = (
        "<testsuites><testsuite name='SN seq' tests='1' failures='1' time='1.5'>"
        "<testcase name='a' time='1.5'><failure message='m' type='FAILED'>x</failure>"
        "<system-out>v</system-out></testcase></testsuite></testsuites>"
    )
    assert schema_problems(junit_schema, good) == []
    broken = {
        "a testcase without a name": good.replace("<testcase name='a'", "<testcase"),
        "a testsuite without tests": good.replace(" tests='1'", ""),
        "a time that is not seconds": good.replace("time='1.5'>", "time='1 s'>", 1),
        "an element the format does not know": good.replace("</failure>", "</failure><note/>"),
        "an output before the verdict": good.replace(
            "<failure message='m' type='FAILED'>x</failure><system-out>v</system-out>",
            "<system-out>v</system-out><failure message='m' type='FAILED'>x</failure>",
        ),
        "a count that is not a number": good.replace("failures='1'", "failures='one'"),
        "a zoned timestamp": good.replace(" time=", " timestamp='2025-03-01T08:00:00Z' time=", 1),
        "a root that is not testsuites": good.replace("testsuites", "results"),
    }
    for what, text in broken.items():
        assert schema_problems(junit_schema, text), f"the schema accepted {what}"


def test_count_mismatches_are_found() -> None:
    text = (
        "<testsuites><testsuite name='x' tests='2' failures='0' errors='0'>"
        "<testcase name='a'><failure/></testcase></testsuite></testsuites>"
    )
    assert count_mismatches(text) == [
        "testsuite@tests=2 but 1 counted",
        "testsuite@failures=0 but 1 counted",
    ]


def test_json_follows_openhtf_test_record_shape(db, capsys) -> None:
    records = json.loads(export(db, capsys, "--format", "json", "--serial", "NM96A0000002"))
    assert [r["eol_station"]["run_id"] for r in records] == ["run-0002-bbbb", "run-0003-cccc"]
    failed = records[0]
    assert failed["dut_id"] == "NM96A0000002" and failed["outcome"] == "FAIL"
    assert failed["start_time_millis"] == 1740906000000
    phase = failed["phases"][1]
    assert phase["name"] == "Pack OCV" and phase["outcome"] == "FAIL"
    assert phase["measurements"]["voltage"] == {
        "name": "voltage", "outcome": "FAIL", "measured_value": 420.0, "units": "V",
        "validators": ["300 <= x <= 400"], "marginal": False, "docstring": "",
    }  # fmt: skip
    assert failed["phases"][2]["outcome"] == "SKIP"
    assert records[1]["outcome"] == "ERROR" and records[1]["phases"][3]["outcome"] == "ERROR"
    assert len(failed["eol_station"]["chain_sha256"]) == 64


def test_csv_has_one_row_per_measurement_filtered_by_outcome_and_since(db, capsys) -> None:
    text = export(db, capsys, "--format", "csv", "--outcome", "FAILED", "--since", "2025-03-02")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["run_id"], r["measurement"], r["value"], r["outcome"]) for r in rows] == [
        ("run-0002-bbbb", "bms_serial", "", "DONE"),
        ("run-0002-bbbb", "bms_sw_version", "", "DONE"),
        ("run-0002-bbbb", "voltage", "420.0", "FAILED"),
    ]
    assert rows[0]["value_text"] == "BMS-NM96A0000002" and rows[2]["low"] == "300.0"
    assert export(db, capsys, "--format", "csv", "--since", "2030-01-01").count("\n") == 1


def test_output_file_and_bad_inputs_are_one_sentence(db, tmp_path, capsys, junit_schema) -> None:
    out = tmp_path / "runs.xml"
    assert main(["results", "--db", str(db), "export", "--format", "junit", "-o", str(out)]) == 0
    assert schema_problems(junit_schema, out.read_text(encoding="utf-8")) == []
    assert "3 run(s) exported as junit" in capsys.readouterr().err
    assert main(["results", "--db", str(db), "export", "--format", "csv", "--since", "soon"]) == 2
    assert capsys.readouterr().err == "error: --since 'soon' is not an ISO date (2026-11-26)\n"
    missing = tmp_path / "no" / "such" / "dir" / "x.csv"
    assert main(["results", "--db", str(db), "export", "--format", "csv", "-o", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write the export to {missing}") and "Traceback" not in err
