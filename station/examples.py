"""``station examples DIR``: the shipped reference data, copied out for editing.

The reference sequences, limit tables, station configs, BMS descriptions and DBCs ship inside
the package (:mod:`sequences`); the virtual packs ship with the simulator. Copying them gives
an engineer a folder to start a new product from, whether the station came from a clone or
from ``pip install``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import sequences
from station.errors import StationError

DATA_SUFFIXES = (".toml", ".dbc", ".txt")
PACKS_FOLDER = "packs"
"""Where the virtual pack definitions go inside the examples folder."""


def example_files(packs: Iterable[Path] = ()) -> Iterator[tuple[Path, Path]]:
    """Yield (shipped file, path relative to the examples folder) for every example file."""
    root = sequences.path()
    for source in sorted(root.rglob("*")):
        if source.is_file() and source.suffix in DATA_SUFFIXES:
            yield source, source.relative_to(root)
    for source in packs:
        yield source, Path(PACKS_FOLDER) / source.name


def copy_examples(target: Path, packs: Iterable[Path] = ()) -> list[Path]:
    """Copy every example file into ``target``; refuse (copying nothing) to overwrite one.

    ``packs`` are the virtual pack files to include (the composition root passes the
    simulator's; the core does not know where the simulator keeps them).
    """
    plan = [(source, target / relative) for source, relative in example_files(packs)]
    if target.exists() and not target.is_dir():
        raise StationError(f"{target} is a file; name a folder to copy the examples into")
    existing = [dest for _, dest in plan if dest.exists()]
    if existing:
        raise StationError(
            f"{target} already holds {len(existing)} of the example files "
            f"(first: {existing[0]}); name a new or empty folder, nothing was copied"
        )
    try:
        for source, dest in plan:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
    except OSError as err:
        raise StationError(f"cannot copy the examples into {target}: {err}") from err
    return [dest for _, dest in plan]
