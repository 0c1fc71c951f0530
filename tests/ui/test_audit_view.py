"""Engineers read the audit trail, filtered by user, action, text and date."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.ui.conftest import PASSWORD
from ui.audit_view import AuditFilter, audit_rows

pytestmark = pytest.mark.ui


def test_the_audit_tab_lists_and_filters_entries(qtbot, make_window) -> None:
    window = make_window("admin")
    c = window.controller
    c.create_user("newbie", "operator", PASSWORD, "new hire for line 2")
    c.set_disabled("newbie", True, "trial ended")
    assert window.open_tab("audit")
    view = window.audit
    actions = {r["action"] for r in view.model.rows}
    assert {"create_user", "disable_user", "login"} <= actions
    assert view.model.rows[0]["action"] == "disable_user"  # newest first

    view.action.setCurrentText("create_user")
    view.text.setText("line 2")
    view.search()
    assert [(r["target"], r["detail"]) for r in view.model.rows] == [
        ("newbie", "role operator; new hire for line 2")
    ]
    assert view.count.text().startswith("1 entries")

    users = [view.user.itemText(i) for i in range(view.user.count())]
    assert "admin" in users and "otto" not in users  # the users who did something
    view.action.setCurrentText("disable_user")  # "line 2" is not in its detail
    view.search()
    assert view.model.rows == []


def test_the_date_filter_is_inclusive_and_local(make_station) -> None:
    c = make_station()
    today = dt.date.today()
    assert audit_rows(c.store, AuditFilter(since=today, until=today))
    assert audit_rows(c.store, AuditFilter(until=today - dt.timedelta(days=1))) == []
    assert audit_rows(c.store, AuditFilter(since=today + dt.timedelta(days=1))) == []


def test_an_operator_cannot_open_the_audit_trail(make_window) -> None:
    window = make_window("operator")
    assert not window.open_tab("audit")
    assert window.controller.store.query("SELECT 1 FROM audit WHERE action = 'denied'")
