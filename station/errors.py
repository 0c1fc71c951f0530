"""The station's branches of the error tree (the root and hardware branches are in
``drivers.errors``, whose docstring draws the whole tree).

A limit failure is never an exception; an exception is never a FAIL.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import (
    BmsError,
    InstrumentError,
    InterlockError,
    StationError,
)

__all__ = [
    "AbortRequested",
    "BmsError",
    "ConfigError",
    "InstrumentError",
    "InterlockError",
    "Problem",
    "RunRefused",
    "SequenceError",
    "StationError",
    "StoreError",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located precisely enough to fix it."""

    file: str
    message: str
    where: str = ""  # e.g. "main[2] 'IR HV+' params.voltage_v" or "line 4, column 7"

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.where}: {self.message}"
            if self.where
            else (f"{self.file}: {self.message}")
        )


class _ProblemsError(StationError):
    """An input file has one or more problems; all of them are listed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(_ProblemsError):
    """The station config file is wrong."""


class SequenceError(_ProblemsError):
    """A sequence or limit-table file is wrong."""


class RunRefused(StationError):
    """A run may not start: bad serial, expired calibration, unsafe interlocks…"""


class StoreError(StationError):
    """The results database cannot be opened or written."""


class AbortRequested(StationError):
    """The operator (or an interlock) asked the run to stop."""
