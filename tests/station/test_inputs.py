"""Tests for station.inputs: the one way input files are read, hashed and reported on."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from station.errors import ConfigError, Problem
from station.inputs import MAX_TOML_DEPTH, Problems, did_you_mean, read_toml, sha256_of


def test_read_toml_names_file_line_and_column_of_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[station]\nid = "EOL-01"\nresults_db = \n', encoding="utf-8")
    problems = Problems(path)
    assert read_toml(path, problems) is None
    [problem] = problems
    assert problem.file == str(path)
    assert problem.message.startswith("is not valid TOML: ")
    assert "(at line 3, column 14)" in problem.message


def test_read_toml_reports_a_missing_file_against_that_file(tmp_path: Path) -> None:
    problems = Problems(tmp_path / "sequence.toml")
    missing = tmp_path / "limits.toml"
    assert read_toml(missing, problems) is None
    assert [str(p) for p in problems] == [f"{missing}: file not found"]


def test_read_toml_refuses_deep_nesting(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * (MAX_TOML_DEPTH + 1) + "]" * (MAX_TOML_DEPTH + 1) + "\n")
    problems = Problems(path)
    assert read_toml(path, problems) is None
    assert "levels deep" in next(iter(problems)).message


def test_sha256_of_is_the_digest_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f.toml"
    path.write_bytes(b"a = 1\n")
    assert sha256_of(path) == hashlib.sha256(b"a = 1\n").hexdigest()


@pytest.mark.parametrize(
    ("name", "hint"),
    [("voltag", " (did you mean 'voltage'?)"), ("nplcc", " (did you mean 'nplc'?)"), ("zzz", "")],
)
def test_did_you_mean(name: str, hint: str) -> None:
    assert did_you_mean(name, ["voltage", "nplc", "range_v"]) == hint


def test_problems_collects_everything_then_raises_once() -> None:
    problems = Problems("station.toml")
    problems.raise_if_any(ConfigError)  # nothing yet: no error
    problems.add("station.id", "missing or not a non-empty string")
    problems.add("limits.'OCV'", "unknown step", file="limits.toml")
    assert len(problems) == 2
    with pytest.raises(ConfigError) as caught:
        problems.raise_if_any(ConfigError)
    assert caught.value.problems == [
        Problem("station.toml", "missing or not a non-empty string", "station.id"),
        Problem("limits.toml", "unknown step", "limits.'OCV'"),
    ]
