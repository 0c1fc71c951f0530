"""Checked tables: a TOML table turned into a frozen dataclass, every problem located.

Every table the station reads — a step's ``params``, the sections of the station config,
a sequence's ``[sequence]`` table — is declared once, as a dataclass whose field types say
what each key holds and whose ``Annotated`` constraints say what it allows::

    @dataclass(frozen=True)
    class CentralConfig:
        dsn: Annotated[str, NonEmpty]
        background: bool = False
        interval_s: Annotated[float, Range(0, 3600, low_open=True, unit="s")] = 30.0

:func:`checked` fills it from a table and reports, all at once and each at its key, the
unknown keys (with a did-you-mean), the missing ones, wrong types, values outside a
``Literal`` and broken constraints; the docs tests read the same declarations
(:func:`describe_constraints`). Rules between keys stay in the dataclass's
``__post_init__`` (a ``ValueError`` there is a problem of the whole table).

This module stands on :mod:`station.inputs` only, so every loader can use it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import types
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from station.inputs import Problems, did_you_mean

T = TypeVar("T")


class ConstraintError(ValueError):
    """A value of the right type breaks a constraint declared on its field."""


@dataclass(frozen=True)
class Constraint(ABC):
    """A rule a parameter's value keeps, declared with ``Annotated[type, constraint]``.

    ``text`` is how messages and docs show it (``"> 0"``, ``"0 … 100"``); ``note`` says why
    or what the edge means (``"0 = no charge pulse"``).
    """

    text: str
    note: str = ""

    @abstractmethod
    def holds(self, value: Any) -> bool:
        """Whether ``value`` keeps the rule (None, an unset optional value, always does)."""

    def noting(self, note: str) -> Constraint:
        """The same rule, its messages saying ``note`` too (``Positive.noting("…")``)."""
        return dataclasses.replace(self, note=note)

    def problem(self, value: Any) -> str | None:
        """``"must be > 0, got -1.0"``, or None when ``value`` keeps the rule."""
        if value is None or self.holds(value):
            return None
        note = f" ({self.note})" if self.note else ""
        shown = list(value) if isinstance(value, tuple) else value  # as the file wrote it
        return f"must be {self.text}{note}, got {shown!r}"


def _num(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class _Bound(Constraint):
    bound: float = 0.0
    op: str = ">"

    def holds(self, value: Any) -> bool:
        b = self.bound
        return bool({">": value > b, "≥": value >= b, "<": value < b, "≤": value <= b}[self.op])


def Above(bound: float, note: str = "") -> Constraint:
    """The value is greater than ``bound``."""
    return _Bound(f"> {_num(bound)}", note, bound, ">")


def AtLeast(bound: float, note: str = "") -> Constraint:
    """The value is ``bound`` or more."""
    return _Bound(f"≥ {_num(bound)}", note, bound, "≥")


def Below(bound: float, note: str = "") -> Constraint:
    """The value is less than ``bound``."""
    return _Bound(f"< {_num(bound)}", note, bound, "<")


def AtMost(bound: float, note: str = "") -> Constraint:
    """The value is ``bound`` or less."""
    return _Bound(f"≤ {_num(bound)}", note, bound, "≤")


@dataclass(frozen=True)
class _Range(Constraint):
    low: float = 0.0
    high: float = 0.0
    low_open: bool = False
    high_open: bool = False

    def holds(self, value: Any) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return bool(above and below)


def Range(
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
    unit: str = "",
    note: str = "",
) -> Constraint:
    """The value lies between ``low`` and ``high`` (both included unless open), in ``unit``."""
    if low_open or high_open:
        text = f"in {'(' if low_open else '['}{_num(low)}, {_num(high)}{')' if high_open else ']'}"
    else:
        text = f"{_num(low)} … {_num(high)}"
    return _Range(f"{text} {unit}".rstrip(), note, low, high, low_open, high_open)


@dataclass(frozen=True)
class _Finite(Constraint):
    def holds(self, value: Any) -> bool:
        return math.isfinite(value)


@dataclass(frozen=True)
class _NonEmpty(Constraint):
    def holds(self, value: Any) -> bool:
        return len(value) > 0 if not isinstance(value, str) else bool(value.strip())


Positive = Above(0)
"""The value is greater than 0."""
NonNegative = AtLeast(0)
"""The value is 0 or more."""
NonEmpty: Constraint = _NonEmpty("non-empty")
"""A string with a visible character, or a list with an element."""
Finite: Constraint = _Finite("finite")
"""Not infinite (a sequence file cannot say ``inf``; Python code can)."""


@dataclass(frozen=True)
class _OneOf(Constraint):
    choices: tuple[str, ...] = ()
    ignore_case: bool = False

    def holds(self, value: Any) -> bool:
        return (value.upper() if self.ignore_case else value) in self.choices

    def problem(self, value: Any) -> str | None:
        found = super().problem(value)
        return None if found is None else found + did_you_mean(str(value), self.choices)


def OneOf(choices: Collection[str], *, ignore_case: bool = False, note: str = "") -> Constraint:
    """The string is one of ``choices`` (upper-case choices, any case written, if
    ``ignore_case``); a misspelt one gets a did-you-mean."""
    listed = tuple(choices)
    return _OneOf(f"one of {', '.join(listed)}", note, listed, ignore_case)


@dataclass(frozen=True)
class Rule(Constraint):
    """A rule that only a function can say: ``why_not(value)`` is the problem sentence
    (``"unknown language 'de'; …"``), ``""`` when the value keeps it. ``text`` is how the
    docs show the rule."""

    why_not: Callable[[Any], str] = lambda value: ""

    def holds(self, value: Any) -> bool:
        return not self.why_not(value)

    def problem(self, value: Any) -> str | None:
        return None if value is None else (self.why_not(value) or None)


def constraints_of(tp: Any) -> tuple[Constraint, ...]:
    """The constraints declared on a field type (on ``T``, or on ``T | None``)."""
    if get_origin(tp) is Annotated:
        return tuple(m for m in tp.__metadata__ if isinstance(m, Constraint))
    if get_origin(tp) in (Union, types.UnionType):
        return tuple(c for arg in get_args(tp) for c in constraints_of(arg))
    return ()


def describe_constraints(tp: Any) -> str:
    """What a field allows, as its step page shows it: ``"> 0"``, ``"each 0 … 100"``, ``""``."""
    if get_origin(tp) is Annotated:
        inner = describe_constraints(get_args(tp)[0])
        own = ", ".join(c.text for c in constraints_of(tp))
        return ", ".join(t for t in (own, inner) if t)
    if get_origin(tp) in (Union, types.UnionType):
        return ", ".join(t for t in (describe_constraints(a) for a in get_args(tp)) if t)
    if get_origin(tp) is list:
        inner = describe_constraints(get_args(tp)[0])
        return f"each {inner}" if inner else ""
    return ""


def describe_type(tp: Any) -> str:
    """Human name of a parameter type, as used in error messages and docs."""
    origin = get_origin(tp)
    if origin is Annotated:
        return describe_type(get_args(tp)[0])
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(describe_type(a) for a in get_args(tp) if a is not type(None))
    if origin in (list, tuple):
        return f"list of {describe_type(get_args(tp)[0])}"
    if origin is dict:
        key, value = get_args(tp)
        if value is Any:
            return "table"
        return f"table of {describe_type(key)} to {describe_type(value)}"
    names: dict[Any, str] = {
        float: "number",
        int: "integer",
        bool: "true/false",
        str: "string",
        Path: "path",
        dt.date: "TOML date",
        Any: "value",
    }
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def convert(value: Any, tp: Any, *, coerce: bool = True) -> Any:
    """Return ``value`` as type ``tp`` or raise ``TypeError``/``ValueError`` saying why.

    Constraints declared with ``Annotated`` are checked on the converted value. With
    ``coerce=False`` (a dataclass built in code) only the constraints are checked: the type
    checker has seen the types.
    """
    origin = get_origin(tp)
    if origin is Annotated:
        converted = convert(value, get_args(tp)[0], coerce=coerce)
        for constraint in constraints_of(tp):
            problem = constraint.problem(converted)
            if problem is not None:
                raise ConstraintError(problem)
        return converted
    if not coerce:
        if origin in (Union, types.UnionType):
            # The constraints of the member the value is an instance of (``int | list[int]``).
            arg = next((a for a in get_args(tp) if _is_instance(value, a)), None)
            if arg is not None:
                convert(value, arg, coerce=False)
        elif origin in (list, tuple) and isinstance(value, list | tuple):
            inner = get_args(tp)[0]
            for v in value:
                convert(v, inner, coerce=False)
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        members = [a for a in args if a is not type(None)]
        if len(members) == 1:  # an optional value: its own type's words ("expected an integer")
            return convert(value, members[0])
        broken: list[ConstraintError] = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return convert(value, arg)
            except ConstraintError as err:  # the right type: say which rule it breaks
                broken.append(err)
            except (TypeError, ValueError):
                pass
        if broken:
            raise broken[0]
        raise TypeError(f"expected {describe_type(tp)}, got {value!r}")
    if origin is Literal:
        # ``True in (1, 10)`` holds in Python; a TOML boolean must not pass as a number.
        if not any(
            value == choice and isinstance(value, bool) == isinstance(choice, bool)
            for choice in get_args(tp)
        ):
            raise ValueError(f"must be one of {describe_type(tp)}, got {value!r}")
        return value
    if origin in (list, tuple):  # a TOML array; a tuple keeps a frozen dataclass hashable
        inner = get_args(tp)[0]
        if not isinstance(value, list):
            raise TypeError(f"expected {describe_type(tp)}, got {value!r}")
        return origin(convert(v, inner) for v in value)
    if origin is dict:
        key_tp, value_tp = get_args(tp)
        if not isinstance(value, dict):
            raise TypeError(f"expected {describe_type(tp)}, got {value!r}")
        return {convert(k, key_tp): convert(v, value_tp) for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {value!r}")
        return value
    if tp is Path:
        if not isinstance(value, str) or not value:
            raise TypeError(f"expected a path, got {value!r}")
        return Path(value)
    if tp is dt.date:  # a TOML date; a datetime is a date to Python, not to the file
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise TypeError(f"expected a TOML date like 2027-03-31, got {value!r}")
        return value
    if tp is Any:
        return value
    raise TypeError(f"unsupported type {tp!r}")


def _is_instance(value: Any, tp: Any) -> bool:
    """Whether ``value`` is of the union member ``tp`` (its constraints then apply)."""
    if get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    origin = get_origin(tp)
    if origin is Literal:
        return value in get_args(tp)
    if origin is not None:
        return isinstance(value, origin)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return tp is Any or isinstance(value, tp)


def checked(
    cls: type[T],
    table: object,
    where: str,
    problems: Problems,
    *,
    given: Mapping[str, Any] | None = None,
    file: str | Path | None = None,
    noun: str = "field",
    known: str = "this table takes",
    sep: str = ".",
) -> T | None:
    """Build the dataclass ``cls`` from a TOML table at ``where``; None if it cannot be.

    Each problem goes to ``problems`` at ``where.key`` (at ``where`` for a rule between
    keys), in ``file`` when it is not the collector's own. An unknown key is a problem but
    does not stop the build, so that the checks that use the object still say what else is
    wrong. ``given`` fills fields that are
    not keys of the table (an instrument's role is its table's name). ``noun`` and
    ``known`` word the unknown-key sentence ("unknown parameter …; this step type takes: …");
    ``sep`` joins ``where`` and a key (``main[0] 'OCV' retries`` takes a space).
    A field whose type is a dataclass, or a list of them, is a nested table, checked the
    same way (``masters.failure[0].serial``).
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not isinstance(table, dict):
        problems.add(where, f"must be a table, got {table!r}", file=file)
        return None
    given = dict(given or {})
    hints = get_type_hints(cls, include_extras=True)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name not in given}
    buildable = True  # an unknown key is a problem, but the rest can still be built

    def at(key: str) -> str:
        return f"{where}{sep}{key}" if where else key

    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in fields:  # noted, then ignored: what the table says is still checked
            names = ", ".join(fields) or "none"
            message = f"unknown {noun}{did_you_mean(key, fields)}; {known}: {names}"
            problems.add(at(key), message, file=file)
            continue
        nested = _nested_table(hints[key])
        if nested is not None:
            values[key] = _checked_nested(nested, hints[key], raw, at(key), problems, file)
            buildable = buildable and _complete(values[key])
            continue
        try:
            values[key] = convert(raw, hints[key])
        except (TypeError, ValueError) as err:
            problems.add(at(key), str(err), file=file)
            buildable = False
    for name, f in fields.items():
        missing = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if missing and name not in table:
            message = f"missing required {noun} ({describe_type(hints[name])})"
            problems.add(at(name), message, file=file)
            buildable = False
    if not buildable:
        return None
    try:
        return cls(**given, **values)
    except (TypeError, ValueError) as err:  # __post_init__: a rule between keys
        problems.add(where, str(err), file=file)
        return None


def _nested_table(tp: Any) -> type | None:
    """The dataclass of a field holding a table or a list of tables, else None."""
    if get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) in (list, tuple):
        tp = get_args(tp)[0]
    return tp if isinstance(tp, type) and dataclasses.is_dataclass(tp) else None


def _complete(nested: Any) -> bool:
    """Whether a nested table (or every one of a list of them) could be built."""
    return nested is not None and not (isinstance(nested, tuple | list) and None in nested)


def _checked_nested(
    cls: type, tp: Any, raw: object, where: str, problems: Problems, file: str | Path | None
) -> Any:
    origin = get_origin(get_args(tp)[0] if get_origin(tp) is Annotated else tp)
    if origin not in (list, tuple):
        return checked(cls, raw, where, problems, file=file)
    if not isinstance(raw, list):
        problems.add(where, f"expected a list of tables, got {raw!r}", file=file)
        return None
    return origin(
        checked(cls, item, f"{where}[{i}]", problems, file=file) for i, item in enumerate(raw)
    )
