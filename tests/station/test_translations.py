"""Tests for station.translations: a sequence file's [translations.<code>] tables."""

from __future__ import annotations

from pathlib import Path

import pytest

import sequences
import station.steps  # noqa: F401  (registers the built-in step types)
from station.errors import SequenceError
from station.sequence import load_sequence

HEAD = """
[sequence]
name = "T"
version = "1"
products = ["P"]
serial_pattern = "^S[0-9]{3}$"

[[setup]]
type = "prompt"
name = "Connect pack"
params = { kind = "confirm", text = "Pack connected?" }
limits.answer = { comparator = "BOOL", expected = true }

[[main]]
type = "wait"
name = "Relax"
params = { seconds = 1.0 }
"""


def _load(tmp_path: Path, translations: str):
    path = tmp_path / "seq.toml"
    path.write_text(HEAD + translations, encoding="utf-8")
    return load_sequence(path)


def test_step_names_and_prompt_texts_are_translated(tmp_path: Path) -> None:
    seq = _load(
        tmp_path,
        '[translations.fr]\n"Connect pack" = { name = "Raccorder", text = "Pack raccordé ?" }\n',
    )
    assert seq.step_label("fr", "Connect pack") == "Raccorder"
    assert seq.step_label("ar", "Connect pack") == "Connect pack"  # none: as written
    assert seq.step_label("fr", "Relax") == "Relax"
    assert seq.prompt_label("fr", "Connect pack", "Pack connected?") == "Pack raccordé ?"
    # Only the text the translation was written for: another text of the step stays.
    assert seq.prompt_label("fr", "Connect pack", "Something else?") == "Something else?"


@pytest.mark.parametrize(
    ("table", "where", "says"),
    [
        (
            '[translations.de]\n"Relax" = { name = "Ruhe" }\n',
            "translations.de",
            "unknown language 'de'",
        ),
        (
            '[translations.fr]\n"Relx" = { name = "Repos" }\n',
            "translations.fr.'Relx'",
            "no step named 'Relx' (did you mean 'Relax'?)",
        ),
        (
            '[translations.fr]\n"Relax" = { name = "Repos", text = "?" }\n',
            "translations.fr.'Relax'.text",
            "asks no prompt text",
        ),
        (
            '[translations.fr]\n"Relax" = { nam = "Repos" }\n',
            "translations.fr.'Relax'.nam",
            "unknown field (did you mean 'name'?)",
        ),
        ('[translations.fr]\n"Relax" = "Repos"\n', "translations.fr.'Relax'", "must be a table"),
        (
            '[translations.fr]\n"Relax" = { name = "" }\n',
            "translations.fr.'Relax'.name",
            "non-empty",
        ),
    ],
)
def test_each_mistake_is_one_sentence_naming_file_language_and_step(
    tmp_path: Path, table: str, where: str, says: str
) -> None:
    with pytest.raises(SequenceError) as err:
        _load(tmp_path, table)
    problems = err.value.problems
    assert len(problems) == 1
    assert problems[0].where == where and says in problems[0].message
    assert str(tmp_path / "seq.toml") in str(err.value)


def test_the_reference_sequence_speaks_french_and_arabic() -> None:
    seq = load_sequence(sequences.path("nmc96s", "eol.toml"))
    for code in ("fr", "ar"):
        assert {s.name for s in seq.all_steps()} == set(seq.translations[code])
    assert seq.step_label("fr", "DCIR") == "Résistance interne (DCIR)"
