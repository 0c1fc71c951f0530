"""Parse the limit tables of sequence files and judge measured values against them.

A limit is a TOML table such as ``{ comparator = "GE", low = 500e6 }``. ``parse_limit`` turns
one into a frozen :class:`Limit` and lists every problem of a malformed table in one
``SequenceError``. ``evaluate`` returns a :class:`Judgement` and never raises for a value that
is out of limits or of the wrong type: a FAIL is a verdict, not an exception. ``bounds`` gives
the low/high/nominal columns the results store records. Reference: ``docs/limits.md``.
"""

from __future__ import annotations

import difflib
import math
import numbers
import operator
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, fields, replace
from decimal import Context, Decimal
from functools import cached_property

from station.errors import SequenceError
from station.inputs import Problems
from station.patterns import PatternError, compile_safe
from station.units import UnitError, conversion_factor, parse_unit

__all__ = ["COMPARATORS", "Judgement", "Limit", "bounds", "evaluate", "in_unit", "parse_limit"]

Side = float | tuple[float, ...] | None  # ARRAY limits may give one bound per element

# Single-sided: symbol, comparison, and the field it compares with.
_SINGLE: dict[str, tuple[str, Callable[[Decimal, Decimal], bool], str]] = {
    "EQ": ("=", operator.eq, "nominal"),
    "NE": ("≠", operator.ne, "nominal"),
    "GT": (">", operator.gt, "low"),
    "GE": ("≥", operator.ge, "low"),
    "LT": ("<", operator.lt, "high"),
    "LE": ("≤", operator.le, "high"),
}
# Two-sided: (low inclusive, high inclusive, passes outside). The outside comparators are
# exact negations of an inside one: LTGT = not GELE, LEGE = not GTLT.
_TWO_SIDED = {
    "GTLT": (False, False, False),
    "GELE": (True, True, False),
    "GELT": (True, False, False),
    "GTLE": (False, True, False),
    "LTGT": (True, True, True),
    "LEGE": (False, False, True),
}
_MARGIN = frozenset({"marginal_low", "marginal_high"})
# The marginal band is an inner band of a passing *interval*; EQ, NE, LTGT and LEGE have none.
_BANDED = frozenset({"GT", "GE", "LT", "LE", "GTLT", "GELE", "GELT", "GTLE", "NOMTOL"})


def _spec(required: str, optional: str = "") -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(required.split()), frozenset(optional.split())


# comparator -> (required fields, optional fields); "comparator" itself is always allowed.
_SPECS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    **{c: _spec(_SINGLE[c][2], "unit") for c in _SINGLE},
    **{c: _spec("low high", "unit") for c in _TWO_SIDED},
    "NOMTOL": _spec("nominal", "tolerance tolerance_pct unit"),
    "STREQ": _spec("expected"),
    "REGEX": _spec("pattern"),
    "BOOL": _spec("expected"),
    "ARRAY": _spec("", "low high max_spread unit"),
    "LOG": _spec("", "unit"),
}
for _c in _BANDED:
    _SPECS[_c] = (_SPECS[_c][0], _SPECS[_c][1] | _MARGIN)

COMPARATORS: frozenset[str] = frozenset(_SPECS)
_NUMBER_FIELDS = _MARGIN | {"low", "high", "nominal", "tolerance", "tolerance_pct", "max_spread"}
# Decimal arithmetic on the shortest repr makes 3.3 ± 0.1 exactly 3.2 … 3.4, as an engineer
# computes it by hand; binary arithmetic would fail a reading of exactly 3.4.
_DEC = Context(prec=40)
JUDGED_DIGITS = 12
"""Values and bounds are compared after rounding to this many significant digits.

A value a step derives from quantised readings (3.0 V − 2.9865 V) carries binary noise in
its 16th–17th digit (0.013500000000000068); no instrument resolves 12 digits, so rounding
there judges the value the readings meant (13.5 mV) and never hides a real difference."""
_JUDGE = Context(prec=JUDGED_DIGITS)


@dataclass(frozen=True)
class Limit:
    """One parsed limit; build it with ``parse_limit``, which checks every field."""

    comparator: str
    low: Side = None
    high: Side = None
    nominal: float | None = None
    tolerance: float | None = None
    tolerance_pct: float | None = None
    expected: str | bool | None = None
    pattern: str | None = None
    max_spread: float | None = None
    marginal_low: float | None = None
    marginal_high: float | None = None
    unit: str | None = None

    def describe(self) -> str:
        """Return a short human text of the limit, e.g. "3.2 … 4.2 V"."""
        return self._text

    # A limit is judged against once per measurement of every run: what depends on the
    # limit alone is worked out on first use and kept (frozen: it cannot go stale).
    @cached_property
    def _text(self) -> str:
        c, u = self.comparator, f" {self.unit}" if self.unit else ""
        if c in _SINGLE:
            symbol, _, name = _SINGLE[c]
            text = f"{symbol} {_fmt(_scalar(getattr(self, name)))}{u}"
        elif c in _TWO_SIDED:
            low, high = _fmt(_scalar(self.low)), _fmt(_scalar(self.high))
            low_incl, high_incl, outside = _TWO_SIDED[c]
            if c == "GELE":
                text = f"{low} … {high}{u}"
            elif outside:
                text = f"{'<' if low_incl else '≤'} {low} or {'>' if high_incl else '≥'} {high}{u}"
            else:
                text = f"{'≥' if low_incl else '>'} {low} and {'≤' if high_incl else '<'} {high}{u}"
        elif c == "NOMTOL":
            nominal = _fmt(_scalar(self.nominal))
            if self.tolerance is not None:
                text = f"{nominal} ± {_fmt(self.tolerance)}{u}"
            else:
                text = f"{nominal}{u} ± {_fmt(_scalar(self.tolerance_pct))} %"
        elif c == "ARRAY":
            low, high = _side_text(self.low, "low"), _side_text(self.high, "high")
            parts = [f"each {low} … {high}{u}"] if low and high else []
            if bool(low) != bool(high):
                parts.append(f"each {'≥' if low else '≤'} {low or high}{u}")
            if self.max_spread is not None:
                parts.append(f"spread ≤ {_fmt(self.max_spread)}{u}")
            text = ", ".join(parts)
        elif c == "STREQ":
            text = f"= {self.expected!r}"
        elif c == "REGEX":
            text = f"~ {self.pattern}"
        elif c == "BOOL":
            text = f"= {'true' if self.expected else 'false'}"
        else:
            text = "log only"
        ml, mh = self.marginal_low, self.marginal_high
        if ml is not None and mh is not None:
            text += f" (marginal outside {_fmt(ml)} … {_fmt(mh)})"
        elif ml is not None:
            text += f" (marginal below {_fmt(ml)})"
        elif mh is not None:
            text += f" (marginal above {_fmt(mh)})"
        return text

    @cached_property
    def judged_bounds(self) -> tuple[Decimal, Decimal]:
        """The passing interval's ends as judged (``_judged``) for a numeric comparator:
        (bound, bound) for a single-sided one, (low, high) for a two-sided one, NOMTOL's
        nominal ∓ tolerance."""
        c = self.comparator
        if c in _SINGLE:
            bound = _judged(_scalar(getattr(self, _SINGLE[c][2])))
            return bound, bound
        if c in _TWO_SIDED:
            return _judged(_scalar(self.low)), _judged(_scalar(self.high))
        low, high = _nomtol_bounds(_scalar(self.nominal), self.tolerance, self.tolerance_pct)
        return _judged(low), _judged(high)


_FIELDS = [f.name for f in fields(Limit)]


@dataclass(frozen=True)
class Judgement:
    """The verdict of one value against one limit; ``detail`` is one sentence for people."""

    passed: bool
    marginal: bool = False
    detail: str = ""
    failed_elements: tuple[int, ...] = ()  # ARRAY: 0-based indices of out-of-limit elements


def parse_limit(table: object, *, file: str, where: str) -> Limit:
    """Parse one limit table; raise ``SequenceError`` listing every problem in it.

    Each problem's ``where`` is ``where`` followed by the field, e.g. "…limits.riso_ohm.low".
    """
    problems = Problems(file)

    def problem(message: str, field: str = "") -> None:
        problems.add(".".join(p for p in (where, field) if p), message)

    if not isinstance(table, Mapping):
        example = '{ comparator = "GE", low = 500e6 }'
        problem(f"a limit must be a table like {example}, got {_kind(table)}")
        raise SequenceError(list(problems))
    raw = {str(k): v for k, v in table.items()}
    comparator = _parse_comparator(raw, problem)
    required, optional = _SPECS.get(comparator or "", (frozenset(), frozenset(_FIELDS)))
    allowed = required | optional | {"comparator"}
    for key in raw:
        if key not in _FIELDS:
            problem(f"unknown field {key!r}; {_suggest(key, _FIELDS, sorted(allowed))}", key)
        elif key not in allowed:
            problem(f"field {key!r} is not used by {comparator}", key)
    if comparator is None:
        raise SequenceError(list(problems))
    for key in sorted(required - raw.keys()):
        problem(f"missing field {key!r}, required by {comparator}", key)

    nums: dict[str, float] = {}
    sides: dict[str, Side] = {}
    for key in sorted((required | optional) & raw.keys()):
        value = raw[key]
        if key in ("low", "high") and comparator == "ARRAY" and isinstance(value, list | tuple):
            items = [_number(v, f"{key}[{i}]", problem) for i, v in enumerate(value)]
            if not items:
                problem(f"{key!r} must not be an empty array", key)
            elif all(x is not None for x in items):
                sides[key] = tuple(x for x in items if x is not None)
        elif key in _NUMBER_FIELDS:
            number = _number(value, key, problem)
            if number is not None:
                nums[key] = number
                if key in ("low", "high"):
                    sides[key] = number
        elif key == "unit" and not (isinstance(value, str) and value.strip()):
            problem(f"'unit' must be a non-empty string such as \"V\", got {_kind(value)}", key)
        elif key == "unit":
            try:
                parse_unit(str(value))
            except UnitError as err:
                problem(str(err), key)
        elif key == "pattern":
            _check_pattern(value, problem)
        elif key == "expected" and comparator == "BOOL" and not isinstance(value, bool):
            problem(f"'expected' must be true or false for BOOL, got {_kind(value)}", key)
        elif key == "expected" and comparator == "STREQ" and not isinstance(value, str):
            problem(f"'expected' must be a string for STREQ, got {_kind(value)}", key)

    _check_values(comparator, raw, nums, sides, problem)
    problems.raise_if_any(SequenceError)
    expected, pattern, unit = raw.get("expected"), raw.get("pattern"), raw.get("unit")
    return Limit(
        comparator,
        low=sides.get("low"),
        high=sides.get("high"),
        nominal=nums.get("nominal"),
        tolerance=nums.get("tolerance"),
        tolerance_pct=nums.get("tolerance_pct"),
        expected=expected if isinstance(expected, str | bool) else None,
        pattern=pattern if isinstance(pattern, str) else None,
        max_spread=nums.get("max_spread"),
        marginal_low=nums.get("marginal_low"),
        marginal_high=nums.get("marginal_high"),
        unit=unit if isinstance(unit, str) else None,
    )


_SCALED = ("low", "high", "nominal", "tolerance", "max_spread", "marginal_low", "marginal_high")


def in_unit(limit: Limit, unit: str) -> Limit:
    """Return ``limit`` expressed in the measurement's ``unit``; ``UnitError`` if it cannot be.

    A limit without a unit is taken to be in the measurement's unit already. A limit in a
    compatible unit (``MOhm`` for a measurement in ``Ohm``) has every bound scaled by the
    exact decimal factor (``tolerance_pct`` is a percentage and stays as it is); its ``unit``
    becomes the measurement's canonical symbol. Units on a non-numeric limit are refused by
    ``parse_limit`` already.
    """
    target = parse_unit(unit)
    if limit.unit is None:
        return limit
    factor = conversion_factor(parse_unit(limit.unit), target)
    changes: dict[str, object] = {"unit": target.symbol or None}
    if factor != 1:
        for name in _SCALED:
            side = getattr(limit, name)
            if isinstance(side, tuple):
                changes[name] = tuple(_scaled(x, factor) for x in side)
            elif isinstance(side, float):
                changes[name] = _scaled(side, factor)
    return replace(limit, **changes)  # type: ignore[arg-type]


def _scaled(x: float, factor: Decimal) -> float:
    return float(_DEC.multiply(_dec(x), factor))


def evaluate(limit: Limit, value: object, *, resolution: float | None = None) -> Judgement:
    """Judge ``value`` against ``limit``; a wrong-typed value fails, it never raises.

    ``resolution`` (the measurement's, in its unit) rounds a derived value to the resolution
    its readings have before it is judged; see ``_judged``.
    """
    c, u = limit.comparator, f" {limit.unit}" if limit.unit else ""
    if c == "LOG":
        return Judgement(True, detail=f"{_short(value)} recorded, not judged")
    if c == "ARRAY":
        return _evaluate_array(limit, value, u, resolution)
    if c in ("STREQ", "REGEX", "BOOL"):
        wanted = bool if c == "BOOL" else str
        if not isinstance(value, wanted):
            return Judgement(False, detail=f"expected a {_KINDS[wanted]}, got {_kind(value)}")
        if c == "REGEX":
            passed = compile_safe(_scalar_str(limit.pattern)).fullmatch(str(value))
        else:
            passed = value == limit.expected
        verdict = "passes" if passed else "fails"
        return Judgement(passed, detail=f"{_short(value)} {verdict} {limit.describe()}")
    x = _as_number(value)
    if isinstance(x, str):
        return Judgement(False, detail=f"expected a number, got {x}")
    judged = _judged(x, resolution)
    passed = _passes(limit, judged)
    shown = f"{_shown(x, judged)}{u}"
    if not passed:
        return Judgement(False, detail=f"{shown} fails {limit.describe()}")
    ml, mh = limit.marginal_low, limit.marginal_high
    if ml is not None and judged < _judged(ml):
        detail = f"{shown} passes but is below marginal_low {_fmt(ml)}{u}"
        return Judgement(True, marginal=True, detail=detail)
    if mh is not None and judged > _judged(mh):
        detail = f"{shown} passes but is above marginal_high {_fmt(mh)}{u}"
        return Judgement(True, marginal=True, detail=detail)
    return Judgement(True, detail=f"{shown} passes {limit.describe()}")


def bounds(
    limit: Limit, index: int | None = None
) -> tuple[float | None, float | None, float | None]:
    """Return (low, high, nominal) as recorded; NOMTOL gives nominal ∓ tolerance.

    A per-element ARRAY bound is None unless ``index`` picks one element.
    """
    c = limit.comparator
    if c == "NOMTOL":
        low, high = _nomtol_bounds(_scalar(limit.nominal), limit.tolerance, limit.tolerance_pct)
        return low, high, limit.nominal
    if c in ("EQ", "NE"):
        return None, None, limit.nominal
    if c == "ARRAY" or c in _SINGLE or c in _TWO_SIDED:
        return _at(limit.low, index), _at(limit.high, index), None
    return None, None, None


# --- parsing helpers ---------------------------------------------------------------------


def _parse_comparator(raw: dict[str, object], problem: Callable[..., None]) -> str | None:
    name = raw.get("comparator")
    if "comparator" not in raw:
        problem(
            f"missing field 'comparator'; one of {', '.join(sorted(COMPARATORS))}", "comparator"
        )
    elif not isinstance(name, str):
        problem(f"'comparator' must be a string such as \"GE\", got {_kind(name)}", "comparator")
    elif name in COMPARATORS:
        return name
    else:
        upper = name.upper()
        hint = (
            f"did you mean {upper!r}? (comparators are upper case)"
            if upper in COMPARATORS
            else _suggest(upper, sorted(COMPARATORS), sorted(COMPARATORS))
        )
        problem(f"unknown comparator {name!r}; {hint}", "comparator")
    return None


def _suggest(word: str, choices: list[str], valid: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "valid: " + ", ".join(valid)


def _number(value: object, name: str, problem: Callable[..., None]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problem(f"{name!r} must be a number, got {_kind(value)}", name)
        return None
    try:
        number = float(value)
    except OverflowError:
        problem(f"{name!r} is too large for a float", name)
        return None
    if not math.isfinite(number):
        problem(f"{name!r} must be a finite number, got {number}", name)
        return None
    return number


def _check_pattern(value: object, problem: Callable[..., None]) -> None:
    if not isinstance(value, str):
        problem(f"'pattern' must be a string (a Python regex), got {_kind(value)}", "pattern")
        return
    try:
        compile_safe(value)
    except PatternError as err:
        problem(f"'pattern' {err}", "pattern")


def _check_values(
    c: str,
    raw: Mapping[str, object],
    nums: dict[str, float],
    sides: dict[str, Side],
    problem: Callable[..., None],
) -> None:
    """Check how the fields of a limit fit together (each field is already type-checked)."""
    low, high = sides.get("low"), sides.get("high")
    if c in _TWO_SIDED and isinstance(low, float) and isinstance(high, float):
        if low > high:
            problem(f"low {_fmt(low)} is above high {_fmt(high)}", "low")
        elif low == high and c != "GELE":
            problem(f"low equals high ({_fmt(low)}); only GELE accepts that", "low")
    if c == "ARRAY":
        if not {"low", "high", "max_spread"} & raw.keys():
            problem("ARRAY needs at least one of 'low', 'high', 'max_spread'")
        if isinstance(low, tuple) and isinstance(high, tuple) and len(low) != len(high):
            problem(f"low has {len(low)} entries but high has {len(high)}", "low")
        elif low is not None and high is not None:
            n = max(len(s) if isinstance(s, tuple) else 1 for s in (low, high))
            bad = [i for i in range(n) if _scalar(_at(low, i)) > _scalar(_at(high, i))]
            if bad:
                problem(f"low is above high at element(s) {', '.join(map(str, bad[:10]))}", "low")
    for name in ("tolerance", "tolerance_pct", "max_spread"):
        if nums.get(name, 0.0) < 0:
            problem(f"{name!r} must not be negative, got {_fmt(nums[name])}", name)
    if c == "NOMTOL" and "nominal" in nums:
        given = [k for k in ("tolerance", "tolerance_pct") if k in raw]
        if len(given) != 1:
            problem("NOMTOL needs exactly one of 'tolerance' and 'tolerance_pct'", "tolerance")
        elif "tolerance_pct" in nums and nums["nominal"] == 0:
            problem("'tolerance_pct' of nominal 0 is always 0; use 'tolerance'", "tolerance_pct")
    _check_marginal(c, nums, problem)


def _check_marginal(c: str, nums: dict[str, float], problem: Callable[..., None]) -> None:
    ml, mh = nums.get("marginal_low"), nums.get("marginal_high")
    if ml is not None and mh is not None and ml > mh:
        problem(f"marginal_low {_fmt(ml)} is above marginal_high {_fmt(mh)}", "marginal_low")
    lo, hi = nums.get("low", -math.inf), nums.get("high", math.inf)
    if c == "NOMTOL":
        tol, pct = nums.get("tolerance"), nums.get("tolerance_pct")
        if "nominal" not in nums or (tol is None) == (pct is None):
            return
        lo, hi = _nomtol_bounds(nums["nominal"], tol, pct)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            problem("nominal ± tolerance is beyond the range of a float", "tolerance")
    for name, m in (("marginal_low", ml), ("marginal_high", mh)):
        if m is not None and not lo <= m <= hi:
            problem(f"{name} {_fmt(m)} is outside the passing range {_fmt(lo)} … {_fmt(hi)}", name)


# --- evaluation helpers ------------------------------------------------------------------


def _passes(limit: Limit, x: Decimal) -> bool:
    """Judge ``x`` (already rounded by ``_judged``) against the limit's rounded bounds."""
    c = limit.comparator
    low, high = limit.judged_bounds
    if c in _SINGLE:
        return _SINGLE[c][1](x, low)
    if c in _TWO_SIDED:
        low_incl, high_incl, outside = _TWO_SIDED[c]
        inside = (low <= x if low_incl else low < x) and (x <= high if high_incl else x < high)
        return inside != outside
    return low <= x <= high


def _judged(x: float, resolution: float | None = None) -> Decimal:
    """``x`` as judged: its shortest repr, rounded to the nearest multiple of ``resolution``
    (half to even) when the measurement declares one, then to ``JUDGED_DIGITS`` significant
    digits."""
    exact = _dec(x)
    if resolution is not None and exact.is_finite():
        step = _dec(resolution)
        exact = _DEC.multiply(_DEC.to_integral_value(_DEC.divide(exact, step)), step)
    return _JUDGE.plus(exact)


def _shown(x: float, judged: Decimal) -> str:
    """``x`` as the detail text shows it: ``judged``, the value as judged (``_judged``),
    without float noise (2.1, not 2.09999999999998)."""
    if not math.isfinite(x):
        return _fmt(x)
    return _fmt(float(judged))


_NOT_ARRAYS = (str, bytes, bytearray, Mapping, Set)  # iterable, but not a sequence of readings


def _evaluate_array(
    limit: Limit, value: object, u: str, resolution: float | None = None
) -> Judgement:
    if not isinstance(value, Iterable) or isinstance(value, _NOT_ARRAYS):
        return Judgement(False, detail=f"expected a sequence of numbers, got {_kind(value)}")
    items = list(value)
    if not items:
        return Judgement(False, detail="expected a sequence of numbers, got an empty one")
    for name, side in (("low", limit.low), ("high", limit.high)):
        if isinstance(side, tuple) and len(side) != len(items):
            detail = f"{len(items)} values but {name!r} has {len(side)} entries"
            return Judgement(False, detail=detail)
    failed: list[int] = []
    notes: list[str] = []
    good: list[tuple[float, int]] = []
    for i, item in enumerate(items):
        x = _as_number(item)
        if isinstance(x, str):
            failed.append(i)
            notes.append(f"element {i} is not a number ({x})")
            continue
        good.append((x, i))
        low, high = _at(limit.low, i), _at(limit.high, i)
        judged = _judged(x, resolution)
        if low is not None and judged < _judged(low):
            failed.append(i)
            notes.append(f"element {i} = {_shown(x, judged)}{u} below {_fmt(low)}{u}")
        elif high is not None and judged > _judged(high):
            failed.append(i)
            notes.append(f"element {i} = {_shown(x, judged)}{u} above {_fmt(high)}{u}")
    if len(notes) > 5:
        notes[5:] = [f"{len(notes) - 5} more out of limits"]
    spread_ok = True
    if limit.max_spread is not None and good:
        value_only = operator.itemgetter(0)  # so that ties name the first such element
        (lo, i_lo), (hi, i_hi) = min(good, key=value_only), max(good, key=value_only)
        finite = math.isfinite(hi) and math.isfinite(lo)
        spread = float(_DEC.subtract(_dec(hi), _dec(lo))) if finite else math.inf
        judged_spread = _judged(spread, resolution)
        spread_ok = judged_spread <= _judged(limit.max_spread)
        relation = "≤" if spread_ok else ">"
        notes.append(
            f"spread {_shown(spread, judged_spread)}{u} {relation} {_fmt(limit.max_spread)}{u} "
            f"(min element {i_lo}, max element {i_hi})"
        )
    passed = not failed and spread_ok
    if passed:
        notes.insert(0, f"all {len(items)} values pass {limit.describe()}")
    return Judgement(passed, detail="; ".join(notes), failed_elements=tuple(failed))


def _nomtol_bounds(nominal: float, tol: float | None, pct: float | None) -> tuple[float, float]:
    nom = _dec(nominal)
    if tol is not None:
        t = _dec(tol)
    else:
        t = _DEC.divide(_DEC.multiply(abs(nom), _dec(_scalar(pct))), Decimal(100))
    return float(_DEC.subtract(nom, t)), float(_DEC.add(nom, t))


def _as_number(value: object) -> float | str:
    """Return the value as a float, or a description of why it is not a usable number."""
    if type(value) is float:  # nearly every reading: no need for the ABC check below
        return "NaN" if math.isnan(value) else value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return _kind(value)
    try:
        x = float(value)
    except (OverflowError, ValueError, TypeError):
        return f"{_kind(value)}, out of float range"
    return "NaN" if math.isnan(x) else x


# --- small formatting and typing helpers -------------------------------------------------


def _dec(x: float) -> Decimal:
    return Decimal(repr(float(x)))


def _scalar(v: object) -> float:
    """Return a scalar limit field that ``parse_limit`` guaranteed to be present."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise TypeError(f"limit field is {v!r}, not a number; build limits with parse_limit")
    return float(v)


def _scalar_str(v: object) -> str:
    if not isinstance(v, str):
        raise TypeError(f"limit field is {v!r}, not a string; build limits with parse_limit")
    return v


def _at(side: Side, index: int | None) -> float | None:
    if isinstance(side, tuple):
        return side[index] if index is not None else None
    return side


def _side_text(side: Side, name: str) -> str:
    return "" if side is None else f"{name}[i]" if isinstance(side, tuple) else _fmt(side)


def _fmt(x: float) -> str:
    """Format a number briefly but exactly: 3.2, 1500, 5e+08."""
    if x == 0 or 1e-4 <= abs(x) < 1e6:
        text = repr(float(x))
        return text[:-2] if text.endswith(".0") else text
    if not math.isfinite(x):
        return repr(float(x))
    return next(s for p in range(1, 18) if float(s := f"{x:.{p}g}") == x)


_KINDS: dict[type, str] = {bool: "boolean", int: "integer", float: "float", str: "string"}
_KINDS.update({list: "array", tuple: "array", dict: "table"})


def _kind(value: object) -> str:
    name = next((n for t, n in _KINDS.items() if isinstance(value, t)), type(value).__name__)
    return f"{name} {_short(value)}"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
