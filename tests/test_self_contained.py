"""The repository stands on its own: no shipped or tracked file points outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_PARTS = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", "build", "dist"}
TEXT_SUFFIXES = {".py", ".toml", ".md", ".dbc", ".txt", ".cfg", ".ini", ".yml", ".yaml", ""}
# A relative path that climbs: one or more "../" (or "..\") and a name after them.
CLIMB = re.compile(r"((?:\.\.[/\\])+)([\w.-]+)")
# The machine this project grew up on keeps shared material here; nothing may rely on it.
ABSOLUTE_SHARED = re.compile(r"/work/" + "shared")


def tracked_files() -> list[Path]:
    """Files git tracks (or, without git, every file outside caches and the venv)."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z"],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout.decode("utf-8")
        files = [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.SubprocessError):
        files = [p for p in ROOT.rglob("*") if p.is_file()]
    return [
        p
        for p in files
        if p.is_file()
        and p.suffix in TEXT_SUFFIXES
        and not SKIPPED_PARTS & set(p.relative_to(ROOT).parts)
        and p != Path(__file__).resolve()  # this file spells out what it looks for
    ]


def outside_references(path: Path, text: str) -> list[str]:
    """Each relative path in ``text`` that leads out of the repository, and each absolute one
    into the shared folder, as ``file:line: reference``."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for match in CLIMB.finditer(line):
            target = (path.parent / match.group(1).replace("\\", "/") / match.group(2)).resolve()
            if not target.is_relative_to(ROOT):
                found.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)}")
        if ABSOLUTE_SHARED.search(line):
            found.append(f"{path.relative_to(ROOT)}:{number}: absolute shared path")
    return found


def test_no_tracked_file_references_a_path_outside_the_repository() -> None:
    files = tracked_files()
    assert any(p.name == "foxbms.toml" for p in files)  # the scan sees the shipped files
    bad = [
        ref
        for path in files
        for ref in outside_references(path, path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert bad == []


def test_the_checker_sees_a_path_that_climbs_out(tmp_path: Path) -> None:
    inside = ROOT / "sequences" / "bms" / "x.toml"
    climbing = (
        'dbc = "../../' + ".." + '/shared/data/dbc/foxbms.dbc"\nresults = "../results/a.db"\n'
    )
    assert outside_references(inside, climbing) == ["sequences/bms/x.toml:1: ../../.." + "/shared"]
    assert outside_references(inside, 'p = "/work/' + 'shared/x"') == [
        "sequences/bms/x.toml:1: absolute shared path"
    ]


def test_the_foxbms_dbc_ships_with_its_licence() -> None:
    bms = ROOT / "sequences" / "bms"
    assert (bms / "foxbms.dbc").stat().st_size > 10_000
    assert "BSD 3-Clause" in (bms / "foxbms.LICENSE.txt").read_text(encoding="utf-8")
