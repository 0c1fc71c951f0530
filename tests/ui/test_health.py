"""Station health and what blocks Start: instruments, calibration, safe state, overrides."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from station.errors import RunRefused, StationError
from station.events import RunFinished, RunStarted
from tests.ui.conftest import login_as
from tests.ui.test_rbac import expire_calibration, run_one_pack
from ui import gating
from ui.app import DEFAULT_SEQUENCE

pytestmark = pytest.mark.ui
SERIAL = "NM96A0000001"


def test_every_instrument_shows_identity_calibration_and_days_left(make_window) -> None:
    window = make_window("operator")
    rows = window.operator.health.model.rows
    assert {h.role for h in rows} == {
        "supply",
        "load",
        "dmm",
        "ambient",
        "insulation_tester",
        "interlocks",
    }
    for h in rows:
        assert h.connected and h.state == "OK" and 360 <= h.days_left <= 366
        assert h.idn and h.idn != "not connected"
    dmm = next(h for h in rows if h.role == "dmm")
    assert dmm.needed_by == ("Pack OCV",)
    assert "Keysight" in window.operator.health.model.data(
        window.operator.health.model.index(rows.index(dmm), 0)
    )


def test_the_bms_is_shown_as_the_unit_under_test_not_an_instrument(make_window) -> None:
    window = make_window("operator", sequence=DEFAULT_SEQUENCE)
    bms = next(h for h in window.operator.health.model.rows if h.role == "bms")
    assert bms.connected and bms.state == "OK" and bms.cal_due is None
    assert "unit under test" in bms.idn


def test_interlocks_are_read_while_idle(qtbot, make_window) -> None:
    window = make_window("operator")
    qtbot.waitUntil(lambda: "safe for HV" in window.operator.health.interlocks.text())


def test_expired_calibration_blocks_start_until_an_engineer_overrides(qtbot, make_window) -> None:
    window = make_window("operator")
    c, op = window.controller, window.operator
    expire_calibration(c, "load")
    op.scan.setText(SERIAL)
    assert not op.start_button.isEnabled()
    assert "calibration of load" in op.reason.text() and "expired" in op.reason.text()
    assert op.banner.state == "BLOCKED"
    assert next(h for h in op.health.model.rows if h.role == "load").state == "EXPIRED"

    c.logout()
    login_as(c, "engineer")
    c.grant_override("calibration:load", "cal lab closed today, load checked against the shunt")
    assert op.start_button.isEnabled()
    assert next(h for h in op.health.model.rows if h.role == "load").state == "OVERRIDDEN"
    run_one_pack(qtbot, c)
    assert c.last_result.outcome == "PASSED"
    run_id = c.last_result.run_id
    with sqlite3.connect(c.prepared.db_path) as conn:
        rows = conn.execute("SELECT user, action, target, detail FROM audit").fetchall()
        warnings = conn.execute(
            "SELECT message FROM logs WHERE run_id = ? AND level = 'WARNING'", (run_id,)
        ).fetchall()
    assert any(r[:3] == ("erin", "override", "calibration:load") for r in rows)
    assert ("erin", "override_used", run_id) in [r[:3] for r in rows]
    # The engine's own override API put the reason into the run record.
    assert any("overridden" in w and "cal lab closed today" in w for (w,) in warnings)
    assert c.engine.config.instruments["load"].cal_due < dt.date.today()  # the true date


def test_a_safety_instruments_calibration_cannot_be_overridden(make_station) -> None:
    c = make_station()
    login_as(c, "engineer")
    expire_calibration(c, "insulation_tester")
    [blocker] = c.blockers(SERIAL, "NM96-A")
    assert blocker.key == "calibration:insulation_tester" and not blocker.overridable
    assert "no override" in blocker.message
    with pytest.raises(StationError, match="nothing to override"):
        c.grant_override("calibration:insulation_tester", "please")


def test_every_expired_calibration_needs_its_own_override(make_station) -> None:
    c = make_station()
    login_as(c, "engineer")
    expire_calibration(c, "supply")
    expire_calibration(c, "load")
    c.grant_override("calibration:supply", "supply checked against the reference")
    assert [b.key for b in c.blockers(SERIAL, "NM96-A")] == ["calibration:load"]
    c.grant_override("calibration:load", "load checked with the shunt")
    assert c.blockers(SERIAL, "NM96-A") == []


def test_a_missing_instrument_blocks_start_and_cannot_be_overridden(make_window) -> None:
    window = make_window("engineer", sequence="needs_scanner.toml")
    c, op = window.controller, window.operator
    op.scan.setText(SERIAL)
    assert not op.start_button.isEnabled()
    assert "no instrument for 'scanner'" in op.reason.text()
    scanner = next(h for h in op.health.model.rows if h.role == "scanner")
    assert scanner.state == "MISSING" and scanner.needed_by == ("Read label",)
    assert c.overridable_blockers() == []


def record_unsafe_run(c) -> None:
    """A finished run whose safe state was not confirmed, as the store keeps it."""
    store = c.store
    store(RunStarted(run_id="unsafe-run-0001", serial=SERIAL, part_number="NM96-A",
                     operator="otto", station_id="EOL-1", sequence_name="s",
                     sequence_version="1", sequence_path="s.toml", sequence_sha256="a" * 64,
                     limits_path="", limits_sha256="", config_sha256="c" * 64,
                     software_version="x", started_at="2026-01-01T08:00:00+00:00"))  # fmt: skip
    detail = "load: NOT CONFIRMED (timeout)"
    store(RunFinished("unsafe-run-0001", "ERROR", "2026-01-01T08:01:00+00:00",
                      safe_state_ok=False, safe_state_detail=detail))  # fmt: skip


def test_unconfirmed_safe_state_blocks_until_confirmed_for_one_run(qtbot, make_station) -> None:
    c = make_station()
    login_as(c, "engineer")
    record_unsafe_run(c)
    [blocker] = c.blockers(SERIAL, "NM96-A")
    assert blocker.kind == "safe_state" and "NOT CONFIRMED (timeout)" in blocker.message
    c.grant_override("safe_state", "checked with the HV probe: 0 V")
    assert c.blockers(SERIAL, "NM96-A") == []
    run_one_pack(qtbot, c)
    assert c.last_result.safe_state_ok and "safe_state" not in c.overrides.items
    assert c.blockers(SERIAL, "NM96-A") == []  # the confirmed run lifts it


def test_the_cli_sees_the_unconfirmed_safe_state_too(make_station) -> None:
    c = make_station()
    record_unsafe_run(c)
    with pytest.raises(RunRefused, match="could not confirm the sources are off"):
        c.engine.run(SERIAL, "NM96-A")


def test_overrides_need_a_reason_and_expire() -> None:
    overrides = gating.Overrides()
    now = dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)
    overrides.grant("calibration:dmm", "erin", "reason", now)
    assert overrides.active("calibration:dmm", now + dt.timedelta(hours=7)) is not None
    assert overrides.active("calibration:dmm", now + dt.timedelta(hours=9)) is None
    assert overrides.items == {}


def test_due_soon_is_flagged() -> None:
    h = gating.InstrumentStatus("dmm", "m", "idn", "s", True, dt.date(2026, 1, 20), 12)
    assert h.state == "DUE SOON"


def test_variant_from_serial() -> None:
    products = ("NM96-A", "NM96-B")
    assert gating.variant_from_serial("NM96A0000001", products) == "NM96-A"
    assert gating.variant_from_serial("NM96B0000001", products) == "NM96-B"
    assert gating.variant_from_serial("XX", products) is None
    assert gating.variant_from_serial("anything", ("ONLY",)) == "ONLY"
