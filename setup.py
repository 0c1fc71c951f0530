"""Build hook: bake the commit a wheel is built from into it (``station/_build_info.py``).

Everything else about the package is in pyproject.toml. An installed station reports the
commit it was built from, not that of whatever git tree happens to surround the install.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(HERE), *args], capture_output=True, text=True, timeout=10, check=True
    ).stdout.strip()


def source_commit() -> str:
    """``"1a2b3c4d5e6f"`` (``-dirty`` with uncommitted changes); ``""`` outside git."""
    try:
        sha = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{sha}-dirty" if dirty else sha


class BuildPyWithCommit(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's git at run time
            return
        target = Path(self.build_lib) / "station" / "_build_info.py"
        target.write_text(
            f'"""Written at build time by setup.py."""\n\nCOMMIT = {source_commit()!r}\n',
            encoding="utf-8",
        )


setup(cmdclass={"build_py": BuildPyWithCommit})
