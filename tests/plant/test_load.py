"""A bounded load test: twenty stations sync at once; nothing lost, nothing duplicated.

The run count is a parameter: ``EOL_PLANT_LOAD_RUNS`` (total over the twenty stations,
1000 by default so CI stays well under a minute). The issue's figure, 10 000 runs, is::

    EOL_PLANT_LOAD_RUNS=10000 .venv/bin/pytest -q -s -m slow tests/plant/test_load.py

It prints the sync rate; speed is reported, not asserted (bench scripts judge speed).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import psycopg
import pytest

from station import central
from tests.plant.stations import make_station

STATIONS = 20


@pytest.mark.slow
@pytest.mark.timeout(300)  # a loaded CI machine writes the twenty stations slowly
def test_twenty_stations_sync_at_once_without_a_duplicate(tmp_path: Path, central_dsn: str) -> None:
    total = int(os.environ.get("EOL_PLANT_LOAD_RUNS", "1000"))
    per_station = max(1, total // STATIONS)
    dbs = [tmp_path / f"eol{n:02d}.db" for n in range(STATIONS)]
    for n, db in enumerate(dbs):
        make_station(db, f"EOL-{n:02d}", per_station)
    with psycopg.connect(central_dsn) as pg:
        central.ensure_schema(pg)  # once, so the rate below is the copying alone
    reports: dict[Path, central.SyncReport] = {}
    relays = [
        threading.Thread(
            target=lambda db=db: reports.__setitem__(db, central.sync(db, central_dsn))
        )
        for db in dbs
    ]
    began = time.perf_counter()
    for relay in relays:
        relay.start()
    for relay in relays:
        relay.join()
    elapsed = time.perf_counter() - began
    runs = per_station * STATIONS
    assert (
        sorted((r.sent, r.pending, r.unreachable) for r in reports.values())
        == [(per_station, 0, "")] * STATIONS
    )
    with psycopg.connect(central_dsn) as pg:
        counted = pg.execute("SELECT count(*), count(DISTINCT id) FROM plant.runs").fetchone()
        steps = pg.execute("SELECT count(*) FROM plant.steps").fetchone()
    assert counted == (runs, runs) and steps == (3 * runs,)
    print(f"\nsynced {runs} runs from {STATIONS} stations in {elapsed:.1f} s: "
          f"{runs / elapsed:.0f} runs/s, 0 duplicates")  # fmt: skip
