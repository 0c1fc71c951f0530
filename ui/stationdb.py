"""The UI's own tables in the station's results database: users and their languages.

It lives in the same SQLite file as the results (one file to back up, one place for the
audit trail and the hash chain) and is used only here, through plain ``sqlite3`` on that
path. Every change to a user row is chained (``station.ledger``) in the same transaction,
so a row edited outside the station is detected and its privileges refused. Releases and
settings are station data (``station.releases``). The results store must have created the
file first: it refuses a file that has tables but not its schema.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path

from station import ledger
from station.errors import StoreError

DDL = (
    """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('operator', 'engineer', 'admin')),
    kdf TEXT NOT NULL,
    salt BLOB NOT NULL,
    hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
)""",
    # A preference, not a privilege: kept beside the chained user row, so choosing a
    # language changes no row of the hash chain (and older databases gain the table).
    """
CREATE TABLE IF NOT EXISTS user_languages (
    name TEXT PRIMARY KEY NOT NULL REFERENCES users (name),
    language TEXT NOT NULL
)""",
)


@contextmanager
def connect(path: str | Path) -> Iterator[sqlite3.Connection]:
    """Open the station database at ``path`` for one short write transaction.

    The transaction is IMMEDIATE, so a chain link appended in it cannot race another
    writer; it commits on success and publishes the chain head beside the database.
    """
    path = Path(path)
    if not path.is_file():
        raise StoreError(
            f"The station database {path} does not exist yet; open the results store first."
        )
    try:
        with closing(sqlite3.connect(path, timeout=10.0)) as conn:
            with conn:
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("BEGIN IMMEDIATE")
                yield conn
            with suppress(OSError):  # `station results verify` reports a head left behind
                ledger.publish_head(path, conn)
    except sqlite3.Error as err:
        raise StoreError(
            f"Cannot use the station database {path} ({err}); check the file."
        ) from err


def chain_user(conn: sqlite3.Connection, name: str) -> None:
    """Chain the user row ``name`` as it is now (inside the writing transaction)."""
    ledger.append(conn, "users", name, dt.datetime.now(dt.UTC).isoformat())


def ensure_tables(path: str | Path) -> None:
    """Create the UI's tables if they are missing (idempotent)."""
    with connect(path) as conn:
        for statement in DDL:
            conn.execute(statement)
