"""Encode a message's signals into a frame with bit positions worked out once.

The mirror of :mod:`drivers.bms.decoder`, for whoever sends cyclic frames many times a second
(the simulated BMS: five frames per 100 ms of virtual time, thousands per reference run).
cantools' ``Message.encode`` walks its codec tree, builds a dict of raw values and packs
them with bitstruct on every call. :class:`MessageEncoder` keeps, for every signal, the
conversion cantools itself uses from a physical value to a raw integer (so rounding is
exactly cantools') and the shift and mask of :func:`~drivers.bms.decoder.compile_field`;
encoding is then one OR per signal into the frame read as one integer. Unused bits are 0,
as cantools gives without padding. The bytes are cantools' own for every message of the
vendored DBCs (``tests/drivers/bms/test_encoder.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from drivers.bms.decoder import compile_field, page_layout


class _Slot(NamedTuple):
    """One signal in the frame: its name, physical → raw, byte order, shift and mask."""

    name: str
    to_raw: Callable[[float], int | float]
    big_endian: bool
    shift: int
    mask: int


def _slot(signal: Any, length_bytes: int) -> _Slot:
    field = compile_field(signal, length_bytes)  # refuses IEEE floats
    return _Slot(
        signal.name,
        signal.conversion.numeric_scaled_to_raw,
        field.big_endian,
        field.shift,
        field.mask,
    )


class MessageEncoder:
    """The frame bytes of one message (a cantools Message) from physical signal values.

    Multiplexed messages (one level) carry the signals of the page the multiplexer's value
    selects. :meth:`encode` raises KeyError for a signal missing from ``values`` and
    ValueError for a multiplexer value the DBC has no page for. Values are not range-checked
    (the caller saturates them); a raw value wider than its signal keeps its low bits.
    """

    def __init__(self, message: Any) -> None:
        self.name: str = message.name
        self.length = int(message.length)
        layout = page_layout(message, message.signals)
        self.plain = tuple(_slot(signal, self.length) for signal in layout.plain)
        self.paged = {
            page: tuple(_slot(signal, self.length) for signal in signals)
            for page, signals in layout.paged.items()
        }
        mux = layout.multiplexer
        self.multiplexer: str | None = None if mux is None else str(mux.name)

    def encode(self, values: Mapping[str, float]) -> bytes:
        """Return the frame's data bytes for ``values`` (signal name → physical value)."""
        slots = self.plain
        if self.multiplexer is not None:
            page = values[self.multiplexer]
            try:
                slots = slots + self.paged[int(page)]
            except KeyError:
                raise ValueError(f"{self.name}: no multiplexer page {page}") from None
        big = little = 0
        for name, to_raw, is_big, shift, mask in slots:
            raw = (int(to_raw(values[name])) & mask) << shift
            if is_big:
                big |= raw
            else:
                little |= raw
        if little:
            big |= int.from_bytes(little.to_bytes(self.length, "little"), "big")
        return big.to_bytes(self.length, "big")
