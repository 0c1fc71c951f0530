"""`station line` and `station run --nest`: one verdict line per nest, the worst exit code."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from station.cli import main
from tests.station.nests_bench import SEQUENCE, line_config


def _files(tmp_path: Path) -> tuple[str, str, str]:
    seq = tmp_path / "seq.toml"
    seq.write_text(SEQUENCE, encoding="utf-8")
    return str(seq), str(line_config(tmp_path, 2)), str(tmp_path / "r.db")


def test_station_line_prints_a_verdict_per_nest_and_exits_with_the_worst(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seq, config, db = _files(tmp_path)
    code = main(
        ["line", seq, "--config", config, "--db", db, "--sim", "--pack", "nmc14s",
         "--serial", "1=NM14A0000001", "--serial", "n2=NM14A0000002",
         "--fault", "2:low_insulation_minus=2e6"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1  # FAILED is the worst of PASSED and FAILED
    verdicts = [line for line in out.splitlines() if line.startswith("nest ") and "serial" in line]
    assert [v.split("   ")[0] for v in verdicts] == ["nest 1 (n1): PASSED", "nest 2 (n2): FAILED"]
    assert "nest 2 (n2)  IR HV-: FAILED" in out


def test_station_run_tests_in_one_nest_of_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seq, config, db = _files(tmp_path)
    common = ["run", seq, "--config", config, "--db", db, "--sim", "--pack", "nmc14s"]
    assert main([*common, "--serial", "NM14A0000002"]) == 2
    err = capsys.readouterr().err
    assert "has 2 nests (1 (n1), 2 (n2)): say which with --nest N" in err
    assert main([*common, "--serial", "NM14A0000002", "--nest", "2"]) == 0
    assert "VERDICT: PASSED" in capsys.readouterr().out
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT serial, nest FROM runs").fetchall() == [
            ("NM14A0000002", "2 (n2)")
        ]


def test_a_serial_for_an_unknown_nest_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seq, config, db = _files(tmp_path)
    code = main(["line", seq, "--config", config, "--db", db, "--sim", "--serial", "3=X"])
    err = capsys.readouterr().err
    assert code == 2
    assert "there is no nest '3'; nests: 1 (n1), 2 (n2)" in err and "Traceback" not in err
    assert main(["line", seq, "--config", config, "--sim", "--serial", "1"]) == 2
    assert "--serial '1': expected NEST=SERIAL" in capsys.readouterr().err
