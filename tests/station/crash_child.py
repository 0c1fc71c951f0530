"""Record a run with three finished steps and one in progress, print READY, then block.

Run by ``test_store.py``, which SIGKILLs this process once it reads READY:
``python crash_child.py DB_PATH RUN_ID``. Step 4 has an unfinished measurement and one
batch of samples and a quarter more (``SAMPLE_BATCH``), of which the one batch has been
committed on its own.
"""

from __future__ import annotations

import sys

from station.events import (
    InstrumentInfo,
    Measurement,
    RunStarted,
    Sample,
    StepFinished,
    StepStarted,
)
from station.store import SAMPLE_BATCH, ResultsStore

AT = "2025-03-01T08:00:00+00:00"


def main(path: str, run_id: str) -> None:
    store = ResultsStore(path)
    store(
        RunStarted(
            run_id=run_id, serial="NM96CRASH001", part_number="NM96-A", operator="op1",
            station_id="EOL-1", sequence_name="EOL NMC 96S", sequence_version="1.2.0",
            sequence_path="seq.toml", sequence_sha256="a" * 64, limits_path="limits.toml",
            limits_sha256="b" * 64, config_sha256="c" * 64, software_version="0.1.0+g1234567",
            started_at=AT,
            instruments=(InstrumentInfo("dmm", "K2000", "TCPIP::x", "KEITHLEY", "D1", "2026"),),
        )
    )  # fmt: skip
    for seq in (1, 2, 3, 4):
        step_id = f"{run_id}-s{seq}"
        store(StepStarted(run_id, step_id, seq, "main", seq - 1, f"step {seq}", "ocv", AT))
        for name in ("voltage_v", "current_a"):
            store(Measurement(run_id, step_id, name, "V", "GELE", "PASSED", value=float(seq)))
        if seq == 4:
            for i in range(SAMPLE_BATCH + SAMPLE_BATCH // 4):
                store(Sample(run_id, step_id, i * 0.1, "v", 3.7))
            break
        store(StepFinished(run_id, step_id, seq, "main", seq - 1, f"step {seq}", "ocv", "PASSED",
                           AT, AT))  # fmt: skip
    print("READY", flush=True)
    sys.stdin.read()  # the test kills us here


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
