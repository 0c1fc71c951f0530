"""Regular expressions that run on operator and instrument input, in linear time.

Serial patterns, REGEX limits and prompt patterns come from files anyone can edit, and they
run on text from a scanner, an operator, an instrument or the BMS. Python's ``re``
backtracks: ``^(A+)+$`` against 40 characters that do not match would run for hours,
and nothing could interrupt it. So every such pattern:

- runs on RE2 (``google-re2``), whose matching time is linear in the text, never
  exponential, whatever the pattern;
- is at most :data:`MAX_PATTERN_LENGTH` characters, uses only syntax both Python and RE2
  understand (no backreferences, no look-around), and has **no nested repetition** such as
  ``(A+)+``, ``(a*)*`` or ``([0-9]{2})+``: harmless on RE2, but exponential on every
  backtracking engine the same pattern may meet elsewhere (an MES, a label printer, a
  spreadsheet), and no serial or version format needs it. Such a pattern is refused when
  the file is loaded, so ``station check`` reports it with its file and field;
- matches text of bounded length only (:data:`MAX_SERIAL_LENGTH` for serials,
  :data:`MAX_TEXT_LENGTH` for instrument, BMS and operator strings): longer text does not
  match.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import re2

MAX_PATTERN_LENGTH = 256
"""The longest pattern accepted, in characters."""
MAX_SERIAL_LENGTH = 64
"""The longest serial number matched, in characters (labels carry 10–30)."""
MAX_TEXT_LENGTH = 4096
"""The longest instrument, BMS or operator string matched, in characters."""

# Python's own parser, to find nested repetition; private but present since 3.11 (the
# public `sre_parse` alias warns that it is deprecated).
_parser: Any = importlib.import_module("re._parser")
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})


class PatternError(ValueError):
    """A pattern is refused; the message says why in one sentence."""


@dataclass(frozen=True)
class SafePattern:
    """A validated pattern; :meth:`fullmatch` runs in time linear in the text."""

    pattern: str
    max_text: int
    _compiled: Any = field(repr=False, compare=False)

    def fullmatch(self, text: str) -> bool:
        """Return whether all of ``text`` matches (False for text longer than ``max_text``)."""
        if len(text) > self.max_text:
            return False
        return self._compiled.fullmatch(text) is not None


@functools.lru_cache(maxsize=256)
def compile_safe(pattern: str, *, max_text: int = MAX_TEXT_LENGTH) -> SafePattern:
    """Validate ``pattern`` and compile it for RE2; PatternError says what is wrong."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(
            f"is {len(pattern)} characters long; at most {MAX_PATTERN_LENGTH} are allowed"
        )
    try:
        parsed = _parser.parse(pattern)
    except re.error as err:
        raise PatternError(f"is not a valid regular expression: {err}") from None
    nested = _nested_repetition(parsed, inside=False)
    if nested:
        raise PatternError(
            "has nested repetition (a repeated group that itself repeats, like (A+)+): "
            "it can take exponential time on backtracking engines and no serial or version "
            "format needs it; write it without the outer repetition"
        )
    options = re2.Options()
    options.log_errors = False  # the error comes back as our sentence, not on stderr
    try:
        compiled = re2.compile(pattern, options)
    except re2.error as err:
        detail = err.args[0].decode() if err.args and isinstance(err.args[0], bytes) else err
        raise PatternError(
            f"uses syntax the linear-time engine does not support ({detail}); "
            "backreferences and look-around are not allowed"
        ) from None
    return SafePattern(pattern, max_text, compiled)


def _nested_repetition(items: Any, *, inside: bool) -> bool:
    """Whether a repetition (more than once) occurs inside another one in ``items``."""
    for op, argument in items:
        if str(op) in _REPEATS:
            _low, high, body = argument
            repeats = high > 1
            if repeats and inside:
                return True
            if _nested_repetition(body, inside=inside or repeats):
                return True
            continue
        for child in _subpatterns(argument):
            if _nested_repetition(child, inside=inside):
                return True
    return False


def _subpatterns(argument: Any) -> Iterator[Any]:
    if isinstance(argument, _parser.SubPattern):
        yield argument
    elif isinstance(argument, tuple | list):
        for part in argument:
            yield from _subpatterns(part)
