"""Values as an operator reads them: engineering notation with SI prefixes.

``1.98486e+06`` with unit ``Ohm`` reads ``1.985 MΩ``; ``0.1182`` ``Ohm`` reads
``118.2 mΩ``; ``118`` ``mOhm`` stays ``118 mΩ``. Only units that take SI prefixes are
scaled (volts, amperes, ohms, watts, farads, hertz, watt- and ampere-hours); others
(``%``, ``°C``, counts, seconds) keep their unit and get the same significant digits.
Limit texts (``station.limits.Limit.describe``) are rescaled the same way, all their
numbers with one prefix so "1.8 … 2.2 MΩ" reads as one range.
"""

from __future__ import annotations

import math
import re

DIGITS = 4
"""Significant digits shown (a 6½-digit DMM reading is in the record, not on screen)."""
SCALABLE = frozenset({"V", "A", "Ohm", "Ω", "W", "F", "Hz", "Wh", "Ah", "VA", "S"})
PREFIXES = {-12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G"}
_PREFIX_EXPONENT = {"p": -12, "n": -9, "u": -6, "µ": -6, "m": -3, "k": 3, "M": 6, "G": 9}
_SHOWN = {"Ohm": "Ω"}
_NUMBER = re.compile(r"(?<![\w.^])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


def split_unit(unit: str) -> tuple[float, str] | None:
    """``(factor to the base unit, base unit)`` for a scalable unit, else None."""
    if unit in SCALABLE:
        return 1.0, unit
    if len(unit) > 1 and unit[0] in _PREFIX_EXPONENT and unit[1:] in SCALABLE:
        return 10.0 ** _PREFIX_EXPONENT[unit[0]], unit[1:]
    return None


def plain(x: float, digits: int = DIGITS) -> str:
    """``x`` with ``digits`` significant digits, never in e-notation below 10¹²."""
    if not math.isfinite(x):
        return "∞" if x > 0 else "−∞" if x < 0 else "NaN"
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    text = f"{x:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "+0") else text


def _exponent(magnitude: float) -> int:
    if magnitude == 0 or not math.isfinite(magnitude):
        return 0
    exponent = 3 * math.floor(math.log10(magnitude) / 3)
    # 999.96 rounds to "1000": show it as 1 k instead.
    if round(magnitude / 10.0**exponent, DIGITS - 3) >= 1000:
        exponent += 3
    return max(min(PREFIXES), min(max(PREFIXES), exponent))


def si(value: float, unit: str = "") -> str:
    """``value`` (in ``unit``) in engineering notation, e.g. ``si(1.98486e6, "Ohm")``."""
    scale = split_unit(unit)
    if scale is None:
        return f"{plain(value)} {unit}".strip()
    factor, base = scale
    x = value * factor
    exponent = _exponent(abs(x))
    shown = _SHOWN.get(base, base)
    return f"{plain(x / 10.0**exponent)} {PREFIXES[exponent]}{shown}"


def si_limit_text(text: str, unit: str) -> str:
    """A limit text with its numbers in ``unit`` rescaled to one SI prefix.

    Numbers followed by ``%`` are tolerances and stay; when the station's text carries no
    unit ("≤ 0.13", "0.096 ± 15 %") the prefixed unit is written after the last number
    rescaled.
    """
    scale = split_unit(unit) if unit else None
    if scale is None or not text:
        return text
    factor, base = scale
    in_unit = [m for m in _NUMBER.finditer(text) if not text[m.end() :].lstrip().startswith("%")]
    if not in_unit:
        return text
    exponent = _exponent(max(abs(float(m.group(0))) * factor for m in in_unit))
    shown = f"{PREFIXES[exponent]}{_SHOWN.get(base, base)}"
    has_unit = re.search(rf"(?<![\w]){re.escape(unit)}(?![\w])", text) is not None
    out, at = [], 0
    for k, m in enumerate(in_unit):
        out.append(text[at : m.start()])
        out.append(plain(float(m.group(0)) * factor / 10.0**exponent))
        if not has_unit and k == len(in_unit) - 1:
            out.append(f" {shown}")
        at = m.end()
    out.append(text[at:])
    body = "".join(out)
    return re.sub(rf"(?<![\w]){re.escape(unit)}(?![\w])", shown, body)
