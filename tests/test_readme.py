"""README's `station` examples: every one parses with the real CLI, the offline ones run."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from station.cli import _parser, main
from station.store import ResultsStore

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# Quick enough to run here: they need no bench and no prompts.
OFFLINE = ("check", "sim --list-faults", "sim --list-packs", "results list", "examples")


def readme_commands() -> list[str]:
    """Each ``$ station …`` line of README's console blocks, without its comment."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n(.*?)```", text, flags=re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    return [line[2:].split("  #")[0].strip() for line in lines if line.startswith("$ station ")]


COMMANDS = readme_commands()


def test_readme_shows_the_commands_a_new_user_needs() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    assert len(COMMANDS) >= 10
    assert any(c.startswith("station results list --db") for c in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_readme_example_parses(command: str) -> None:
    argv = shlex.split(command)[1:]
    if argv[0] == "ui":
        from ui.app import parser as ui_parser

        ui_parser().parse_args(argv[1:])
        return
    args = _parser().parse_args(argv)
    assert callable(args.func)


def runs_here(command: str) -> bool:
    """Offline commands, and simulated runs that ask no questions (``--sim --yes``)."""
    unattended_sim = command.startswith("station run") and {"--sim", "--yes"} <= set(
        shlex.split(command)
    )
    return unattended_sim or any(command.startswith(f"station {o}") for o in OFFLINE)


@pytest.mark.parametrize("command", [c for c in COMMANDS if runs_here(c)])
def test_offline_readme_examples_run(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths land here, beside a copy of sequences/
    shutil.copytree(ROOT / "sequences", tmp_path / "sequences")
    (tmp_path / "results").mkdir()
    ResultsStore(tmp_path / "results" / "demo.db").close()
    assert main(shlex.split(command)[1:]) == 0
