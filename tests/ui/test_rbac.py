"""Role-based access: every privileged action × every role (reliability.md A1).

Target: 0 unauthorized successes and 0 false denials, and every denial of a logged-in
user is in the audit table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from station.errors import StationError
from tests.ui.conftest import PASSWORD, login_as
from ui.auth import PERMISSIONS, ROLES, Action
from ui.controller import StationController

pytestmark = pytest.mark.ui
RUN_MS = 15_000


def audit_rows(path: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT user, action, target, detail FROM audit ORDER BY id").fetchall()


def expire_calibration(c: StationController, role: str = "load") -> None:
    """Make ``role``'s calibration due a week ago (as a config would say)."""
    config = c.engine.config
    past = dataclasses.replace(
        config.instruments[role], cal_due=dt.date.today() - dt.timedelta(days=7)
    )
    c.engine.config = dataclasses.replace(config, instruments={**config.instruments, role: past})


def run_one_pack(qtbot, c: StationController) -> None:
    with qtbot.waitSignal(c.prompter.requested, timeout=RUN_MS) as asked:
        c.start("NM96A0000001", "NM96-A")
    with qtbot.waitSignal(c.runDone, timeout=RUN_MS):
        c.prompter.answer(asked.args[0], "yes")


def privileged(qtbot, c: StationController) -> dict[Action, Callable[[], object]]:
    """One real call per guarded action, through the controller the screens use."""
    return {
        Action.RUN: lambda: run_one_pack(qtbot, c),
        Action.BROWSE_RESULTS: lambda: c.require(Action.BROWSE_RESULTS, "results"),
        Action.RELEASE: lambda: c.release(c.files_to_release()[0], "RBAC matrix"),
        Action.OVERRIDE: lambda: c.grant_override("calibration:load", "RBAC matrix"),
        Action.PRODUCTION_MODE: lambda: c.set_production_mode(True, "RBAC matrix"),
        Action.MANAGE_USERS: lambda: c.create_user("newbie", "operator", PASSWORD, "new hire"),
        Action.INJECT_FAULT: lambda: c.inject_fault("hvil_open", "", "RBAC matrix"),
    }


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_privileged_action_for_every_role(qtbot, make_station, role) -> None:
    c = make_station()
    if role is not None:
        login_as(c, role)
    outcomes: dict[Action, bool] = {}
    calls = privileged(qtbot, c)
    # RUN first, while nothing blocks the start; the rest need something to act on.
    for action in [Action.RUN, *(a for a in Action if a is not Action.RUN)]:
        if action is Action.OVERRIDE:
            expire_calibration(c)
        try:
            calls[action]()
        except StationError:
            outcomes[action] = False
        else:
            outcomes[action] = True
        if action is Action.OVERRIDE:
            c.overrides.items.clear()
    expected = {a: role is not None and role in PERMISSIONS[a] for a in Action}
    assert outcomes == expected
    denials = {(r[0], r[2]) for r in audit_rows(c.prepared.db_path) if r[1] == "denied"}
    if role is not None:
        user = c.session.user
        assert denials == {(user, a.value) for a, ok in expected.items() if not ok}


def test_the_matrix_is_what_the_issue_asks() -> None:
    assert PERMISSIONS[Action.RUN] == {"operator", "engineer", "admin"}
    for action in (Action.BROWSE_RESULTS, Action.RELEASE, Action.OVERRIDE):
        assert PERMISSIONS[action] == {"engineer", "admin"}
    assert PERMISSIONS[Action.MANAGE_USERS] == {"admin"}


@pytest.mark.parametrize(
    ("role", "tabs", "users"),
    [
        ("operator", {"test"}, False),
        ("engineer", {"test", "results", "engineering", "audit"}, False),
        ("admin", {"test", "results", "engineering", "audit"}, True),
    ],
)
def test_tabs_by_role(make_window, role, tabs, users) -> None:
    window = make_window(role)
    visible = {name for name, i in window._tab_index.items() if window.tabs.isTabVisible(i)}
    assert visible == tabs
    for name in ("results", "engineering", "audit"):
        assert window.open_tab(name) == (name in tabs)
    assert window.engineering.users_box.isVisibleTo(window.engineering) == users


def test_an_operator_cannot_release_or_override_from_the_page(make_window) -> None:
    window = make_window("operator")
    c = window.controller
    expire_calibration(c)
    page = window.engineering
    page.refresh()
    assert not window.open_tab("engineering")
    assert "may not" in window.notice.text()
    page.file_table.selectRow(0)
    page.reason.setText("I just want to")
    assert not page.release_selected()
    assert "may not release" in page.message.text()
    page.blocker_table.selectRow(0)
    page.reason.setText("I just want to")
    assert not page.override_selected()
    assert "may not override" in page.message.text()
    assert c.releases.all() == [] and c.overrides.items == {}
    actions = [r[1:3] for r in audit_rows(c.prepared.db_path)]
    assert ("denied", "release") in actions and ("denied", "override") in actions
