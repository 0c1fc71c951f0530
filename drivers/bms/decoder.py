"""Decode only the signals a BMS description maps, with bit positions worked out once.

cantools decodes every signal of a message on every frame (and scales each to a float). The
station needs a handful of raw integers per frame, so :class:`MessageDecoder` precomputes
for each wanted signal a shift and a mask into the frame read as one integer (big-endian
for Motorola ``@0`` signals, little-endian for Intel ``@1``) and, for multiplexed messages,
which signals each multiplexer value carries. The result is the same raw integers cantools
gives with ``scaling=False`` (``tests/drivers/bms/test_real_dbcs.py`` checks every signal of
every vendored DBC against cantools); scaling happens only when a reading is asked for.

Decoding can wait until a value is read: :meth:`MessageDecoder.read` keeps a frame as the
integers it is read as (a :data:`Frame`), and :func:`extract` takes one signal's raw value
out of it later, the same integer :meth:`MessageDecoder.decode` gives at once (or
:func:`getter`'s function for the field, which a receiver of every frame calls).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple


class UnsupportedSignal(ValueError):
    """A signal this decoder cannot extract (an IEEE float, a nested multiplexer)."""


class Field(NamedTuple):
    """Where one signal's raw value sits: ``(frame_int >> shift) & mask``, signed if ``sign``."""

    name: str
    big_endian: bool
    shift: int
    mask: int
    sign: int
    """The sign bit's value for a signed signal (``1 << (length - 1)``), 0 if unsigned."""


Frame = tuple[int, int]
"""A frame's data read as one big-endian and one little-endian integer (0 for a byte order
no wanted signal uses): what :func:`extract` takes signals out of."""


def extract(field: Field, frame: Frame) -> int:
    """Get ``field``'s raw value in ``frame``."""
    raw = ((frame[0] if field.big_endian else frame[1]) >> field.shift) & field.mask
    return raw - (field.sign << 1) if raw & field.sign else raw


def getter(field: Field) -> Callable[[Frame], int]:
    """Get :func:`extract` made for ``field``: the same raw value, with its constants bound
    (for a value taken out of every frame: a page, an alive counter)."""
    index = 0 if field.big_endian else 1
    shift, mask, sign = field.shift, field.mask, field.sign

    def unsigned(frame: Frame) -> int:
        return (frame[index] >> shift) & mask

    def signed(frame: Frame) -> int:
        raw = (frame[index] >> shift) & mask
        return raw - (sign << 1) if raw & sign else raw

    return signed if sign else unsigned


def compile_field(signal: Any, length_bytes: int) -> Field:
    """Work out where ``signal`` (a cantools Signal) sits in a ``length_bytes`` frame."""
    if signal.is_float:
        raise UnsupportedSignal(f"{signal.name} is an IEEE float signal")
    length = int(signal.length)
    if signal.byte_order == "big_endian":
        # DBC start bit of a Motorola signal is its MSB, numbered byte × 8 + bit (bit 7 = MSB
        # of the byte). In the frame read as one big-endian integer, byte b bit k is bit
        # 8 × (len − 1 − b) + k, and the signal runs down from there.
        start = int(signal.start)
        msb = 8 * (length_bytes - 1 - start // 8) + start % 8
        shift = msb - length + 1
        big = True
    else:
        shift = int(signal.start)
        big = False
    if shift < 0 or shift + length > 8 * length_bytes:
        raise UnsupportedSignal(f"{signal.name} does not fit in {length_bytes} bytes")
    sign = 1 << (length - 1) if signal.is_signed else 0
    return Field(signal.name, big, shift, (1 << length) - 1, sign)


def multiplexer_of(message: Any, signal: Any) -> Any:
    """Get the multiplexer signal ``signal`` (multiplexed) depends on, in ``message``."""
    name = signal.multiplexer_signal
    found = [s for s in message.signals if s.is_multiplexer and s.name == name]
    if not found:
        # cantools keeps a long (> 32 character) multiplexer's name cut to 32 here.
        found = [s for s in message.signals if s.is_multiplexer and s.name.startswith(name)]
    if len(found) != 1:
        raise UnsupportedSignal(f"{signal.name}: multiplexer {name} not found in {message.name}")
    return found[0]


@dataclass(frozen=True)
class PageLayout:
    """Signals of a message split by its one multiplexer: those every frame carries, and
    those of each page (a signal on several pages is in each)."""

    plain: tuple[Any, ...]
    paged: dict[int, tuple[Any, ...]]
    multiplexer: Any  # the multiplexer signal; None for a message without one


def page_layout(message: Any, signals: Iterable[Any]) -> PageLayout:
    """Split ``signals`` of ``message`` by page; UnsupportedSignal for a nested
    multiplexer or a second one (the decoder and the encoder read the same layout)."""
    plain: list[Any] = []
    paged: dict[int, list[Any]] = {}
    mux: Any = None
    for signal in signals:
        ids = signal.multiplexer_ids
        if ids is None:
            plain.append(signal)
            continue
        owner = multiplexer_of(message, signal)
        if owner.multiplexer_ids is not None:
            raise UnsupportedSignal(f"{signal.name} sits behind a nested multiplexer")
        if mux is not None and owner.name != mux.name:
            raise UnsupportedSignal(f"{message.name} has two multiplexers")
        mux = owner
        for page in ids:
            paged.setdefault(int(page), []).append(signal)
    return PageLayout(tuple(plain), {p: tuple(ss) for p, ss in paged.items()}, mux)


class MessageDecoder:
    """Raw values of the wanted signals of one message (a cantools Message).

    ``wanted`` names the signals to decode; the multiplexer (one level) is added when a wanted
    signal depends on it. :meth:`decode` returns ``{signal: raw}`` for the wanted signals the
    frame carries (those of its multiplexer page), or raises ValueError for a short frame.
    For a decoding that waits until a value is read, :meth:`read` keeps the frame, which
    :func:`extract` takes a field of :attr:`fields` out of; :attr:`pages` says on which
    multiplexer pages a signal is (``None``: on every frame).
    """

    def __init__(self, message: Any, wanted: Iterable[str]) -> None:
        self.name: str = message.name
        self.length = int(message.length)
        names = dict.fromkeys(wanted)
        layout = page_layout(message, (message.get_signal_by_name(n) for n in names))
        compiled = {n: compile_field(message.get_signal_by_name(n), self.length) for n in names}
        plain = [compiled[str(signal.name)] for signal in layout.plain]
        paged = {
            page: [compiled[str(signal.name)] for signal in signals]
            for page, signals in layout.paged.items()
        }
        mux = layout.multiplexer
        self.mux: Field | None = None if mux is None else compile_field(mux, self.length)
        if self.mux is not None and all(f.name != self.mux.name for f in plain):
            plain.append(self.mux)
        self.plain = tuple(plain)
        self.paged = {page: tuple(fields) for page, fields in paged.items()}
        self.uses_big = any(f.big_endian for f in self._all())
        self.uses_little = any(not f.big_endian for f in self._all())
        self.fields: dict[str, Field] = {f.name: f for f in self._all()}
        self.reader = _reader(self.name, self.length, self.uses_big, self.uses_little)
        """:meth:`read` itself, without the method call: for whoever reads every frame."""
        self.pages: dict[str, frozenset[int] | None] = {f.name: None for f in self.plain}
        for page, fields in self.paged.items():
            for f in fields:
                self.pages[f.name] = (self.pages.get(f.name) or frozenset()) | {page}

    def _all(self) -> list[Field]:
        return [*self.plain, *(f for fields in self.paged.values() for f in fields)]

    def read(self, data: bytes | bytearray) -> Frame:
        """Keep a frame's data for its signals to be extracted; ValueError if too short."""
        return self.reader(data)

    def decode(self, data: bytes | bytearray) -> dict[str, int]:
        """Return the raw values this frame carries; ValueError if it is too short."""
        return self.values(self.read(data))

    def values(self, frame: Frame) -> dict[str, int]:
        """Return the raw values a frame kept by :meth:`read` carries."""
        big, little = frame
        out: dict[str, int] = {}
        for name, is_big, shift, mask, sign in self.plain:
            raw = ((big if is_big else little) >> shift) & mask
            out[name] = raw - (sign << 1) if raw & sign else raw
        if self.mux is not None:
            for name, is_big, shift, mask, sign in self.paged.get(out[self.mux.name], ()):
                raw = ((big if is_big else little) >> shift) & mask
                out[name] = raw - (sign << 1) if raw & sign else raw
        return out


def _reader(
    name: str, length: int, big: bool, little: bool
) -> Callable[[bytes | bytearray], Frame]:
    """The function that reads a frame of ``length`` bytes as the integers of the byte
    orders used (``big``, ``little``), made for those orders: every frame of a cyclic
    message goes through it."""
    from_bytes = int.from_bytes

    def fit(data: bytes | bytearray) -> bytes | bytearray:
        if len(data) < length:
            raise ValueError(f"{name}: {len(data)} data bytes, the DBC says {length}")
        return data[:length]  # bytes past the DBC's length carry no signal

    def read_little(data: bytes | bytearray) -> Frame:
        if len(data) != length:
            data = fit(data)
        return (0, from_bytes(data, "little"))

    def read_big(data: bytes | bytearray) -> Frame:
        if len(data) != length:
            data = fit(data)
        return (from_bytes(data, "big"), 0)

    def read_both(data: bytes | bytearray) -> Frame:
        if len(data) != length:
            data = fit(data)
        return (
            from_bytes(data, "big") if big else 0,
            from_bytes(data, "little") if little else 0,
        )

    if little and not big:
        return read_little
    if big and not little:
        return read_big
    return read_both
