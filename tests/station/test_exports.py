"""`station results export`: OpenHTF-style JSON, CSV per measurement, JUnit XML for CI."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from station.cli import main
from tests.station.recorded_runs import sample_db

# The rules of the common JUnit schema as the Jenkins xUnit plugin publishes it
# (junit-10.xsd), checked explicitly: no XSD is vendored (see docs/exports.md).
ROOT_ATTRIBUTES = {"name", "time", "tests", "failures", "errors"}
SUITE_ATTRIBUTES = {"name", "tests", "failures", "errors", "group", "time", "skipped",
                    "timestamp", "hostname", "id", "package", "file", "log", "url"}  # fmt: skip
SUITE_REQUIRED = {"name", "tests", "failures", "errors"}
SUITE_CHILDREN = {"testsuite", "properties", "testcase", "system-out", "system-err"}
CASE_ATTRIBUTES = {"name", "time", "classname", "group"}
CASE_CHILDREN = {"skipped", "error", "failure", "system-out", "system-err", "rerunFailure",
                 "rerunError", "flakyFailure", "flakyError"}  # fmt: skip
TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?")  # SUREFIRE_TIME


def check_junit_structure(text: str) -> list[str]:
    """Problems of ``text`` against junit-10.xsd's rules ([] when it conforms)."""
    problems: list[str] = []
    root = ET.fromstring(text)
    if root.tag != "testsuites":
        return [f"root is <{root.tag}>, not <testsuites>"]
    problems += [f"testsuites@{a} unknown" for a in sorted(set(root.attrib) - ROOT_ATTRIBUTES)]
    if "time" in root.attrib and not TIME.fullmatch(root.attrib["time"]):
        problems.append("testsuites@time is not a SUREFIRE_TIME")
    for suite in root:
        if suite.tag != "testsuite":
            problems.append(f"<{suite.tag}> inside <testsuites>")
            continue
        problems += [f"testsuite@{a} unknown" for a in sorted(set(suite.attrib) - SUITE_ATTRIBUTES)]
        problems += [f"testsuite@{a} missing" for a in sorted(SUITE_REQUIRED - set(suite.attrib))]
        problems += [f"<{c.tag}> inside <testsuite>" for c in suite if c.tag not in SUITE_CHILDREN]
        if "time" in suite.attrib and not TIME.fullmatch(suite.attrib["time"]):
            problems.append("testsuite@time is not a SUREFIRE_TIME")
        for prop in suite.iter("property"):
            if set(prop.attrib) != {"name", "value"}:
                problems.append("property needs exactly name and value")
        cases = suite.findall("testcase")
        # Not the schema's (its counts are strings) but what every dashboard relies on.
        counted = {
            "tests": len(cases),
            "failures": sum(c.find("failure") is not None for c in cases),
            "errors": sum(c.find("error") is not None for c in cases),
            "skipped": sum(c.find("skipped") is not None for c in cases),
        }
        for key, value in counted.items():
            if suite.get(key) is not None and suite.get(key) != str(value):
                problems.append(f"testsuite@{key}={suite.get(key)} but {value} counted")
        for case in cases:
            problems += [
                f"testcase@{a} unknown" for a in sorted(set(case.attrib) - CASE_ATTRIBUTES)
            ]
            if "name" not in case.attrib:
                problems.append("testcase@name missing")
            if "time" in case.attrib and not TIME.fullmatch(case.attrib["time"]):
                problems.append("testcase@time is not a SUREFIRE_TIME")
            problems += [f"<{c.tag}> inside <testcase>" for c in case if c.tag not in CASE_CHILDREN]
            for verdict in case:
                if verdict.tag in ("failure", "error", "skipped"):
                    unknown = sorted(set(verdict.attrib) - {"message", "type"})
                    problems += [f"{verdict.tag}@{a} unknown" for a in unknown]
    return problems


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return sample_db(tmp_path / "r.db")


def export(db: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["results", "--db", str(db), "export", *args]) == 0
    return capsys.readouterr().out


def test_junit_has_a_suite_per_run_and_a_case_per_step(db, capsys) -> None:
    text = export(db, capsys, "--format", "junit")
    assert check_junit_structure(text) == []
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


def test_the_structural_check_catches_what_the_schema_refuses() -> None:
    bad = (
        "<testsuites skipped='1' time='soon'>"
        "<testsuite tests='2' failures='0' errors='0' time='1 s'>"
        "<testcase name='a' status='x'><failure kind='f'/><note/></testcase></testsuite>"
        "<testsuite name='x' tests='1' failures='1' errors='0'><testcase/></testsuite>"
        "</testsuites>"
    )
    assert check_junit_structure(bad) == [
        "testsuites@skipped unknown",
        "testsuites@time is not a SUREFIRE_TIME",
        "testsuite@name missing",
        "testsuite@time is not a SUREFIRE_TIME",
        "testsuite@tests=2 but 1 counted",
        "testsuite@failures=0 but 1 counted",
        "testcase@status unknown",
        "<note> inside <testcase>",
        "failure@kind unknown",
        "testsuite@failures=1 but 0 counted",
        "testcase@name missing",
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


def test_output_file_and_bad_inputs_are_one_sentence(db, tmp_path, capsys) -> None:
    out = tmp_path / "runs.xml"
    assert main(["results", "--db", str(db), "export", "--format", "junit", "-o", str(out)]) == 0
    assert check_junit_structure(out.read_text(encoding="utf-8")) == []
    assert "3 run(s) exported as junit" in capsys.readouterr().err
    assert main(["results", "--db", str(db), "export", "--format", "csv", "--since", "soon"]) == 2
    assert capsys.readouterr().err == "error: --since 'soon' is not an ISO date (2026-11-26)\n"
    missing = tmp_path / "no" / "such" / "dir" / "x.csv"
    assert main(["results", "--db", str(db), "export", "--format", "csv", "-o", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write the export to {missing}") and "Traceback" not in err
