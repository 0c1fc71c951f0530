"""The documentation keeps up with the code: every step type and CLI command has its page."""

from __future__ import annotations

import argparse
from pathlib import Path

import station.steps  # noqa: F401  (registers the step library)
from station.cli import _parser
from station.steps.api import REGISTRY

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


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [name for name in sub.choices if f"## `station {name}`" not in text]
    assert missing == []
