"""Typed step parameters: a dataclass per step type, filled from a TOML table.

Validation collects every problem at once — unknown names (with a did-you-mean),
missing required values, wrong types, values outside a ``Literal`` — so a test engineer
fixes a sequence file in one pass.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints


def did_you_mean(name: str, candidates: typing.Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` or ``""``."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe_type(tp: Any) -> str:
    """Human name of a parameter type, as used in error messages and docs."""
    origin = get_origin(tp)
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


def convert(value: Any, tp: Any) -> Any:
    """Return ``value`` as type ``tp`` or raise ``TypeError``/``ValueError`` saying why."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return convert(value, arg)
            except (TypeError, ValueError) as err:
                errors.append(str(err))
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


def parse_params(params_cls: type, table: object) -> tuple[Any, list[tuple[str, str]]]:
    """Build ``params_cls`` from a TOML table.

    Returns ``(instance_or_None, problems)`` where each problem is ``(field, message)``.
    """
    if not dataclasses.is_dataclass(params_cls):
        raise TypeError(f"{params_cls!r} is not a dataclass")
    problems: list[tuple[str, str]] = []
    if not isinstance(table, dict):
        return None, [("params", f"must be a table, got {table!r}")]
    hints = get_type_hints(params_cls)
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
