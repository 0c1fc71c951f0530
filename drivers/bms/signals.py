"""Decode the BMS's cyclic CAN frames into role readings, and watch the bus's health.

:class:`SignalMonitor` is a ``can.Listener`` on the BMS's ``can.Notifier``. For every frame
of a mapped message it keeps the latest value and receive time of each signal (values are
never clamped to the DBC's min/max: a reading outside it is information, not noise), counts
decode errors, checks 4-bit alive counters and records receive times for period checks.
Multiplexed arrays are assembled page by page; :meth:`SignalMonitor.snapshot` returns a
complete array whose every page arrived at or after a given instant, so a snapshot never
mixes pages from before and after a load step.

A value is decoded when it is read, not when its frame comes: the monitor keeps each
message's latest frame (and each multiplexer page's) as :meth:`MessageDecoder.read
<drivers.bms.decoder.MessageDecoder.read>` gives it, and decodes per frame only what the
bus's health needs (the alive counter, the page). Most frames of a cyclic BMS are replaced
by the next one unread; a reading gets the raw value the frame carried all the same
(``tests/drivers/bms/test_signals.py`` checks lazy against eager for every mapped signal).

Times come from ``now`` (the station clock, possibly virtual): each frame is stamped with
``now()`` when it is received. Timeouts of the waiting calls are wall-clock seconds, so a
stopped clock cannot hang a step. With a ``pacer`` (the station's lockstep virtual clock) a
call that waits for frames that have not come steps that clock to the next moment the BMS
sends instead, and its timeout is in the pacer's time (bounded in wall time as well); see
:mod:`drivers.bms.pacer`.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import can

from drivers.bms.decoder import (
    Field,
    Frame,
    MessageDecoder,
    UnsupportedSignal,
    extract,
    getter,
)
from drivers.bms.pacer import WALL_BOUND_S, Pacer
from drivers.bms.readings import BmsWaitAborted, MessageStatus, PeriodStats, Reading
from drivers.bms.signal_map import ArrayRef, SignalRef, Slot, SourcesRef, labelled_raws
from drivers.errors import BmsError, BmsTimeout

__all__ = [
    "BmsWaitAborted",
    "MessageStatus",
    "PeriodStats",
    "Reading",
    "SignalMonitor",
]

_T = TypeVar("_T")

_Seen = tuple[Frame, float, int]
"""A frame kept undecoded: its data, its receive time and its number on its message (a plain
tuple: one is made for every frame)."""

_ALIVE_NAME = re.compile(r"alive_?counter|(^|_)bz$", re.IGNORECASE)
_ABORT_POLL_S = 0.05
"""How often a wait with an abort Event looks at it (Condition.wait cannot wait on both)."""


class _MessageState:
    def __init__(self, message: Any, history: int, cycle_s: float | None) -> None:
        self.message = message
        self.name: str = message.name
        self.cycle_s = cycle_s
        self.frames = 0
        self.last_rx: float | None = None
        self.decode_errors = 0
        self.alive_violations = 0
        self.last_counter: int | None = None
        self.alive: Any = next(
            (s for s in message.signals if s.length >= 2 and _ALIVE_NAME.search(s.name)), None
        )
        self.times: deque[float] = deque(maxlen=history)
        self.latest: _Seen | None = None
        """The latest frame read (kept whole), for the signals every frame carries."""
        self.by_page: dict[int, _Seen] = {}
        """Multiplexer page → its latest frame, for the signals of that page."""
        self.wanted: list[str] = [] if self.alive is None else [self.alive.name]
        self.decoder: MessageDecoder | None = None
        self.read: Callable[[bytes | bytearray], Frame] = _not_compiled
        """The decoder's reader (:meth:`MessageDecoder.read` without the method call)."""
        self.page_of: Callable[[Frame], int] | None = None  # the multiplexer's getter
        self.counter_of: Callable[[Frame], int] | None = None  # the alive counter's getter
        self.counter_mask = 0  # the alive counter's
        self.alive_pages: frozenset[int] | None = None
        self.arrays: list[_ArrayState] = []
        """The multiplexed arrays this message's pages fill."""
        self.sources: list[_SourcesState] = []
        """The per-element sources this message carries elements of."""

    def compile(self) -> None:
        """Compile the decoder of the wanted signals (UnsupportedSignal if it cannot be)."""
        self.decoder = decoder = MessageDecoder(self.message, self.wanted)
        self.read = decoder.reader
        self.page_of = None if decoder.mux is None else getter(decoder.mux)
        if self.alive is not None:
            counter = decoder.fields[self.alive.name]
            self.counter_of = getter(counter)
            self.counter_mask = counter.mask
            self.alive_pages = decoder.pages[self.alive.name]
        for array in self.arrays:
            array.fields = decoder.fields


def _not_compiled(data: bytes | bytearray) -> Frame:
    raise RuntimeError("the message's decoder is not compiled yet")


class _Element(NamedTuple):
    """One array element on one page, compiled: where its raw value and flag are."""

    value: str
    scale: float
    offset: float
    not_available: frozenset[int]
    invalid: str | None
    invalid_bit: int | None


class _Scalar(NamedTuple):
    """A role mapped to one signal, compiled: its message, where the signal sits in a frame
    and its scaling."""

    ref: SignalRef
    state: _MessageState
    field: Field
    pages: frozenset[int] | None
    """The multiplexer pages that carry the signal (None: every frame)."""
    scale: float
    offset: float
    choices: Mapping[int, Any] | None

    def latest(self) -> tuple[int, float] | None:
        """Get the raw value and receive time of the signal in the latest frame carrying it."""
        state = self.state
        if self.pages is None:
            seen = state.latest
        else:
            # A signal of several pages: the latest of their frames.
            seen = max(
                (state.by_page[p] for p in self.pages if p in state.by_page),
                key=lambda got: got[2],
                default=None,
            )
        if seen is None:
            return None
        return extract(self.field, seen[0]), seen[1]


class _ArrayState:
    def __init__(self, ref: ArrayRef, message: Any) -> None:
        self.ref = ref
        self.pages: dict[int, tuple[float, Frame]] = {}
        """Page → (receive time, frame) of its latest frame, decoded when read."""
        self.fields: dict[str, Field] = {}  # the message decoder's
        self.layouts: dict[int, tuple[_Element, ...]] = {}
        self.last_page: int | None = None
        self.max_page = -1
        self.wrapped = False
        on_page = {s.name: s.multiplexer_ids for s in message.signals}
        ids = {int(i) for s in message.signals for i in (s.multiplexer_ids or ())}
        pages = range(ref.pages) if ref.pages is not None else sorted(ids)
        for page in pages:
            layout = tuple(
                self._element(message, slot)
                for slot in ref.slots(page)
                if slot.value in on_page
                and (on_page[slot.value] is None or page in on_page[slot.value])
            )
            if layout:
                self.layouts[page] = layout

    def _element(self, message: Any, slot: Slot) -> _Element:
        signal = message.get_signal_by_name(slot.value)
        words = self.ref.not_available_labels
        return _Element(
            slot.value,
            float(signal.scale),
            float(signal.offset),
            self.ref.not_available | labelled_raws(signal, words),
            slot.invalid,
            slot.invalid_bit,
        )

    def signals(self) -> list[str]:
        out = [self.ref.multiplexer]
        for layout in self.layouts.values():
            for element in layout:
                out.append(element.value)
                if element.invalid is not None:
                    out.append(element.invalid)
        return out

    def store(self, page: int, frame: Frame, t: float) -> None:
        """Keep ``page``'s frame, received at ``t`` (the monitor's lock held)."""
        # A page the DBC does not define for this array (or past count) is not ours.
        if page not in self.layouts:
            return
        if self.last_page is not None and page <= self.last_page:
            self.wrapped = True
        self.last_page = page
        if page > self.max_page:
            self.max_page = page
        self.pages[page] = (t, frame)

    def expected_pages(self) -> range | None:
        if self.ref.pages is not None:
            return range(self.ref.pages)
        return range(self.max_page + 1) if self.wrapped else None

    def values(self, page: int) -> list[float | None]:
        """Decode the elements of ``page``'s latest frame (None: invalid or not available)."""
        _, frame = self.pages[page]
        fields = self.fields
        factor = self.ref.factor
        bad = self.ref.invalid_value
        values: list[float | None] = []
        for name, scale, offset, not_available, invalid, bit in self.layouts[page]:
            raw = extract(fields[name], frame)
            if raw in not_available:
                values.append(None)
                continue
            if invalid is not None:
                flag = extract(fields[invalid], frame)
                if bit is not None:
                    flag = (flag >> bit) & 1
                if flag == bad:
                    values.append(None)
                    continue
            values.append((raw * scale + offset) * factor)
        return values


class _SourcesState:
    """Latest (receive time, SI value or None) of each element of a :class:`SourcesRef`."""

    def __init__(self, ref: SourcesRef, db: Any) -> None:
        self.ref = ref
        self.values: list[tuple[float, float | None] | None] = [None] * len(ref.elements)
        self.by_message: dict[
            str, list[tuple[int, str, float, float, frozenset[int], str | None]]
        ] = {}
        flags = ref.invalid or (None,) * len(ref.elements)
        for index, (element, flag) in enumerate(zip(ref.elements, flags, strict=True)):
            signal = db.get_message_by_name(element.message).get_signal_by_name(element.signal)
            unavailable = (
                ref.not_available
                | element.not_available
                | labelled_raws(signal, ref.not_available_labels)
            )
            self.by_message.setdefault(element.message, []).append(
                (
                    index,
                    element.signal,
                    float(signal.scale) * element.factor,
                    float(signal.offset) * element.factor,
                    unavailable,
                    flag,
                )
            )

    def signals(self, message: str) -> list[str]:
        out: list[str] = []
        for _, name, _, _, _, flag in self.by_message[message]:
            out.append(name)
            if flag is not None:
                out.append(flag)
        return out

    def store(self, message: str, decoded: dict[str, int], t: float) -> None:
        bad = self.ref.invalid_value
        for index, name, scale, offset, unavailable, flag in self.by_message[message]:
            raw = decoded.get(name)
            if raw is None:
                continue  # another multiplexer page of this message
            if raw in unavailable or (flag is not None and decoded.get(flag) == bad):
                self.values[index] = (t, None)
            else:
                self.values[index] = (t, raw * scale + offset)


def _spans(pages: list[int]) -> str:
    out: list[str] = []
    start = prev = pages[0]
    for page in [*pages[1:], None]:
        if page is not None and page == prev + 1:
            prev = page
            continue
        out.append(str(start) if start == prev else f"{start}–{prev}")
        if page is not None:
            start = prev = page
    return ", ".join(out)


class SignalMonitor(can.Listener):
    """Decode mapped BMS messages and answer role readings and snapshots.

    ``bus`` is only used to name the channel in messages; ``db`` is the cantools database;
    ``signal_map`` maps roles to :class:`SignalRef` or :class:`ArrayRef` (see
    :meth:`BmsDescription.signal_map`); ``now`` is the clock that stamps frames. A message is
    stale when no frame came for more than ``stale_factor`` × its period (``cycle_s`` by
    message name, from the description; else the DBC ``GenMsgCycleTime``);
    ``history`` receive times per message are kept for :meth:`periods`. ``pacer`` is stepped
    while a reading or snapshot waits for frames (:mod:`drivers.bms.pacer`).
    """

    def __init__(
        self,
        bus: can.BusABC | None,
        db: Any,
        signal_map: Mapping[str, SignalRef | ArrayRef | SourcesRef],
        *,
        now: Callable[[], float],
        stale_factor: float = 3.0,
        history: int = 4096,
        pacer: Pacer | None = None,
        cycle_s: Mapping[str, float] | None = None,
    ) -> None:
        self._channel = str(bus.channel_info) if bus is not None else "CAN"
        self._now = now
        self._pacer = pacer
        self.stale_factor = stale_factor
        # Every frame takes the lock itself (a C-level context manager; the Condition's own
        # __enter__ is Python code); waiters wait on the Condition over it. A plain Lock, half
        # an RLock's cost a frame: nothing done under it takes it again (no listener is
        # called, no clock moved; ready()/why() and the health methods only read state).
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._closed = False
        self._started = now()
        self._roles = dict(signal_map)
        # By frame id, standard and extended apart (no key tuple built for every frame).
        self._standard: dict[int, _MessageState] = {}
        self._extended: dict[int, _MessageState] = {}
        self._by_name: dict[str, _MessageState] = {}
        self._scalars: dict[str, _Scalar] = {}
        self._arrays: dict[str, _ArrayState] = {}
        self._sources: dict[str, _SourcesState] = {}
        self._waiting = 0  # threads in self._cond.wait(): only they need a notify

        def state_of(name: str) -> _MessageState:
            state = self._by_name.get(name)
            if state is None:
                message = db.get_message_by_name(name)
                cycle = (cycle_s or {}).get(name)
                if cycle is None and message.cycle_time:
                    cycle = message.cycle_time / 1000.0
                state = _MessageState(message, history, cycle)
                self._by_name[name] = state
                by_id = self._extended if message.is_extended_frame else self._standard
                by_id[message.frame_id] = state
            return state

        scalars: list[tuple[str, SignalRef, _MessageState]] = []
        for role, ref in self._roles.items():
            if isinstance(ref, SourcesRef):
                sources = _SourcesState(ref, db)
                self._sources[role] = sources
                for name in ref.messages:
                    state_of(name).wanted.extend(sources.signals(name))
                    state_of(name).sources.append(sources)
                continue
            state = state_of(ref.message)
            if isinstance(ref, ArrayRef):
                array = _ArrayState(ref, state.message)
                self._arrays[role] = array
                state.arrays.append(array)
                state.wanted.extend(array.signals())
            else:
                scalars.append((role, ref, state))
                state.wanted.append(ref.signal)
        for state in self._by_name.values():
            try:
                state.compile()
            except UnsupportedSignal as err:
                raise BmsError(f"BMS message {state.name} cannot be decoded: {err}") from err
        for role, ref, state in scalars:
            assert state.decoder is not None  # just compiled
            signal = state.message.get_signal_by_name(ref.signal)
            self._scalars[role] = _Scalar(
                ref,
                state,
                state.decoder.fields[ref.signal],
                state.decoder.pages[ref.signal],
                float(signal.scale),
                float(signal.offset),
                signal.choices,
            )

    # --- listener ------------------------------------------------------------------------------

    def on_message_received(self, msg: can.Message) -> None:
        """Decode one frame (called from the notifier thread; never raises)."""
        self.on_batch((msg,))

    def on_batch(self, msgs: Sequence[can.Message]) -> None:
        """Decode frames received at one moment, in order (a lockstep drain's, see
        :class:`~drivers.bms.lockstep.BatchListener`): one look at the clock and one lock
        for all of them. Never raises."""
        standard, extended = self._standard, self._extended
        t: float | None = None  # stamped when the first mapped frame comes
        with self._lock:
            for msg in msgs:
                state = (extended if msg.is_extended_id else standard).get(msg.arbitration_id)
                if state is None or msg.is_error_frame or msg.is_remote_frame:
                    continue
                if t is None:
                    t = self._now()
                state.frames = number = state.frames + 1
                state.last_rx = t
                state.times.append(t)
                try:
                    frame = state.read(msg.data)
                except ValueError:  # a frame shorter than the DBC says
                    state.decode_errors += 1
                    continue
                # Kept whole, decoded when read; only the page and the alive counter are
                # decoded now.
                seen = (frame, t, number)
                state.latest = seen
                page = None
                page_of = state.page_of
                if page_of is not None:
                    page = page_of(frame)
                    state.by_page[page] = seen
                    for array in state.arrays:
                        array.store(page, frame, t)
                counter_of = state.counter_of
                if counter_of is not None and (
                    state.alive_pages is None or page in state.alive_pages
                ):
                    counter = counter_of(frame)
                    last = state.last_counter
                    if last is not None and counter != (last + 1) & state.counter_mask:
                        state.alive_violations += 1
                    state.last_counter = counter
                if state.sources:
                    assert state.decoder is not None
                    decoded = state.decoder.values(frame)
                    for sources in state.sources:
                        sources.store(state.name, decoded, t)
            if t is not None and self._waiting:
                self._cond.notify_all()

    def stop(self) -> None:
        """Wake every waiter; later waits fail (the notifier calls this when it stops)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wake(self) -> None:
        """Wake every waiter so it looks at its abort Event now."""
        with self._cond:
            self._cond.notify_all()

    # --- readings ------------------------------------------------------------------------------

    def roles(self) -> list[str]:
        """Return the mapped roles."""
        return list(self._roles)

    def reading(
        self,
        role: str,
        *,
        after: float | None = None,
        timeout_s: float = 1.0,
        abort: threading.Event | None = None,
    ) -> Reading:
        """Get ``role``'s latest reading, waiting up to ``timeout_s`` for one.

        With ``after``, wait for a frame received at or after that instant. Without it, wait
        for a value whose message is not stale (after a jump of a virtual clock every message
        is stale until the BMS sends again); BmsTimeout if none comes within ``timeout_s``.
        """
        return self._reading(role, *self._latest(role, after, timeout_s, abort))

    def value(
        self,
        role: str,
        *,
        after: float | None = None,
        timeout_s: float = 1.0,
        abort: threading.Event | None = None,
    ) -> float:
        """Get ``role``'s latest value in SI (same arguments as :meth:`reading`).

        Raises BmsNotAvailable when the BMS sends the role's "not available" value.
        """
        # The engine's guard reads values at every clock move: no Reading is built for them.
        scalar, raw, received_at = self._latest(role, after, timeout_s, abort)
        ref = scalar.ref
        if raw in ref.not_available:
            return self._reading(role, scalar, raw, received_at).number()  # raises
        return (raw * scalar.scale + scalar.offset) * ref.factor

    def values(
        self,
        roles: Sequence[str],
        *,
        after: float | None = None,
        timeout_s: float = 1.0,
        abort: threading.Event | None = None,
    ) -> list[float]:
        """Get the latest values of ``roles`` in SI, in order: what :meth:`value` returns for
        each in turn (same arguments, each role with its own ``timeout_s``; the same errors).

        One look under the lock reads every role whose value is there (a fresh frame, a
        number, a signal every frame carries): under a lockstep clock that is all of them, and
        nothing is waited for or built (the engine's cell guard reads four roles at every
        check). From the first role that is not, the rest are :meth:`value`'s, one by one: it
        waits, raises, or reads a signal of several multiplexer pages.
        """
        since = -math.inf if after is None else after
        scalars = self._scalars
        out: list[float] = []
        with self._lock:
            for role in roles:
                scalar = scalars.get(role)
                if scalar is None:
                    break
                ref, state, field, pages, scale, offset, _ = scalar  # one unpack, no lookups
                seen = state.latest
                if pages is not None or seen is None or seen[1] < since:
                    break
                if after is None and self._is_stale(state, self._now()):
                    break
                raw = extract(field, seen[0])
                if raw in ref.not_available:
                    break
                out.append((raw * scale + offset) * ref.factor)
        for role in roles[len(out) :]:
            out.append(self.value(role, after=after, timeout_s=timeout_s, abort=abort))
        return out

    @staticmethod
    def _reading(role: str, scalar: _Scalar, raw: int, received_at: float) -> Reading:
        ref = scalar.ref
        label = scalar.choices.get(raw) if scalar.choices else None
        value = None
        if raw not in ref.not_available:
            value = (raw * scalar.scale + scalar.offset) * ref.factor
        return Reading(
            role=role,
            value=value,
            raw=raw,
            label=None if label is None else str(label),
            received_at=received_at,
            above_range=raw in ref.above_range,
        )

    def _latest(
        self,
        role: str,
        after: float | None,
        timeout_s: float,
        abort: threading.Event | None,
    ) -> tuple[_Scalar, int, float]:
        """Wait for ``role``'s value as :meth:`reading` says; return it raw, with its time."""
        scalar = self._scalars.get(role)
        if scalar is None:
            raise BmsError(f"the BMS description maps no signal for {role!r}")
        ref, state = scalar.ref, scalar.state
        since = -math.inf if after is None else after

        def ready() -> tuple[int, float] | None:
            got = scalar.latest()
            if got is None or got[1] < since:
                return None
            if after is None and self._is_stale(state, self._now()):
                return None
            return got

        def why() -> str:
            got = scalar.latest()
            if after is not None or got is None:
                return self._no_value(ref, after)
            age = self._now() - got[1]
            return (
                f"BMS message {ref.message} on {self._channel} is stale: last frame "
                f"{age:.3f} s ago, cycle {state.cycle_s or 0:.3f} s; {role} is out of date"
            )

        # One look before setting up a wait: under a lockstep clock the frame is nearly
        # always there already (the engine reads right after the clock's move).
        with self._cond:
            got = ready()
        raw, received_at = got if got is not None else self._wait(ready, timeout_s, abort, why)
        return scalar, raw, received_at

    def _no_value(self, ref: SignalRef, after: float | None) -> str:
        since = "" if after is None else f" since t={after:.3f} s"
        return f"no {ref.message} frame{since} on {self._channel}, so no {ref.role}"

    def snapshot(
        self,
        role: str,
        after: float,
        timeout_s: float,
        abort: threading.Event | None = None,
        *,
        count: int | None = None,
    ) -> list[float | None]:
        """Get a complete array whose every page was received at or after ``after``.

        Invalid elements are None. ``count`` (elements the pack has) overrides the
        description's; with neither, the page count is learned from one cycle of traffic.
        Raises BmsTimeout naming the missing pages if the array is not complete within
        ``timeout_s`` (wall clock), BmsWaitAborted if ``abort`` is set meanwhile.
        """
        if role in self._sources:
            return self._sources_snapshot(self._sources[role], after, timeout_s, abort, count)
        array = self._arrays.get(role)
        if array is None:
            raise BmsError(f"the BMS description maps no multiplexed array for {role!r}")
        per_page = array.ref.per_page

        def expected() -> range | None:
            if count is not None:
                return range(math.ceil(count / per_page))
            return array.expected_pages()

        def missing() -> list[int] | None:
            pages = expected()
            if pages is None:
                return None
            return [p for p in pages if p not in array.pages or array.pages[p][0] < after]

        def ready() -> list[float | None] | None:
            gone = missing()
            pages = expected()
            if gone is None or gone or pages is None:
                return None
            values = [v for p in pages for v in array.values(p)]
            return values if count is None else values[:count]

        def why() -> str:
            ref = array.ref
            gone = missing()
            if gone is None:
                return (
                    f"{role}: no full cycle of {ref.message} seen yet, so its page count is "
                    f"unknown (give count in the BMS description or the step)"
                )
            return (
                f"{role} incomplete: page(s) {_spans(gone)} of {ref.message} "
                f"({ref.multiplexer}) not received since t={after:.3f} s on {self._channel}"
            )

        return self._wait(ready, timeout_s, abort, why)

    cell_snapshot = snapshot

    def _sources_snapshot(
        self,
        sources: _SourcesState,
        after: float,
        timeout_s: float,
        abort: threading.Event | None,
        count: int | None,
    ) -> list[float | None]:
        ref = sources.ref
        if count is not None and count > len(ref.elements):
            raise BmsError(
                f"{ref.role}: {count} elements asked for, the BMS description maps "
                f"{len(ref.elements)}"
            )

        def missing() -> list[int]:
            return [i for i, got in enumerate(sources.values) if got is None or got[0] < after]

        def ready() -> list[float | None] | None:
            if missing():
                return None
            values = [got[1] for got in sources.values if got is not None]
            return values if count is None else values[:count]

        def why() -> str:
            gone = missing()
            names = ", ".join(str(ref.elements[i]) for i in gone[:3])
            more = f" and {len(gone) - 3} more" if len(gone) > 3 else ""
            return (
                f"{ref.role} incomplete: element(s) {_spans(gone)} ({names}{more}) not "
                f"received since t={after:.3f} s on {self._channel}"
            )

        return self._wait(ready, timeout_s, abort, why)

    def _wait(
        self,
        ready: Callable[[], _T | None],
        timeout_s: float,
        abort: threading.Event | None,
        why: Callable[[], str],
    ) -> _T:
        if self._pacer is not None:
            return self._paced_wait(self._pacer, ready, timeout_s, abort, why)
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                result = ready()
                if result is not None:
                    return result
                self._check_wait(abort, why)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BmsTimeout(f"after {timeout_s:g} s: {why()}")
                if abort is not None:
                    remaining = min(remaining, _ABORT_POLL_S)
                self._waiting += 1
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiting -= 1

    def _paced_wait(
        self,
        pacer: Pacer,
        ready: Callable[[], _T | None],
        timeout_s: float,
        abort: threading.Event | None,
        why: Callable[[], str],
    ) -> _T:
        # The frames of a step of the pacer have been received when step() returns, so
        # looking once per step is exact. step() runs without self._cond held.
        deadline = pacer.now() + timeout_s
        wall_deadline = time.monotonic() + timeout_s + WALL_BOUND_S
        while True:
            with self._cond:
                result = ready()
                if result is not None:
                    return result
                self._check_wait(abort, why)
                if pacer.now() >= deadline or time.monotonic() > wall_deadline:
                    raise BmsTimeout(f"after {timeout_s:g} s: {why()}")
            pacer.step(deadline)

    def _check_wait(self, abort: threading.Event | None, why: Callable[[], str]) -> None:
        if self._closed:
            raise BmsError(f"the BMS monitor is closed; {why()}")
        if abort is not None and abort.is_set():
            raise BmsWaitAborted(f"aborted while waiting: {why()}")

    # --- health --------------------------------------------------------------------------------

    def _is_stale(self, state: _MessageState, now: float) -> bool:
        if state.cycle_s is None:
            return False
        last = state.last_rx if state.last_rx is not None else self._started
        return now - last > self.stale_factor * state.cycle_s

    def stale_messages(self) -> list[str]:
        """Name every mapped message with no frame for more than stale_factor × its cycle."""
        now = self._now()
        with self._cond:
            return sorted(s.name for s in self._by_name.values() if self._is_stale(s, now))

    @property
    def frames_received(self) -> int:
        """Count the frames of mapped messages received so far."""
        with self._cond:
            return sum(s.frames for s in self._by_name.values())

    def silent(self) -> bool:
        """Return whether the BMS has stopped sending: every mapped message with a known cycle
        is stale (False when none has one, or before a cycle has passed since the start)."""
        now = self._now()
        with self._cond:
            timed = [s for s in self._by_name.values() if s.cycle_s is not None]
            return bool(timed) and all(self._is_stale(s, now) for s in timed)

    def status(self) -> dict[str, MessageStatus]:
        """Report frames, last receive time, staleness and error counts per message."""
        now = self._now()
        with self._cond:
            return {
                s.name: MessageStatus(
                    name=s.name,
                    frame_id=int(s.message.frame_id),
                    cycle_s=s.cycle_s,
                    frames=s.frames,
                    last_received=s.last_rx,
                    stale=self._is_stale(s, now),
                    decode_errors=s.decode_errors,
                    alive_violations=s.alive_violations,
                )
                for s in self._by_name.values()
            }

    def decode_errors(self) -> dict[str, int]:
        """Count frames of each mapped message that could not be decoded."""
        with self._cond:
            return {s.name: s.decode_errors for s in self._by_name.values()}

    def alive_violations(self) -> dict[str, int]:
        """Count alive-counter steps other than +1 (mod 2^bits) per message that has one."""
        with self._cond:
            return {s.name: s.alive_violations for s in self._by_name.values() if s.alive}

    def periods(self, since: float | None = None) -> dict[str, PeriodStats]:
        """Measure each message's frame spacing over the frames received at or after ``since``."""
        start = -math.inf if since is None else since
        with self._cond:
            times = {s.name: [t for t in s.times if t >= start] for s in self._by_name.values()}
            cycles = {s.name: s.cycle_s for s in self._by_name.values()}
        out = {}
        for name, stamps in times.items():
            gaps = [b - a for a, b in itertools.pairwise(stamps)]
            out[name] = PeriodStats(
                message=name,
                frames=len(stamps),
                expected_s=cycles[name],
                mean_s=statistics.fmean(gaps) if gaps else None,
                jitter_s=statistics.pstdev(gaps) if gaps else None,
                min_s=min(gaps) if gaps else None,
                max_s=max(gaps) if gaps else None,
            )
        return out
