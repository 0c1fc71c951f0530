"""The station-health panel shows today's golden and failure masters."""

from __future__ import annotations

import dataclasses

import pytest

from station.masters import FailureMaster, MasterPolicy
from tests.ui.conftest import login_as

pytestmark = pytest.mark.ui


def test_the_health_panel_names_the_masters_still_to_run(make_window) -> None:
    window = make_window("operator")
    c = window.controller
    assert window.operator.health.masters.isHidden()  # no [masters] in the config
    policy = MasterPolicy(("NM96A9000001",), (FailureMaster("NM96A9000002", "IR"),))
    c.engine.config = dataclasses.replace(c.engine.config, masters=policy)
    login_as(c, "operator")
    window.operator.refresh_health()
    label = window.operator.health.masters
    assert not label.isHidden()
    assert label.text().splitlines() == [
        "Masters NOT verified today:",
        "✖ golden pack NM96A9000001: not run today",
        "✖ failure master NM96A9000002: not run today (must FAIL 'IR')",
    ]
    blockers = c.blockers("NM96A0000001", "NM96-A")
    assert [b.kind for b in blockers] == ["masters", "masters"]
    assert blockers[0].message.startswith("golden pack NM96A9000001: not run today")
