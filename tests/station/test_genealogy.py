"""Genealogy: scanned modules and cell lots in `components`, one BMS per pack."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from station.certificate import gather, render_html
from station.errors import SequenceError
from station.exports import finished_runs, openhtf_record
from station.runner import RunOptions, prepare_run
from station.sequence import load_sequence
from station.steps.api import PromptRequest

HEADER = """
[sequence]
name = "Genealogy"
version = "1"
products = ["NM96-A"]
serial_pattern = "^NM96[A-Z][0-9]{7}$"
"""
SCANS = """
[[main]]
type = "prompt"
name = "Scan module 1"
params = { kind = "scan", component = "module", pattern = "^MOD[0-9]{6}$", text = "Scan module 1" }

[[main]]
type = "prompt"
name = "Scan cell lot"
params = { kind = "scan", component = "cell_lot", pattern = "^LOT-[A-Z0-9]+$", text = "Lot?" }
"""
IDENTIFY = """
[[main]]
type = "identify"
name = "BMS identity"
params = { dids = ["serial"] }
limits.serial = { comparator = "LOG" }
limits.bms_serial_unique = { comparator = "BOOL", expected = true }
"""


class Scanner:
    """Answers scan prompts in order (the operator's scanner)."""

    def __init__(self, *codes: str) -> None:
        self.codes = list(codes)
        self.asked: list[PromptRequest] = []

    def ask(self, request: PromptRequest, abort: threading.Event) -> str | None:
        self.asked.append(request)
        return self.codes.pop(0)


def sequence(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "seq.toml"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_scanned_parts_are_recorded_as_components_of_the_pack(tmp_path: Path) -> None:
    prepared = prepare_run(RunOptions(sequence(tmp_path, SCANS), db=tmp_path / "r.db", sim=True))
    try:
        prepared.engine.prompter = Scanner(" MOD000123 ", "LOT-7Q2")
        result = prepared.engine.run("NM96A0000001")
        assert result.outcome == "PASSED"
        assert [r.kind for r in prepared.engine.prompter.asked] == ["scan", "scan"]
        rows = prepared.store.query("SELECT run_id, kind, code FROM components ORDER BY id")
        run = gather(prepared.store, result.run_id)
        [record] = [openhtf_record(r) for r in finished_runs(prepared.store)]
    finally:
        prepared.close()
    assert rows == [
        {"run_id": result.run_id, "kind": "module", "code": "MOD000123"},
        {"run_id": result.run_id, "kind": "cell_lot", "code": "LOT-7Q2"},
    ]
    assert "MOD000123" in render_html(run) and "cell_lot" in render_html(run)
    assert record["eol_station"]["components"] == [
        {"kind": "module", "code": "MOD000123"},
        {"kind": "cell_lot", "code": "LOT-7Q2"},
    ]


def test_a_code_that_does_not_match_is_an_error_naming_it(tmp_path: Path) -> None:
    prepared = prepare_run(RunOptions(sequence(tmp_path, SCANS), db=tmp_path / "r.db", sim=True))
    try:
        prepared.engine.prompter = Scanner("MOD12", "LOT-1")
        result = prepared.engine.run("NM96A0000001")
        rows = prepared.store.query("SELECT * FROM components")
    finally:
        prepared.close()
    assert result.outcome == "ERROR" and rows == []
    assert result.steps[0].error is not None
    assert "scanned module code 'MOD12' does not match '^MOD[0-9]{6}$'" in result.steps[0].error


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ('{ kind = "scan", text = "x", pattern = "^A$" }', "params.component are required"),
        ('{ kind = "text", text = "x", component = "module" }', "only for kind = 'scan'"),
        ('{ kind = "scan", text = "x", component = "m", pattern = "(" }', "not a valid regular"),
    ],
)
def test_a_bad_scan_prompt_is_refused_when_loaded(tmp_path: Path, params: str, message: str):
    body = f'\n[[main]]\ntype = "prompt"\nname = "Scan"\nparams = {params}\n'
    with pytest.raises(SequenceError, match=message):
        load_sequence(sequence(tmp_path, body))


def test_a_bms_already_in_a_passed_pack_fails_the_next_pack(tmp_path: Path) -> None:
    options = RunOptions(sequence(tmp_path, IDENTIFY), db=tmp_path / "r.db", sim=True)
    prepared = prepare_run(options)
    try:
        first = prepared.engine.run("NM96A0000001")
        again = prepared.engine.run("NM96A0000001")  # the same pack again: its own BMS
        fresh = prepared.engine.run("NM96A0000003")  # a new pack on this bench: a new BMS
    finally:
        prepared.close()
    # A fresh bench with the same seed puts the same virtual pack, and so the same BMS
    # serial, on the fixture for whichever serial comes first: a BMS moved to another pack.
    prepared = prepare_run(options)
    try:
        other = prepared.engine.run("NM96A0000002")
        logs = prepared.store.query(
            "SELECT message FROM logs WHERE run_id = ? AND level = 'ERROR'", [other.run_id]
        )
    finally:
        prepared.close()
    assert [r.outcome for r in (first, again, fresh)] == ["PASSED"] * 3
    assert other.outcome == "FAILED"
    [unique] = [m for m in other.steps[0].measurements if m.name == "bms_serial_unique"]
    assert unique.outcome == "FAILED"
    assert any("already paired with pack(s) NM96A0000001" in r["message"] for r in logs)
