"""The retest policy as the screens show it: the gate's blocker, and a supervisor's sign-off."""

from __future__ import annotations

import dataclasses

import pytest

from station.errors import StationError
from station.retest import RetestPolicy
from tests.station.recorded_runs import record
from tests.ui.conftest import login_as

pytestmark = pytest.mark.ui
SERIAL = "NM96A0000001"


def test_a_retest_waits_for_a_supervisors_sign_off(make_station) -> None:
    c = make_station()
    c.engine.config = dataclasses.replace(c.engine.config, retest=RetestPolicy(3, 2, False))
    record(c.store, "failed-run-0001", SERIAL, voltage=420.0)
    login_as(c, "operator")
    [blocker] = c.blockers(SERIAL, "NM96-A")
    assert blocker.key == f"retest:{SERIAL}" and blocker.overridable
    assert "attempt 2 of 3" in blocker.message and "supervisor's sign-off" in blocker.message
    with pytest.raises(StationError):  # an operator cannot sign off
        c.grant_override(blocker.key, "looks fine")
    c.logout()
    login_as(c, "engineer")
    c.grant_override(blocker.key, "fixture contact cleaned, retest approved")
    assert c.blockers(SERIAL, "NM96-A") == []
    audit = c.store.query("SELECT user, action, target FROM audit WHERE action = 'override'")
    assert audit == [{"user": "erin", "action": "override", "target": f"retest:{SERIAL}"}]
