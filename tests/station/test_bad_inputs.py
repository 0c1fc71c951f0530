"""A corpus of bad inputs through the whole CLI: one sentence each, the right exit code, never a
traceback.

The cases live in ``tests/data/bad_inputs/manifest.toml`` (its header explains the fields):
sequence files, limit tables, station configs, BMS descriptions, command-line arguments and
results databases. Each runs in-process through ``station.cli.main`` in its own folder.
"""

from __future__ import annotations

import io
import random
import sqlite3
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from station.cli import main
from station.store import ResultsStore

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "tests" / "data" / "bad_inputs" / "manifest.toml"
CASES: list[dict[str, Any]] = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))["case"]

HEADER = """[sequence]
name = "Bad inputs"
version = "1"
products = ["P"]
serial_pattern = "^SN[0-9]+$"
"""
WAIT = """
[[main]]
type = "wait"
name = "w"
params = { seconds = 0 }
"""
TEXT = {"@HEADER@": HEADER, "@WAIT@": WAIT, "@REPO@": str(ROOT), "@LONG_PATTERN@": "SN" * 150}
ARGS = {"@LONG_SERIAL@": "SN" + "1" * 100_000}


def make(path: Path, recipe: str) -> None:
    """Write one generated bad file (see the manifest's header for the recipes)."""
    kind, _, count = recipe.partition(":")
    n = int(count or 0)
    if kind == "deep_array":
        path.write_text("x = " + "[" * n + "]" * n + "\n", encoding="utf-8")
    elif kind == "deep_inline_table":
        path.write_text("x = " + "{a = " * n + "1" + " }" * n + "\n", encoding="utf-8")
    elif kind == "deep_bms":
        path.write_text('[bms]\nname = "X"\nx = ' + "[" * n + "]" * n, encoding="utf-8")
    elif kind == "latin1":
        path.write_bytes('[sequence]\nname = "Prüfung"\n'.encode("latin-1"))
    elif kind == "latin1_bms":
        path.write_bytes('[bms]\nname = "Prüfung"\n'.encode("latin-1"))
    elif kind == "random_bytes":
        draw = random.Random(12)
        path.write_bytes(bytes(draw.randrange(256) for _ in range(4096)))
    elif kind == "directory":
        path.mkdir()
    elif kind == "db_not_sqlite":
        path.write_text("this is a text file, not a database\n" * 100, encoding="utf-8")
    elif kind == "db_empty_store":
        ResultsStore(path).close()
    elif kind == "db_truncated":
        ResultsStore(path).close()
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind in ("db_wrong_schema", "db_foreign"):
        conn = sqlite3.connect(path)
        if kind == "db_wrong_schema":
            conn.execute("PRAGMA user_version = 999")
        conn.execute("CREATE TABLE runs (recipe TEXT, oven_temperature REAL)")
        conn.commit()
        conn.close()
    else:
        raise AssertionError(f"unknown recipe {recipe!r}")


def fill(text: str, table: dict[str, str]) -> str:
    for key, value in table.items():
        text = text.replace(key, value)
    return text


def test_the_corpus_is_large_and_its_ids_unique() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) >= 100
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_a_bad_input_gets_one_sentence_and_its_exit_code(
    case: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, text in case.get("files", {}).items():
        (tmp_path / name).write_text(fill(text, TEXT), encoding="utf-8")
    for name, recipe in case.get("make", {}).items():
        make(tmp_path / name, recipe)
    argv = [fill(arg, {"{dir}": str(tmp_path), **ARGS}) for arg in case["argv"]]
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # nobody at a terminal
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert "Traceback" not in said
    assert case["says"] in said, said[-2000:]
    assert code == case["code"], said[-2000:]
    assert "unexpected" not in said, said[-2000:]  # every case is foreseen: no bug path
