"""The outbox: finished runs waiting in the station's SQLite to be copied elsewhere.

The store queues a run in the transaction that finishes it (``store_schema.INSERT_OUTBOX``);
this module is the relay's side of the table: which rows are due, and marking them sent or
failed. Delivery is at least once; destinations make a repeat a no-op (the central database
keys runs by their id), so at least once is exactly once in effect. A row that keeps failing
is retried with exponential backoff and quarantined after ``max_attempts`` so the rows behind
it keep flowing. The relay opens its own connection and writes only this table, so it runs
beside a station that holds the database's writer lock.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from station.store_schema import CENTRAL, utcnow

MES = "mes"
"""The outbox target of the MES plug-in's result upload, queued after the central copy."""
TARGETS = (CENTRAL, MES)
BACKOFF_FIRST_S = 1.0
BACKOFF_CAP_S = 300.0


@dataclass(frozen=True)
class Pending:
    """One outbox row that is due."""

    seq: int
    run_id: str
    target: str
    attempts: int


def backoff_s(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failure: 1, 2, 4 … capped at 5 min."""
    return float(min(BACKOFF_FIRST_S * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S))


def due(conn: sqlite3.Connection, target: str, limit: int, now: str | None = None) -> list[Pending]:
    """The oldest ``limit`` rows for ``target`` neither sent, quarantined nor backing off."""
    rows = conn.execute(
        "SELECT seq, run_id, target, attempts FROM outbox"
        " WHERE target = ? AND sent_at IS NULL AND quarantined_at IS NULL"
        " AND next_attempt_at <= ? ORDER BY seq LIMIT ?",
        (target, now or utcnow(), limit),
    ).fetchall()
    return [Pending(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]


def mark_sent(conn: sqlite3.Connection, row: Pending, then: str | None = None) -> None:
    """Record a confirmed delivery; queue the run for ``then`` in the same transaction."""
    now = utcnow()
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("UPDATE outbox SET sent_at = ?, last_error = '' WHERE seq = ?", (now, row.seq))
        if then is not None:
            conn.execute(
                "INSERT OR IGNORE INTO outbox (run_id, target, queued_at) VALUES (?, ?, ?)",
                (row.run_id, then, now),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def mark_failed(conn: sqlite3.Connection, row: Pending, error: str, max_attempts: int) -> bool:
    """Count a failed attempt, schedule the retry; return True when it is now quarantined."""
    attempts = row.attempts + 1
    now = datetime.now(UTC)
    retry = (now + timedelta(seconds=backoff_s(attempts))).isoformat()
    quarantined = now.isoformat() if attempts >= max_attempts else None
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?,"
            " quarantined_at = ? WHERE seq = ?",
            (attempts, retry, error, quarantined, row.seq),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return quarantined is not None


def release_quarantine(conn: sqlite3.Connection, target: str) -> int:
    """Give quarantined rows of ``target`` a fresh start (after the cause is fixed)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        cur = conn.execute(
            "UPDATE outbox SET quarantined_at = NULL, attempts = 0, next_attempt_at = ''"
            " WHERE target = ? AND quarantined_at IS NOT NULL",
            (target,),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return cur.rowcount


@dataclass(frozen=True)
class Backlog:
    """What is left in the outbox for one target."""

    pending: int
    quarantined: int
    oldest_pending_at: str | None


def backlog(conn: sqlite3.Connection, target: str) -> Backlog:
    row = conn.execute(
        "SELECT sum(quarantined_at IS NULL), sum(quarantined_at IS NOT NULL),"
        " min(CASE WHEN quarantined_at IS NULL THEN queued_at END)"
        " FROM outbox WHERE target = ? AND sent_at IS NULL",
        (target,),
    ).fetchone()
    return Backlog(int(row[0] or 0), int(row[1] or 0), row[2])
