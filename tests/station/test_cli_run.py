"""`station run` exit codes: 0 PASSED, 1 FAILED, 2 ERROR or invalid input, 3 ABORTED."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.cli import main

HEADER = """
[sequence]
name = "Exit codes"
version = "1"
products = ["NM96-A"]
serial_pattern = "^NM96[A-Z][0-9]{7}$"
"""

OCV = """
[[main]]
type = "dmm_voltage"
name = "Pack OCV"
limits.voltage = { comparator = "GELE", low = LOW, high = 400 }
"""

IR = """
[[main]]
type = "insulation_resistance"
name = "IR"
params = { voltage_v = 500, dwell_s = 2 }
limits.riso_ohm = { comparator = "GE", low = 1e8 }
limits.test_voltage_v = { comparator = "LOG" }
limits.residual_voltage_v = { comparator = "LT", high = 60 }
"""


def station_run(tmp_path: Path, body: str, *extra: str, serial: str = "NM96A0000001") -> int:
    seq = tmp_path / "seq.toml"
    seq.write_text(HEADER + body, encoding="utf-8")
    return main(
        ["run", str(seq), "--serial", serial, "--sim", "--db", str(tmp_path / "r.db"), *extra]
    )


def test_passed_is_0(tmp_path: Path) -> None:
    assert station_run(tmp_path, OCV.replace("LOW", "300")) == 0


def test_failed_is_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert station_run(tmp_path, OCV.replace("LOW", "390")) == 1
    out = capsys.readouterr().out
    assert "VERDICT: FAILED" in out and "FAIL: Pack OCV / voltage" in out


def test_a_serial_that_does_not_match_is_2_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert station_run(tmp_path, OCV.replace("LOW", "300"), serial="XX123") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: serial 'XX123' does not match") and "Traceback" not in err


def test_a_broken_sequence_is_2_with_one_sentence_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert station_run(tmp_path, OCV.replace("LOW", "300").replace("GELE", "GELEE")) == 2
    err = capsys.readouterr().err
    assert "main[0] 'Pack OCV' limits.voltage" in err and "GELE" in err
    assert "Traceback" not in err


def test_an_instrument_that_does_not_answer_is_2(tmp_path: Path) -> None:
    body = OCV.replace("LOW", "300")
    assert station_run(tmp_path, body, "--fault", "not_answering=dmm") == 2


def test_aborted_is_3(tmp_path: Path) -> None:
    assert station_run(tmp_path, IR, "--fault", "estop_pressed") == 3


def test_production_mode_refuses_an_edited_copy_of_a_released_sequence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same name and version, one limit loosened: a different file, so not released."""
    from station.releases import ReleaseBook, files_of
    from station.sequence import load_sequence
    from station.store import ResultsStore

    released = tmp_path / "released" / "seq.toml"
    released.parent.mkdir()
    released.write_text(HEADER + OCV.replace("LOW", "390"), encoding="utf-8")
    db = tmp_path / "r.db"
    with ResultsStore(db) as store:
        book = ReleaseBook(store)
        for file in files_of(load_sequence(released)):
            book.add(file, file.sha256, "erin", "approved, ECN 42")
        book.set_setting("production_mode", "on")
    edited = tmp_path / "seq.toml"
    edited.write_text(HEADER + OCV.replace("LOW", "300"), encoding="utf-8")
    run = ["run", "--serial", "NM96A0000001", "--sim", "--db", str(db)]
    assert main([*run[:1], str(edited), *run[1:]]) == 2
    err = capsys.readouterr().err
    assert "error: production mode: the sequence file seq.toml (Exit codes 1)" in err
    assert "is not released" in err and "Traceback" not in err
    with ResultsStore(db, read_only=True) as store:
        assert store.list_runs() == []  # nothing ran
    assert main([*run[:1], str(released), *run[1:]]) == 1  # the released file runs (and fails)


def test_under_sim_an_expired_calibration_blocks_like_any_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "station.toml"
    good = (Path(__file__).parents[1] / "data" / "good" / "station.toml").read_text()
    config.write_text(good.replace("cal_due = 2099-12-31  # dmm", "cal_due = 2020-01-31"))
    assert station_run(tmp_path, OCV.replace("LOW", "300"), "--config", str(config)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: calibration of dmm (keysight.34465a, s/n SIM-DMM) expired on")


def test_a_nearly_full_results_disk_refuses_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from station import gate

    free = shutil.disk_usage(tmp_path).free
    monkeypatch.setattr(gate, "DISK_RESERVE_BYTES", free * 2)  # more than this disk has
    assert station_run(tmp_path, OCV.replace("LOW", "300")) == 2
    err = capsys.readouterr().err
    assert "free on the disk of the results database" in err and "free space" in err
