"""Synthetic stations: results databases written through the real store, run after run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from station.events import (
    InstrumentInfo,
    Measurement,
    PlannedStep,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
)
from station.store import ResultsStore

DMM = InstrumentInfo("dmm", "keysight.34465a", "TCPIP0::10.0.0.7::5025::SOCKET",
                     "Keysight,34465A,MY123,A.03", "MY123", "2027-01-31")  # fmt: skip
STEPS = ("ocv", "insulation", "dcir")
T0 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def record_runs(
    store: ResultsStore, station_id: str, count: int, *, fail_every: int = 7, start: int = 0
) -> list[str]:
    """Record ``count`` finished runs with three steps and one measurement each; their ids."""
    ids = []
    for n in range(start, start + count):
        run_id = str(uuid.uuid4())
        at = (T0 + timedelta(minutes=2 * n)).isoformat()
        serial = f"NM96A{n:07d}"
        failed = fail_every > 0 and n % fail_every == fail_every - 1
        store(
            RunStarted(
                run_id=run_id, serial=serial, part_number="NM96-A", operator="op17",
                station_id=station_id, sequence_name="EOL NMC 96S", sequence_version="1.2.0",
                sequence_path="sequences/nm96.toml", sequence_sha256="a" * 64,
                limits_path="sequences/limits/nm96.toml", limits_sha256="b" * 64,
                config_sha256="c" * 64, software_version="0.1.0", started_at=at,
                steps=tuple(PlannedStep("main", i, s, s) for i, s in enumerate(STEPS)),
                instruments=(DMM,),
            )
        )  # fmt: skip
        for seq, name in enumerate(STEPS, start=1):
            step_id = f"{run_id}-{seq}"
            bad = failed and name == "insulation"
            value = 2.0e6 if bad else 350.0 + (n % 11) * 0.1
            outcome = "FAILED" if bad else "PASSED"
            store(StepStarted(run_id, step_id, seq, "main", seq - 1, name, name, at))
            store(Measurement(run_id, step_id, f"{name}_value", "V", "GELE", outcome,
                              value=value, low=300.0, high=400.0))  # fmt: skip
            store(StepFinished(run_id, step_id, seq, "main", seq - 1, name, name, outcome,
                               at, at, duration_s=1.0))  # fmt: skip
        store(RunFinished(run_id, "FAILED" if failed else "PASSED", at, safe_state_ok=True))
        ids.append(run_id)
    return ids


def make_station(path: Path, station_id: str, count: int, **kw: int) -> list[str]:
    with ResultsStore(path) as store:
        return record_runs(store, station_id, count, **kw)
