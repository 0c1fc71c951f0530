"""Dependencies point one way: ui → station → drivers.

Within station/, only the composition root may reach the virtual bench (drivers.sim): the
CLI, the runner that puts a run together and the coverage runner that runs the catalogue.
No two modules import each other, directly or round a loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"drivers": {"station", "ui"}, "station": {"ui"}, "ui": {"drivers"}}
COMPOSITION_ROOT = {
    "station/cli.py",
    "station/runner.py",
    "station/line.py",  # assembles a line of nests as runner.py assembles one run
    "station/coverage.py",
}


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


PACKAGES = ("station", "drivers", "ui", "sim")


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Module → the project modules it imports, read from the source (nothing is imported).

    Every import counts, also those inside functions or under ``TYPE_CHECKING``: a loop that
    type checking or a late import hides is still two modules that cannot be read apart.
    ``from package import name`` points at the submodule when ``name`` is one.
    """
    modules = {
        module_name_under(root, path): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")[: len(name.split(".")) - node.level + is_package]
                    prefix = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    prefix = node.module or ""
                for alias in node.names:
                    submodule = f"{prefix}.{alias.name}"
                    targets.add(submodule if submodule in modules else prefix)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def module_name_under(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                loops.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(loops)


def test_no_import_loops() -> None:
    assert import_loops(import_graph(ROOT, PACKAGES)) == []


def test_the_loop_checker_sees_a_loop(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "sub" / "__init__.py").write_text("", encoding="utf-8")
    (package / "a.py").write_text("from pkg.sub import b\n", encoding="utf-8")
    (package / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import c\n",
        encoding="utf-8",
    )
    (package / "sub" / "c.py").write_text("def f():\n    import pkg.a\n", encoding="utf-8")
    (package / "d.py").write_text("import pkg.a\n", encoding="utf-8")
    graph = import_graph(tmp_path, ("pkg",))
    assert graph["pkg.d"] == {"pkg.a"}
    assert import_loops(graph) == [["pkg.a", "pkg.sub.b", "pkg.sub.c"]]
