"""Released sequence and limit files, locked by their sha256, and production mode.

An engineer releases the exact bytes of a file: the ``releases`` table keeps its sha256,
who released it, when and why. In production mode the station runs a sequence only when
the sequence file and every limit table it uses are released; changing one byte makes
the file a different, unreleased one. Releases are revoked, never deleted, and every
change goes to the results store's audit table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from station.errors import StationError
from station.sequence import Sequence
from ui import stationdb
from ui.auth import Action, AuditFn, Session, authorize

PRODUCTION_KEY = "production_mode"


class ReleaseError(StationError):
    """A file cannot be released (says why)."""


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
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class Releases:
    """Release records and the production-mode switch in the station database at ``path``.

    ``default_production`` is the mode until someone switches it (production for a real
    bench, engineering for the virtual bench).
    """

    def __init__(self, path: str | Path, audit: AuditFn, default_production: bool = True) -> None:
        self.path = Path(path)
        self._audit = audit
        self._default_production = default_production
        stationdb.ensure_tables(self.path)

    # -- production mode -----------------------------------------------------------------
    @property
    def production_mode(self) -> bool:
        value = stationdb.get_setting(self.path, PRODUCTION_KEY)
        return self._default_production if value is None else value == "on"

    def set_production_mode(self, by: Session | None, on: bool, reason: str) -> None:
        """Switch production mode (engineers and admins; a reason is required)."""
        authorize(by, Action.PRODUCTION_MODE, self._audit, target="production mode")
        assert by is not None
        _need_reason(reason)
        stationdb.set_setting(self.path, PRODUCTION_KEY, "on" if on else "off")
        self._audit(by.user, "production_mode", "on" if on else "off", reason)

    # -- releases --------------------------------------------------------------------------
    def release(self, by: Session | None, file: FileToRelease, note: str) -> int:
        """Release the bytes of ``file`` as they are on disk now; return the release id."""
        authorize(by, Action.RELEASE, self._audit, target=str(file.path))
        assert by is not None
        _need_reason(note)
        on_disk = sha256_on_disk(file.path)
        if on_disk is None:
            raise ReleaseError(f"{file.path} cannot be read; check the path")
        if on_disk != file.sha256:
            raise ReleaseError(
                f"{file.path} changed on disk after the station loaded it; reload the station "
                "and check the file before releasing it"
            )
        if self.release_of(on_disk) is not None:
            raise ReleaseError(f"{file.path} (sha256 {on_disk[:12]}…) is released already")
        now = dt.datetime.now(dt.UTC).isoformat()
        with stationdb.connect(self.path) as conn:
            cur = conn.execute(
                "INSERT INTO releases (kind, path, sha256, name, version, released_by,"
                " released_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (file.kind, str(file.path), on_disk, file.name, file.version, by.user, now, note),
            )
            release_id = int(cur.lastrowid or 0)
        self._audit(by.user, "release", str(file.path), f"{file.kind} sha256={on_disk}; {note}")
        return release_id

    def revoke(self, by: Session | None, sha256: str, reason: str) -> None:
        """Withdraw a release: production mode refuses the file from now on."""
        authorize(by, Action.RELEASE, self._audit, target=sha256)
        assert by is not None
        _need_reason(reason)
        now = dt.datetime.now(dt.UTC).isoformat()
        with stationdb.connect(self.path) as conn:
            count = conn.execute(
                "UPDATE releases SET revoked_by = ?, revoked_at = ?, revoke_reason = ?"
                " WHERE sha256 = ? AND revoked_at IS NULL",
                (by.user, now, reason, sha256),
            ).rowcount
        if not count:
            raise ReleaseError(f"no active release with sha256 {sha256[:12]}…")
        self._audit(by.user, "revoke_release", sha256, reason)

    def release_of(self, sha256: str) -> dict[str, object] | None:
        """The active release of these bytes, or None."""
        rows = [r for r in self.all() if r["sha256"] == sha256 and r["revoked_at"] is None]
        return rows[0] if rows else None

    def all(self) -> list[dict[str, object]]:
        """Every release, newest first (revoked ones included)."""
        with stationdb.connect(self.path) as conn:
            cur = conn.execute("SELECT * FROM releases ORDER BY id DESC")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur]

    # -- the check before a run ------------------------------------------------------------
    def problems(self, sequence: Sequence) -> list[str]:
        """Why production mode refuses ``sequence`` (empty when it may run)."""
        if not self.production_mode:
            return []
        out = []
        for f in files_of(sequence):
            what = f"{f.kind} file {f.path.name} ({f.name} {f.version}".rstrip() + ")"
            on_disk = sha256_on_disk(f.path)
            if on_disk != f.sha256:
                out.append(
                    f"production mode: the {what} changed on disk after the station loaded it; "
                    "restart the station and have an engineer release the new file"
                )
            elif self.release_of(f.sha256) is None:
                out.append(
                    f"production mode: the {what}, sha256 {f.sha256[:12]}…, is not released; "
                    "an engineer must release this exact file"
                )
        return out


def _need_reason(text: str) -> None:
    if len(text.strip()) < 3:
        raise ReleaseError("give a reason (a few words) — it goes into the audit trail")
