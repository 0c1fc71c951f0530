"""The UI's own tables in the station's results database: users, releases, settings.

They live in the same SQLite file as the results (one file to back up, one place for the
audit trail) but are created and used only here, through plain ``sqlite3`` on that path;
``station.store`` does not know them. The results store must have created the file first:
it refuses a file that has tables but not its schema.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from station.errors import StoreError

DDL = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('operator', 'engineer', 'admin')),
    kdf TEXT NOT NULL,
    salt BLOB NOT NULL,
    hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);
CREATE TABLE IF NOT EXISTS releases (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('sequence', 'limits')),
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    released_by TEXT NOT NULL,
    released_at TEXT NOT NULL,
    note TEXT NOT NULL,
    revoked_by TEXT,
    revoked_at TEXT,
    revoke_reason TEXT
);
CREATE INDEX IF NOT EXISTS releases_sha256 ON releases(sha256);
CREATE TABLE IF NOT EXISTS ui_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
"""


@contextmanager
def connect(path: str | Path) -> Iterator[sqlite3.Connection]:
    """Open the station database at ``path`` for one short transaction (commit on success)."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(
            f"The station database {path} does not exist yet; open the results store first."
        )
    try:
        with closing(sqlite3.connect(path, timeout=10.0)) as conn, conn:
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn
    except sqlite3.Error as err:
        raise StoreError(
            f"Cannot use the station database {path} ({err}); check the file."
        ) from err


def ensure_tables(path: str | Path) -> None:
    """Create the UI's tables if they are missing (idempotent)."""
    with connect(path) as conn:
        conn.executescript(DDL)


def get_setting(path: str | Path, key: str) -> str | None:
    with connect(path) as conn:
        row = conn.execute("SELECT value FROM ui_settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_setting(path: str | Path, key: str, value: str) -> None:
    with connect(path) as conn:
        conn.execute(
            "INSERT INTO ui_settings (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
