"""The recorded software version: baked into a wheel, or read from the project's own checkout."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from station.version import CHECKOUT, checkout_commit, software_version


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def repository(root: Path) -> str:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    (root / "README").write_text("x\n", encoding="utf-8")
    git(root, "add", "README")
    git(root, "commit", "-q", "-m", "x")
    return git(root, "rev-parse", "--short=12", "HEAD")


def test_an_install_inside_another_repository_does_not_take_its_commit(tmp_path: Path) -> None:
    repository(tmp_path)
    site = tmp_path / "venv" / "lib" / "site-packages"
    (site / "station").mkdir(parents=True)
    assert checkout_commit(site) == ""


def test_a_copy_of_the_tree_inside_another_repository_is_not_that_repository(
    tmp_path: Path,
) -> None:
    repository(tmp_path)
    copy = tmp_path / "eol-station"
    (copy / "station").mkdir(parents=True)
    (copy / "pyproject.toml").write_text("[project]\n", encoding="utf-8")
    assert checkout_commit(copy) == ""


def test_the_projects_own_checkout_gives_its_commit(tmp_path: Path) -> None:
    root = tmp_path / "eol-station"
    (root / "station").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\n", encoding="utf-8")
    sha = repository(root)
    assert checkout_commit(root) == sha
    (root / "README").write_text("changed\n", encoding="utf-8")
    assert checkout_commit(root) == f"{sha}-dirty"


def test_the_running_version_names_this_checkouts_commit() -> None:
    software_version.cache_clear()  # the tree may have changed since it was first asked
    expected = checkout_commit(CHECKOUT)
    assert software_version().endswith(f"+g{expected}" if expected else "")
    assert software_version().startswith("0.")


def test_a_built_wheel_reports_the_commit_baked_into_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """setup.py writes station/_build_info.py into the wheel; it wins over any git tree."""
    baked = types.ModuleType("station._build_info")
    baked.COMMIT = "0123456789ab"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "station._build_info", baked)
    software_version.cache_clear()
    try:
        assert software_version().endswith("+g0123456789ab")
    finally:
        software_version.cache_clear()
