"""The unit registry: every unit a measurement or a limit may be written in.

A unit is a base (``V``, ``A``, ``Ohm``, ``s``, ``degC``, ``%``, ``Ah``, ``Wh``, ``W``, ``Hz``,
``F``) with an optional SI prefix (``n``, ``u``/``µ``, ``m``, ``k``, ``M``, ``G``). Symbols are
case-sensitive (``mV`` is millivolt, ``MV`` megavolt); the word spellings of a base accept
any case (``ohm``, ``Ohm``, ``OHM``, ``Ω``; ``degC``, ``°C``). :func:`parse_unit` turns a
spelling into its canonical :class:`Unit`; two units of the same dimension convert by an
exact decimal factor, so ``100 MOhm`` is exactly ``1e8 Ohm``. ``""`` is a plain number (a
count, a gain, a ratio). Temperatures have no prefixes and no kelvin: a conversion with an
offset is never made silently. Reference: ``docs/limits.md`` ("Units").
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Unit", "UnitError", "conversion_factor", "known_units", "parse_unit"]


class UnitError(ValueError):
    """A unit that is not known, or two units that cannot be converted into each other."""


@dataclass(frozen=True)
class Unit:
    """A canonical unit: ``symbol`` as shown, its ``dimension`` and ``scale`` to the base."""

    symbol: str
    dimension: str
    scale: Decimal  # value in the base unit = value × scale

    @property
    def base(self) -> str:
        return _BASE_OF[self.dimension]


# base symbol → (dimension, spellings accepted in any case, takes prefixes)
_BASES: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "": ("number", (), False),
    "V": ("voltage", ("volt", "volts"), True),
    "A": ("current", ("amp", "amps", "ampere"), True),
    "Ohm": ("resistance", ("ohm", "ohms", "Ω"), True),
    "s": ("time", ("sec",), True),
    "degC": ("temperature", ("degc", "°c", "℃"), False),
    "%": ("percent", ("pct", "percent"), False),
    "Ah": ("charge", (), True),
    "Wh": ("energy", (), True),
    "W": ("power", ("watt", "watts"), True),
    "Hz": ("frequency", ("hz",), True),
    "F": ("capacitance", ("farad",), True),
    "V/Ah": ("voltage per charge", (), False),  # an OCV slope (capacity step)
}
_BASE_OF = {dimension: base for base, (dimension, _, _) in _BASES.items()}
_PREFIXES: dict[str, Decimal] = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "µ": Decimal("1e-6"),
    "μ": Decimal("1e-6"),  # GREEK SMALL LETTER MU, which keyboards also produce
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
}
_CANONICAL_PREFIX = {"µ": "u", "μ": "u"}
_DIMENSION_TEXT = {
    "number": "a plain number",
    "voltage": "a voltage",
    "current": "a current",
    "resistance": "a resistance",
    "time": "a time",
    "temperature": "a temperature",
    "percent": "a percentage",
    "charge": "a charge",
    "energy": "an energy",
    "power": "a power",
    "frequency": "a frequency",
    "capacitance": "a capacitance",
    "voltage per charge": "a voltage per charge (an OCV slope)",
}


def _base(text: str) -> str | None:
    """The canonical base symbol ``text`` spells, or None."""
    if text in _BASES:
        return text
    folded = text.casefold()
    for base, (_, words, _) in _BASES.items():
        if folded in (w.casefold() for w in words):
            return base
    return None


def parse_unit(text: str) -> Unit:
    """Return the canonical unit ``text`` spells; ``UnitError`` says what is wrong."""
    spelled = text.strip()
    base = _base(spelled)
    if base is not None:
        dimension = _BASES[base][0]
        return Unit(base, dimension, Decimal(1))
    prefix, rest = spelled[:1], spelled[1:]
    base = _base(rest) if rest else None
    if prefix in _PREFIXES and base is not None and _BASES[base][2]:
        canonical = _CANONICAL_PREFIX.get(prefix, prefix) + base
        return Unit(canonical, _BASES[base][0], _PREFIXES[prefix])
    raise UnitError(f"unknown unit {text!r}; {_suggest(spelled)}")


def conversion_factor(from_unit: Unit, to_unit: Unit) -> Decimal:
    """The exact factor that turns a value in ``from_unit`` into one in ``to_unit``."""
    if from_unit.dimension != to_unit.dimension:
        raise UnitError(
            f"{_named(from_unit)} is {_DIMENSION_TEXT[from_unit.dimension]}, "
            f"{_named(to_unit)} is {_DIMENSION_TEXT[to_unit.dimension]}"
        )
    return from_unit.scale / to_unit.scale


def _named(unit: Unit) -> str:
    return repr(unit.symbol) if unit.symbol else "no unit"


def known_units() -> list[str]:
    """Every canonical symbol (prefixed ones included), for messages and docs."""
    symbols = []
    for base, (_, _, prefixed) in _BASES.items():
        if not base:
            continue
        symbols.append(base)
        if prefixed:
            symbols += [p + base for p in _PREFIXES if p not in _CANONICAL_PREFIX]
    return symbols


def _suggest(text: str) -> str:
    same_letters = [u for u in known_units() if u.casefold() == text.casefold()]
    close = same_letters or difflib.get_close_matches(text, known_units(), n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    bases = ", ".join(b for b in _BASES if b)
    return f"units are {bases}, with a prefix n, u, m, k, M or G where it makes sense"
