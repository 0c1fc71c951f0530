"""Tests for station.sequence: loading, validation problems, limit tables and hashes.

Each file in tests/data/broken/ is one kind of mistake; its problem must name the file,
the group, the step's index and name, and the field, so it can be fixed in one look.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import station.steps  # noqa: F401  (registers the built-in step types)
from station.errors import Problem, SequenceError
from station.sequence import load_sequence

DATA = Path(__file__).parent.parent / "data"
BROKEN = DATA / "broken"
TABLES = BROKEN / "tables"
GOOD = DATA / "good"

# file stem → (file the problem is in, where, text the message contains)
CASES: dict[str, tuple[Path | None, str, str]] = {
    "unknown_step_type": (
        None,
        "main[1] 'Bus voltage' type",
        "unknown step type 'dmm_voltag' (did you mean 'dmm_voltage'?)",
    ),
    "unknown_parameter": (
        None,
        "main[0] 'Pack OCV' params.nplcc",
        "unknown parameter (did you mean 'nplc'?); this step type takes: range_v, nplc",
    ),
    "missing_parameter": (
        None,
        "setup[0] 'Settle' params.seconds",
        "missing required parameter (number)",
    ),
    "wrong_parameter_type": (
        None,
        "setup[0] 'Settle' params.seconds",
        "expected a number, got 'ten'",
    ),
    "duplicate_step_name": (
        None,
        "main[1] 'Pack OCV' name",
        "duplicate step name (also main[0])",
    ),
    "low_above_high": (
        None,
        "main[0] 'Pack OCV' limits.voltage.low",
        "low 420 is above high 300",
    ),
    "unknown_comparator": (
        None,
        "main[0] 'Pack OCV' limits.voltage.comparator",
        "unknown comparator 'GEL'; did you mean",
    ),
    "measurement_without_limit": (
        None,
        "main[0] 'Pack OCV' limits.voltage",
        "measurement 'voltage' has no limit for variant 'NM96-A'; add one inline (e.g. voltage",
    ),
    "limit_unproduced_inline": (
        None,
        "main[0] 'Pack OCV' limits.current",
        "this step does not produce 'current'; it produces: voltage",
    ),
    "limit_unproduced_table": (
        TABLES / "unproduced_measurement.toml",
        "limits.'Pack OCV'.current",
        "step 'Pack OCV' does not produce 'current'",
    ),
    "limit_unknown_step_table": (
        TABLES / "unknown_step.toml",
        "limits.'Pack OCVV'",
        "no step named 'Pack OCVV' in the sequence (did you mean 'Pack OCV'?)",
    ),
    "bad_serial_pattern": (
        None,
        "sequence.serial_pattern",
        "is not a valid regular expression: unterminated character set",
    ),
    "toml_syntax": (None, "", "is not valid TOML: "),
    "skip_if_syntax": (
        None,
        "main[0] 'Pack OCV' skip_if",
        "cannot parse 'variant == '",
    ),
    "skip_if_unknown_name": (
        None,
        "main[0] 'Pack OCV' skip_if",
        "unknown name 'varient'",
    ),
    "skip_if_later_step": (
        None,
        "main[0] 'Pack OCV' skip_if",
        "refers to 'Bus voltage', which is not an earlier step",
    ),
    "cascade_from_broken_step": (
        None,
        "main[1] 'Bus voltage' type",
        "unknown step type 'dmm_voltag' (did you mean 'dmm_voltage'?)",
    ),
    "missing_variant_table": (
        None,
        "sequence.limits.NM96-B",
        "variant 'NM96-B' has no limit table, and the inline limits leave 2 measurement(s) "
        "without a limit ('Pack OCV' voltage, 'Bus voltage' voltage); "
        'add "NM96-B" = "limits/….toml" to sequence.limits, or a "*" table for every variant',
    ),
    "skip_if_unknown_measurement": (
        None,
        "main[1] 'Settle' skip_if",
        "value('Pack OCV', 'volts'): step 'Pack OCV' does not produce 'volts' "
        "(did you mean 'voltage'?); it produces: voltage",
    ),
    "skip_if_unknown_variant": (
        None,
        "main[1] 'Settle' skip_if",
        "variant 'NM96-C' is not in sequence.products (did you mean 'NM96-A'?)",
    ),
    "energising_in_cleanup": (
        None,
        "cleanup[0] 'Contactors' type",
        "step type 'contactors' energises the pack with these parameters and may not stand "
        "in [[cleanup]]",
    ),
    "balancing_beyond_cells": (
        None,
        "main[1] 'Balancing' params.cells",
        "cell(s) 14 beyond the pack's 14 cells (indices 0 … 13)",
    ),
    "trip_below_leakage_limit": (
        None,
        "main[0] 'Hipot DC' params.leakage_limit_a",
        "the tester trips at 0.0005 A, below the 0.001 A that limits.leakage_a passes",
    ),
    "serial_pattern_never_matches": (
        None,
        "sequence.serial_examples.NM96-A",
        "the serial 'NM96A0000001' does not match serial_pattern '^NM69[A-Z][0-9]{7}$': "
        "every pack of this product would be refused",
    ),
    "variant_parameter_unknown": (
        TABLES / "variant_parameter_unknown.toml",
        "params.'Pack OCV'.nplcc",
        "unknown parameter (did you mean 'nplc'?); this step type takes: range_v, nplc",
    ),
    "unknown_section": (None, "clean_up", "unknown section (did you mean 'cleanup'?)"),
    "limit_wrong_kind": (
        None,
        "setup[0] 'Connect pack' limits.answer",
        "a STREQ limit judges a text value, but 'answer' is a bool",
    ),
    "limit_wrong_kind_table": (
        TABLES / "wrong_kind.toml",
        "limits.'Pack OCV'.voltage",
        "a STREQ limit judges a text value, but 'voltage' is a number",
    ),
    "judged_after_eol_flag": (
        None,
        "main[1] 'Pack OCV'",
        "is judged after main[0] 'EOL flag' writes the verdict into the pack",
    ),
    "unknown_field": (None, "main[0] 'Pack OCV' retry", "unknown field (did you mean 'retries'?)"),
}


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(SequenceError) as info:
        load_sequence(path)
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return info.value.problems


def test_every_broken_example_is_covered() -> None:
    assert {p.stem for p in BROKEN.glob("*.toml")} == {*CASES, "several_errors"}


@pytest.mark.parametrize("stem", CASES)
def test_each_kind_of_mistake_is_located_precisely(stem: str) -> None:
    path = BROKEN / f"{stem}.toml"
    file, where, text = CASES[stem]
    [problem] = problems_of(path)
    assert problem.file == str(file or path)
    assert problem.where == where
    assert text in problem.message
    shown = str(problem)
    assert shown.startswith(f"{file or path}: ")
    assert where in shown and text in shown


def test_a_toml_syntax_error_gives_line_and_column() -> None:
    [problem] = problems_of(BROKEN / "toml_syntax.toml")
    assert "(at line 9, column 20)" in problem.message


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(BROKEN / "several_errors.toml")
    assert [(p.where, p.message.split(" (")[0]) for p in problems] == [
        ("setup[0] 'Settle' params.second", "unknown parameter"),
        ("setup[0] 'Settle' params.seconds", "missing required parameter"),
        ("main[0] 'Pack OCV' limits.voltage.low", "low 420 is above high 300"),
        ("main[1] 'Bus voltage' type", "unknown step type 'dmm_voltag'"),
        ("main[2] 'Pack OCV' name", "duplicate step name"),
    ]


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path / "nowhere.toml")
    assert (problem.file, problem.message) == (str(tmp_path / "nowhere.toml"), "file not found")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sequence.toml"
    path.write_text(text, encoding="utf-8")
    return path


HEADER = """
[sequence]
name = "s"
version = "1"
products = ["NM96-A"]
serial_pattern = "NM96[0-9]{6}"
"""
WAIT = """
[[main]]
type = "wait"
name = "Relax"
params = { seconds = 1.0 }
"""


MISTAKES = [
    (HEADER + 'colour = "red"\n' + WAIT, "sequence.colour", "unknown field"),
    (HEADER.replace('version = "1"', "") + WAIT, "sequence.version", "missing required field"),
    (HEADER.replace('["NM96-A"]', "[]") + WAIT, "sequence.products", "must be non-empty"),
    (WAIT, "[sequence]", "missing the [sequence] table"),
    (HEADER, "[[main]]", "the sequence has no steps"),
    ("main = 3\n" + HEADER, "main", "must be an array of tables ([[main]])"),
    (HEADER + WAIT + "retries = 11\n", "main[0] 'Relax' retries", "must be 0 … 10, got 11"),
    (HEADER + WAIT + "retries = true\n", "main[0] 'Relax' retries", "got True"),
    (HEADER + WAIT + 'on_fail = "skip"\n', "main[0] 'Relax' on_fail", "one of 'stop' | 'continue'"),
    (HEADER + WAIT + "timeout_s = 0\n", "main[0] 'Relax' timeout_s", "must be > 0"),
    (HEADER + WAIT + "skip_if = 3\n", "main[0] 'Relax' skip_if", "expected a string"),
    (HEADER + WAIT.replace('name = "Relax"', ""), "main[0] name", "missing required field"),
    (HEADER + WAIT + "timeout_s = inf\n", "main[0] 'Relax' timeout_s", "expected a finite number"),
    (
        HEADER + WAIT.replace("1.0", "-1.0"),
        "main[0] 'Relax' params.seconds",
        "must be ≥ 0, got -1.0",
    ),
    (HEADER + WAIT + "limits = 3\n", "main[0] 'Relax' limits", "expected table, got 3"),
    (
        HEADER.replace('serial_pattern = "NM96[0-9]{6}"', 'limits = { "NM96-X" = "t.toml" }')
        + 'serial_pattern = "x"\n'
        + WAIT,
        "sequence.limits.NM96-X",
        "part number 'NM96-X' is not in sequence.products",
    ),
]


@pytest.mark.parametrize(("text", "where", "message"), MISTAKES, ids=[w for _, w, _ in MISTAKES])
def test_other_mistakes_are_located(tmp_path: Path, text: str, where: str, message: str) -> None:
    problems = problems_of(write(tmp_path, text))
    [problem] = [p for p in problems if p.where == where]
    assert message in problem.message
    assert problem.file == str(tmp_path / "sequence.toml")


def test_a_missing_limit_table_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + 'limits = "nowhere.toml"\n' + WAIT)
    [problem] = problems_of(path)
    assert (problem.file, problem.where) == (str(path), "sequence.limits.*")
    assert problem.message == (
        f"the limit table of every variant without its own, {tmp_path / 'nowhere.toml'}, "
        "does not exist; fix the path or create the table"
    )


def test_coverage_is_checked_per_limit_table(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(
        '[limits."Pack OCV"]\nvoltage = { comparator = "LOG" }\n', encoding="utf-8"
    )
    (tmp_path / "b.toml").write_text("[table]\nname = 'B'\n", encoding="utf-8")
    text = HEADER.replace('["NM96-A"]', '["NM96-A", "NM96-B"]').replace(
        "products", 'limits = { "NM96-A" = "a.toml", "NM96-B" = "b.toml" }\nproducts'
    )
    path = write(tmp_path, text + '[[main]]\ntype = "dmm_voltage"\nname = "Pack OCV"\n')
    [problem] = problems_of(path)
    assert problem.where == "main[0] 'Pack OCV' limits.voltage"
    assert problem.message.startswith(
        f"measurement 'voltage' has no limit for variant 'NM96-B'; add one in limit table "
        f'{tmp_path / "b.toml"} under [limits."Pack OCV"]'
    )
    assert "LOG" not in problem.message  # the fix offered keeps the value judged


TWO_VARIANTS = HEADER.replace('["NM96-A"]', '["NM96-A", "NM96-B"]')
OCV = """
[[main]]
type = "dmm_voltage"
name = "Pack OCV"
"""


def test_a_step_always_skipped_for_a_variant_needs_no_limit_in_its_table(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.toml").write_text(
        '[limits."Pack OCV"]\nvoltage = { comparator = "GE", low = 300 }\n', encoding="utf-8"
    )
    (tmp_path / "b.toml").write_text("[table]\nname = 'B'\n", encoding="utf-8")
    text = TWO_VARIANTS.replace(
        "products", 'limits = { "NM96-A" = "a.toml", "NM96-B" = "b.toml" }\nproducts'
    )
    skipped = OCV + "skip_if = \"variant == 'NM96-B' or outcome('Relax') == 'FAILED'\"\n"
    sequence = load_sequence(write(tmp_path, text + WAIT + skipped))
    assert sequence.limits_for("NM96-B") == {}
    # …but a skip that depends on the run does not excuse a missing limit
    sometimes = OCV + "skip_if = \"variant == 'NM96-B' and outcome('Relax') == 'FAILED'\"\n"
    [problem] = problems_of(write(tmp_path, text + WAIT + sometimes))
    assert problem.where == "main[1] 'Pack OCV' limits.voltage"
    assert "for variant 'NM96-B'" in problem.message


def test_a_limit_table_that_fails_to_load_is_one_problem_not_a_cascade(tmp_path: Path) -> None:
    text = TWO_VARIANTS.replace(
        "products", 'limits = { "NM96-A" = "missing.toml", "NM96-B" = "missing.toml" }\nproducts'
    )
    problems = problems_of(write(tmp_path, text + OCV + OCV.replace("Pack", "Bus")))
    assert [p.message.split(",")[0] for p in problems] == [
        "the limit table of variant 'NM96-A'",
        "the limit table of variant 'NM96-B'",
    ]


def test_an_unknown_section_in_a_limit_table_is_reported(tmp_path: Path) -> None:
    (tmp_path / "t.toml").write_text("[limit]\n", encoding="utf-8")
    [problem] = problems_of(write(tmp_path, HEADER + 'limits = "t.toml"\n' + WAIT))
    assert (problem.file, problem.where) == (str(tmp_path / "t.toml"), "limit")
    assert "unknown section (did you mean 'limits'?)" in problem.message


# -- a good sequence -------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_good_sequence_loads_with_typed_steps() -> None:
    seq = load_sequence(GOOD / "sequence.toml")
    assert (seq.name, seq.version, seq.products) == (
        "NM96 end-of-line",
        "1.2.0",
        ("NM96-A", "NM96-B"),
    )
    assert seq.serial_pattern.fullmatch("NM96A000123")
    assert not seq.serial_pattern.fullmatch("NM96C000123")
    assert [(s.group, s.index, s.name, s.type) for s in seq.all_steps()] == [
        ("setup", 0, "Settle", "wait"),
        ("main", 0, "Pack OCV", "dmm_voltage"),
        ("main", 1, "Fixture bus", "dmm_voltage"),
        ("cleanup", 0, "Relax", "wait"),
    ]
    settle, ocv, bus, _ = seq.all_steps()
    assert settle.params.seconds == 2.0 and isinstance(settle.params.seconds, float)
    assert (ocv.params.nplc, ocv.params.range_v) == (10.0, None)
    assert (ocv.retries, ocv.on_fail, ocv.timeout_s, ocv.skip_if) == (0, "stop", None, None)
    assert bus.skip_if is not None and bus.skip_if.text == "variant == 'NM96-B'"
    assert ocv.where == "main[0] 'Pack OCV'"


def test_the_hashes_of_the_sequence_and_its_limit_tables_are_recorded() -> None:
    seq = load_sequence(GOOD / "sequence.toml")
    assert seq.sha256 == sha256(GOOD / "sequence.toml")
    default, nm96b = seq.limit_tables["*"], seq.limit_tables["NM96-B"]
    assert (default.path, default.sha256) == (
        GOOD / "limits_default.toml",
        sha256(GOOD / "limits_default.toml"),
    )
    assert nm96b.sha256 == sha256(GOOD / "limits_nm96b.toml")
    assert (nm96b.name, nm96b.version) == ("NM96-B limits", "3")


def test_a_variant_limit_table_overrides_by_step_and_measurement() -> None:
    seq = load_sequence(GOOD / "sequence.toml")
    assert seq.limit_table_for("NM96-A") is seq.limit_tables["*"]
    assert seq.limit_table_for("NM96-B") is seq.limit_tables["NM96-B"]
    a = seq.limits_for("NM96-A")[("Pack OCV", "voltage")]
    b = seq.limits_for("NM96-B")[("Pack OCV", "voltage")]
    assert (a.comparator, a.low, a.high) == ("GELE", 300.0, 420.0)  # inline
    assert (b.comparator, b.low, b.high) == ("GELE", 250.0, 340.0)  # NM96-B's table
    assert seq.limits_for("NM96-A")[("Fixture bus", "voltage")].comparator == "LOG"


def test_a_variant_table_sets_parameters_for_its_variants_only(tmp_path: Path) -> None:
    (tmp_path / "b.toml").write_text("[params.Relax]\nseconds = 5.0\n", encoding="utf-8")
    text = TWO_VARIANTS.replace("products", 'limits = { "NM96-B" = "b.toml" }\nproducts')
    sequence = load_sequence(write(tmp_path, text + WAIT))
    [relax_a] = sequence.groups_for("NM96-A")["main"]
    [relax_b] = sequence.groups_for("NM96-B")["main"]
    assert (relax_a.params.seconds, relax_b.params.seconds) == (1.0, 5.0)


def test_a_variant_parameter_is_checked_like_the_sequences_own(tmp_path: Path) -> None:
    (tmp_path / "b.toml").write_text('[params.Relax]\nseconds = "long"\n', encoding="utf-8")
    text = TWO_VARIANTS.replace("products", 'limits = { "NM96-B" = "b.toml" }\nproducts')
    [problem] = problems_of(write(tmp_path, text + WAIT))
    assert (problem.file, problem.where) == (str(tmp_path / "b.toml"), "params.'Relax'.seconds")
    assert "expected a number, got 'long'" in problem.message


def test_a_header_problem_does_not_hide_the_limit_tables_it_names(tmp_path: Path) -> None:
    text = HEADER.replace('version = "1"', 'version = ""\nlimits = "nowhere.toml"') + WAIT
    assert [p.where for p in problems_of(write(tmp_path, text))] == [
        "sequence.version",
        "sequence.limits.*",
    ]
