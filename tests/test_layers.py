"""Dependencies point one way: ui → station → drivers.

Within station/, only the composition root may reach the virtual bench (drivers.sim): the
CLI, the runner that puts a run together and the coverage runner that runs the catalogue.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"drivers": {"station", "ui"}, "station": {"ui"}, "ui": {"drivers"}}
COMPOSITION_ROOT = {"station/cli.py", "station/runner.py", "station/coverage.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_import_points_the_wrong_way(layer: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {pkg}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for pkg in imported_packages(path) & FORBIDDEN[layer]
    ]
    assert wrong == []


def test_the_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from station.engine import Engine\nimport ui.app\n", encoding="utf-8")
    assert imported_packages(bad) == {"station", "ui"}


def test_only_the_composition_root_of_station_reaches_the_virtual_bench() -> None:
    reaching = {
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "station").rglob("*.py"))
        if any(m == "drivers.sim" or m.startswith("drivers.sim.") for m in imported_modules(path))
    }
    assert reaching <= COMPOSITION_ROOT
    assert "station/coverage.py" in reaching  # the checker sees the imports it allows
