"""Tests for ``station check``: every problem of every file at once, and the exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.cli import main

DATA = Path(__file__).parent.parent / "data"
BROKEN = sorted((DATA / "broken").glob("*.toml"))
GOOD = DATA / "good"


def check(capsys: pytest.CaptureFixture[str], *files: Path) -> tuple[int, list[str]]:
    code = main(["check", *map(str, files)])
    return code, capsys.readouterr().out.splitlines()


def test_a_good_sequence_passes(capsys: pytest.CaptureFixture[str]) -> None:
    path = GOOD / "sequence.toml"
    assert check(capsys, path) == (0, [f"ok      {path} (sequence)"])


def test_a_good_config_passes(capsys: pytest.CaptureFixture[str]) -> None:
    path = GOOD / "station.toml"
    assert check(capsys, path) == (0, [f"ok      {path} (config)"])


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_a_broken_sequence_fails_and_says_where(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    code, lines = check(capsys, path)
    assert code == 2
    assert lines[0].startswith(f"FAILED  {path} (sequence): ")
    assert len(lines) > 1
    assert all(line.startswith(f"  {DATA / 'broken'}/") for line in lines[1:])


def test_every_problem_is_printed_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "broken" / "several_errors.toml"
    code, lines = check(capsys, path)
    assert code == 2
    assert lines[0] == f"FAILED  {path} (sequence): 5 problem(s)"
    assert [line.split(": ")[1] for line in lines[1:]] == [
        "setup[0] 'Settle' params.second",
        "setup[0] 'Settle' params.seconds",
        "main[0] 'Pack OCV' limits.voltage.low",
        "main[1] 'Bus voltage' type",
        "main[2] 'Pack OCV' name",
    ]


def test_good_and_broken_files_are_all_reported(capsys: pytest.CaptureFixture[str]) -> None:
    broken = DATA / "broken" / "unknown_field.toml"
    code, lines = check(capsys, GOOD / "sequence.toml", broken, GOOD / "station.toml")
    assert code == 2
    assert [line.split()[0] for line in lines if not line.startswith("  ")] == [
        "ok",
        "FAILED",
        "ok",
    ]


def test_a_broken_config_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text('[station]\nid = "EOL-01"\n[instruments.suply]\n', encoding="utf-8")
    code, lines = check(capsys, path)
    assert code == 2
    assert lines[0] == f"FAILED  {path} (config): 1 problem(s)"
    assert "instruments.suply: unknown role (did you mean 'supply'?)" in lines[1]


def test_a_limit_table_alone_points_to_its_sequence(capsys: pytest.CaptureFixture[str]) -> None:
    path = GOOD / "limits_nm96b.toml"
    code, lines = check(capsys, path)
    assert code == 2
    assert lines == [
        f"FAILED  {path}: {path}: a limit table is checked together with its sequence; "
        "run `station check` on the sequence that names it"
    ]


def test_a_missing_file_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, lines = check(capsys, tmp_path / "nowhere.toml")
    assert code == 2
    assert lines[1] == f"  {tmp_path / 'nowhere.toml'}: file not found"
