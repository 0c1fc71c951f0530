"""Step types. Importing this package registers the built-in ones and the EOL library."""

from station.steps import builtin as builtin
from station.steps import eol as eol

__all__ = ["builtin", "eol"]
