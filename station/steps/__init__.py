"""Step types. Importing this package registers the built-in ones."""

from station.steps import builtin as builtin

__all__ = ["builtin"]
