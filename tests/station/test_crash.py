"""A station killed mid-run: the steps it finished are kept, and the run is INTERRUPTED.

The real `station run` command runs in a child process; once it has started the fourth
step (so three steps are committed), it is killed with SIGKILL, as a power cut or a crash
would. The next store to open the database marks the run INTERRUPTED.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from station.store import ResultsStore

SEQUENCE = """
[sequence]
name = "Crash"
version = "1"
products = ["P"]
serial_pattern = "^SN[0-9]+$"

[[main]]
type = "wait"
name = "one"
params = { seconds = 0 }

[[main]]
type = "wait"
name = "two"
params = { seconds = 0 }

[[main]]
type = "wait"
name = "three"
params = { seconds = 0 }

[[main]]
type = "wait"
name = "long"
params = { seconds = 600 }
"""


def test_a_killed_run_keeps_its_finished_steps_and_is_interrupted(tmp_path: Path) -> None:
    seq = tmp_path / "seq.toml"
    seq.write_text(SEQUENCE, encoding="utf-8")
    db = tmp_path / "r.db"
    child = subprocess.Popen(
        [sys.executable, "-m", "station.cli", "run", str(seq), "--serial", "SN1", "--db", str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    try:
        for line in child.stdout:  # the progress view announces each step as it starts
            if "long" in line:
                break
        else:
            raise AssertionError("the child ended before the long step started")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    with ResultsStore(db) as store:
        assert store.interrupted_on_open == 1
        [run] = store.list_runs()
        assert run.outcome == "INTERRUPTED"
        steps = store.get_run(run.id).steps
        assert [(s.name, s.outcome) for s in steps] == [
            ("one", "PASSED"),
            ("two", "PASSED"),
            ("three", "PASSED"),
        ]
    check = sqlite3.connect(db)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        check.close()
