"""Patterns on operator and instrument input: linear time, bounded, unsafe ones refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.cli import main
from station.patterns import (
    MAX_SERIAL_LENGTH,
    PatternError,
    compile_safe,
)

SEQUENCE = """
[sequence]
name = "Patterns"
version = "1"
products = ["P"]
serial_pattern = "SERIAL"

[[main]]
type = "prompt"
name = "Label"
params = { kind = "text", text = "Type the label", pattern = "PROMPT" }
limits.answer = { comparator = "REGEX", pattern = "LIMIT" }
"""


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], **patterns: str) -> list[str]:
    text = SEQUENCE
    for where in ("SERIAL", "PROMPT", "LIMIT"):
        text = text.replace(where, patterns.get(where.lower(), "^[A-Z0-9]+$"))
    path = tmp_path / "seq.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["check", str(path)])
    lines = capsys.readouterr().out.splitlines()
    assert (code == 0) == lines[0].startswith("ok"), lines
    return lines


def test_a_catastrophic_serial_pattern_is_a_check_error_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = check(tmp_path, capsys, serial="^(A+)+$")
    assert lines[0].startswith("FAILED")
    assert lines[1].startswith(f"  {tmp_path / 'seq.toml'}: sequence.serial_pattern: ")
    assert "nested repetition" in lines[1]


def test_the_same_pattern_in_a_regex_limit_or_a_prompt_is_refused_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [_, limit] = check(tmp_path, capsys, limit="(a*)*b")
    assert "main[0] 'Label' limits.answer.pattern: 'pattern' has nested repetition" in limit
    [_, prompt] = check(tmp_path, capsys, prompt="([0-9]{2})+")
    assert "main[0] 'Label' params: params.pattern has nested repetition" in prompt


def test_a_good_sequence_still_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(tmp_path, capsys)[0].startswith("ok")


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("^(A+)+$", "nested repetition"),
        ("(a|b*)*", "nested repetition"),
        ("(?:x[0-9]{1,3})+", "nested repetition"),
        ("(a+?)+?", "nested repetition"),
        (r"(a)\1", "backreferences and look-around are not allowed"),
        ("(?=NM)NM96", "backreferences and look-around are not allowed"),
        ("(?<!X)Y", "backreferences and look-around are not allowed"),
        ("NM96[0-9{6}", "is not a valid regular expression: unterminated character set"),
        ("x" * 257, "is 257 characters long; at most 256"),
    ],
)
def test_unsafe_or_broken_patterns_are_refused(pattern: str, says: str) -> None:
    with pytest.raises(PatternError) as refused:
        compile_safe(pattern)
    assert says in str(refused.value)


@pytest.mark.parametrize(
    "pattern", ["^NM96[A-Z][0-9]{7}$", "(NM96|LF16)[A-Z]\\d{7}", "(ab)?c+", "BMS(24)?A.*"]
)
def test_usual_serial_patterns_are_accepted(pattern: str) -> None:
    assert compile_safe(pattern).pattern == pattern


def test_matching_is_linear_where_a_backtracking_engine_would_hang() -> None:
    # On Python's re this takes longer than the age of the universe; RE2 answers at once.
    assert not compile_safe("(a|aa)+b").fullmatch("a" * 4000)
    assert compile_safe("(a|aa)+b").fullmatch("a" * 4000 + "b")


def test_text_beyond_the_bound_never_matches() -> None:
    serial = compile_safe(".*", max_text=MAX_SERIAL_LENGTH)
    assert serial.fullmatch("x" * MAX_SERIAL_LENGTH)
    assert not serial.fullmatch("x" * (MAX_SERIAL_LENGTH + 1))


def test_an_over_long_serial_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seq = tmp_path / "seq.toml"
    seq.write_text(
        '[sequence]\nname = "S"\nversion = "1"\nproducts = ["P"]\nserial_pattern = "^A+$"\n'
        '[[main]]\ntype = "wait"\nname = "w"\nparams = { seconds = 0 }\n',
        encoding="utf-8",
    )
    code = main(["run", str(seq), "--serial", "A" * 100_000, "--db", str(tmp_path / "r.db")])
    assert code == 2
    assert "does not match the pattern" in capsys.readouterr().err
