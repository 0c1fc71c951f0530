"""The BMS role: what a step asks of the pack's BMS, over one CAN bus.

:class:`Bms` opens the bus from the station config (any python-can interface: socketcan,
pcan, vector, kvaser, virtual, udp_multicast…), runs one ``can.Notifier`` for it and hangs
three listeners on that notifier: the :class:`~drivers.bms.signals.SignalMonitor` (cyclic
values), the ISO-TP stack of the :class:`~drivers.bms.uds.UdsClient` (diagnostics) and the
:class:`~drivers.bms.trace.CanTrace` (the run's raw CAN traffic as ASC or BLF).

Readings are SI in the station sign convention (pack current > 0 = discharge). A value whose
message has gone stale raises BmsTimeout rather than returning an old number.

Under the station's lockstep virtual clock pass it as ``pacer``: a call that waits for frames
or for a routine's final answer then steps that clock to the simulated BMS's next frame or
poll, as real time moves on a real line (:mod:`drivers.bms.pacer`), and register
:meth:`Bms.settle` as the clock's settle hook, so that a frame sent at ``t`` has been
received before anything reads at ``t``. On python-can's in-process ``virtual`` bus the
notifier is then a :class:`~drivers.bms.lockstep.LockstepNotifier`: the thread that moves
the clock receives and dispatches the simulated BMS's frames itself.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import can
from can.interfaces.virtual import VirtualBus

from drivers.bms.description import BmsDescription
from drivers.bms.lockstep import LockstepNotifier
from drivers.bms.pacer import PacedClock
from drivers.bms.redact import FrameRedactor
from drivers.bms.signal_map import STATE_MEANINGS
from drivers.bms.signals import MessageStatus, PeriodStats, Reading, SignalMonitor
from drivers.bms.trace import CanTrace
from drivers.bms.uds import UdsClient
from drivers.errors import BmsError
from drivers.scpi.transport import Tracer

_NOTIFIER_POLL_S = 0.1
"""How long the notifier's thread blocks in ``bus.recv``; bounds how long close() takes."""


def open_bus(config: Mapping[str, Any]) -> can.BusABC:
    """Open a python-can bus from ``interface``, ``channel``, ``bitrate`` and extra options."""
    if "interface" not in config:
        raise BmsError(
            "the CAN bus config needs 'interface' (socketcan, pcan, vector, kvaser, virtual, "
            "udp_multicast, …) and usually 'channel' and 'bitrate'"
        )
    where = f"CAN interface {config['interface']!r} channel {config.get('channel')!r}"
    try:
        return can.Bus(**config)
    except (can.CanError, OSError, ValueError, TypeError, ImportError, NotImplementedError) as err:
        raise BmsError(f"cannot open {where}: {err}; check the adapter and its driver") from err


@dataclass(frozen=True)
class State:
    """An enumerated BMS state: the raw value, its DBC label (None if the DBC has none) and
    what the description says it means ("open", "closed", "precharge", "welded"; None when
    the description does not say).

    ``str()`` is the meaning in capitals (``OPEN``, ``CLOSED``…) whatever the BMS's own label
    (``CTR_OPEN``), so steps compare meanings; an unmapped raw value shows its label or number.
    """

    raw: int
    label: str | None
    meaning: str | None = None

    def __str__(self) -> str:
        if self.meaning is not None:
            return self.meaning.upper()
        return self.label if self.label is not None else str(self.raw)


class Bms:
    """The pack's BMS as one role: cyclic values, diagnostics (``uds``) and a CAN trace.

    ``bus`` is a python-can bus config (``{"interface": "pcan", "channel": "PCAN_USBBUS1",
    "bitrate": 500000}``; extra keys go to ``can.Bus``) or an open bus, which the caller keeps
    ownership of. ``now`` is the station clock that stamps received frames. ``read_timeout_s``
    is the default wait for a first value; the UDS timings and ``uds_tracer`` go to
    :class:`UdsClient`. ``pacer`` is stepped while a call waits for the BMS
    (:mod:`drivers.bms.pacer`; ``None`` for a real or scaled clock). Close it (or use
    ``with``): that stops every thread it started.
    """

    def __init__(
        self,
        description: BmsDescription,
        bus: Mapping[str, Any] | can.BusABC,
        *,
        now: Callable[[], float] = time.monotonic,
        stale_factor: float = 3.0,
        read_timeout_s: float = 1.0,
        p2_timeout_s: float = 0.05,
        p2_star_timeout_s: float = 5.0,
        tester_present_interval_s: float = 2.0,
        uds_tracer: Tracer | None = None,
        pacer: PacedClock | None = None,
    ) -> None:
        self.description = description
        self.read_timeout_s = read_timeout_s
        self._now = now
        self._owns_bus = not isinstance(bus, can.BusABC)
        self._bus = open_bus(bus) if isinstance(bus, Mapping) else bus
        self._notifier: can.Notifier | None = None
        self._uds: UdsClient | None = None
        self._closed = False
        try:
            self.monitor = SignalMonitor(
                self._bus,
                description.db,
                description.signal_map(),
                now=now,
                stale_factor=stale_factor,
                pacer=pacer,
                cycle_s=description.cycle_s,
            )
            uds = description.uds
            ids = (uds.request_id, uds.response_id) if uds is not None else ()
            self._trace = CanTrace(FrameRedactor(ids) if ids else None)
            listeners = [self.monitor, self._trace]
            try:
                if pacer is not None and isinstance(self._bus, VirtualBus):
                    self._notifier = LockstepNotifier(self._bus, listeners, _NOTIFIER_POLL_S)
                else:
                    self._notifier = can.Notifier(self._bus, listeners, timeout=_NOTIFIER_POLL_S)
            except ValueError as err:  # the bus already has a notifier
                raise BmsError(f"cannot listen to the BMS bus: {err}") from err
            if uds is not None:
                self._uds = UdsClient(
                    self._bus,
                    self._notifier,
                    request_id=uds.request_id,
                    response_id=uds.response_id,
                    dids=description.dids,
                    routines=description.routines,
                    security_level=uds.security_level,
                    security_algorithm=uds.security_algorithm,
                    p2_timeout_s=p2_timeout_s,
                    p2_star_timeout_s=p2_star_timeout_s,
                    tester_present_interval_s=tester_present_interval_s,
                    tracer=uds_tracer,
                    on_tx=self._trace.record_tx,
                    pacer=pacer,
                    traffic=self.monitor,
                ).open()
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_files(
        cls, description: str | Path, bus: Mapping[str, Any] | can.BusABC, **options: Any
    ) -> Bms:
        """Load the description file at ``description`` and open the BMS on ``bus``."""
        return cls(BmsDescription.load(description), bus, **options)

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop UDS, the trace, the notifier thread and (if it opened it) the bus."""
        if self._closed:
            return
        self._closed = True
        if self._uds is not None:
            self._uds.close()
        if self._notifier is not None:
            self._notifier.stop()  # also stops the monitor and finishes any trace
        if self._owns_bus:
            self._bus.shutdown()

    def __enter__(self) -> Bms:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def uds(self) -> UdsClient:
        """Return the UDS client; BmsError if the description has no [uds] table."""
        if self._uds is None:
            raise BmsError(f"{self.description.path} has no [uds] table: no diagnostics")
        return self._uds

    # --- lockstep hand-off -----------------------------------------------------------------------

    def settle(self) -> None:
        """Receive and dispatch, on the calling thread, every frame queued for the client.

        The lockstep hand-off (:mod:`drivers.bms.pacer`): a virtual clock calls this after
        its simulated actors have acted, so what they sent at ``t`` has reached the monitor,
        the trace and the ISO-TP stack before anyone reads at ``t``. Only on python-can's
        ``virtual`` bus with a pacer (a :class:`~drivers.bms.lockstep.LockstepNotifier`)
        is there anything to do; on any other bus, or once closed, this returns at once.
        """
        notifier = self._notifier
        if not self._closed and isinstance(notifier, LockstepNotifier):
            notifier.drain()

    # --- trace ---------------------------------------------------------------------------------

    def start_trace(self, path: str | Path) -> None:
        """Write all CAN traffic from now on to ``path`` (``.asc`` or ``.blf``)."""
        self._trace.open(path)

    def stop_trace(self) -> Path | None:
        """Finish the CAN trace and return its path (None if none was running)."""
        return self._trace.close()

    @property
    def trace_failure(self) -> str | None:
        """Why the CAN trace could not be written (a full disk), or None."""
        return self._trace.failure

    # --- cyclic values -------------------------------------------------------------------------

    def reading(
        self,
        role: str,
        *,
        after: float | None = None,
        timeout_s: float | None = None,
        abort: threading.Event | None = None,
    ) -> Reading:
        """Get a role's latest reading (value, raw, label, time); see SignalMonitor.reading.

        Raises BmsNotAvailable when the BMS sends the role's "not available" value (an
        enumerated role such as ``contactor_state`` returns it: its meaning is then unknown).
        """
        wait = self.read_timeout_s if timeout_s is None else timeout_s
        got = self.monitor.reading(role, after=after, timeout_s=wait, abort=abort)
        if role not in STATE_MEANINGS:
            got.number()
        return got

    def value(
        self, role: str, *, after: float | None = None, timeout_s: float | None = None
    ) -> float:
        """Get a role's latest value in SI units (BmsNotAvailable: the BMS sent none)."""
        wait = self.read_timeout_s if timeout_s is None else timeout_s
        return self.monitor.value(role, after=after, timeout_s=wait)

    def values(
        self, roles: Sequence[str], *, after: float | None = None, timeout_s: float | None = None
    ) -> list[float]:
        """Get several roles' latest values in SI units, in order, as :meth:`value` gives
        each (read in one look when all are there; see SignalMonitor.values)."""
        wait = self.read_timeout_s if timeout_s is None else timeout_s
        return self.monitor.values(roles, after=after, timeout_s=wait)

    def pack_voltage(self, *, after: float | None = None, timeout_s: float | None = None) -> float:
        """Get the pack voltage the BMS reports, in V."""
        return self.value("pack_voltage", after=after, timeout_s=timeout_s)

    def pack_current(self, *, after: float | None = None, timeout_s: float | None = None) -> float:
        """Get the pack current the BMS reports, in A (> 0 discharge, < 0 charge)."""
        return self.value("pack_current", after=after, timeout_s=timeout_s)

    def bus_voltage(self, *, after: float | None = None, timeout_s: float | None = None) -> float:
        """Get the HV bus voltage (behind the contactors) the BMS reports, in V."""
        return self.value("bus_voltage", after=after, timeout_s=timeout_s)

    def soc(self, *, after: float | None = None, timeout_s: float | None = None) -> float:
        """Get the state of charge the BMS reports, in % (0–100)."""
        return self.value("soc", after=after, timeout_s=timeout_s)

    def contactor_state(
        self, *, after: float | None = None, timeout_s: float | None = None
    ) -> State:
        """Get the contactor state: raw value, DBC label and meaning from the description."""
        got = self.reading("contactor_state", after=after, timeout_s=timeout_s)
        return State(got.raw, got.label, self.description.meaning("contactor_state", got.raw))

    def hvil_closed(self, *, after: float | None = None, timeout_s: float | None = None) -> bool:
        """Return whether the BMS reports the HV interlock loop closed.

        True only for a raw value the description declares ``closed``; BmsNotAvailable when
        the BMS sends a "not available" value (neither open nor closed is known).
        """
        got = self.reading("hvil_state", after=after, timeout_s=timeout_s)
        meaning = self.description.meaning("hvil_state", got.raw)
        if meaning is None:
            got.number()
        return meaning == "closed"

    def insulation_ohm(
        self, *, after: float | None = None, timeout_s: float | None = None
    ) -> float:
        """Get the BMS's insulation resistance in Ω.

        ``math.inf`` only for a raw value the description declares ``[above_range]``;
        BmsNotAvailable for a "not available" one (never a number).
        """
        got = self.reading("insulation", after=after, timeout_s=timeout_s)
        return math.inf if got.above_range else got.number()

    def cell_voltages(
        self,
        after: float,
        timeout_s: float = 5.0,
        abort: threading.Event | None = None,
        *,
        count: int | None = None,
    ) -> list[float | None]:
        """Get every cell voltage in V, from pages received at/after ``after``; None = invalid."""
        return self.monitor.snapshot("cell_voltages", after, timeout_s, abort, count=count)

    def cell_temperatures(
        self,
        after: float,
        timeout_s: float = 5.0,
        abort: threading.Event | None = None,
        *,
        count: int | None = None,
    ) -> list[float | None]:
        """Get every cell temperature in °C from pages received at/after ``after``.

        ``count`` is the number of sensors when the description leaves it open.
        """
        return self.monitor.snapshot("cell_temperatures", after, timeout_s, abort, count=count)

    def fault_flags(self, *, timeout_s: float | None = None) -> dict[str, bool]:
        """Get every fault flag the description names (True = fault active)."""
        return {
            name: self.reading(f"fault.{name}", timeout_s=timeout_s).raw != 0
            for name in self.description.faults
        }

    # --- safe state ----------------------------------------------------------------------------

    def safe_state(self) -> None:
        """Open the pack's contactors, unless the latest fresh BMS frame reports them OPEN.

        Opening takes the description's ``open_contactors`` routine (extended session,
        security unlocked); afterwards a frame measured after the routine's answer must
        report them OPEN. Raises BmsError (or BmsTimeout, BmsNegativeResponse) when the BMS
        does not answer, refuses, or still reports them not OPEN afterwards (welded), and
        when they are not OPEN and the description names no routine to open them. A
        description that maps no ``contactor_state`` and names no routine leaves the station
        nothing to command or read back: nothing is done (see :meth:`is_safe`).

        The already-OPEN case does not wait for a new frame: :meth:`is_safe`, which the
        engine calls next, is the read-back, and waiting twice would double the time to a
        confirmed safe state.
        """
        mapped = "contactor_state" in self.monitor.roles()
        if mapped and str(self.reading("contactor_state").label).upper() == "OPEN":
            return
        if self._uds is None or "open_contactors" not in self.description.routines:
            if not mapped:
                return
            raise BmsError(
                f"the BMS does not report its contactors OPEN and {self.description.path} "
                "names no open_contactors routine to open them; open them by hand"
            )
        self._uds.change_session("extended")
        self._uds.unlock()
        self._uds.routine("open_contactors")
        if mapped and not self._reports_open(frames=2):
            raise BmsError(
                f"the BMS still reports the contactors {self.contactor_state()} after the "
                "open_contactors routine; do not touch the HV connector"
            )

    def is_safe(self) -> bool:
        """Return whether a frame received after this call began reports the contactors OPEN.

        Without ``contactor_state`` in the description there is nothing to read back: True,
        and :meth:`safe_state` rests on the ``open_contactors`` routine's positive answer
        (if the description names one; the station closes them only through its routines).
        """
        if "contactor_state" not in self.monitor.roles():
            return True
        return self._reports_open(frames=1)

    def _reports_open(self, *, frames: int) -> bool:
        """Wait for ``frames`` contactor-state frames received after now; the last decides.

        One frame received after the call began is at most one cycle old, and the station
        sends nothing that could close the contactors while it reads back. Right after
        commanding them open, take two: the first may have been measured before the
        command took effect.
        """
        after = math.nextafter(self._now(), math.inf)
        got = self.reading("contactor_state", after=after)
        for _ in range(frames - 1):
            got = self.reading("contactor_state", after=math.nextafter(got.received_at, math.inf))
        return self.description.meaning("contactor_state", got.raw) == "open"

    # --- health --------------------------------------------------------------------------------

    def alive(self) -> bool:
        """Return whether every mapped message has arrived and none is stale (False before
        the first frame of each)."""
        if self._closed or (self._notifier is not None and self._notifier.exception):
            return False
        status = self.monitor.status().values()
        return all(s.frames > 0 and not s.stale for s in status)

    def stale_messages(self) -> list[str]:
        """Name every mapped message that is missing or late (> stale_factor × cycle)."""
        return self.monitor.stale_messages()

    def status(self) -> dict[str, MessageStatus]:
        """Report frames, staleness, decode errors and alive-counter violations per message."""
        return self.monitor.status()

    def periods(self, since: float | None = None) -> dict[str, PeriodStats]:
        """Measure each message's observed period and jitter since ``since``."""
        return self.monitor.periods(since)
