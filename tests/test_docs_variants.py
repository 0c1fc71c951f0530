"""The variant-parameter example of docs/sequences.md runs on the virtual bench as written."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from station.cli import main

DOC = Path(__file__).parents[1] / "docs" / "sequences.md"


def example_files(target: Path) -> Path:
    """Write the doc's ``# file:`` blocks under ``target``; return the sequence's path."""
    blocks = re.findall(r"```toml\n# file: (\S+)\n(.*?)```", DOC.read_text("utf-8"), re.S)
    assert {name for name, _ in blocks} == {"eol.toml", "limits/nm96-a.toml", "limits/nm96-b.toml"}
    for name, text in blocks:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text, encoding="utf-8")
    return target / "eol.toml"


def test_the_variant_parameter_example_runs_each_variant_with_its_own_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sequence = example_files(tmp_path)
    assert main(["check", str(sequence)]) == 0
    db = tmp_path / "results.db"
    for variant, serial in (("NM96-A", "NM96A0000001"), ("NM96-B", "NM96B0000001")):
        args = ["run", str(sequence), "--sim", "--yes", "--serial", serial, "--variant", variant]
        assert main([*args, "--db", str(db)]) == 0, capsys.readouterr().out
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT part_number, planned_steps FROM runs ORDER BY rowid").fetchall()
    dcir_current = {
        part: next(s["params"]["current_a"] for s in json.loads(plan) if s["name"] == "DCIR")
        for part, plan in rows
    }
    assert dcir_current == {"NM96-A": 45.0, "NM96-B": 17.5}
