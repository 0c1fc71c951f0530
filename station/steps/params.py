"""Typed step parameters: a dataclass per step type, filled from its ``params`` table.

Validation collects every problem at once — unknown names (with a did-you-mean),
missing required values, wrong types, values outside a ``Literal``, values breaking a
constraint — so a test engineer fixes a sequence file in one pass.

Constraints are declared on the fields, where the docs test reads them too::

    from station.steps.params import Positive, Range, StepParams

    @dataclass(frozen=True)
    class DcirParams(StepParams):
        current_a: Annotated[float, Positive]
        early_s: Annotated[float, Positive] = 0.1
        min_delivery_fraction: Annotated[float, Range(0, 1, low_open=True)] = 0.95

:func:`parse_params` enforces them while reading a sequence file (each problem located at
its parameter) through :func:`station.checked.checked`, the one converter of every input
table; :class:`StepParams` enforces them when Python code builds the dataclass. Rules
between fields (``early_s`` shorter than ``pulse_s``) stay in the class's ``__post_init__``,
after ``super().__post_init__()``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TypeVar, get_type_hints

from station.checked import (
    Above,
    AtLeast,
    AtMost,
    Below,
    Constraint,
    Finite,
    NonEmpty,
    NonNegative,
    OneOf,
    Positive,
    Range,
    Rule,
    checked,
    convert,
)
from station.inputs import Problems

# A step type's module imports what it declares its parameters with from here: this is the
# step author's page (docs/sequences.md); the constraints themselves are station.checked's.
__all__ = [
    "Above",
    "AtLeast",
    "AtMost",
    "Below",
    "Constraint",
    "Finite",
    "NonEmpty",
    "NonNegative",
    "OneOf",
    "Positive",
    "Range",
    "Rule",
    "StepParams",
    "parse_params",
]

P = TypeVar("P")


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


def parse_params(
    params_cls: type[P],
    table: object,
    where: str,
    problems: Problems,
    *,
    file: str | Path | None = None,
) -> P | None:
    """Build a step type's ``params_cls`` from its ``params`` table at ``where``.

    Every problem goes to ``problems`` at ``where.<parameter>``; None when there is one."""
    return checked(
        params_cls,
        table,
        where,
        problems,
        file=file,
        noun="parameter",
        known="this step type takes",
    )
