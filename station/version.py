"""The software version recorded with every run (package version + the commit built from).

An installed wheel carries the commit it was built from (``station/_build_info.py``, written
by ``setup.py`` at build time). Only a source checkout (editable install, or the tests run
from the tree) asks git, and only its own tree: an install that happens to sit inside some
other git repository must not record that repository's commit.
"""

from __future__ import annotations

import importlib
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
"""The source tree this module would be in if it runs from a checkout."""


@cache
def software_version() -> str:
    """``"0.1.0+g1a2b3c4d5e6f"`` (``-dirty`` when built or run from uncommitted changes)."""
    try:
        version = metadata.version("eol-station")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    commit = baked_commit()
    if commit is None:
        commit = checkout_commit(CHECKOUT)
    return f"{version}+g{commit}" if commit else version


def baked_commit() -> str | None:
    """Get the commit baked into a built wheel; None when running from a checkout."""
    try:
        info = importlib.import_module("station._build_info")
    except ImportError:
        return None
    return str(getattr(info, "COMMIT", ""))


def checkout_commit(root: Path) -> str:
    """Get ``root``'s commit if ``root`` is this project's own checkout, else ``""``."""
    if not (root / "pyproject.toml").is_file() or not (root / "station").is_dir():
        return ""
    try:
        if Path(_git(root, "rev-parse", "--show-toplevel")).resolve() != root.resolve():
            return ""  # a copy of the tree inside some other repository
        sha = _git(root, "rev-parse", "--short=12", "HEAD")
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{sha}-dirty" if dirty and sha else sha


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=5, check=True
    ).stdout.strip()
