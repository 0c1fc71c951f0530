"""Typed step parameters: a dataclass per step type, filled from a TOML table.

Validation collects every problem at once — unknown names (with a did-you-mean),
missing required values, wrong types, values outside a ``Literal``, values breaking a
constraint — so a test engineer fixes a sequence file in one pass.

Constraints are declared on the fields, where the docs test reads them too::

    @dataclass(frozen=True)
    class DcirParams(StepParams):
        current_a: Annotated[float, Positive]
        early_s: Annotated[float, Positive] = 0.1
        min_delivery_fraction: Annotated[float, Range(0, 1, low_open=True)] = 0.95

:func:`convert` enforces them while parsing a sequence file (each problem located at its
field); :class:`StepParams` enforces them when Python code builds the dataclass. Rules
between fields (``early_s`` shorter than ``pulse_s``) stay in the class's ``__post_init__``,
after ``super().__post_init__()``.
"""

from __future__ import annotations

import dataclasses
import math
import types
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from station.inputs import did_you_mean


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
        return f"must be {self.text}{note}, got {value!r}"


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


class StepParams:
    """Base of every step type's ``Params`` dataclass: building one checks the constraints
    declared on its fields, so code that builds it directly gets the same refusals as a
    sequence file. Subclasses with rules between fields call ``super().__post_init__()``
    first."""

    def __post_init__(self) -> None:
        hints = get_type_hints(type(self), include_extras=True)
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            try:
                convert(getattr(self, f.name), hints[f.name], coerce=False)
            except (TypeError, ValueError) as err:
                raise ValueError(f"params.{f.name} {err}") from None


def describe_type(tp: Any) -> str:
    """Human name of a parameter type, as used in error messages and docs."""
    origin = get_origin(tp)
    if origin is Annotated:
        return describe_type(get_args(tp)[0])
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(describe_type(a) for a in get_args(tp) if a is not type(None))
    if origin is list:
        (inner,) = get_args(tp)
        return f"list of {describe_type(inner)}"
    if origin is dict:
        key, value = get_args(tp)
        return f"table of {describe_type(key)} to {describe_type(value)}"
    return {float: "number", int: "integer", bool: "true/false", str: "string"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


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
        elif origin is list and isinstance(value, list):
            (inner,) = get_args(tp)
            for v in value:
                convert(v, inner, coerce=False)
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
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
    if origin is list:
        (inner,) = get_args(tp)
        if not isinstance(value, list):
            raise TypeError(f"expected {describe_type(tp)}, got {value!r}")
        return [convert(v, inner) for v in value]
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
    if tp is Any:
        return value
    raise TypeError(f"unsupported parameter type {tp!r}")


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


def parse_params(params_cls: type, table: object) -> tuple[Any, list[tuple[str, str]]]:
    """Build ``params_cls`` from a TOML table.

    Returns ``(instance_or_None, problems)`` where each problem is ``(field, message)``.
    """
    if not dataclasses.is_dataclass(params_cls):
        raise TypeError(f"{params_cls!r} is not a dataclass")
    problems: list[tuple[str, str]] = []
    if not isinstance(table, dict):
        return None, [("params", f"must be a table, got {table!r}")]
    hints = get_type_hints(params_cls, include_extras=True)
    fields = {f.name: f for f in dataclasses.fields(params_cls)}
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in fields:
            known = ", ".join(fields) or "none"
            hint = did_you_mean(key, fields)
            problems.append(
                (f"params.{key}", f"unknown parameter{hint}; this step type takes: {known}")
            )
            continue
        try:
            values[key] = convert(raw, hints[key])
        except (TypeError, ValueError) as err:
            problems.append((f"params.{key}", str(err)))
    for name, f in fields.items():
        missing = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if missing and name not in table:
            problems.append(
                (f"params.{name}", f"missing required parameter ({describe_type(hints[name])})")
            )
    if problems:
        return None, problems
    try:
        instance = params_cls(**values)
    except (TypeError, ValueError) as err:  # __post_init__ cross-field checks
        return None, [("params", str(err))]
    return instance, []
