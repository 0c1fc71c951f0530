"""Genealogy: which parts went into which pack, and which BMS belongs to which pack.

Parts scanned during a run (``prompt`` steps of kind ``scan`` with a ``component``) are
recorded in the ``components`` table. The pack ↔ BMS pairing is the ``bms_serial``
measurement of the ``identify`` step; :func:`packs_with_bms` finds a BMS already shipped
in another pack.
"""

from __future__ import annotations

from station.outcomes import Outcome
from station.store import ResultsStore


def packs_with_bms(store: ResultsStore, bms_serial: str, except_serial: str) -> list[str]:
    """Other packs whose latest pairing is ``bms_serial``, recorded by a run that PASSED.

    A BMS taken out of a failed pack (or out of a pack reworked with a new BMS) is free
    again: only a pack's latest identify counts, and only if that run passed.
    """
    rows = store.query(
        "SELECT r.serial, r.outcome, m.value_text FROM measurements m"
        " JOIN steps s ON s.id = m.step_id JOIN runs r ON r.id = m.run_id"
        " WHERE s.type = 'identify' AND m.name = 'bms_serial' AND r.serial <> ?"
        " AND r.serial IN (SELECT r2.serial FROM measurements m2 JOIN runs r2"
        "  ON r2.id = m2.run_id WHERE m2.name = 'bms_serial' AND m2.value_text = ?)"
        " ORDER BY r.started_at, m.id",
        [except_serial, bms_serial],
    )
    latest: dict[str, tuple[str, str]] = {}
    for row in rows:
        latest[row["serial"]] = (row["value_text"], row["outcome"])
    return sorted(
        serial
        for serial, (value, outcome) in latest.items()
        if value == bms_serial and outcome == Outcome.PASSED
    )
