"""Released files and production mode (reliability.md A2): only released bytes run."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from station.errors import RunRefused
from station.sequence import load_sequence
from tests.ui.conftest import DATA, login_as
from ui.releases import ReleaseError, files_of

pytestmark = pytest.mark.ui
SERIAL, PART = "NM96A0000001", "NM96-A"


@pytest.fixture
def station(tmp_path: Path, make_station):
    sequence = tmp_path / "eol.toml"
    shutil.copy(DATA / "pass.toml", sequence)
    c = make_station(sequence)
    login_as(c, "engineer")
    c.set_production_mode(True, "line goes live")
    return c


def test_production_mode_refuses_an_unreleased_sequence_with_a_clear_message(station) -> None:
    c = station
    blockers = c.blockers(SERIAL, PART)
    assert [b.kind for b in blockers] == ["release"]
    assert "not released" in blockers[0].message and "eol.toml" in blockers[0].message
    with pytest.raises(RunRefused, match="not released"):
        c.start(SERIAL, PART)


def test_a_released_file_runs_and_one_changed_byte_refuses_it(station) -> None:
    c = station
    (file,) = c.files_to_release()
    with pytest.raises(ReleaseError, match="reason"):
        c.release(file, "")
    c.release(file, "EOL v1.0 approved, ECN 42")
    assert c.blockers(SERIAL, PART) == []
    with pytest.raises(ReleaseError, match="already"):
        c.release(file, "again")
    file.path.write_bytes(file.path.read_bytes() + b"\n")  # one byte
    blockers = c.blockers(SERIAL, PART)
    assert len(blockers) == 1 and "changed on disk" in blockers[0].message


def test_revoking_a_release_refuses_the_file_again(station) -> None:
    c = station
    (file,) = c.files_to_release()
    c.release(file, "approved")
    c.revoke(file.sha256, "limits wrong, see 8D 17")
    assert "not released" in c.blockers(SERIAL, PART)[0].message
    with sqlite3.connect(c.prepared.db_path) as conn:
        rows = conn.execute("SELECT user, action, target, detail FROM audit").fetchall()
    actions = [r[1] for r in rows]
    assert actions.count("release") == 1 and "revoke_release" in actions
    assert any(r[1] == "release" and file.sha256 in r[3] for r in rows)
    assert ("erin", "production_mode", "on", "line goes live") in rows


def test_engineering_mode_runs_unreleased_files(station) -> None:
    c = station
    c.set_production_mode(False, "debugging the new DCIR step")
    assert c.blockers(SERIAL, PART) == []


def test_limit_tables_are_released_with_their_sequence() -> None:
    files = files_of(load_sequence(Path(__file__).parents[1] / "data/good/sequence.toml"))
    assert [f.kind for f in files] == ["sequence", "limits", "limits"]
    assert len({f.sha256 for f in files}) == 3


def test_the_engineering_page_releases_the_selected_file(qtbot, tmp_path, make_window) -> None:
    sequence = tmp_path / "eol.toml"
    shutil.copy(DATA / "pass.toml", sequence)
    window = make_window("engineer", sequence=sequence)
    c = window.controller
    page = window.engineering
    assert window.open_tab("engineering")
    assert page.files.rows[0][1] == "NOT released"
    page.file_table.selectRow(0)
    page.reason.setText("approved for line 2")
    assert page.release_selected()
    assert page.files.rows[0][1].startswith("released by erin")
    assert len(page.history.rows) == 1
    page.reason.setText("go live")
    assert page.toggle_production()
    assert c.releases.production_mode
    assert "PRODUCTION" in window.operator.health.mode.text()
