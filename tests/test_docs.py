"""The documentation keeps up with the code: every step type and CLI command has its page."""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints

import station.steps  # noqa: F401  (registers the step library)
from station.checked import describe_constraints
from station.cli import _parser
from station.steps.api import REGISTRY, MeasurementSpec, StepType

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_step_type_has_a_page_and_an_index_entry() -> None:
    index = (DOCS / "steps" / "README.md").read_text(encoding="utf-8")
    missing = [
        name
        for name in sorted(REGISTRY)
        if not name.startswith("test_")
        and (not (DOCS / "steps" / f"{name}.md").is_file() or f"({name}.md)" not in index)
    ]
    assert missing == []


def test_every_step_page_names_each_parameter() -> None:
    import dataclasses

    unnamed = []
    for name, cls in sorted(REGISTRY.items()):
        page = DOCS / "steps" / f"{name}.md"
        if name.startswith("test_") or not page.is_file():
            continue
        text = page.read_text(encoding="utf-8")
        unnamed += [
            f"{name}.{f.name}" for f in dataclasses.fields(cls.Params) if f"`{f.name}`" not in text
        ]
    assert unnamed == []


def allowed(cls: type[StepType[Any]], names: list[str]) -> str:
    """The "allowed" cell of a step page's parameter row naming ``names``: the constraints
    declared on those fields (``Annotated[float, Positive]`` → ``> 0``)."""
    hints = get_type_hints(cls.Params, include_extras=True)
    given = {n: describe_constraints(hints[n]) for n in names if n in hints}
    given = {n: text for n, text in given.items() if text}
    if len(given) == len(names) and len(set(given.values())) == 1:
        return next(iter(given.values()))
    return "; ".join(f"`{n}` {text}" for n, text in given.items())


def parameter_rows(text: str) -> Iterator[tuple[int, list[str], list[str]]]:
    """(line index, header cells, row cells) of every row of a page's parameter tables."""
    lines = text.splitlines()
    header: list[str] | None = None
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            header = None
        elif cells[0] == "parameter":
            header = cells
        elif header is not None and not set(cells[0]) <= {"-", ":"}:
            yield i, header, cells


def test_every_step_page_shows_each_parameter_constraint() -> None:
    wrong, rows = [], 0
    for name, cls in sorted(REGISTRY.items()):
        page = DOCS / "steps" / f"{name}.md"
        if name.startswith("test_") or not page.is_file():
            continue
        for _, header, cells in parameter_rows(page.read_text(encoding="utf-8")):
            rows += 1
            if "allowed" not in header:
                wrong.append(f"{name}: the parameter table has no 'allowed' column")
                break
            want = allowed(cls, re.findall(r"`(\w+)`", cells[0]))
            got = cells[header.index("allowed")]
            if got != want:
                wrong.append(f"{name} {cells[0]}: allowed {got!r}, declared {want!r}")
    assert wrong == []
    assert rows >= 140


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [name for name in sub.choices if f"## `station {name}`" not in text]
    assert missing == []


def toml_examples(page: Path) -> list[str]:
    """The ```toml blocks of a docs page."""
    return re.findall(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)


def test_every_limit_example_in_the_docs_is_valid_for_a_real_measurement(
    tmp_path: Path,
) -> None:
    from station.errors import SequenceError
    from station.limits import in_unit, parse_limit
    from station.sequence import load_sequence
    from station.units import UnitError

    page = DOCS / "limits.md"
    blocks = toml_examples(page)
    assert len(blocks) >= 10
    specs: dict[str, list[MeasurementSpec]] = {}
    # what step types declare, their parameter-dependent sets, and the reference sequence's
    declared = [s for cls in REGISTRY.values() for s in cls.measurements]
    for cls in REGISTRY.values():
        for value in vars(sys.modules[cls.__module__]).values():
            group = value if isinstance(value, tuple) else (value,)
            declared += [s for s in group if isinstance(s, MeasurementSpec)]
    reference = DOCS.parent / "sequences" / "nmc96s" / "eol.toml"
    declared += [s for step in load_sequence(reference).all_steps() for s in step.specs]
    for spec in declared:
        specs.setdefault(spec.name, []).append(spec)
    wrong: list[str] = []
    checked = 0
    for block in blocks:
        if "[[" in block:  # a whole step
            seq = tmp_path / "example.toml"
            seq.write_text(
                '[sequence]\nname = "x"\nversion = "1"\nproducts = ["NM96-A"]\n'
                f'serial_pattern = "^NM96"\n{block}',
                encoding="utf-8",
            )
            try:
                checked += len(load_sequence(seq).all_steps())
            except SequenceError as err:
                wrong.append(f"{block.splitlines()[1]}: {err}")
            continue
        for line in block.splitlines():
            [(name, table)] = tomllib.loads(line).items()
            limit = parse_limit(table, file=str(page), where=name)
            fits = []
            for spec in specs.get(name, []):
                with contextlib.suppress(UnitError):
                    fits.append(in_unit(limit, spec.unit))
            if not fits:
                wrong.append(f"{line}: no step type records {name!r} in a compatible unit")
            checked += 1
    assert wrong == []
    assert checked >= 20


def test_every_step_example_on_every_docs_page_loads(tmp_path: Path) -> None:
    from station.errors import SequenceError
    from station.sequence import load_sequence

    header = (
        '[sequence]\nname = "x"\nversion = "1"\nproducts = ["NM96-A"]\nserial_pattern = "^NM"\n'
    )
    loaded, wrong = 0, []
    for page in sorted(DOCS.rglob("*.md")):
        for block in toml_examples(page):
            if "[[" not in block or "[sequence]" in block or "[station]" in block:
                # a limit line, a limit table, a whole file with its own header, or a
                # station config (its [[nests]] are not steps)
                continue
            path = tmp_path / "example.toml"
            path.write_text(header + block, encoding="utf-8")
            try:
                loaded += len(load_sequence(path).all_steps())
            except SequenceError as err:
                wrong.append(f"{page.relative_to(DOCS)}: {err}")
    assert wrong == []
    assert loaded >= 20
