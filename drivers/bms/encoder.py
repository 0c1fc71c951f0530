"""Encode a message's signals into a frame with a function written for each page.

The mirror of :mod:`drivers.bms.decoder`, for whoever sends cyclic frames many times a second
(the simulated BMS: five frames per move of the lockstep clock, 12 400 moves per 96S
reference run). cantools' ``Message.encode`` walks its codec tree, builds a dict of raw
values and packs them with bitstruct on every call. :class:`MessageEncoder` keeps, for
every signal of each page of a message (a message without a multiplexer has one), the
conversion cantools itself uses from a physical value to a raw integer (the arithmetic of
its integer conversions, any other called: rounding is exactly cantools'), the shift
and mask of :func:`~drivers.bms.decoder.compile_field` and the DBC range a saturating
encoder clamps to. From these a :class:`PageEncoder` writes, on first use, the source of
one function for that page and compiles it: one term per signal with its constants as
literals, the multiplexer's bits (the same in every frame of the page) one constant, a
clamp only against the bounds the DBC gives, no mask where the clamped value always fits
its field. It reads a row of values in an order the sender picks once
(:meth:`PageEncoder.ordered`), or a dict. Unused bits are 0, as cantools gives without
padding. The bytes are cantools' own for every message of the vendored DBCs, saturating
or not (``tests/drivers/bms/test_encoder.py``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import CodeType
from typing import Any, NamedTuple, cast

from cantools.database.conversion import (
    IdentityConversion,
    LinearConversion,
    LinearIntegerConversion,
)

from drivers.bms.decoder import compile_field, page_layout


class _Slot(NamedTuple):
    """One signal in the frame: its name, how physical becomes raw, byte order, shift and
    mask, and the physical range a saturating encoder clamps to (±inf where the DBC gives
    none)."""

    name: str
    way: int
    """How physical becomes raw: :data:`_MINUS`, :data:`_DIVIDE`, :data:`_DIVMOD` or
    :data:`_CALL`."""
    offset: float
    scale: float
    to_raw: Callable[[float], int]
    big_endian: bool
    shift: int
    mask: int
    low: float
    high: float


_MINUS = 0
"""``round(value - offset)``: cantools' conversion of an integer signal of scale 1."""
_DIVIDE = 1
"""``round((value - offset) / scale)``: cantools' conversion of a scaled integer signal."""
_CALL = 2
"""Any other conversion: cantools' own ``numeric_scaled_to_raw``, called."""
_DIVMOD = 3
"""An integer signal of an integer scale other than 1: cantools divides exactly where the
value is a multiple of the scale (``divmod``) and otherwise as :data:`_DIVIDE` does."""


def _way(to_raw: Callable[[float], int]) -> int:
    """Which of cantools' conversions ``to_raw`` is, as far as it can be written inline.

    Only the functions whose arithmetic is copied here are inlined (a signal with choices
    delegates to one of them).
    """
    conversion: Any = getattr(to_raw, "__self__", None)
    function = getattr(to_raw, "__func__", None)
    if function is LinearConversion.numeric_scaled_to_raw and not conversion.is_float:
        return _DIVIDE
    if function is IdentityConversion.numeric_scaled_to_raw and not conversion.is_float:
        return _MINUS  # round(value), offset 0
    if function is LinearIntegerConversion.numeric_scaled_to_raw:
        return _MINUS if conversion.scale == 1 else _DIVMOD  # divmod by 1 changes nothing
    return _CALL


def _slot(signal: Any, length_bytes: int) -> _Slot:
    field = compile_field(signal, length_bytes)  # refuses IEEE floats
    # cantools' own physical → raw; for an integer signal it rounds to an int.
    to_raw = cast(Callable[[float], int], signal.conversion.numeric_scaled_to_raw)
    way = _way(to_raw)
    return _Slot(
        signal.name,
        way,
        0 if way == _CALL else to_raw.__self__.offset,  # type: ignore[attr-defined]
        1 if way == _CALL else to_raw.__self__.scale,  # type: ignore[attr-defined]
        to_raw,
        field.big_endian,
        field.shift,
        field.mask,
        -math.inf if signal.minimum is None else float(signal.minimum),
        math.inf if signal.maximum is None else float(signal.maximum),
    )


def _bits(slot: _Slot, value: float) -> int:
    """``value``'s raw integer, masked and shifted into place (in its byte order's integer)."""
    return (slot.to_raw(value) & slot.mask) << slot.shift


RowFunction = Callable[..., bytes]
"""A page's compiled encoding: the frame's data bytes from a row of physical values (and,
if compiled so, the row's last values as arguments of their own)."""


class PageEncoder:
    """The frame bytes of one page of a message from physical signal values.

    :attr:`signals` names the values :meth:`encode` reads, in the order :meth:`encode_row`
    takes them (the multiplexer's is not among them: the page fixes it); :meth:`ordered`
    gives the same page for values in another order. With ``saturate`` a value outside its
    signal's DBC range is clamped to it first, as an ECU's firmware clamps what it cannot
    send. :meth:`compiled` gives the function :meth:`encode_row` calls, compiled on first
    use, for a sender of many frames to call directly; :meth:`source` its source.
    """

    def __init__(
        self,
        length: int,
        slots: tuple[_Slot, ...],
        fixed: tuple[tuple[_Slot, float], ...],
        message: str = "",
    ) -> None:
        self.length = length
        self.message = message
        self._slots = slots
        self._fixed = fixed
        self.signals = tuple(slot.name for slot in slots)
        self._compiled: dict[tuple[bool, int, bool], tuple[str, RowFunction]] = {}

    def ordered(self, names: Iterable[str]) -> PageEncoder:
        """Get this page's encoder for rows of values in the order of ``names``; ValueError
        unless ``names`` are this page's :attr:`signals`, each once."""
        order = tuple(names)
        if sorted(order) != sorted(self.signals):
            raise ValueError(f"{order} are not the page's signals {self.signals}")
        by_name = {slot.name: slot for slot in self._slots}
        slots = tuple(by_name[n] for n in order)
        return PageEncoder(self.length, slots, self._fixed, self.message)

    def encode(self, values: Mapping[str, float], *, saturate: bool = False) -> bytes:
        """Return the frame's data bytes for ``values`` (signal name → physical value);
        KeyError for a signal of :attr:`signals` missing from it."""
        return self.compiled(saturate=saturate)([values[name] for name in self.signals])

    def encode_row(self, row: Sequence[float], *, saturate: bool = False) -> bytes:
        """Return the frame's data bytes for ``row``, the physical values of
        :attr:`signals` in that order (what a sender of many frames builds: no dict);
        ValueError unless it has as many values as :attr:`signals`."""
        return self.compiled(saturate=saturate)(row)

    def compiled(
        self, *, saturate: bool = False, tail: int = 0, raw_tail: bool = False
    ) -> RowFunction:
        """Get the function :meth:`encode_row` calls with ``saturate``: the same bytes,
        without this method's call. With ``tail`` it takes the row's last ``tail`` values
        as arguments of their own after the others (``f(row[:-1], row[-1])`` for 1): a
        sender that adds them (an alive counter) to values it has need not build the row.
        With ``raw_tail`` those are ints that fit their fields, of signals whose raw value is
        the physical one (an alive counter the sender keeps), and go in as they are: no
        clamp, round or mask (ValueError for a tail signal that is scaled or offset)."""
        return self._compile(saturate, tail, raw_tail)[1]

    def source(self, *, saturate: bool = False, tail: int = 0, raw_tail: bool = False) -> str:
        """Get the Python source of :meth:`compiled`'s function (to read, or to debug)."""
        return self._compile(saturate, tail, raw_tail)[0]

    def _compile(self, saturate: bool, tail: int, raw_tail: bool) -> tuple[str, RowFunction]:
        key = (saturate, tail, raw_tail)
        done = self._compiled.get(key)
        if done is None:
            if not 0 <= tail <= len(self._slots):
                raise ValueError(f"tail {tail}: the page has {len(self._slots)} signals")
            if raw_tail and not all(
                _counts(slot) for slot in self._slots[len(self._slots) - tail :]
            ):
                raise ValueError("a raw tail takes only signals of scale 1 and offset 0")
            # Two threads compiling at once make two equal functions: either will do.
            done = self._compiled[key] = _compile(
                self.message, self.length, self._slots, self._fixed, saturate, tail, raw_tail
            )
        return done


# Why generated code: a frame is a handful of integer operations per signal, but a loop over
# the signals (unpacking each one's constants, testing how it converts, whether it
# saturates and its byte order) costs several times that. Written out for one page, with the
# constants as literals, the function is only those operations, as dataclasses writes
# __init__. The source holds nothing but Python's own syntax, the names made here (v0, v1…
# for the row's values; _page0, _k0, _k1… for constants passed in) and numbers written with
# repr() from ints and finite floats; the DBC's names appear only in comments, and only where
# they are plain identifiers.


def _clamp(value: float, low: float, high: float) -> float:
    """The bound ``value`` lies beyond (NaN: ``low``, as max(low, NaN) gives): what a
    saturating encoder sends for a value outside its signal's range."""
    return low if not value >= low else high


class _Writer:
    """The source of one page's function, being written, and the constants it names."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {"int": int, "_clamp": _clamp}

    def constant(self, value: Any) -> str:
        """Get ``value`` as a literal if it is an int or a finite float, else as the name
        of a constant passed to the function."""
        if type(value) is int or (type(value) is float and math.isfinite(value)):
            text = repr(value)
            return f"({text})" if text.startswith("-") else text
        name = f"_k{sum(n.startswith('_k') for n in self.names)}"
        self.names[name] = value
        return name


def _comment(name: str) -> str:
    """A DBC name for a comment of generated source: only a plain identifier (no line
    break or anything else can end the comment)."""
    return name if name.isascii() and name.isidentifier() else "?"


def _counts(slot: _Slot) -> bool:
    """Whether the signal's raw value is its physical value (scale 1, offset 0): a count, a
    code or bits, whose values are likely ints. An int compares with an int literal several
    times faster than with a float one, and a float the other way round."""
    return slot.way == _MINUS and slot.offset == 0


def _is_flag(slot: _Slot) -> bool:
    """A saturated 0/1 flag: raw ``round(value)`` of the value clamped to [0, 1], which is
    ``value > 0.5`` for every value (NaN, below 0: 0; above 1: 1; 0.5 rounds to even 0)."""
    return slot.way == _MINUS and slot.offset == 0 and slot.low == 0.0 and slot.high == 1.0


def _raw(slot: _Slot, value: str, writer: _Writer, lines: list[str]) -> str:
    """The expression of ``slot``'s raw integer for the physical value named ``value``:
    cantools' arithmetic, or its conversion called. What must be worked out first (the
    exact division of :data:`_DIVMOD`) is appended to ``lines``, named after ``value``."""
    if slot.way == _CALL:
        return f"{writer.constant(slot.to_raw)}({value})"
    name = value
    if slot.offset != 0:  # a zero offset changes no value (an integer's is the int 0)
        value = f"{value} - {writer.constant(slot.offset)}"
    if slot.way == _DIVMOD:
        scale = writer.constant(slot.scale)
        lines.append(f"    {name}q, {name}r = divmod({value}, {scale})  # {_comment(slot.name)}")
        value = f"({value})" if slot.offset != 0 else value
        return _rounded(f"{name}q if {name}r == 0 else {value} / {scale}")
    if slot.way == _DIVIDE:
        value = f"({value})" if slot.offset != 0 else value
        value = f"{value} / {writer.constant(slot.scale)}"
    return _rounded(value)


def _rounded(value: str) -> str:
    """The expression of ``round(value)``: the value's own ``__round__()``, which is what
    round() calls (the same int, or the same error), without round()'s look-up of that
    method and the bound method it makes: a third of round()'s cost, and a frame has up to
    a dozen of them."""
    return f"{value}.__round__()" if value.isidentifier() else f"({value}).__round__()"


def _fits(slot: _Slot) -> bool:
    """Whether every raw value of a value clamped to the signal's range fits its field, as
    an unsigned number (then the mask changes nothing). The inlined conversions are
    monotonic, so the raw values of the bounds bound them all."""
    if slot.way == _CALL or not (math.isfinite(slot.low) and math.isfinite(slot.high)):
        return False
    ends = (slot.to_raw(slot.low), slot.to_raw(slot.high))
    return min(ends) >= 0 and max(ends) <= slot.mask


def _clamp_line(slot: _Slot, value: str, writer: _Writer) -> str | None:
    """The statement that clamps ``value`` to the signal's range (None: no finite bound).

    A NaN goes to the minimum, as max(minimum, NaN) would. The compare reads the same for
    an int literal (Python compares ints and floats exactly) where that is faster."""
    low, high = slot.low, slot.high

    def bound(x: float) -> str:
        as_int = _counts(slot) and x.is_integer()
        return writer.constant(int(x) if as_int else x)

    if math.isfinite(low) and math.isfinite(high):
        clamp = f"_clamp({value}, {writer.constant(low)}, {writer.constant(high)})"
        return f"if not {bound(low)} <= {value} <= {bound(high)}: {value} = {clamp}"
    if math.isfinite(low):
        return f"if not {value} >= {bound(low)}: {value} = {writer.constant(low)}"
    if math.isfinite(high):
        return f"if {value} > {bound(high)}: {value} = {writer.constant(high)}"
    return None


def _compile(
    message: str,
    length: int,
    slots: tuple[_Slot, ...],
    fixed: tuple[tuple[_Slot, float], ...],
    saturate: bool,
    tail: int,
    raw_tail: bool = False,
) -> tuple[str, RowFunction]:
    """Write and compile the function that encodes a page's row of ``slots``' values (the
    last ``tail`` of them as arguments of their own; raw fitting ints if ``raw_tail``)."""
    writer = _Writer()
    names = [f"v{i}" for i in range(len(slots))]
    unpacked = names[: len(names) - tail]
    what = f"{_comment(message)}, {'saturating' if saturate else 'not saturating'}"
    lines = [
        f"def encode_row({', '.join(['row', *names[len(unpacked) :]])}):",
        f"    # Written by drivers.bms.encoder for one page of {what}.",
        f"    {', '.join(unpacked) + (',' if len(unpacked) == 1 else '') or '()'} = row",
    ]
    # Each byte order's integer: the multiplexer's bits, then one term per signal. The bits
    # are passed in by name: every page of a message then has the same source, compiled once.
    terms: dict[bool, list[tuple[int, str]]] = {True: [], False: []}
    for k, (slot, value) in enumerate(fixed):
        writer.names[f"_page{k}"] = _bits(slot, value)
        note = f"{_comment(slot.name)}: the page's, in every frame"
        terms[slot.big_endian].append((-1, f"{f'_page{k}':<40} # {note}"))
    for slot, name in zip(slots, names, strict=True):
        if raw_tail and name not in unpacked:
            raw, masked = name, False  # the caller's int, in its field: nothing to convert
        elif saturate and _is_flag(slot):
            raw, masked = f"({name} > 0.5)", False  # round() of the clamped value
        else:
            clamp = _clamp_line(slot, name, writer) if saturate else None
            if clamp is not None:
                lines.append(f"    {clamp}  # {_comment(slot.name)}")
            raw, masked = _raw(slot, name, writer, lines), not (saturate and _fits(slot))
        if masked:
            raw = f"({raw} & {slot.mask:#x})"
        term = f"{raw} << {slot.shift}" if slot.shift else raw
        terms[slot.big_endian].append((slot.shift, f"{term:<40} # {_comment(slot.name)}"))
    # Low bits first: the sum stays a small int for as long as it can.
    ints = {}
    for big, order in ((False, "little"), (True, "big")):
        if terms[big]:
            body = [text for _, text in sorted(terms[big], key=lambda term: term[0])]
            ints[order] = "(\n          " + "\n        | ".join(body) + "\n    )"
    if not ints:
        lines.append(f"    return bytes({length})")
    elif len(ints) == 1:
        ((order, expression),) = ints.items()
        lines.append(f"    return {expression}.to_bytes({length}, {order!r})")
    else:
        # Bit positions of both orders are of the frame read in that order: the
        # little-endian integer's bytes are read big-endian to merge.
        lines.append(f"    little = {ints['little']}")
        lines.append(f"    big = {ints['big']}")
        merged = f"big | int.from_bytes(little.to_bytes({length}, 'little'), 'big')"
        lines.append(f"    return ({merged}).to_bytes({length}, 'big')")
    source = "\n".join(lines) + "\n"
    namespace = dict(writer.names)
    exec(_code(source, f"<encoder of {_comment(message)}>"), namespace)
    return source, cast(RowFunction, namespace["encode_row"])


@functools.lru_cache(maxsize=256)
def _code(source: str, filename: str) -> CodeType:
    """Compile ``source`` (the same for every page of a message, and for every encoder of
    the same DBC in a process: compiling is what costs, not defining the function)."""
    return compile(source, filename, "exec")


class MessageEncoder:
    """The frame bytes of one message (a cantools Message) from physical signal values.

    Multiplexed messages (one level) carry the signals of the page the multiplexer's value
    selects; :meth:`page` gives the compiled encoder of one page (``None`` for a message
    without a multiplexer), for a sender that knows which page it sends. :meth:`encode`
    raises KeyError for a signal missing from ``values`` and ValueError for a multiplexer
    value the DBC has no page for. Values are range-checked by neither (the caller or
    ``saturate`` clamps them); a raw value wider than its signal keeps its low bits.
    """

    def __init__(self, message: Any) -> None:
        self.name: str = message.name
        self.length = int(message.length)
        layout = page_layout(message, message.signals)
        plain = tuple(_slot(signal, self.length) for signal in layout.plain)
        mux = layout.multiplexer
        self.multiplexer: str | None = None if mux is None else str(mux.name)
        self._pages: dict[int | None, PageEncoder] = {}
        if mux is None:
            self._pages[None] = PageEncoder(self.length, plain, (), self.name)
            return
        (selector,) = (slot for slot in plain if slot.name == mux.name)
        carried = tuple(slot for slot in plain if slot is not selector)
        for page, signals in layout.paged.items():
            paged = tuple(_slot(signal, self.length) for signal in signals)
            self._pages[page] = PageEncoder(
                self.length, carried + paged, ((selector, page),), self.name
            )

    def page(self, page: int | None = None) -> PageEncoder:
        """Get the encoder of the frames whose multiplexer value is ``page`` (``None``: the
        one page of a message without a multiplexer); ValueError if the DBC has none."""
        try:
            return self._pages[page]
        except KeyError:
            raise ValueError(f"{self.name}: no multiplexer page {page}") from None

    def encode(self, values: Mapping[str, float], *, saturate: bool = False) -> bytes:
        """Return the frame's data bytes for ``values`` (signal name → physical value,
        the multiplexer's included)."""
        page = None if self.multiplexer is None else int(values[self.multiplexer])
        return self.page(page).encode(values, saturate=saturate)
