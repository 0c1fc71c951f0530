"""Users, roles and permissions: who may do what at the station, and proof of who did it.

Roles: ``operator`` runs packs; ``engineer`` also browses results, releases sequence and
limit files, records overrides and switches production mode; ``admin`` also manages
users. ``PERMISSIONS`` is the one matrix; every privileged action asks ``authorize``,
which writes an audit row on success and on denial.

Passwords are stored as salted scrypt hashes (n=2**14, r=8, p=1; the parameters are kept
per user so they can be raised later) in the ``users`` table of the station database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from station import ledger
from station.errors import StationError
from station.languages import language_problem
from ui import stationdb

ROLES = ("operator", "engineer", "admin")
MIN_PASSWORD = 8
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}

AuditFn = Callable[[str, str, str, str], object]
"""``store.audit(user, action, target, detail)``."""


class Action(StrEnum):
    """Everything the station guards by role."""

    RUN = "run"
    BROWSE_RESULTS = "browse_results"
    RELEASE = "release"
    OVERRIDE = "override"
    PRODUCTION_MODE = "production_mode"
    MANAGE_USERS = "manage_users"
    INJECT_FAULT = "inject_fault"


PERMISSIONS: dict[Action, frozenset[str]] = {
    Action.RUN: frozenset({"operator", "engineer", "admin"}),
    Action.BROWSE_RESULTS: frozenset({"engineer", "admin"}),
    Action.RELEASE: frozenset({"engineer", "admin"}),
    Action.OVERRIDE: frozenset({"engineer", "admin"}),
    Action.PRODUCTION_MODE: frozenset({"engineer", "admin"}),
    Action.MANAGE_USERS: frozenset({"admin"}),
    Action.INJECT_FAULT: frozenset({"engineer", "admin"}),
}

DESCRIPTION: dict[Action, str] = {
    Action.RUN: "test packs",
    Action.BROWSE_RESULTS: "browse results",
    Action.RELEASE: "release sequence and limit files",
    Action.OVERRIDE: "override a blocked start",
    Action.PRODUCTION_MODE: "switch production mode",
    Action.MANAGE_USERS: "manage users",
    Action.INJECT_FAULT: "inject a virtual-bench fault (station ui --sim)",
}


class PermissionDenied(StationError):
    """The logged-in user's role may not do this."""


class AuthError(StationError):
    """A user cannot be created or a password cannot be set (says why)."""


class TamperedUser(AuthError):
    """A user row differs from its hash-chain link: it was edited outside the station."""


def allowed(role: str, action: Action) -> bool:
    """Whether ``role`` may do ``action``."""
    return role in PERMISSIONS[action]


@dataclass(frozen=True)
class Session:
    """A logged-in user."""

    user: str
    role: str
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def can(self, action: Action) -> bool:
        return allowed(self.role, action)


def authorize(session: Session | None, action: Action, audit: AuditFn, target: str = "") -> None:
    """Raise PermissionDenied (audited) unless ``session`` may do ``action``."""
    if session is None:
        raise PermissionDenied(f"log in to {DESCRIPTION[action]}")
    if not session.can(action):
        audit(session.user, "denied", action.value, f"role {session.role}; target {target}")
        who = sorted(PERMISSIONS[action])
        raise PermissionDenied(
            f"{session.user} ({session.role}) may not {DESCRIPTION[action]}; "
            f"ask someone with the role {' or '.join(who)}"
        )


def hash_password(password: str, salt: bytes | None = None) -> tuple[str, bytes, bytes]:
    """Return ``(kdf description, salt, hash)`` for ``password`` (scrypt, random salt)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    kdf = "scrypt:n={n},r={r},p={p}".format(**_SCRYPT)
    return kdf, salt, digest


def _verify(password: str, kdf: str, salt: bytes, expected: bytes) -> bool:
    name, _, params = kdf.partition(":")
    if name != "scrypt":
        return False
    args = {k: int(v) for k, v in (p.split("=") for p in params.split(","))}
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=len(expected), **args)
    return hmac.compare_digest(digest, expected)


class UserStore:
    """The station's users, in the ``users`` table of the station database at ``path``.

    ``audit`` is the results store's ``audit``; logins, failed logins and user changes go
    through it.
    """

    def __init__(self, path: str | Path, audit: AuditFn) -> None:
        self.path = Path(path)
        self._audit = audit
        stationdb.ensure_tables(self.path)
        # Used for unknown names so a failed login takes as long as a wrong password.
        self._dummy = hash_password(secrets.token_hex(8))

    def is_empty(self) -> bool:
        """True before the first user exists (the first one must be an admin).

        Users deleted outside the station do not make it empty again: their chain links
        remain, so nobody can become the "first" admin by emptying the table.
        """
        with stationdb.connect(self.path) as conn:
            count = int(conn.execute("SELECT count(*) FROM users").fetchone()[0])
            chained = ledger.chained_subjects(conn, "users")
        return count == 0 and not chained

    def users(self) -> list[dict[str, object]]:
        """Every user: name, role, created_at, created_by, disabled (never hashes)."""
        with stationdb.connect(self.path) as conn:
            rows = conn.execute(
                "SELECT name, role, created_at, created_by, disabled FROM users ORDER BY name"
            ).fetchall()
        keys = ("name", "role", "created_at", "created_by", "disabled")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def create_first_admin(self, name: str, password: str) -> Session:
        """Create the first user, an admin, while there is none; return its session."""
        if not self.is_empty():
            raise PermissionDenied("users exist already; an admin must add new users")
        self._insert(name, "admin", password, created_by=name)
        self._audit(name, "create_user", name, "first administrator")
        return Session(name, "admin")

    def create_user(
        self, by: Session | None, name: str, role: str, password: str, *, reason: str
    ) -> None:
        """Add a user (admins only, with a reason for the audit trail)."""
        authorize(by, Action.MANAGE_USERS, self._audit, target=name)
        assert by is not None
        why = _reason(reason)
        self._insert(name, role, password, created_by=by.user)
        self._audit(by.user, "create_user", name, f"role {role}; {why}")

    def set_password(
        self, by: Session | None, name: str, password: str, *, reason: str = ""
    ) -> None:
        """Set a user's password: admins for anyone (with a reason), everyone for themselves."""
        if by is None or by.user != name:
            authorize(by, Action.MANAGE_USERS, self._audit, target=name)
            why = _reason(reason)
        else:
            why = reason.strip() or "own password"
        assert by is not None
        _check_password(password)
        kdf, salt, digest = hash_password(password)
        with stationdb.connect(self.path) as conn:
            found = conn.execute(
                "UPDATE users SET kdf = ?, salt = ?, hash = ? WHERE name = ?",
                (kdf, salt, digest, name),
            ).rowcount
            if found:
                stationdb.chain_user(conn, name)
        if not found:
            raise AuthError(f"no user {name!r}")
        self._audit(by.user, "set_password", name, why)

    def set_disabled(self, by: Session | None, name: str, disabled: bool, *, reason: str) -> None:
        """Disable (or re-enable) a user's login (admins only); users are never deleted."""
        authorize(by, Action.MANAGE_USERS, self._audit, target=name)
        assert by is not None
        why = _reason(reason)
        if disabled and by.user == name:
            raise AuthError("you cannot disable your own account")
        with stationdb.connect(self.path) as conn:
            found = conn.execute(
                "UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), name)
            ).rowcount
            if found:
                stationdb.chain_user(conn, name)
        if not found:
            raise AuthError(f"no user {name!r}")
        self._audit(by.user, "disable_user" if disabled else "enable_user", name, why)

    def language(self, name: str) -> str | None:
        """The language ``name`` chose (a code of ``station.languages``), or None."""
        with stationdb.connect(self.path) as conn:
            row = conn.execute(
                "SELECT language FROM user_languages WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_language(self, by: Session, language: str) -> None:
        """Keep ``language`` as the logged-in user's own (applied at each login; audited)."""
        wrong = language_problem(language)
        if wrong:
            raise AuthError(wrong)
        with stationdb.connect(self.path) as conn:
            conn.execute(
                "INSERT INTO user_languages (name, language) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET language = excluded.language",
                (by.user, language),
            )
        self._audit(by.user, "set_language", by.user, language)

    def authenticate(self, name: str, password: str) -> Session | None:
        """Return a session for a correct name and password, else None (both audited)."""
        with stationdb.connect(self.path) as conn:
            row = conn.execute(
                "SELECT role, kdf, salt, hash, disabled FROM users WHERE name = ?", (name,)
            ).fetchone()
            intact = row is not None and ledger.row_is_intact(conn, "users", name)
        if row is None:
            kdf, salt, digest = self._dummy
            _verify(password, kdf, salt, digest)
            self._audit(name or "?", "login_failed", "station", "unknown user")
            return None
        role, kdf, salt, digest, disabled = row
        if not intact:
            # Never believe a role, password hash or enabled flag written outside the station.
            self._audit(name, "login_refused", "station", "user row altered outside the station")
            raise TamperedUser(
                f"the account {name!r} was changed outside the station (its record no longer "
                "matches the hash chain); an administrator must check the database"
            )
        ok = _verify(password, kdf, bytes(salt), bytes(digest))
        if not ok or disabled:
            self._audit(name, "login_failed", "station", "disabled" if ok else "wrong password")
            return None
        self._audit(name, "login", "station", f"role {role}")
        return Session(name, str(role))

    def _insert(self, name: str, role: str, password: str, created_by: str) -> None:
        name = name.strip()
        if not name or len(name) > 64 or not name.isprintable():
            raise AuthError("a user name must be 1–64 printable characters")
        if role not in ROLES:
            raise AuthError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        _check_password(password)
        kdf, salt, digest = hash_password(password)
        now = dt.datetime.now(dt.UTC).isoformat()
        with stationdb.connect(self.path) as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AuthError(f"a user called {name!r} exists already")
            conn.execute(
                "INSERT INTO users (name, role, kdf, salt, hash, created_at, created_by)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, role, kdf, salt, digest, now, created_by),
            )
            stationdb.chain_user(conn, name)


def _reason(reason: str) -> str:
    """The reason an admin gives for a change to a user (required; it is audited)."""
    why = reason.strip()
    if len(why) < 3:
        raise AuthError("give a reason for the change — it goes into the audit trail")
    return why


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"a password needs at least {MIN_PASSWORD} characters")
