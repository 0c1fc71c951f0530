"""Releasing files and switching production mode from the UI: who may, and the audit trail.

The records themselves are station data (``station.releases``): the start gate reads them
for every front door. This module adds what the screens need on top: the role check,
the reason, the audit row.
"""

from __future__ import annotations

from typing import Any

from station.errors import StationError
from station.releases import FileToRelease, ReleaseBook, files_of, sha256_on_disk
from station.store import ResultsStore
from ui.auth import Action, AuditFn, Session, authorize

__all__ = ["FileToRelease", "ReleaseError", "Releases", "files_of"]


class ReleaseError(StationError):
    """A file cannot be released (says why)."""


class Releases:
    """Release records and the production-mode switch in the results database of ``store``.

    ``default_production`` is the mode until someone switches it (production for a real
    bench, engineering for the virtual bench).
    """

    def __init__(
        self, store: ResultsStore, audit: AuditFn, default_production: bool = True
    ) -> None:
        self.book = ReleaseBook(store)
        self._audit = audit
        self.default_production = default_production

    # -- production mode -----------------------------------------------------------------
    @property
    def production_mode(self) -> bool:
        return self.book.production_mode(self.default_production)[0]

    def set_production_mode(self, by: Session | None, on: bool, reason: str) -> None:
        """Switch production mode (engineers and admins; a reason is required)."""
        authorize(by, Action.PRODUCTION_MODE, self._audit, target="production mode")
        assert by is not None
        _need_reason(reason)
        self.book.set_setting("production_mode", "on" if on else "off")
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
        if self.book.active(on_disk) is not None:
            raise ReleaseError(f"{file.path} (sha256 {on_disk[:12]}…) is released already")
        release_id = self.book.add(file, on_disk, by.user, note)
        self._audit(by.user, "release", str(file.path), f"{file.kind} sha256={on_disk}; {note}")
        return release_id

    def revoke(self, by: Session | None, sha256: str, reason: str) -> None:
        """Withdraw a release: production mode refuses the file from now on."""
        authorize(by, Action.RELEASE, self._audit, target=sha256)
        assert by is not None
        _need_reason(reason)
        if not self.book.revoke(sha256, by.user, reason):
            raise ReleaseError(f"no active release with sha256 {sha256[:12]}…")
        self._audit(by.user, "revoke_release", sha256, reason)

    def release_of(self, sha256: str) -> dict[str, Any] | None:
        """The active (untampered) release of these bytes, or None."""
        return self.book.active(sha256)

    def all(self) -> list[dict[str, Any]]:
        """Every release, newest first (revoked ones included)."""
        return self.book.all()


def _need_reason(text: str) -> None:
    if len(text.strip()) < 3:
        raise ReleaseError("give a reason (a few words) — it goes into the audit trail")
