"""docs/station-config.md names every table and key the config accepts; its Windows example
is a valid config."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path
from typing import get_args, get_type_hints

from station.checked import describe_constraints
from station.config import ROLES, SECTIONS, load_config

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "station-config.md"


def _keys(table: type) -> dict[str, object]:
    """The keys of a checked table and their declared types, nested tables' keys too."""
    hints = get_type_hints(table, include_extras=True)
    keys: dict[str, object] = {}
    for f in dataclasses.fields(table):
        if f.name == "role":  # an instrument's role is its table's name, not a key
            continue
        keys[f.name] = hints[f.name]
        args = get_args(hints[f.name])
        nested = args[0] if args else hints[f.name]
        if isinstance(nested, type) and dataclasses.is_dataclass(nested):
            keys.update(_keys(nested))
    return keys


def _section(text: str, name: str) -> str:
    """The part of the page under the heading of ``[name]`` / ``[[name]]``."""
    heading = re.search(rf"^## `\[{{1,2}}{re.escape(name)}[^\n]*$", text, flags=re.M)
    assert heading is not None, f"no heading for [{name}]"
    return text[heading.end() :].split("\n## ", 1)[0]


def test_every_table_and_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = []
    for name, table in SECTIONS.items():
        section = _section(text, name)
        for key in _keys(table) if table is not None else ():
            if f"`{key}`" not in section:
                missing.append(f"{name}.{key}")
    missing += [role for role in ROLES if f"`{role}`" not in text]
    assert missing == []


def test_what_a_key_allows_is_shown_in_its_row() -> None:
    """The constraint declared on a key (``in (0, 3600] s``) is in its row, as on step pages
    (docs/steps/*.md)."""
    text = DOC.read_text(encoding="utf-8")
    unshown = []
    for name, table in SECTIONS.items():
        section = _section(text, name)
        for key, tp in (_keys(table) if table is not None else {}).items():
            # "non-empty" goes without saying for a required key (the page says so once)
            allows = describe_constraints(tp).removeprefix("non-empty").lstrip(", ")
            row = next((r for r in section.splitlines() if r.startswith(f"| `{key}` |")), "")
            if allows and allows not in row:
                unshown.append(f"{name}.{key}: {allows}")
    assert unshown == []


def test_the_windows_example_loads(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    example = re.search(r"## A Windows station\n\n```toml\n(.*?)```", text, flags=re.S)
    assert example is not None
    shutil.copytree(ROOT / "sequences" / "bms", tmp_path / "bms")
    path = tmp_path / "station.toml"
    path.write_text(example.group(1), encoding="utf-8")
    config = load_config(path)
    assert config.instruments["insulation_tester"].resource == "COM3"
    assert config.instruments["dmm"].backend == "@ivi"
    assert config.can is not None and config.can.interface == "pcan"
    # absolute on Windows; on another system the same path joined to the config folder
    assert config.logging.file == tmp_path / "C:/EOL/logs/eol-03.log"


def test_the_nests_example_loads(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## `[[nests]]`", 1)[1]
    example = re.search(r"```toml\n(.*?)```", section, flags=re.S)
    assert example is not None
    shutil.copytree(ROOT / "sequences" / "bms", tmp_path / "bms")
    path = tmp_path / "station.toml"
    path.write_text(example.group(1), encoding="utf-8")
    config = load_config(path)
    assert [n.label for n in config.nests] == ["1 (left)", "2 (right)"]
    assert config.shared_roles == ("insulation_tester",)
