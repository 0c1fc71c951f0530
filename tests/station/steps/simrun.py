"""Run a sequence text on the virtual bench in virtual time (helpers for step tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from station.engine import RunResult
from station.runner import PreparedRun, RunOptions, prepare_run

HEADER = """
[sequence]
name = "Step test"
version = "1"
products = ["P"]
serial_pattern = "^SN[0-9]+$"
"""

CONFIG = """
[station]
id = "TEST"
[interlocks]
required_for_hv = false
"""


@contextmanager
def sim_run(tmp_path: Path, steps: str, *, pack: str = "nmc96s") -> Iterator[PreparedRun]:
    """Prepare a run of ``steps`` (TOML ``[[main]]`` tables) on a fresh virtual bench."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    seq = tmp_path / "seq.toml"
    seq.write_text(HEADER + steps, encoding="utf-8")
    cfg = tmp_path / "station.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    prepared = prepare_run(
        RunOptions(sequence=seq, config=cfg, db=tmp_path / "r.db", sim=True, pack=pack)
    )
    try:
        yield prepared
    finally:
        prepared.close()


def run(prepared: PreparedRun, before: Callable[[Any], None] | None = None) -> RunResult:
    """Run once; ``before(virtual_bench)`` may inject faults first."""
    if before is not None:
        before(prepared.bench.simulator)
    return prepared.engine.run("SN1")


def values(result: RunResult) -> dict[str, float | None]:
    return {m.name: m.value for s in result.steps for m in s.measurements}
