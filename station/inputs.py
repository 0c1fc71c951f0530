"""Input files: reading TOML, hashing a file, suggesting a name, collecting located problems.

Every input the station reads from disk — the station config, sequences, limit tables,
releases — goes through these few functions, so a mistake is reported the same way
whichever file holds it: one sentence naming the file, where in it (table, step, field;
line and column for a syntax error) and what is wrong, every problem at once.

This module is the ground floor of ``station``: it imports nothing from it but the error
types, so every loader can stand on it.
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from station.errors import Problem

MAX_TOML_DEPTH = 32
"""The deepest nesting of tables and arrays accepted in an input file (ours need 5)."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest of ``candidates``, or ``""``."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of the file's bytes (raises OSError when it cannot be read)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class Problems:
    """Located problems of input files, collected so that all of them are reported at once.

    ``file`` is the file a problem is in unless ``add`` names another (a sequence's
    problems may lie in its limit tables).
    """

    def __init__(self, file: str | Path = "") -> None:
        self.file = str(file)
        self._found: list[Problem] = []

    def add(self, where: str, message: str, *, file: str | Path | None = None) -> None:
        """Note one problem at ``where`` (table, step, field) of ``file`` (default: ours)."""
        self._found.append(Problem(self.file if file is None else str(file), message, where))

    def extend(self, problems: Iterable[Problem]) -> None:
        self._found.extend(problems)

    def raise_if_any(self, error: Callable[[list[Problem]], Exception]) -> None:
        """Raise ``error`` listing every problem noted so far, if there is one."""
        if self._found:
            raise error(list(self._found))

    def __len__(self) -> int:
        return len(self._found)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._found)


def read_toml(path: Path, problems: Problems) -> dict[str, Any] | None:
    """Read a TOML file, turning every failure into a problem of ``path``; None then.

    A syntax error names its line and column ("is not valid TOML: Invalid value (at line
    4, column 7)")."""
    file = str(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
        depth = toml_depth(data)
        if depth > MAX_TOML_DEPTH:
            problems.add(
                "", f"nests {depth} levels deep; at most {MAX_TOML_DEPTH} allowed", file=file
            )
            return None
        return data
    except RecursionError:  # the parser recurses once per level: thousands of levels
        message = f"nests too deep to read; at most {MAX_TOML_DEPTH} levels allowed"
    except FileNotFoundError:
        message = "file not found"
    except IsADirectoryError:
        message = "is a directory, not a TOML file"
    except PermissionError:
        message = "cannot be read (permission denied)"
    except UnicodeDecodeError as err:
        message = f"is not UTF-8 text ({err.reason})"
    except tomllib.TOMLDecodeError as err:
        message = f"is not valid TOML: {err}"
    problems.add("", message, file=file)
    return None


def toml_depth(value: object) -> int:
    """How deeply tables and arrays nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
    return deepest
