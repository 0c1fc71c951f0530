"""Encode a message's signals into a frame with bit positions worked out once.

The mirror of :mod:`drivers.bms.decoder`, for whoever sends cyclic frames many times a second
(the simulated BMS: five frames per 100 ms of virtual time, thousands per reference run).
cantools' ``Message.encode`` walks its codec tree, builds a dict of raw values and packs
them with bitstruct on every call. :class:`MessageEncoder` compiles each page of a message
(a message without a multiplexer has one) into a :class:`PageEncoder` that keeps, for every
signal, the conversion cantools itself uses from a physical value to a raw integer (so
rounding is exactly cantools') and the shift and mask of
:func:`~drivers.bms.decoder.compile_field`; the multiplexer's bits, the same in every frame
of a page, are packed once. Encoding is then one OR per signal into the frame read as one
integer. Unused bits are 0, as cantools gives without padding. The bytes are cantools' own
for every message of the vendored DBCs (``tests/drivers/bms/test_encoder.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, cast

from drivers.bms.decoder import compile_field, page_layout


class _Slot(NamedTuple):
    """One signal in the frame: its name, physical → raw, byte order, shift and mask, and the
    physical range a saturating encoder clamps to (±inf where the DBC gives none)."""

    name: str
    to_raw: Callable[[float], int]
    big_endian: bool
    shift: int
    mask: int
    low: float
    high: float


def _slot(signal: Any, length_bytes: int) -> _Slot:
    field = compile_field(signal, length_bytes)  # refuses IEEE floats
    # cantools' own physical → raw; for an integer signal it rounds to an int.
    to_raw = cast(Callable[[float], int], signal.conversion.numeric_scaled_to_raw)
    return _Slot(
        signal.name,
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

    :attr:`signals` names the values :meth:`encode` reads (the multiplexer's is not among
    them: the page fixes it). With ``saturate`` a value outside its signal's DBC range is
    clamped to it first, as an ECU's firmware clamps what it cannot send.
    """

    def __init__(
        self, length: int, slots: tuple[_Slot, ...], fixed: tuple[tuple[_Slot, float], ...]
    ) -> None:
        self.length = length
        self.signals = tuple(slot.name for slot in slots)
        # Split by byte order: each loop of encode() ORs into one integer, no test per signal.
        self._big = tuple(s for s in slots if s.big_endian)
        self._little = tuple(s for s in slots if not s.big_endian)
        self._fixed_big = 0
        self._fixed_little = 0
        for slot, value in fixed:
            if slot.big_endian:
                self._fixed_big |= _bits(slot, value)
            else:
                self._fixed_little |= _bits(slot, value)

    def encode(self, values: Mapping[str, float], *, saturate: bool = False) -> bytes:
        """Return the frame's data bytes for ``values`` (signal name → physical value);
        KeyError for a signal of :attr:`signals` missing from it."""
        little = _or_signals(self._fixed_little, self._little, values, saturate)
        big = _or_signals(self._fixed_big, self._big, values, saturate)
        if not big:  # the usual case (an all-Intel message): no byte order to merge
            return little.to_bytes(self.length, "little")
        if little:
            big |= int.from_bytes(little.to_bytes(self.length, "little"), "big")
        return big.to_bytes(self.length, "big")


def _or_signals(
    bits: int, slots: tuple[_Slot, ...], values: Mapping[str, float], saturate: bool
) -> int:
    """OR each slot's raw value for ``values`` into ``bits`` (one byte order's integer)."""
    for name, to_raw, _, shift, mask, low, high in slots:
        value = values[name]
        if saturate:
            # Comparisons, not min()/max() calls: this runs for every signal of every frame.
            # "not >=" sends NaN to the minimum, as max(low, NaN) would.
            if not value >= low:
                value = low
            elif value > high:
                value = high
        bits |= (to_raw(value) & mask) << shift
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
