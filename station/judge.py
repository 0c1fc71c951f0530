"""Judging a recorded value against its limit: the one place a measurement gets its verdict.

A step records values; the engine calls :func:`judge` with the step's declared
measurements and the run's effective limits, and emits the resulting ``Measurement``.
A value with no limit (or a ``LOG`` limit) is recorded as DONE — recorded, not judged.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from station.errors import StationError
from station.events import Measurement
from station.limits import Judgement, Limit, bounds, evaluate
from station.outcomes import Verdict
from station.sequence import StepDef
from station.steps.api import spec_named
from station.units import UnitError, parse_unit


def judge(
    run_id: str,
    step_id: str,
    step: StepDef,
    name: str,
    value: Any,
    unit: str | None,
    limits: dict[tuple[str, str], Limit],
) -> Measurement:
    """Turn a value a step recorded into a judged ``Measurement`` event."""
    spec = spec_named(step.specs, name)
    if spec is None:
        raise StationError(f"step type {step.type!r} recorded undeclared measurement {name!r}")
    unit = spec.unit if unit is None else unit
    limit = limits.get((step.name, name))
    if limit is not None and limit.unit is not None and not same_unit(limit.unit, unit):
        # load_sequence expresses every limit in its measurement's declared unit, so this
        # is a step that recorded a value in another unit than it declared.
        raise StationError(
            f"measurement {name!r} is in {unit!r} but its limit is in {limit.unit!r}"
        )
    number, text, values = split_value(value)
    if limit is None or limit.comparator == "LOG":
        judgement = Judgement(passed=True)
        outcome, comparator = Verdict.DONE, "LOG"
    else:
        judgement = evaluate(limit, value, resolution=spec.resolution)
        outcome = Verdict.PASSED if judgement.passed else Verdict.FAILED
        comparator = limit.comparator
    low, high, nominal = bounds(limit) if limit is not None else (None, None, None)
    return Measurement(
        run_id=run_id,
        step_id=step_id,
        name=name,
        unit=unit,
        comparator=comparator,
        outcome=outcome,
        value=number,
        value_text=text,
        values=values,
        low=low,
        high=high,
        nominal=nominal,
        limit_text=limit.describe() if limit is not None else "",
        marginal=judgement.marginal,
        detail=judgement.detail,
        failed_elements=judgement.failed_elements,
    )


def split_value(value: Any) -> tuple[float | None, str | None, tuple[float, ...] | None]:
    if value is None:  # not measured (e.g. a guard stopped the step first): nothing to store
        return None, None, None
    if isinstance(value, bool):
        return None, "true" if value else "false", None
    if isinstance(value, int | float):
        return float(value), None, None
    if isinstance(value, str):
        return None, value, None
    if isinstance(value, list | tuple):
        try:
            return None, None, tuple(float(v) for v in value)
        except (TypeError, ValueError):
            return None, repr(value), None
    return None, repr(value), None


def value_of(m: Measurement) -> Any:
    if m.values is not None:
        return list(m.values)
    if m.value is not None:
        return m.value
    return m.value_text


@lru_cache(maxsize=256)  # a sequence spells few units, and every measurement of a run asks again
def same_unit(a: str, b: str) -> bool:
    """Whether two spellings name the same unit ("ohm" and "Ohm" do, "mV" and "V" do not)."""
    try:
        return parse_unit(a) == parse_unit(b)
    except UnitError:
        return a == b
