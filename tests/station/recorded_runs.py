"""Runs recorded through the real results store, for the tests of exports, reports and stats."""

from __future__ import annotations

from pathlib import Path

from station.events import (
    InstrumentInfo,
    Log,
    Measurement,
    PlannedStep,
    RunFinished,
    RunStarted,
    Sample,
    StepFinished,
    StepStarted,
)
from station.store import ResultsStore
from station.store_records import RunRecord, stored_outcome

DMM = InstrumentInfo("dmm", "Keithley 2000", "TCPIP0::10.0.0.7::5025::SOCKET",
                     "KEITHLEY,2000,4301234,A02", "4301234", "2026-01-31")  # fmt: skip


def record(
    store: ResultsStore,
    run_id: str,
    serial: str = "NM96A0000001",
    *,
    voltage: float = 350.0,
    at: str = "2025-03-01T08:00:00+00:00",
    error_step: bool = False,
    outcome: str | None = None,
) -> str:
    """Record a run: OCV (judged 300..400 V), an identify step, a skipped step, maybe an ERROR."""
    day = at[:10]
    store(
        RunStarted(
            run_id=run_id, serial=serial, part_number="NM96-A", operator="op17",
            station_id="EOL-1", sequence_name="EOL NMC 96S", sequence_version="1.2.0",
            sequence_path="sequences/nm96.toml", sequence_sha256="a" * 64,
            limits_path="sequences/limits/nm96.toml", limits_sha256="b" * 64,
            config_sha256="c" * 64, software_version="0.1.0+g1234567", started_at=at,
            steps=(PlannedStep("main", 0, "Pack OCV", "dmm_voltage"),), instruments=(DMM,),
        )
    )  # fmt: skip
    judged = "PASSED" if 300.0 <= voltage <= 400.0 else "FAILED"
    steps = [
        ("Identify", "identify", "PASSED",
         [Measurement(run_id, f"{run_id}-s1", "bms_serial", value_text=f"BMS-{serial}",
                      unit="", comparator="LOG", outcome="DONE"),
          Measurement(run_id, f"{run_id}-s1", "bms_sw_version", value_text="2.4.1",
                      unit="", comparator="LOG", outcome="DONE")]),
        ("Pack OCV", "dmm_voltage", judged,
         [Measurement(run_id, f"{run_id}-s2", "voltage", value=voltage, unit="V",
                      comparator="GELE", low=300.0, high=400.0, limit_text="300 <= x <= 400",
                      outcome=judged)]),
        ("Heater", "bms_routine", "SKIPPED", []),
    ]  # fmt: skip
    if error_step:
        steps.append(("IR", "insulation_resistance", "ERROR", []))
    for seq, (name, type_, step_outcome, ms) in enumerate(steps, start=1):
        step_id = f"{run_id}-s{seq}"
        stamp = f"{day}T08:00:{seq:02d}+00:00"
        store(StepStarted(run_id, step_id, seq, "main", seq - 1, name, type_, stamp))
        for m in ms:
            store(m)
        if type_ == "dmm_voltage":  # a short trace, for the certificate's plot
            for k in range(5):
                store(Sample(run_id, step_id, 0.1 * k, "pack_voltage_V", voltage - k))
        if step_outcome == "ERROR":
            store(Log(run_id, step_id, "ERROR", "insulation tester timed out", stamp))
        store(
            StepFinished(run_id, step_id, seq, "main", seq - 1, name, type_, step_outcome,
                         stamp, stamp, error="tester timed out" if step_outcome == "ERROR"
                         else None, duration_s=1.5)
        )  # fmt: skip
    if outcome is None:
        outcome = "ERROR" if error_step else judged
    store(RunFinished(run_id, outcome, f"{day}T08:05:00+00:00", safe_state_ok=True,
                      safe_state_detail="all outputs off"))  # fmt: skip
    return run_id


def sample_db(path: Path) -> Path:
    """Three runs: a PASS, a FAIL (OCV 420 V) and an ERROR, on two serials and two days."""
    with ResultsStore(path) as store:
        record(store, "run-0001-aaaa", "NM96A0000001", voltage=350.0)
        record(store, "run-0002-bbbb", "NM96A0000002", voltage=420.0,
               at="2025-03-02T09:00:00+00:00")  # fmt: skip
        record(store, "run-0003-cccc", "NM96A0000002", voltage=351.0, error_step=True,
               at="2025-03-02T10:00:00+00:00")  # fmt: skip
    return path


def run_record(serial: str, outcome: str, started_at: str, attempt: int | None = None) -> RunRecord:
    """A run as ``list_runs`` returns it, for tests that count runs without a database.

    ``attempt`` None: a run recorded before attempts were."""
    return RunRecord(
        id=f"run-{serial}-{started_at}", serial=serial, part_number="NM96-A",
        station_id="EOL-01", operator="", sequence_name="eol", sequence_version="1",
        sequence_path="eol.toml", sequence_sha256="a" * 64, limits_path=None,
        limits_sha256=None, config_sha256=None, software_version="0.1.0",
        started_at=started_at, ended_at=started_at, outcome=stored_outcome(outcome),
        safe_state_ok=1, safe_state_detail="", planned_steps="[]", writer="",
        virtual_started_at=None, virtual_ended_at=None, nest=None, attempt=attempt,
        previous_run_id=None, rework_reason=None,
    )  # fmt: skip
