"""The simulated reference BMS of the virtual bench: cyclic CAN frames and UDS diagnostics.

It follows the reference BMS spec: the cyclic messages of ``sequences/bms/eol_reference.dbc``
(encoded by functions written once per page from the DBC, :mod:`drivers.bms.encoder`), and a
UDS server over ISO-TP (:mod:`drivers.sim.uds_server`) with the DIDs, routines and DTCs of
:mod:`drivers.sim.bms_diag`. Values are the pack's truth seen through the BMS's measurement
error and calibration (:mod:`drivers.sim.bms_model`).

**Time.** Frames go out at their DBC cycle times on the clock ``now`` (any ``() -> s``, which
may be virtual and jump). :meth:`SimulatedBms.tick` sends what is due at ``now()``: at most one
frame per message per call, so a jump of an hour sends one frame of each, not a burst; the
multiplexed messages send the next page each time. Missed slots are skipped and the schedule
stays on its grid. Under a lockstep virtual clock (``scheduler``, see
:mod:`drivers.sim.clock`) the BMS is an actor of that clock: it sends each frame at its
slot's virtual time, as the clock reaches it, and its UDS server finishes routines the same
way; no thread of its own polls anything. Otherwise a driver thread calls
:meth:`~SimulatedBms.tick` every ``tick_interval_s`` of wall time (for real or scaled time);
with ``tick_interval_s=None`` and no scheduler the user ticks.

The physics — what the BMS measures, how long a precharge takes and when it times out — runs
on ``now``. The UDS protocol timers (S3 session timeout, security lockout delay) run on
``uds_timer``: by default the scheduler's virtual time under a lockstep clock, where the
station's TesterPresent keeper runs on that time too (a punctual actor: a jump stops where
its keep-alive is due, so a 600 s rest in one step keeps the session), else wall time
(:mod:`drivers.sim.uds_server`).

A client under a virtual clock that the engine moves only between steps must move the clock
while it waits for frames or for a routine's final answer (the station's BMS client steps its
``pacer`` for that, :mod:`drivers.bms.pacer`); the BMS only reacts to ``now``.

**Threads.** :meth:`~SimulatedBms.start` starts the driver thread (or registers with the
``scheduler``) and the UDS server (whose thread, or the scheduler, also finishes pending
routines, such as a precharge, when the clock moves on);
:meth:`~SimulatedBms.close` stops both, the ISO-TP stack and the notifier if the BMS created
it. The bus itself belongs to the caller.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import can
import cantools

import sequences
from drivers.bms.encoder import MessageEncoder, RowFunction
from drivers.sim.bms_calibration import BmsNvm, Calibration, FrontEndError
from drivers.sim.bms_diag import BmsDiagnostics, pack_identity
from drivers.sim.bms_model import STATUS_AVAILABILITY_MASK, BmsFaults, BmsModel, BmsReading
from drivers.sim.bms_security import SecurityAlgorithm, get_algorithm
from drivers.sim.clock import Scheduler
from drivers.sim.electrical import PackCircuit
from drivers.sim.pack import Pack
from drivers.sim.uds_server import UdsServer

log = logging.getLogger(__name__)

#: The reference DBC shipped with the station.
REFERENCE_DBC = sequences.path("bms", "eol_reference.dbc")

PACK_STATUS_ID = 0x100
STATE_ID = 0x101
LIMITS_ID = 0x102
CELL_VOLTAGES_ID = 0x110
CELL_TEMPERATURES_ID = 0x111
CELLS_PER_PAGE = 3
SENSORS_PER_PAGE = 6
_SLOT_EPS = 1e-9


@dataclass
class BmsUnit:
    """What belongs to one pack's BMS: its firmware state (NVM, calibration, faults, error)
    and its identity. The bench keeps one per serial; :meth:`SimulatedBms.mount` swaps them."""

    model: BmsModel
    identity: dict[str, str]


_Row = tuple[float, ...]
"""The physical values of a page's signals, in the order its :class:`_Content` names them."""


@dataclass(frozen=True)
class _Content:
    """What a cyclic message's signals are made of: the names of all but the alive counter
    and, for a reading and a page, their values in that order."""

    signals: tuple[str, ...]
    values: Callable[[BmsReading, int], _Row]


@dataclass(slots=True)
class _Schedule:
    """One cyclic message: its period, the encoding of each page it sends (one for a message
    without a multiplexer; each saturating, and taking the content's values, then the alive
    counter) and what its signals are made of."""

    frame_id: int
    period_s: float
    encoders: tuple[RowFunction, ...]
    values: Callable[[BmsReading, int], _Row]
    at: float = 0.0  # the next slot's time after the origin: a whole number of periods
    counter: int = 0
    page: int = 0
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = len(self.encoders)


class SimulatedBms:
    """The reference BMS on ``bus``, measuring ``pack``.

    ``dbc_path`` is the reference DBC; ``now`` the BMS clock in s. On the bench pass
    ``circuit`` (the pack's :class:`~drivers.sim.electrical.PackCircuit`): the BMS syncs it
    before reading, measures the bus at its terminals and switches the contactors inside
    ``circuit.locked()``. Without a circuit, ``sync`` is called before the pack is read. ``seed``
    draws the measurement error, the noise and the security seeds. ``identity`` overrides keys
    of :func:`~drivers.sim.bms_diag.pack_identity` (``part_number``, ``sw_version``,
    ``serial``, ``hw_number``, ``supplier_sw_version``). ``security`` is an algorithm name
    from :data:`~drivers.sim.bms_security.ALGORITHMS` or a callable. ``faults``, ``nvm`` and
    ``error`` default to no faults, a factory-fresh NVM and an error drawn from ``seed``.
    ``notifier``: a ``can.Notifier`` on ``bus`` to share (default: the one already on ``bus``,
    or a new one). ``tick_interval_s``: wall-clock period of the driver thread (``None``: no
    thread, call :meth:`tick`). ``scheduler``: a lockstep virtual clock that drives the
    frames and the UDS routines instead of any thread (``now`` is then its time; the
    driver thread is not started). ``uds_timer``: the clock of the UDS S3 and lockout timers
    (default: the scheduler's time if there is one and ``bus`` is python-can's virtual
    bus, else wall time; tests pass a manual clock to expire them without sleeping).
    """

    def __init__(
        self,
        pack: Pack,
        bus: can.BusABC,
        *,
        dbc_path: str | Path = REFERENCE_DBC,
        now: Callable[[], float],
        sync: Callable[[], None] | None = None,
        circuit: PackCircuit | None = None,
        seed: int = 1,
        identity: Mapping[str, str] | None = None,
        security: str | SecurityAlgorithm = "eol-demo-v1",
        faults: BmsFaults | None = None,
        nvm: BmsNvm | None = None,
        error: FrontEndError | None = None,
        notifier: can.Notifier | None = None,
        tick_interval_s: float | None = 0.002,
        request_id: int = 0x7E0,
        response_id: int = 0x7E8,
        uds_timer: Callable[[], float] | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.pack = pack
        self._sync = sync
        self._circuit = circuit
        self.model = BmsModel(
            pack, seed=seed, sync=sync, circuit=circuit, error=error, faults=faults, nvm=nvm
        )
        spec = pack.spec
        ident = pack_identity(spec, seed)
        ident.update(identity or {})
        self.diagnostics = BmsDiagnostics(self.model, ident, now)
        self._algorithm = get_algorithm(security) if isinstance(security, str) else security
        self._bus = bus
        # A frame shared with every receiver (SentFrame) needs the same is_rx for all.
        self._share_frames = not getattr(bus, "receive_own_messages", False)
        self._now = now
        self._uds_timer = uds_timer
        self._seed = seed
        self._ids = (request_id, response_id)
        self._notifier = notifier
        self._own_notifier = False
        self._tick_s = tick_interval_s
        self._scheduler = scheduler
        db = cantools.database.load_file(str(dbc_path), strict=True)
        if not isinstance(db, cantools.database.can.Database):
            raise ValueError(f"{dbc_path}: not a CAN database")
        self.db = db
        cell_pages = math.ceil(spec.series / CELLS_PER_PAGE)
        temp_pages = math.ceil(len(self.model.groups) / SENSORS_PER_PAGE)
        self._schedules = [
            self._schedule(PACK_STATUS_ID, _PACK_STATUS),
            self._schedule(STATE_ID, _STATE),
            self._schedule(LIMITS_ID, _LIMITS),
            self._schedule(CELL_VOLTAGES_ID, _CELL_PAGE, cell_pages),
            self._schedule(CELL_TEMPERATURES_ID, _TEMPERATURE_PAGE, temp_pages),
        ]
        self._origin: float | None = None
        self._reading: BmsReading | None = None
        self._tick_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.uds: UdsServer | None = None

    def _schedule(self, frame_id: int, content: _Content, pages: int = 1) -> _Schedule:
        message = self.db.get_message_by_frame_id(frame_id)
        if not message.cycle_time:
            raise ValueError(f"DBC message 0x{frame_id:X} has no GenMsgCycleTime")
        period_s = message.cycle_time / 1000.0
        encoder = MessageEncoder(message)
        order = (*content.signals, "AliveCounter")
        if encoder.multiplexer is None:
            sent = [encoder.page()]
        else:
            try:
                sent = [encoder.page(page) for page in range(pages)]
            except ValueError as err:
                raise ValueError(f"{err}: this pack needs pages 0–{pages - 1}") from None
        # Saturated, as the BMS firmware clamps a value it cannot send. The counter is an
        # argument of its own, no row is built per frame, and raw: it is the tick's int 0–15.
        encoders = tuple(
            page.ordered(order).compiled(saturate=True, tail=1, raw_tail=True) for page in sent
        )
        return _Schedule(frame_id, period_s, encoders, content.values)

    # --- public state ---------------------------------------------------------------------

    @property
    def faults(self) -> BmsFaults:
        """Get the switchable BMS faults (set their attributes)."""
        return self.model.faults

    @property
    def nvm(self) -> BmsNvm:
        """Get the BMS's non-volatile memory (committed calibration, EOL data, DTCs)."""
        return self.model.nvm

    @property
    def calibration(self) -> Calibration:
        """Get the calibration in use (RAM; committed or not)."""
        return self.model.calibration

    @property
    def balancing_mask(self) -> int:
        """Get the cells being balanced (bit i = cell i)."""
        return self.model.balancing_mask

    def measure(self) -> BmsReading:
        """Measure now, as the next frames would report it."""
        return self.model.measure()

    # --- units: one BMS per pack on a long-lived bench ------------------------------------

    @property
    def unit(self) -> BmsUnit:
        """Get the BMS state of the pack now on the bench."""
        return BmsUnit(self.model, self.diagnostics.identity)

    def new_unit(self, pack: Pack, seed: int) -> BmsUnit:
        """Make a factory-fresh BMS for ``pack`` (error, noise and serial drawn from ``seed``).

        With a circuit, ``pack`` must already be on it (:meth:`PackCircuit.replace_pack`).
        """
        if pack.spec.series != self.pack.spec.series:
            raise ValueError("a unit on this bench must have the same number of cells")
        model = BmsModel(pack, seed=seed, sync=self._sync, circuit=self._circuit)
        return BmsUnit(model, pack_identity(pack.spec, seed))

    def mount(self, unit: BmsUnit) -> None:
        """Answer as ``unit`` from now on (frames, DIDs, routines, DTCs)."""
        with self._tick_lock:
            self.pack = unit.model.pack
            self.model = unit.model
            self.diagnostics.model = unit.model
            self.diagnostics.identity = dict(unit.identity)
            self._reading = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the UDS server and (unless ``tick_interval_s`` is None) the frame thread."""
        if self.uds is not None:
            raise RuntimeError("BMS already started")
        if self._notifier is None:
            existing = [n for n in can.Notifier.find_instances(self._bus) if not n.stopped]
            if existing:
                self._notifier = existing[0]
            else:
                self._notifier = can.Notifier(self._bus, [], timeout=0.05)
                self._own_notifier = True
        self.uds = UdsServer(
            self._bus,
            self._notifier,
            self.diagnostics,
            algorithm=self._algorithm,
            timer=self._uds_timer,
            request_id=self._ids[0],
            response_id=self._ids[1],
            dtc_availability_mask=STATUS_AVAILABILITY_MASK,
            seed=self._seed,
            scheduler=self._scheduler,
        )
        self.uds.start()
        with self._tick_lock:
            if self._origin is None:
                self._origin = self._now()
        if self._scheduler is not None:
            self._scheduler.add_actor(self)
        elif self._tick_s is not None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._drive, name="bms-frames", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the threads, the ISO-TP stack and the notifier the BMS created."""
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.remove_actor(self)
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        if self.uds is not None:
            self.uds.close()
            self.uds = None
        if self._own_notifier and self._notifier is not None:
            self._notifier.stop(timeout=5.0)
            self._notifier = None
            self._own_notifier = False

    def __enter__(self) -> SimulatedBms:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _drive(self) -> None:
        tick_s = self._tick_s if self._tick_s is not None else 0.002
        while not self._stop.wait(tick_s):
            self.tick()

    # --- cyclic frames --------------------------------------------------------------------

    def next_due(self) -> float | None:
        """Get the virtual time of the next frame slot (the lockstep actor's interface)."""
        with self._tick_lock:
            if self._origin is None:
                return None
            return self._origin + min(s.at for s in self._schedules)

    def run_due(self, now: float) -> None:
        """Send the frames due at ``now`` (called by the lockstep clock as it moves)."""
        self.tick()

    def tick(self) -> int:
        """Send the frames due at ``now()`` (at most one per message); return how many."""
        with self._tick_lock:
            t = self._now()
            if self._origin is None:
                self._origin = t
            origin = self._origin
            jobs = []
            whole = False  # a message without pages is due: its cycle is the measuring one
            for s in self._schedules:
                if t >= origin + s.at - _SLOT_EPS:
                    s.at = (math.floor((t - origin) / s.period_s + _SLOT_EPS) + 1) * s.period_s
                    page = s.page
                    jobs.append((s, page, s.counter))
                    if s.pages == 1:
                        whole = True
                    else:
                        s.page = (page + 1) % s.pages
                    s.counter = (s.counter + 1) & 15
            if not jobs:
                return 0
            if self.model.faults.silent:
                self._reading = None
                return 0
        # As a real BMS does, measure everything once per 100 ms cycle and send the 10/20 ms
        # pages from the latest measurement. Measured outside the tick lock: measuring syncs
        # the circuit, whose lock its holders may keep while calling tick().
        reading = self._reading
        if reading is None or whole:
            reading = self._reading = self.model.measure()
        # Encoded first, then sent in one burst: the receiver's thread wakes at the first
        # frame and would otherwise contend for the GIL while the others are encoded.
        if self._share_frames:
            frames: list[can.Message] = [
                SentFrame(s.frame_id, s.encoders[page](s.values(reading, page), counter))
                for s, page, counter in jobs
            ]
        else:
            frames = [self._frame(s, page, counter, reading) for s, page, counter in jobs]
        send = self._bus.send
        sent = 0
        for frame in frames:
            try:
                send(frame)
                sent += 1
            except can.CanError as err:
                log.debug("BMS frame 0x%X not sent: %s", frame.arbitration_id, err)
        return sent

    def _frame(
        self, schedule: _Schedule, page: int, counter: int, reading: BmsReading
    ) -> can.Message:
        """The frame of ``schedule``'s ``page`` with alive counter ``counter`` (what
        :meth:`tick` sends; it builds the shared frames inline, as this does)."""
        data = schedule.encoders[page](schedule.values(reading, page), counter)
        if self._share_frames:
            return SentFrame(schedule.frame_id, data)
        return can.Message(arbitration_id=schedule.frame_id, is_extended_id=False, data=data)


class SentFrame(can.Message):
    """A cyclic frame of the simulated BMS: built, sent once, never changed afterwards.

    python-can's virtual bus deep-copies every message it sends, one copy per receiving
    bus, so that a sender changing its message later cannot change what was received; it
    then sets the copy's timestamp, channel and ``is_rx``. Copying and building a
    can.Message were a third of a frame's cost on the lockstep bench. Nothing changes this
    frame after the send, and every receiving bus would get the same values in its copy, so
    the copy is the frame itself. The data are immutable bytes (any bus reads a buffer).
    The BMS's bus does not receive its own messages, so ``is_rx`` is True for every
    receiver.

    What is the same in every frame (a standard data frame, classic CAN) is a class
    attribute, which hides can.Message's slot of that name: reading it is reading the
    class's value, and writing it raises AttributeError, as nothing may write these. The
    constructor writes only the slots that differ per frame or that the bus writes at the
    send (``timestamp``, ``channel``, ``is_rx``), without can.Message's keyword handling.
    """

    __slots__ = ()

    # The frame kind, fixed for every frame (read-only: see the class docstring).
    is_extended_id = False
    is_remote_frame = False
    is_error_frame = False
    is_fd = False
    bitrate_switch = False
    error_state_indicator = False

    def __init__(self, arbitration_id: int, data: bytes) -> None:
        self.timestamp = 0.0
        self.arbitration_id = arbitration_id
        self.channel = None
        self.is_rx = True
        self.data = data  # type: ignore[assignment]
        self.dlc = len(data)

    def __deepcopy__(self, memo: dict[int, object] | None) -> SentFrame:
        return self


_CELL_SIGNALS = tuple(f"Cell{k}" for k in range(CELLS_PER_PAGE))
_SENSOR_SIGNALS = tuple(f"Temp{k}" for k in range(SENSORS_PER_PAGE))


def _cell_page(r: BmsReading, page: int) -> _Row:
    start = page * CELLS_PER_PAGE
    cells = r.cell_voltages_v[start : start + CELLS_PER_PAGE]
    invalid = r.cell_invalid[start : start + CELLS_PER_PAGE]
    if len(cells) == CELLS_PER_PAGE and True not in invalid:  # nearly every page
        return (*cells, 0)
    # Slots past the last cell: 0 V, invalid.
    absent = CELLS_PER_PAGE - len(cells)
    bits = sum(1 << k for k in range(CELLS_PER_PAGE) if k >= len(invalid) or invalid[k])
    return (*cells, *(0.0,) * absent, bits)


def _temperature_page(r: BmsReading, page: int) -> _Row:
    start = page * SENSORS_PER_PAGE
    temperatures = r.temperatures_c[start : start + SENSORS_PER_PAGE]
    if len(temperatures) == SENSORS_PER_PAGE:
        return temperatures
    # Raw 0 (-50 °C) past the last sensor; the message has no invalid bits.
    return (*temperatures, *(-50.0,) * (SENSORS_PER_PAGE - len(temperatures)))


def _pack_status(r: BmsReading, page: int) -> _Row:
    return (r.pack_voltage_v, r.pack_current_a, r.bus_voltage_v, r.soc_pct)


def _state(r: BmsReading, page: int) -> _Row:
    f = r.flags
    # The codes (IntEnums) and the bits (bools) as they are: the encoder takes them as ints.
    return (
        r.state,
        r.contactor,
        r.hvil_open,
        r.balancing,
        f.cell_ov,
        f.cell_uv,
        f.over_temp,
        f.over_current,
        f.insulation,
        f.sense_wire,
        f.ntc,
        f.precharge,
        r.insulation_ohm / 1000.0,  # saturates at 0xFFFF
        r.max_temperature_c,
        r.min_temperature_c,
        r.min_cell_index,
    )


def _limits(r: BmsReading, page: int) -> _Row:
    return (r.max_charge_current_a, r.max_discharge_current_a, r.max_cell_v, r.min_cell_v)


_PACK_STATUS = _Content(("PackVoltage", "PackCurrent", "BusVoltage", "SOC"), _pack_status)
_STATE = _Content(
    (
        "BmsState",
        "ContactorState",
        "HvilState",
        "BalancingActive",
        "FaultCellOV",
        "FaultCellUV",
        "FaultOverTemp",
        "FaultOverCurrent",
        "FaultInsulation",
        "FaultSenseWire",
        "FaultNtc",
        "FaultPrecharge",
        "InsulationResistance",
        "MaxCellTemp",
        "MinCellTemp",
        "MinCellIndex",
    ),
    _state,
)
_LIMITS = _Content(
    ("MaxChargeCurrent", "MaxDischargeCurrent", "MaxCellVoltage", "MinCellVoltage"), _limits
)
_CELL_PAGE = _Content((*_CELL_SIGNALS, "CellInvalid"), _cell_page)
_TEMPERATURE_PAGE = _Content(_SENSOR_SIGNALS, _temperature_page)
