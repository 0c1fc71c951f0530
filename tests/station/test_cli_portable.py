"""CLI details a user on another system or reading README hits: options in either place,
and a `station sim` CAN default that says what to do where it does not exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.cli import main, sim_can_interface
from station.errors import StationError
from station.store import ResultsStore


def test_results_options_go_before_or_after_the_subcommand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "r.db"
    ResultsStore(db).close()
    assert main(["results", "list", "--db", str(db), "--outcome", "FAILED"]) == 0
    assert main(["results", "--db", str(db), "list"]) == 0
    assert capsys.readouterr().out.count("(no runs match)") == 2
    # after the subcommand it must not be swallowed by the one before it
    assert main(["results", "--db", str(tmp_path / "none.db"), "list", "--db", str(db)]) == 0
    assert main(["results", "verify", "--db", str(db)]) == 0
    assert main(["results", "show", "12345678", "--db", str(tmp_path / "none.db")]) == 2
    assert "no results database at" in capsys.readouterr().err


def test_station_sim_defaults_to_udp_multicast_where_python_can_has_it() -> None:
    assert sim_can_interface(None, "linux") == "udp_multicast"
    assert sim_can_interface(None, "darwin") == "udp_multicast"
    assert sim_can_interface("virtual", "win32") == "virtual"


def test_station_sim_on_windows_asks_for_an_interface_in_one_sentence() -> None:
    with pytest.raises(StationError, match=r"needs --can-interface on Windows.*pcan"):
        sim_can_interface(None, "win32")
