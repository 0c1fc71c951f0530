"""No outcome word is spelt as a string literal outside ``station/outcomes.py``.

A typo such as ``"FAIL"`` passes the type checker and silently never matches, so the words
are spelt once, as enum members. The scan reads the source (nothing is imported) and skips
docstrings, log levels (``"ERROR"`` is one too) and other vocabularies that share a word.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("station", "drivers", "ui", "bench")
HOME = Path("station/outcomes.py")
WORDS = frozenset(
    {"PASSED", "FAILED", "ERROR", "ABORTED", "TERMINATED", "SKIPPED", "DONE"}
    | {"RUNNING", "INTERRUPTED"}
)

# Words of other vocabularies that happen to be outcome words, by file.
OTHER_VOCABULARIES: dict[str, frozenset[str]] = {
    # The instruments' own answers (STAT?, test verdicts), and the twins that give them.
    "drivers/chroma/chroma1905x.py": frozenset({"ABORTED", "RUNNING"}),
    "drivers/kikusui/tos9300.py": frozenset({"ABORTED"}),
    "drivers/sim/instruments/chroma1905x.py": frozenset({"RUNNING"}),
    "drivers/sim/instruments/hv_twins.py": frozenset({"DONE"}),
    # An insulation tester's verdict (drivers/roles.py), not a step outcome.
    "station/steps/eol/insulation.py": frozenset({"ABORTED"}),
    # OpenHTF's outcome words, which the export writes.
    "station/exports.py": frozenset({"ERROR", "ABORTED"}),
}


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            found.update(
                id(stmt.value)
                for stmt in body
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            )
    return found


def _is_level(node: ast.expr) -> bool:
    """``x.level`` or ``x["level"]``: a log level."""
    if isinstance(node, ast.Attribute):
        return node.attr == "level"
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == "level"
    )


def _other_words(tree: ast.AST) -> set[int]:
    """Constants that are log levels (arguments of ``log(…)``/``_log(…)``, compared with a
    ``level``, in a ``…LEVELS`` table), names (``__all__``) or words shown on the screen
    (``QT_TRANSLATE_NOOP(context, word)``: the source text of a translation)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        holders: list[ast.AST] = []
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("log", "_log"):
                holders = [*node.args, *(k.value for k in node.keywords if k.arg == "level")]
            elif name == "QT_TRANSLATE_NOOP":  # a word the screen shows, to be translated
                holders = list(node.args)
        elif isinstance(node, ast.Compare) and any(
            _is_level(side) for side in (node.left, *node.comparators)
        ):
            holders = [node]
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and (t.id.endswith("LEVELS") or t.id == "__all__")
            for t in node.targets
        ):
            holders = [node.value]
        for holder in holders:
            found.update(id(c) for c in ast.walk(holder) if isinstance(c, ast.Constant))
    return found


def outcome_literals(path: Path, allowed: frozenset[str] = frozenset()) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _docstrings(tree) | _other_words(tree)
    return [
        f"{path}:{node.lineno} {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and node.value in WORDS
        and node.value not in allowed
        and id(node) not in skip
    ]


def test_no_outcome_word_is_spelt_outside_its_module() -> None:
    found = [
        line
        for package in SCANNED
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.relative_to(ROOT) != HOME
        for line in outcome_literals(
            path.relative_to(ROOT),
            OTHER_VOCABULARIES.get(path.relative_to(ROOT).as_posix(), frozenset()),
        )
    ]
    assert found == []


def test_the_scan_sees_an_outcome_literal_and_skips_the_rest(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        '"""Ends PASSED or FAILED."""\n'
        "def f(ctx, r):\n"
        '    """Returns "DONE"."""\n'
        '    ctx.log("no contact", "ERROR")\n'
        '    if r.level in ("WARNING", "ERROR"):\n'
        '        return "ERROR"\n'
        '    return r.outcome == "FAILED"\n',
        encoding="utf-8",
    )
    assert [line.split(" ", 1)[1] for line in outcome_literals(source)] == ["'ERROR'", "'FAILED'"]
    assert outcome_literals(source, frozenset({"ERROR", "FAILED"})) == []
