"""The parts of a BMS description that say where a role's value is on the bus.

A role is either one DBC signal (:class:`SignalRef`) or a multiplexed array spread over the
pages of one message (:class:`ArrayRef`). Both carry the factor that turns the DBC physical
value into SI (V, A, Ω, %, °C); :data:`UNITS` is the table behind that factor.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

ROLE_DIMENSIONS: dict[str, str] = {
    "pack_voltage": "voltage",
    "bus_voltage": "voltage",
    "pack_current": "current",
    "soc": "percent",
    "insulation": "resistance",
    "cell_voltages": "voltage",
    "cell_temperatures": "temperature",
}
"""Roles the station knows, with the physical quantity their signal must carry."""

STATE_MEANINGS: dict[str, tuple[str, ...]] = {
    "contactor_state": ("open", "closed", "precharge", "welded"),
    "hvil_state": ("closed", "open"),
}
"""Enumerated roles: what their raw values may mean; the description says which raw is which."""

REQUIRED_MEANINGS: dict[str, tuple[str, ...]] = {
    "contactor_state": ("open", "closed"),
    "hvil_state": ("closed",),
}
"""The meanings a description must declare when it maps the role."""

KNOWN_ROLES: tuple[str, ...] = (*ROLE_DIMENSIONS, *STATE_MEANINGS)
"""Every role name ``[signals]`` accepts; anything else goes in ``[custom_signals]``."""

NOT_AVAILABLE_LABELS: tuple[str, ...] = (
    "SNA",
    "Invalid",
    "Init",
    "Not available",
    "Error",
    "N/A",
)
"""VAL_ labels that mark a raw value as "no measurement" unless a description lists its own."""

MAX_PROBLEMS_PER_ARRAY = 5
"""Stop listing an array's missing signals after this many (one typo breaks them all)."""

UNITS: dict[str, tuple[str, float, str]] = {
    "V": ("voltage", 1.0, "V"),
    "mV": ("voltage", 1e-3, "V"),
    "kV": ("voltage", 1e3, "V"),
    "A": ("current", 1.0, "A"),
    "mA": ("current", 1e-3, "A"),
    "kA": ("current", 1e3, "A"),
    "Ohm": ("resistance", 1.0, "Ω"),
    "ohm": ("resistance", 1.0, "Ω"),
    "Ω": ("resistance", 1.0, "Ω"),
    "kOhm": ("resistance", 1e3, "Ω"),
    "kohm": ("resistance", 1e3, "Ω"),
    "kΩ": ("resistance", 1e3, "Ω"),
    "MOhm": ("resistance", 1e6, "Ω"),
    "Mohm": ("resistance", 1e6, "Ω"),
    "MΩ": ("resistance", 1e6, "Ω"),
    "%": ("percent", 1.0, "%"),
    "degC": ("temperature", 1.0, "°C"),
    "°C": ("temperature", 1.0, "°C"),
    "C": ("temperature", 1.0, "°C"),
    "deg C": ("temperature", 1.0, "°C"),
    "W": ("power", 1.0, "W"),
    "kW": ("power", 1e3, "W"),
    "s": ("time", 1.0, "s"),
    "ms": ("time", 1e-3, "s"),
    # Spellings real DBCs use (Ford's "Volts" and "Amps").
    "Volts": ("voltage", 1.0, "V"),
    "volt": ("voltage", 1.0, "V"),
    "Amps": ("current", 1.0, "A"),
    "amps": ("current", 1.0, "A"),
}
"""DBC unit → (dimension, factor to SI, SI unit). Case matters: "mOhm" is not "MOhm"."""


_NEGATIONS = frozenset({"no", "not", "kein", "keine", "non"})


def squash_label(label: str) -> str:
    """A VAL_ label as lower-case words joined by one space ("Not_Available" → "not available")."""
    return " ".join(w for w in re.split(r"[\s_\-/]+", label.lower()) if w)


def label_means(label: str, words: frozenset[str]) -> bool:
    """Whether ``label`` is one of ``words`` (squashed), alone or as its last words after a
    prefix ("BMS_CTRSET_SNA" is "SNA"), unless a negation precedes them ("No error")."""
    tokens = squash_label(label).split()
    for start in range(len(tokens)):
        if " ".join(tokens[start:]) in words:
            return start == 0 or tokens[start - 1] not in _NEGATIONS
    return False


def labelled_raws(signal: Any, words: frozenset[str]) -> frozenset[int]:
    """Raw values of ``signal`` whose VAL_ label means one of ``words`` (see label_means)."""
    choices = signal.choices or {}
    return frozenset(int(raw) for raw, label in choices.items() if label_means(str(label), words))


@dataclass(frozen=True)
class SignalRef:
    """One DBC signal playing a role; ``value = DBC physical value × factor`` in ``unit``.

    A raw value in ``not_available`` (declared, or labelled so in the DBC's VAL_ table) is
    "no measurement": the reading has no value. A raw value in ``above_range`` means "more
    than the BMS can measure" (only where the description declares it).
    """

    role: str
    message: str
    signal: str
    factor: float = 1.0
    unit: str = ""
    not_available: frozenset[int] = frozenset()
    above_range: frozenset[int] = frozenset()

    def __str__(self) -> str:
        return f"{self.message}.{self.signal}"


class Slot(NamedTuple):
    """Where one array element sits on its multiplexer page."""

    element: int
    value: str
    invalid: str | None
    invalid_bit: int | None


@dataclass(frozen=True)
class ArrayRef:
    """A multiplexed array (cell voltages, temperatures): ``per_page`` elements per page.

    Element ``index = page × per_page + slot``. ``values`` (and ``invalid``) are either one
    signal name per slot, the same on every page, or a template such as
    ``"CellVoltage_{index:03d}"`` (fields ``index``, ``page``, ``slot``). A single plain
    ``invalid`` name with ``per_page > 1`` is a bit field, bit ``slot`` per element. An element
    is invalid when its flag equals ``invalid_value``, or when its raw value is in
    ``not_available`` or carries one of ``not_available_labels`` (squashed). ``count`` is
    the number of elements the pack has; ``None`` means "learn the page count from the traffic".
    """

    role: str
    message: str
    multiplexer: str
    per_page: int
    values: tuple[str, ...] | str
    invalid: tuple[str, ...] | str | None = None
    invalid_value: int = 1
    count: int | None = None
    factor: float = 1.0
    unit: str = ""
    not_available: frozenset[int] = frozenset()
    not_available_labels: frozenset[str] = frozenset()

    @property
    def pages(self) -> int | None:
        """Return how many pages a complete snapshot has, or None when it is learned."""
        return None if self.count is None else math.ceil(self.count / self.per_page)

    def slots(self, page: int) -> tuple[Slot, ...]:
        """Name the signals of every element on ``page`` (elements past ``count`` omitted)."""
        out = []
        for slot in range(self.per_page):
            index = page * self.per_page + slot
            if self.count is not None and index >= self.count:
                break
            names = dict(index=index, page=page, slot=slot)
            value = (
                self.values[slot] if isinstance(self.values, tuple) else self.values.format(**names)
            )
            invalid: str | None = None
            bit: int | None = None
            if isinstance(self.invalid, tuple):
                invalid = self.invalid[slot]
            elif isinstance(self.invalid, str) and "{" in self.invalid:
                invalid = self.invalid.format(**names)
            elif isinstance(self.invalid, str):
                invalid, bit = self.invalid, (slot if self.per_page > 1 else None)
            out.append(Slot(index, value, invalid, bit))
        return tuple(out)


def suggest(name: str, candidates: list[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""``."""
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return f" (did you mean {lowered[name.lower()]!r}?)"
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class DbcResolver:
    """Find role signals in a cantools database; report each problem to ``problem(where, text)``.

    ``db`` may be None (the DBC did not load): then every lookup quietly returns None.
    """

    def __init__(self, db: Any, dbc_name: str, problem: Callable[[str, str], None]) -> None:
        self.db = db
        self.dbc_name = dbc_name
        self.problem = problem

    def message(self, where: str, name: str) -> Any:
        if self.db is None:
            return None
        try:
            return self.db.get_message_by_name(name)
        except KeyError:
            names = [m.name for m in self.db.messages]
            self.problem(where, f"no message {name!r} in {self.dbc_name}{suggest(name, names)}")
            return None

    def signal(self, where: str, message: Any, name: str) -> Any:
        try:
            return message.get_signal_by_name(name)
        except KeyError:
            names = [s.name for s in message.signals]
            self.problem(
                where, f"message {message.name} has no signal {name!r}{suggest(name, names)}"
            )
            return None

    def unit(self, where: str, role: str, signal: Any) -> tuple[float, str]:
        dbc_unit = (signal.unit or "").strip()
        wanted = ROLE_DIMENSIONS.get(role)
        if not dbc_unit:
            return 1.0, ""
        known = UNITS.get(dbc_unit)
        if known is None:
            if wanted is not None:
                self.problem(
                    where, f"unit {dbc_unit!r} of {signal.name} is not a known {wanted} unit"
                )
            return 1.0, dbc_unit
        dimension, factor, si_unit = known
        if wanted is not None and dimension != wanted:
            self.problem(
                where, f"{signal.name} is in {dbc_unit!r}, which is not a {wanted} ({role})"
            )
        return factor, si_unit

    def signal_ref(self, where: str, role: str, text: str) -> SignalRef | None:
        message_name, _, signal_name = text.partition(".")
        if not message_name or not signal_name:
            self.problem(where, f"{text!r} must be 'Message.Signal'")
            return None
        message = self.message(where, message_name)
        if message is None:
            return None
        signal = self.signal(where, message, signal_name)
        if signal is None:
            return None
        if signal.is_float:
            self.problem(where, f"{signal.name} is an IEEE float signal, which is not supported")
            return None
        factor, unit = self.unit(where, role, signal)
        return SignalRef(role, message.name, signal.name, factor, unit)

    def check_array(self, where: str, array: ArrayRef) -> ArrayRef | None:
        message = self.message(f"{where}.message", array.message)
        if message is None:
            return None
        mux = self.signal(f"{where}.multiplexer", message, array.multiplexer)
        if mux is None:
            return None
        if not mux.is_multiplexer:
            self.problem(f"{where}.multiplexer", f"{mux.name} is not a multiplexer signal")
            return None
        if isinstance(array.values, str) and "{" not in array.values:
            self.problem(f"{where}.signals", "a single name must be a template with {index}")
            return None
        pages = array.pages if array.pages is not None else 1
        if pages > 2**mux.length:
            self.problem(
                f"{where}.count",
                f"{array.count} elements need {pages} pages; {mux.name} counts only "
                f"{2**mux.length}",
            )
            return None
        found: list[str] = []
        first: Any = None
        for page in range(pages):
            for slot in array.slots(page):
                sig = self.page_signal(found, message, mux, page, slot.value)
                first = first if first is not None else sig
                if slot.invalid is not None:
                    flag = self.page_signal(found, message, mux, page, slot.invalid)
                    too_short = flag is not None and flag.length < array.per_page
                    if too_short and slot.invalid_bit is not None:
                        found.append(
                            f"invalid bit field {flag.name} has {flag.length} bits for "
                            f"{array.per_page} elements per page"
                        )
            if len(found) >= MAX_PROBLEMS_PER_ARRAY:
                break
        for text in list(dict.fromkeys(found))[:MAX_PROBLEMS_PER_ARRAY]:
            self.problem(where, text)
        if found or first is None:
            return None
        factor, unit = self.unit(where, array.role, first)
        return ArrayRef(
            role=array.role,
            message=message.name,
            multiplexer=mux.name,
            per_page=array.per_page,
            values=array.values,
            invalid=array.invalid,
            invalid_value=array.invalid_value,
            count=array.count,
            factor=factor,
            unit=unit,
            not_available=array.not_available,
            not_available_labels=array.not_available_labels,
        )

    @staticmethod
    def page_signal(found: list[str], message: Any, mux: Any, page: int, name: str) -> Any:
        try:
            signal = message.get_signal_by_name(name)
        except KeyError:
            names = [s.name for s in message.signals]
            found.append(f"message {message.name} has no signal {name!r}{suggest(name, names)}")
            return None
        if signal.is_float:
            found.append(f"{name} is an IEEE float signal, which is not supported")
            return None
        ids = signal.multiplexer_ids
        if ids is not None and (signal.multiplexer_signal != mux.name or page not in ids):
            found.append(f"{name} is not on page {page} of {mux.name} (it is on {list(ids)})")
            return None
        return signal


@dataclass(frozen=True)
class SourcesRef:
    """An array whose elements are separate signals, possibly of several messages.

    ``elements`` lists, in array order, the signal of each element (each with its own SI
    factor: messages may differ in scaling). An element is invalid (None) when its raw value
    is in ``not_available`` (or its VAL_ label is one of ``not_available_labels``), or when its
    ``invalid`` flag signal (same message) equals ``invalid_value``.
    """

    role: str
    elements: tuple[SignalRef, ...]
    invalid: tuple[str | None, ...] = ()
    invalid_value: int = 1
    not_available: frozenset[int] = frozenset()
    not_available_labels: frozenset[str] = frozenset()

    @property
    def messages(self) -> tuple[str, ...]:
        """The messages the elements come from, in order of first use."""
        return tuple(dict.fromkeys(e.message for e in self.elements))

    @property
    def message(self) -> str:
        """The first message (for the tables that key an array by one message)."""
        return self.elements[0].message
