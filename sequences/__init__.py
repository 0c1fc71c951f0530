"""The shipped reference data: sequences, limit tables, station configs, BMS descriptions, DBCs.

This folder is a data package so that it ships in the wheel and is found the same way in a
checkout and in an installed station: ``sequences.path("bms", "eol_reference.toml")``.
``station examples DIR`` copies it out for editing.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["path"]


def path(*parts: str) -> Path:
    """Get the file-system path of a shipped file or folder (it need not exist)."""
    resource = files(__name__).joinpath(*parts)
    if not isinstance(resource, Path):
        # Only a zipped install (zipimport) gets here; the station reads these files by path.
        raise FileNotFoundError(
            f"the reference data {'/'.join(parts)} is inside a zip archive; "
            "install eol-station unpacked (pip does)"
        )
    return resource
