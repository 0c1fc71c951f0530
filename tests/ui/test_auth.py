"""Users and passwords (reliability.md A3, A4): salted slow hashes, audited logins."""

from __future__ import annotations

import sqlite3

import pytest

from station.errors import StationError
from tests.ui.conftest import PASSWORD, USERS, login_as
from ui.auth import MIN_PASSWORD, AuthError, PermissionDenied, hash_password

pytestmark = pytest.mark.ui


def test_passwords_are_salted_scrypt_hashes_never_plaintext(real_kdf, make_station) -> None:
    c = make_station()
    path = c.prepared.db_path
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name, kdf, salt, hash FROM users").fetchall()
    assert {r[0] for r in rows} == set(USERS)
    assert all(r[1] == "scrypt:n=16384,r=8,p=1" and len(r[2]) == 16 for r in rows)
    assert len({r[3] for r in rows}) == len(rows)  # same password, different salts
    c.store.close()  # flush the WAL into the file before scanning its bytes
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())
    assert PASSWORD.encode() not in raw


def test_hash_is_deterministic_for_a_salt_and_differs_per_salt(real_kdf) -> None:
    kdf, salt, digest = hash_password("a long password")
    assert kdf == "scrypt:n=16384,r=8,p=1"  # 16 MiB of memory per guess
    assert hash_password("a long password", salt) == (kdf, salt, digest)
    assert hash_password("a long password")[2] != digest


def test_login_and_failed_logins_are_audited(make_station) -> None:
    c = make_station()
    assert c.login("otto", "wrong password") is None
    assert c.login("nobody", PASSWORD) is None
    session = c.login("otto", PASSWORD)
    assert session is not None and session.role == "operator"
    c.logout("end of shift")
    with sqlite3.connect(c.prepared.db_path) as conn:
        rows = conn.execute("SELECT user, action, detail FROM audit").fetchall()
    assert ("otto", "login_failed", "wrong password") in rows
    assert ("nobody", "login_failed", "unknown user") in rows
    assert ("otto", "login", "role operator") in rows
    assert ("otto", "logout", "end of shift") in rows


def test_first_admin_only_once_and_then_admins_add_users(make_station) -> None:
    c = make_station(users=False)
    assert c.users.is_empty()
    with pytest.raises(AuthError, match="at least"):
        c.create_first_admin("root", "short")
    c.create_first_admin("root", PASSWORD)
    with pytest.raises(PermissionDenied):
        c.users.create_first_admin("mallory", PASSWORD)
    c.create_user("ed", "engineer", PASSWORD, "new hire")
    with pytest.raises(AuthError, match="exists"):
        c.create_user("ed", "operator", PASSWORD, "new hire")
    with pytest.raises(AuthError, match="unknown role"):
        c.create_user("x", "superuser", PASSWORD, "new hire")
    assert len("short") < MIN_PASSWORD


def test_disabled_users_cannot_log_in(make_station) -> None:
    c = make_station()
    login_as(c, "admin")
    c.users.set_disabled(c.session, "otto", True, reason="left the company")
    with pytest.raises(StationError, match="your own"):
        c.users.set_disabled(c.session, "admin", True, reason="test")
    assert c.login("otto", PASSWORD) is None


def test_users_change_their_own_password_only(make_station) -> None:
    c = make_station()
    login_as(c, "operator")
    c.users.set_password(c.session, "otto", "a new password", reason="forgot it")
    with pytest.raises(PermissionDenied):
        c.users.set_password(c.session, "erin", "a new password")
    assert c.login("otto", "a new password") is not None


def test_login_page_creates_the_first_admin_then_logs_in(qtbot, make_window) -> None:
    window = make_window(role=None, users=False)
    page = window.login
    assert page.first_admin and page.repeat.isVisible()
    page.name.setText("root")
    page.password.setText(PASSWORD)
    page.repeat.setText(PASSWORD + "x")
    page.submit()
    assert "differ" in page.message.text()
    page.password.setText(PASSWORD)
    page.repeat.setText(PASSWORD)
    with qtbot.waitSignal(page.loggedIn, timeout=2000):
        page.submit()
    assert window.pages.currentWidget() is window.tabs
    assert window.who.text() == "root (admin)"
    window.logout("logout")
    assert window.pages.currentWidget() is page and not page.repeat.isVisible()
    page.name.setText("root")
    page.password.setText("wrong password")
    page.submit()
    assert "wrong" in page.message.text()


def test_idle_logout_waits_for_the_run_to_end(qtbot, make_station) -> None:
    from ui.main_window import MainWindow

    c = make_station()
    window = MainWindow(c, idle_minutes=0.002)  # 120 ms
    qtbot.addWidget(window)
    login_as(c, "operator")
    window.on_login()
    c.running = True  # as during a run: the logout must wait
    window._idle_timeout()
    assert c.session is not None
    c.running = False
    qtbot.waitUntil(lambda: c.session is None, timeout=5000)
    assert window.pages.currentWidget() is window.login
    assert "without input" in window.login.message.text()


def _behind_the_stations_back(path, sql: str) -> None:
    """What someone with the sqlite3 CLI does: drop the triggers, edit, recreate them."""
    with sqlite3.connect(path, isolation_level=None) as conn:
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='trigger'"
        ).fetchall()
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute(sql)
        for _, text in triggers:
            conn.execute(text)


def test_a_role_raised_outside_the_station_is_refused_at_login(make_station, capsys) -> None:
    from station.cli import main

    c = make_station()
    _behind_the_stations_back(
        c.prepared.db_path, "UPDATE users SET role = 'admin' WHERE name = 'otto'"
    )
    with pytest.raises(AuthError, match="changed outside the station"):
        c.login("otto", PASSWORD)
    assert c.session is None
    assert c.login("erin", PASSWORD) is not None  # untouched accounts still log in
    with sqlite3.connect(c.prepared.db_path) as conn:
        assert conn.execute(
            "SELECT count(*) FROM audit WHERE user = 'otto' AND action = 'login_refused'"
        ).fetchone() == (1,)
    assert main(["results", "--db", str(c.prepared.db_path), "verify"]) == 1
    assert "users row 'otto'" in capsys.readouterr().out


def test_emptying_the_users_table_does_not_allow_a_new_first_admin(make_station) -> None:
    c = make_station()
    _behind_the_stations_back(c.prepared.db_path, "DELETE FROM users")
    assert not c.users.is_empty()
    with pytest.raises(PermissionDenied):
        c.create_first_admin("mallory", PASSWORD)


def test_a_forged_release_releases_nothing(make_station) -> None:
    c = make_station()
    login_as(c, "engineer")
    c.set_production_mode(True, "line goes live")
    (file,) = c.files_to_release()
    _behind_the_stations_back(
        c.prepared.db_path,
        "INSERT INTO releases (kind, path, sha256, name, version, released_by, released_at, note)"
        f" VALUES ('sequence', 'x', '{file.sha256}', 'x', '1', 'erin', 'x', 'forged')",
    )
    assert c.releases.release_of(file.sha256) is None
    assert [b.kind for b in c.blockers("NM96A0000001", "NM96-A")] == ["release"]


def test_production_mode_switched_off_outside_the_station_stays_on(make_station) -> None:
    c = make_station()
    login_as(c, "engineer")
    c.set_production_mode(True, "line goes live")
    _behind_the_stations_back(c.prepared.db_path, "UPDATE settings SET value = 'off'")
    assert c.releases.production_mode
    kinds = [b.kind for b in c.blockers("NM96A0000001", "NM96-A")]
    assert kinds == ["settings", "release"]


def test_user_changes_need_a_reason(make_station) -> None:
    c = make_station()
    login_as(c, "admin")
    for empty in ("", "  "):
        with pytest.raises(AuthError, match="reason"):
            c.create_user("newbie", "operator", PASSWORD, empty)
    assert "newbie" not in [u["name"] for u in c.users.users()]
    with pytest.raises(AuthError, match="reason"):
        c.set_disabled("otto", True, "")
    with pytest.raises(AuthError, match="reason"):
        c.set_password("otto", "a new password", "")
    assert c.login("otto", PASSWORD) is not None  # nothing changed


def test_an_admin_disables_and_resets_users_from_the_engineering_page(qtbot, make_window) -> None:
    window = make_window("admin")
    page, c = window.engineering, window.controller
    assert window.open_tab("engineering")
    names = [u["name"] for u in page.users.rows]
    page.user_table.selectRow(names.index("otto"))
    assert not page.disable_selected(True)  # no reason yet
    assert "reason" in page.message.text()
    page.reason.setText("left the line")
    assert page.disable_selected(True), page.message.text()
    assert c.login("otto", PASSWORD) is None
    login_as(c, "admin")
    page.user_table.selectRow(names.index("otto"))
    page.reason.setText("back on the line")
    assert page.disable_selected(False), page.message.text()
    page.user_table.selectRow(names.index("otto"))
    page.new_password.setText("a fresh password")
    page.reason.setText("forgot it")
    assert page.reset_password(), page.message.text()
    rows = c.store.query(
        "SELECT action, detail FROM audit WHERE target = 'otto' AND user = 'admin' ORDER BY id"
    )
    assert [(r["action"], r["detail"]) for r in rows][-3:] == [
        ("disable_user", "left the line"),
        ("enable_user", "back on the line"),
        ("set_password", "forgot it"),
    ]
    assert c.login("otto", "a fresh password") is not None
