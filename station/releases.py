"""Released sequence and limit files and the station settings, as station data.

An engineer releases the exact bytes of a file: a ``releases`` row keeps its sha256, who,
when and why. In production mode a sequence runs only when the sequence file and every
limit table it may use are released. Releases are revoked, never deleted. Every change
is chained (``station.ledger``), and a row that differs from its chain link — forged or
edited outside the station — counts for nothing: a forged release releases nothing, and
a forged setting leaves production mode on.

Who may release is the UI's business (``ui.releases`` checks the role and audits).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station import ledger
from station.inputs import sha256_of
from station.sequence import Sequence
from station.store import ResultsStore

PRODUCTION_KEY = "production_mode"


@dataclass(frozen=True)
class FileToRelease:
    """A file the loaded sequence runs with: the sequence itself or one of its limit tables."""

    kind: str  # "sequence" | "limits"
    path: Path
    sha256: str  # as loaded by the station
    name: str
    version: str


def files_of(sequence: Sequence) -> list[FileToRelease]:
    """The sequence file and each distinct limit table it may use."""
    files = [
        FileToRelease("sequence", sequence.path, sequence.sha256, sequence.name, sequence.version)
    ]
    seen = {sequence.sha256}
    for table in sequence.limit_tables.values():
        if table.sha256 not in seen:
            seen.add(table.sha256)
            files.append(
                FileToRelease("limits", table.path, table.sha256, table.name, table.version)
            )
    return files


def sha256_on_disk(path: Path) -> str | None:
    """The file's sha256 as it is now, or None when it cannot be read (gone, a folder)."""
    try:
        return sha256_of(path)
    except OSError:
        return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class ReleaseBook:
    """Releases and settings in the results database behind ``store``."""

    def __init__(self, store: ResultsStore) -> None:
        self.store = store

    # -- settings ----------------------------------------------------------------------------
    def setting(self, key: str) -> tuple[str | None, bool]:
        """``(value, intact)``: the setting (None if never set) and whether it is untampered."""
        with self.store.snapshot() as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None, key not in ledger.chained_subjects(conn, "settings")
            return str(row[0]), ledger.row_is_intact(conn, "settings", key)

    def set_setting(self, key: str, value: str) -> None:
        with self.store.chained_change() as conn:
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
            ledger.append(conn, "settings", key, _now())

    def production_mode(self, default: bool) -> tuple[bool, bool]:
        """``(on, intact)``; a setting changed outside the station reads as on."""
        value, intact = self.setting(PRODUCTION_KEY)
        if not intact:
            return True, False
        return (default if value is None else value == "on"), True

    # -- releases ------------------------------------------------------------------------------
    def add(self, file: FileToRelease, sha256: str, by: str, note: str) -> int:
        """Record a release of these bytes; return its id."""
        with self.store.chained_change() as conn:
            cur = conn.execute(
                "INSERT INTO releases (kind, path, sha256, name, version, released_by,"
                " released_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (file.kind, str(file.path), sha256, file.name, file.version, by, _now(), note),
            )
            release_id = int(cur.lastrowid or 0)
            ledger.append(conn, "releases", release_id, _now())
        return release_id

    def revoke(self, sha256: str, by: str, reason: str) -> int:
        """Withdraw the active releases of these bytes; return how many."""
        with self.store.chained_change() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM releases WHERE sha256 = ? AND revoked_at IS NULL", (sha256,)
                ).fetchall()
            ]
            for release_id in ids:
                conn.execute(
                    "UPDATE releases SET revoked_by = ?, revoked_at = ?, revoke_reason = ?"
                    " WHERE id = ?",
                    (by, _now(), reason, release_id),
                )
                ledger.append(conn, "releases", release_id, _now())
        return len(ids)

    def active(self, sha256: str) -> dict[str, Any] | None:
        """The standing, untampered release of these bytes, or None."""
        with self.store.snapshot() as conn:
            cur = conn.execute(
                "SELECT * FROM releases WHERE sha256 = ? AND revoked_at IS NULL ORDER BY id",
                (sha256,),
            )
            names = [d[0] for d in cur.description]
            for row in cur.fetchall():
                record = dict(zip(names, row, strict=True))
                if ledger.row_is_intact(conn, "releases", record["id"]):
                    return record
        return None

    def all(self) -> list[dict[str, Any]]:
        """Every release, newest first (revoked ones included)."""
        return self.store.query("SELECT * FROM releases ORDER BY id DESC")

    def problems(self, sequence: Sequence) -> list[str]:
        """Why production mode may not run ``sequence`` (as if production were on)."""
        out = []
        for f in files_of(sequence):
            what = f"{f.kind} file {f.path.name} ({f.name} {f.version}".rstrip() + ")"
            if sha256_on_disk(f.path) != f.sha256:
                out.append(
                    f"production mode: the {what} changed on disk after the station loaded it; "
                    "restart the station and have an engineer release the new file"
                )
            elif self.active(f.sha256) is None:
                out.append(
                    f"production mode: the {what}, sha256 {f.sha256[:12]}…, is not released; "
                    "an engineer must release this exact file (an edited copy with the same "
                    "name and version is a different file)"
                )
        return out
