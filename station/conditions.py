"""``skip_if`` conditions: a small, safe expression language for sequence files.

Examples::

    skip_if = "variant == 'NM96-B'"
    skip_if = "variant in ['LF16-A', 'LF16-B']"
    skip_if = "outcome('IR HV+ to chassis') != 'PASSED'"
    skip_if = "value('Pack OCV', 'voltage') < 300 and not variant == 'NM96-A'"

Names: ``variant`` (the product part number), ``serial``; functions ``outcome(step)``
and ``value(step, measurement)`` read earlier steps (a step not run yet gives ``None``).
Operators: comparisons, ``in``/``not in``, ``and``/``or``/``not``. Nothing else is
evaluated — the file is data, not code.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: bool(a == b),
    ast.NotEq: lambda a, b: bool(a != b),
    ast.Lt: lambda a, b: bool(a < b),
    ast.LtE: lambda a, b: bool(a <= b),
    ast.Gt: lambda a, b: bool(a > b),
    ast.GtE: lambda a, b: bool(a >= b),
    ast.In: lambda a, b: bool(a in b),
    ast.NotIn: lambda a, b: bool(a not in b),
}
_NAMES = ("variant", "serial")
_FUNCTIONS = {"outcome": 1, "value": 2}


class ConditionError(ValueError):
    """The condition text is not valid; the message says why."""


class _Unknown:
    """A value not known before the run (an earlier step's outcome, the serial)."""


_UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Condition:
    """A parsed condition; ``steps`` lists the step names it refers to."""

    text: str
    tree: ast.Expression
    steps: tuple[str, ...] = field(default=())
    values: tuple[tuple[str, str], ...] = field(default=())  # value(step, measurement) pairs
    variants: tuple[str, ...] = field(default=())  # text constants compared with ``variant``

    def for_variant(self, variant: str) -> bool | None:
        """Whether the step is skipped for ``variant`` whatever else happens in the run:
        True (always skipped), False (never), None (it depends on the run)."""
        try:
            result = _eval(self.tree.body, {"variant": variant, "serial": _UNKNOWN}, None, None)
        except (TypeError, ConditionError):
            return None
        return None if result is _UNKNOWN else bool(result)

    def evaluate(
        self,
        *,
        variant: str,
        serial: str,
        outcome: Callable[[str], str | None],
        value: Callable[[str, str], Any],
    ) -> bool:
        env = {"variant": variant, "serial": serial}
        try:
            return bool(_eval(self.tree.body, env, outcome, value))
        except TypeError as err:  # e.g. None < 300 when the step did not run
            raise ConditionError(f"cannot evaluate {self.text!r}: {err}") from err


def parse_condition(text: str) -> Condition:
    """Parse and check a condition; raise ConditionError naming the problem."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise ConditionError(f"cannot parse {text!r}: {err.msg}") from None
    steps: list[str] = []
    _check(tree.body, steps)
    return Condition(text, tree, tuple(steps), _value_refs(tree), _variant_constants(tree))


def _value_refs(tree: ast.Expression) -> tuple[tuple[str, str], ...]:
    """The (step, measurement) pairs of every ``value(...)`` call (``_check`` made sure
    both arguments are quoted names)."""
    refs = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "value"
        ):
            step, meas = (a.value for a in node.args if isinstance(a, ast.Constant))
            refs.append((str(step), str(meas)))
    return tuple(refs)


def _variant_constants(tree: ast.Expression) -> tuple[str, ...]:
    """Text constants a comparison sets against ``variant`` (``variant == 'X'``,
    ``variant in ['X', 'Y']``), so a checker can find a part number that is not served."""
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        if not any(isinstance(o, ast.Name) and o.id == "variant" for o in operands):
            continue
        for o in operands:
            items = o.elts if isinstance(o, ast.List | ast.Tuple) else [o]
            found += [
                i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)
            ]
    return tuple(found)


def _check(node: ast.AST, steps: list[str]) -> None:
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, steps)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, steps)
    elif (  # a signed number such as -0.5 is a constant too
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    ):
        pass
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise ConditionError(f"operator {type(op).__name__} is not allowed")
        _check(node.left, steps)
        for c in node.comparators:
            _check(c, steps)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, str | int | float | bool) and node.value is not None:
            raise ConditionError(f"constant {node.value!r} is not allowed")
    elif isinstance(node, ast.List | ast.Tuple):
        for e in node.elts:
            _check(e, steps)
    elif isinstance(node, ast.Name):
        if node.id not in _NAMES:
            raise ConditionError(
                f"unknown name {node.id!r}; use {', '.join(_NAMES)}, "
                "outcome(step) or value(step, measurement)"
            )
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            raise ConditionError("only outcome(step) and value(step, measurement) may be called")
        arity = _FUNCTIONS[node.func.id]
        args = node.args
        if (
            node.keywords
            or len(args) != arity
            or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args)
        ):
            raise ConditionError(f"{node.func.id}() takes {arity} quoted name(s)")
        first = args[0]
        assert isinstance(first, ast.Constant)
        steps.append(str(first.value))
    else:
        raise ConditionError(f"{type(node).__name__} is not allowed in a condition")


def _eval(
    node: ast.AST,
    env: dict[str, Any],
    outcome: Callable[[str], str | None] | None,
    value: Callable[[str, str], Any] | None,
) -> Any:
    """Evaluate ``node``; with ``outcome``/``value`` None (before a run) what depends on
    the run is ``_UNKNOWN``, and ``and``/``or``/``not`` keep what is known regardless."""
    if isinstance(node, ast.BoolOp):
        decisive = not isinstance(node.op, ast.And)  # False decides an and, True an or
        unknown = False
        for v in node.values:
            result = _eval(v, env, outcome, value)
            if result is _UNKNOWN:
                unknown = True
            elif bool(result) == decisive:
                return decisive
        return _UNKNOWN if unknown else not decisive
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, env, outcome, value)
        if operand is _UNKNOWN:
            return _UNKNOWN
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        return not operand
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env, outcome, value)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, env, outcome, value)
            if left is _UNKNOWN or right is _UNKNOWN:
                return _UNKNOWN
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        return [_eval(e, env, outcome, value) for e in node.elts]
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [str(a.value) for a in node.args if isinstance(a, ast.Constant)]
        if node.func.id == "outcome":
            return _UNKNOWN if outcome is None else outcome(args[0])
        return _UNKNOWN if value is None else value(args[0], args[1])
    raise ConditionError(f"{type(node).__name__} is not allowed")  # unreachable after _check
