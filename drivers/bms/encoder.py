"""Encode a message's signals into a frame with bit positions worked out once.

The mirror of :mod:`drivers.bms.decoder`, for whoever sends cyclic frames many times a second
(the simulated BMS: five frames per 100 ms of virtual time, thousands per reference run).
cantools' ``Message.encode`` walks its codec tree, builds a dict of raw values and packs
them with bitstruct on every call. :class:`MessageEncoder` compiles each page of a message
(a message without a multiplexer has one) into a :class:`PageEncoder` that keeps, for every
signal, the conversion cantools itself uses from a physical value to a raw integer (the
arithmetic of its two usual conversions written inline, any other called: rounding is
exactly cantools') and the shift and mask of :func:`~drivers.bms.decoder.compile_field`;
the multiplexer's bits, the same in every frame of a page, are packed once. Encoding is
then one OR per signal into the frame read as one integer, from a row of values in an
order the sender picks once (:meth:`PageEncoder.ordered`) or from a dict. Unused bits are
0, as cantools gives without padding. The bytes are cantools' own for every message of the
vendored DBCs (``tests/drivers/bms/test_encoder.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    """How physical becomes raw: :data:`_MINUS`, :data:`_DIVIDE` or :data:`_CALL`."""
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


def _way(to_raw: Callable[[float], int]) -> int:
    """Which of cantools' conversions ``to_raw`` is, as far as it can be written inline.

    Only the two functions whose arithmetic is copied here are inlined (a signal with
    choices delegates to one of them); an integer conversion of another scale, which first
    tries an exact division, keeps the call.
    """
    conversion: Any = getattr(to_raw, "__self__", None)
    function = getattr(to_raw, "__func__", None)
    if function is LinearConversion.numeric_scaled_to_raw and not conversion.is_float:
        return _DIVIDE
    if function is IdentityConversion.numeric_scaled_to_raw and not conversion.is_float:
        return _MINUS  # round(value), offset 0
    if function is LinearIntegerConversion.numeric_scaled_to_raw and conversion.scale == 1:
        return _MINUS  # divmod by 1 leaves value - offset as it is
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


class PageEncoder:
    """The frame bytes of one page of a message from physical signal values.

    :attr:`signals` names the values :meth:`encode` reads, in the order :meth:`encode_row`
    takes them (the multiplexer's is not among them: the page fixes it); :meth:`ordered`
    gives the same page for values in another order. With ``saturate`` a value outside its
    signal's DBC range is clamped to it first, as an ECU's firmware clamps what it cannot
    send.
    """

    def __init__(
        self, length: int, slots: tuple[_Slot, ...], fixed: tuple[tuple[_Slot, float], ...]
    ) -> None:
        self.length = length
        self._slots = slots
        self._fixed = fixed
        self.signals = tuple(slot.name for slot in slots)
        # Split by byte order, each slot with the index of its value in a row: each loop of
        # encode_row() ORs into one integer, no test of the byte order per signal.
        self._big = tuple((i, *s[1:5], *s[6:]) for i, s in enumerate(slots) if s.big_endian)
        self._little = tuple((i, *s[1:5], *s[6:]) for i, s in enumerate(slots) if not s.big_endian)
        self._fixed_big = 0
        self._fixed_little = 0
        for slot, value in fixed:
            if slot.big_endian:
                self._fixed_big |= _bits(slot, value)
            else:
                self._fixed_little |= _bits(slot, value)
        self._all_little = not self._big and not self._fixed_big

    def ordered(self, names: Iterable[str]) -> PageEncoder:
        """Get this page's encoder for rows of values in the order of ``names``; ValueError
        unless ``names`` are this page's :attr:`signals`, each once."""
        order = tuple(names)
        if sorted(order) != sorted(self.signals):
            raise ValueError(f"{order} are not the page's signals {self.signals}")
        by_name = {slot.name: slot for slot in self._slots}
        return PageEncoder(self.length, tuple(by_name[n] for n in order), self._fixed)

    def encode(self, values: Mapping[str, float], *, saturate: bool = False) -> bytes:
        """Return the frame's data bytes for ``values`` (signal name → physical value);
        KeyError for a signal of :attr:`signals` missing from it."""
        return self.encode_row([values[name] for name in self.signals], saturate=saturate)

    def encode_row(self, row: Sequence[float], *, saturate: bool = False) -> bytes:
        """Return the frame's data bytes for ``row``, the physical values of
        :attr:`signals` in that order (what a sender of many frames builds: no dict)."""
        little = _or_signals(self._fixed_little, self._little, row, saturate)
        if self._all_little:  # the usual case (an all-Intel message): no byte order to merge
            return little.to_bytes(self.length, "little")
        big = _or_signals(self._fixed_big, self._big, row, saturate)
        if not big:
            return little.to_bytes(self.length, "little")
        if little:
            big |= int.from_bytes(little.to_bytes(self.length, "little"), "big")
        return big.to_bytes(self.length, "big")


def _or_signals(
    bits: int, slots: tuple[tuple[Any, ...], ...], row: Sequence[float], saturate: bool
) -> int:
    """OR each slot's raw value for ``row`` into ``bits`` (one byte order's integer)."""
    # Inline, not a call per signal: this runs for every signal of every frame.
    for index, way, offset, scale, to_raw, shift, mask, low, high in slots:
        value = row[index]
        if saturate:
            # Comparisons, not min()/max() calls. "not >=" sends NaN to the minimum, as
            # max(low, NaN) would.
            if not value >= low:
                value = low
            elif value > high:
                value = high
        if way == _MINUS:
            raw = round(value - offset)
        elif way == _DIVIDE:
            raw = round((value - offset) / scale)
        else:
            raw = to_raw(value)
        bits |= (raw & mask) << shift
    return bits


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
            self._pages[None] = PageEncoder(self.length, plain, ())
            return
        (selector,) = (slot for slot in plain if slot.name == mux.name)
        carried = tuple(slot for slot in plain if slot is not selector)
        for page, signals in layout.paged.items():
            paged = tuple(_slot(signal, self.length) for signal in signals)
            self._pages[page] = PageEncoder(self.length, carried + paged, ((selector, page),))

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
