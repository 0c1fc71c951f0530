"""Exports of finished runs for other systems: OpenHTF-style JSON, CSV, JUnit XML.

``station results export`` writes them; docs/exports.md documents each format, including
how a run maps onto OpenHTF's test record. Every export carries the run's hash-chain link
(``chain_sha256``), so a receiver can ask the station whether the record is still intact.

JUnit XML follows the common (Jenkins/Ant) JUnit schema: ``<testsuites>`` with one
``<testsuite>`` per run and one ``<testcase>`` per step; a FAILED step carries
``<failure>``, an ERROR, ABORTED, TERMINATED or INTERRUPTED step ``<error>`` (the step did
not judge the pack), a SKIPPED step ``<skipped>``.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from station.outcomes import ABORTED, ERROR, FAILED, TERMINATED, Outcome, RunState, Verdict
from station.store import ResultsStore
from station.store_records import MeasurementRecord, RunDetail, StepRecord

FORMATS = ("json", "csv", "junit")
FAILURE_OUTCOMES = frozenset({Outcome.FAILED})
ERROR_OUTCOMES = frozenset({ERROR, ABORTED, TERMINATED, RunState.INTERRUPTED})

# OpenHTF's words for our outcomes (openhtf.core.test_record: Outcome, PhaseOutcome,
# measurements.Outcome). A run still RUNNING is never exported.
_HTF_TEST_OUTCOME = {
    Outcome.PASSED: "PASS",
    Outcome.FAILED: "FAIL",
    Outcome.ERROR: "ERROR",
    Outcome.ABORTED: "ABORTED",
    Outcome.TERMINATED: "ABORTED",
    RunState.INTERRUPTED: "ERROR",
}
_HTF_PHASE_OUTCOME = {
    Outcome.PASSED: "PASS",
    Outcome.FAILED: "FAIL",
    Outcome.SKIPPED: "SKIP",
    Outcome.ERROR: "ERROR",
    Outcome.ABORTED: "ERROR",
    Outcome.TERMINATED: "ERROR",
    RunState.INTERRUPTED: "ERROR",
}
_HTF_MEASUREMENT_OUTCOME = {Verdict.PASSED: "PASS", Verdict.FAILED: "FAIL", Verdict.DONE: "PASS"}

SUITE_PROPERTIES = ("id", "serial", "part_number", "outcome", "operator", "sequence_version",
                    "sequence_sha256", "limits_sha256", "config_sha256",
                    "software_version")  # fmt: skip
CSV_COLUMNS = (
    "run_id",
    "serial",
    "part_number",
    "station_id",
    "operator",
    "run_started_at",
    "run_outcome",
    "run_attempt",
    "step_seq",
    "step_group",
    "step_name",
    "step_type",
    "step_outcome",
    "measurement",
    "attempt",
    "value",
    "value_text",
    "unit",
    "comparator",
    "low",
    "high",
    "nominal",
    "limit_text",
    "outcome",
    "marginal",
)


def finished_runs(
    store: ResultsStore,
    *,
    serial: str | None = None,
    outcome: str | None = None,
    since: str | None = None,
) -> list[RunDetail]:
    """Whole records (``get_run``, with the chain link) of the finished runs matching,
    oldest first."""
    rows = store.list_runs(serial=serial, outcome=outcome, since=since, limit=-1)
    return [store.get_run(row.id) for row in reversed(rows) if row.outcome != RunState.RUNNING]


def _millis(stamp: str | None) -> int | None:
    if not stamp:
        return None
    return int(datetime.fromisoformat(stamp).timestamp() * 1000)


def _measurements_by_step(run: RunDetail) -> dict[str, list[MeasurementRecord]]:
    by_step: dict[str, list[MeasurementRecord]] = {}
    for m in run.measurements:
        by_step.setdefault(m.step_id, []).append(m)
    return by_step


def _value(m: MeasurementRecord) -> Any:
    if m.values_json is not None:
        return json.loads(m.values_json)
    if m.value is not None:
        return m.value
    return m.value_text


def _validator(m: MeasurementRecord) -> list[str]:
    return [m.limit_text] if m.limit_text else []


def chain_sha256(run: RunDetail) -> str | None:
    """The run's link in the hash chain (None for a run older than the chain)."""
    return None if run.chain is None else run.chain.sha256


def openhtf_record(run: RunDetail) -> dict[str, Any]:
    """One run as an OpenHTF-style test record (see docs/exports.md for the mapping)."""
    by_step = _measurements_by_step(run)
    phases = []
    for s in run.steps:
        measurements = {}
        for m in by_step.get(s.id, []):
            # A retried step keeps every attempt's values; the last attempt is the verdict.
            measurements[m.name] = {
                "name": m.name,
                "outcome": _HTF_MEASUREMENT_OUTCOME.get(m.outcome, "UNSET"),
                "measured_value": _value(m),
                "units": m.unit,
                "validators": _validator(m),
                "marginal": bool(m.marginal),
                "docstring": m.detail,
            }
        phases.append(
            {
                "name": s.name,
                "descriptor_id": s.id,
                "start_time_millis": _millis(s.started_at),
                "end_time_millis": _millis(s.ended_at),
                "outcome": _HTF_PHASE_OUTCOME.get(s.outcome, "ERROR"),
                "result": {"phase_result": s.outcome, "error": s.error},
                "measurements": measurements,
                "attachments": {
                    a.name: {"mimetype": a.media_type, "sha256": a.sha256}
                    for a in run.attachments
                    if a.step_id == s.id
                },
                "eol_station": {"group": s.grp, "type": s.type, "attempts": s.attempts},
            }
        )
    failed = [s.name for s in run.steps if s.outcome in FAILURE_OUTCOMES | ERROR_OUTCOMES]
    return {
        "dut_id": run.serial,
        "station_id": run.station_id,
        "start_time_millis": _millis(run.started_at),
        "end_time_millis": _millis(run.ended_at),
        "outcome": _HTF_TEST_OUTCOME.get(run.outcome, "ERROR"),
        "outcome_details": [
            {"code": run.outcome, "description": f"step {name} did not pass"} for name in failed
        ],
        "marginal": any(m.marginal for m in run.measurements),
        "metadata": {
            "test_name": run.sequence_name,
            "test_version": run.sequence_version,
            "part_number": run.part_number,
            "operator_name": run.operator,
        },
        "code_info": {"version": run.software_version},
        "phases": phases,
        "log_records": [
            {
                "level": log.level,
                "logger_name": "station",
                "timestamp_millis": _millis(log.at),
                "message": log.message,
            }
            for log in run.logs
        ],
        "eol_station": {
            "run_id": run.id,
            "outcome": run.outcome,
            "attempt": run.attempt,
            "previous_run_id": run.previous_run_id,
            "rework_reason": run.rework_reason,
            "sequence_sha256": run.sequence_sha256,
            "limits_sha256": run.limits_sha256,
            "config_sha256": run.config_sha256,
            "safe_state_ok": run.safe_state_ok,
            "chain_sha256": chain_sha256(run),
            "components": [{"kind": c.kind, "code": c.code} for c in run.components],
            "instruments": [
                {k: getattr(i, k) for k in ("role", "model", "serial", "cal_due", "idn")}
                for i in run.instruments
            ],
        },
    }


def to_json(runs: Iterable[RunDetail]) -> str:
    """A JSON array of OpenHTF-style test records."""
    return json.dumps([openhtf_record(r) for r in runs], indent=2) + "\n"


def to_csv(runs: Iterable[RunDetail]) -> str:
    """One row per measurement (``CSV_COLUMNS``); a run without any measurement gives none."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for run in runs:
        steps = {s.id: s for s in run.steps}
        for m in run.measurements:
            s = steps[m.step_id]
            writer.writerow(
                (run.id, run.serial, run.part_number, run.station_id,
                 run.operator, run.started_at, run.outcome, run.attempt,
                 s.seq, s.grp, s.name, s.type, s.outcome, m.name,
                 m.attempt, m.value, m.value_text or m.values_json, m.unit,
                 m.comparator, m.low, m.high, m.nominal, m.limit_text,
                 m.outcome, m.marginal)
            )  # fmt: skip
    return buffer.getvalue()


def _seconds(step: StepRecord) -> str:
    return f"{float(step.duration_s):.3f}"


def _measurement_lines(measurements: list[MeasurementRecord]) -> str:
    lines = []
    for m in measurements:
        value = _value(m)
        limit = f" [{m.limit_text}]" if m.limit_text else ""
        lines.append(f"{m.name} = {value} {m.unit}{limit} {m.outcome}".rstrip())
    return "\n".join(lines)


def to_junit(runs: Iterable[RunDetail]) -> str:
    """JUnit XML: one testsuite per run, one testcase per step."""
    root = ET.Element("testsuites", name="eol-station")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for run in runs:
        by_step = _measurements_by_step(run)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite = ET.SubElement(root, "testsuite")
        properties = ET.SubElement(suite, "properties")
        for key in SUITE_PROPERTIES:
            value = getattr(run, key)
            text = "" if value is None else str(value)  # no config: no hash
            ET.SubElement(properties, "property", name=key, value=text)
        ET.SubElement(properties, "property", name="chain_sha256", value=str(chain_sha256(run)))
        suite_time = 0.0
        for s in run.steps:
            counts["tests"] += 1
            suite_time += float(s.duration_s)
            case = ET.SubElement(
                suite,
                "testcase",
                name=s.name,
                classname=f"{run.sequence_name}.{s.grp}",
                time=_seconds(s),
            )
            measurements = by_step.get(s.id, [])
            if s.outcome in FAILURE_OUTCOMES:
                counts["failures"] += 1
                failing = [m.name for m in measurements if m.outcome == Verdict.FAILED]
                message = "out of limits: " + ", ".join(failing) if failing else FAILED
                failure = ET.SubElement(case, "failure", message=message, type=FAILED)
                failure.text = _measurement_lines(measurements)
            elif s.outcome in ERROR_OUTCOMES:
                counts["errors"] += 1
                error = ET.SubElement(case, "error", message=s.error or s.outcome)
                error.set("type", s.outcome)
                error.text = s.error or ""
            elif s.outcome == Outcome.SKIPPED:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message="skip_if held")
            if measurements:
                ET.SubElement(case, "system-out").text = _measurement_lines(measurements)
        suite.set("name", f"{run.serial} {run.sequence_name}")
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{suite_time:.3f}")
        started = datetime.fromisoformat(run.started_at).astimezone(UTC)
        suite.set("timestamp", started.strftime("%Y-%m-%dT%H:%M:%S"))  # the schema's form, UTC
        suite.set("hostname", run.station_id)
        suite.set("id", run.id)
        total_time += suite_time
    for key in ("tests", "failures", "errors"):
        root.set(key, str(totals[key]))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def export(runs: list[RunDetail], fmt: str) -> str:
    """The text of ``runs`` in format ``fmt`` (one of ``FORMATS``)."""
    if fmt == "json":
        return to_json(runs)
    if fmt == "csv":
        return to_csv(runs)
    if fmt == "junit":
        return to_junit(runs)
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
