"""A small UDS (ISO 14229-1) server over ISO-TP for simulated ECUs (udsoncan has no server side).

The server owns the generic parts: the ISO-TP stack (an ``isotp.NotifierBasedCanStack`` on a
``can.Notifier`` shared with everything else that reads the bus), sessions with the S3 timeout,
SecurityAccess with attempt counting and lockout, request parsing, length checks, the order of
negative response codes, the suppress-positive-response bit and responsePending (0x78). What
the ECU knows — its DIDs, routines and DTCs — comes from a
:class:`~drivers.sim.uds_app.DiagnosticApplication`.

Services: DiagnosticSessionControl 0x10 (0x01 default, 0x03 extended), ECUReset 0x11 (0x01),
ClearDiagnosticInformation 0x14, ReadDTCInformation 0x19 (0x02 by status mask),
ReadDataByIdentifier 0x22 (several DIDs per request), SecurityAccess 0x27 (one level),
WriteDataByIdentifier 0x2E, RoutineControl 0x31 (0x01 start, 0x02 stop, 0x03 results),
TesterPresent 0x3E. 0x27, 0x2E and 0x31 answer 0x7F in the default session; 0x2E and 0x31
need the level unlocked (0x33). Checks run in the ISO order: length, then the identifier
(0x31), then security (0x33), then the data (0x13 length, 0x31 range, 0x22 conditions).

Times: S3 and the security lockout delay run on ``timer``, which must be the clock of the
tester's TesterPresent keeper: wall time by default, as for a real tester's background
keeper. Under a lockstep clock (``scheduler``) on python-can's virtual bus they run on its
virtual time, as the station's keeper does there: it is an actor of that clock, and a jump
stops where its keep-alive is due, so a 600 s rest in one step keeps the session, while a
lockout ends once its delay has passed in virtual time. That keeper sends ``3E 80`` with no
answer, so nothing would make the clock wait while the server's threads receive it, and
they might do so some moves later. So the server takes a single-frame ``3E 80`` off the
wire as it arrives, on the sender's thread (:func:`take_on_arrival`, as an ECU's CAN driver
might in its receive interrupt): S3 is checked and restarted at the virtual time the tester
sent it, whatever the machine's load, and no thread of the server wakes for it. Every other
request reaches the server thread through the ISO-TP stack and is handled while the tester
waits for its answer, with virtual time standing still. The 0x78 repeat interval is
``time.monotonic`` (except in lockstep, below), because the client's P2* is. What a routine
does (a precharge) runs on the application's own clock.

Under a lockstep virtual clock (``scheduler``, see :mod:`drivers.sim.clock`) a pending
routine is polled by that clock as it moves (every ``poll_interval_s`` of virtual time), not
by the server thread, and the 0x78 repeat runs on virtual time too; every response is sent
with a blocking ISO-TP send, so it is on the bus when the server (or the clock) moves on.
The server thread still answers requests as they come: the tester waits for those answers
while virtual time stands still, so the wall-clock ISO-TP timeouts (flow control, consecutive
frames) are the lockstep wall bound then, not a real bus's 1 s. With nothing to poll the
thread wakes only every :data:`LOCKSTEP_IDLE_S` of wall time (to notice a stop or a silenced
ECU), not every ``poll_interval_s``: every idle wake-up takes the interpreter lock from the
thread that is moving the clock.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import can
import isotp
from can.interfaces import virtual

from drivers.bms.pacer import WALL_BOUND_S
from drivers.sim.bms_security import SecurityAlgorithm
from drivers.sim.clock import Scheduler
from drivers.sim.uds_app import DiagnosticApplication, NegativeResponse, Nrc, Pending

log = logging.getLogger(__name__)


DEFAULT_SESSION = 0x01
EXTENDED_SESSION = 0x03

#: ISO-TP parameters of the server: padded to 8 bytes with 0xCC, no STmin, no block limit.
ISOTP_PARAMS: dict[str, Any] = {
    "stmin": 0,
    "blocksize": 0,
    "tx_data_length": 8,
    "tx_data_min_length": 8,
    "tx_padding": 0xCC,
    "rx_flowcontrol_timeout": 1000,
    "rx_consecutive_frame_timeout": 1000,
    "blocking_send": False,
}
#: Under a lockstep clock the tester answers while virtual time stands still, so its flow
#: control and consecutive frames are waited for up to the wall bound of every lockstep
#: hand-off (:data:`~drivers.bms.pacer.WALL_BOUND_S`), not a real bus's 1 s: how long they
#: take in wall time says how busy the machine is.
_LOCKSTEP_ISOTP_PARAMS: dict[str, Any] = {
    "rx_flowcontrol_timeout": round(WALL_BOUND_S * 1000),
    "rx_consecutive_frame_timeout": round(WALL_BOUND_S * 1000),
}

_LOCKSTEP_SEND_TIMEOUT_S = 2 * WALL_BOUND_S
"""Wall-clock bound of a blocking send (a tester that stopped reading must not hang us);
beyond the flow-control bound, so that a late flow control is waited for, not cut short."""
LOCKSTEP_IDLE_S = 0.05
"""How long the server thread waits for a request under a lockstep clock (wall time)."""

_SUPPRESS = 0x80
_KEEP_ALIVE_FRAME = bytes([0x02, 0x3E, _SUPPRESS])
"""A single frame of two bytes: TesterPresent, no answer wanted."""
_WITH_SUBFUNCTION = {0x10, 0x11, 0x27, 0x31, 0x3E}


class UdsServer:
    """A UDS server answering ``request_id`` on ``response_id`` for ``app``.

    ``bus``/``notifier`` carry the ISO-TP frames; the notifier may be shared. ``timer`` is
    the clock of the protocol timers in s (see the module docstring). ``algorithm``
    computes the key of security level ``security_level``
    (seed sub-function 2·level−1). Wrong keys: NRC 0x35, the ``max_attempts``-th 0x36, then
    0x37 for ``lockout_s``. The non-default session falls back after ``s3_timeout_s`` without a
    request. ``p2_ms``/``p2_star_ms`` are announced in the session response. ``seed`` makes the
    security seeds reproducible. ``scheduler``: a lockstep virtual clock that polls pending
    routines (the server is then one of its actors). :meth:`start` runs the server thread,
    :meth:`close` stops it.
    """

    def __init__(
        self,
        bus: can.BusABC,
        notifier: can.Notifier,
        app: DiagnosticApplication,
        *,
        algorithm: SecurityAlgorithm,
        timer: Callable[[], float] | None = None,
        request_id: int = 0x7E0,
        response_id: int = 0x7E8,
        security_level: int = 1,
        max_attempts: int = 3,
        lockout_s: float = 10.0,
        s3_timeout_s: float = 5.0,
        p2_ms: int = 50,
        p2_star_ms: int = 5000,
        pending_repeat_s: float = 2.0,
        dtc_availability_mask: int = 0xFF,
        poll_interval_s: float = 0.005,
        seed: int = 0,
        scheduler: Scheduler | None = None,
    ) -> None:
        self._app = app
        self._request_id = request_id
        # Under a lockstep clock on a virtual bus, the protocol timers run on its time, and
        # keep-alives are taken off the wire as they arrive (see the module docstring).
        lockstep_bus = (
            bus
            if timer is None and scheduler is not None and isinstance(bus, virtual.VirtualBus)
            else None
        )
        if timer is None:
            timer = scheduler.now if scheduler is not None and lockstep_bus else time.monotonic
        self._timer = timer
        self._algorithm = algorithm
        self._seed_level = 2 * security_level - 1
        self._max_attempts = max_attempts
        self._lockout_s = lockout_s
        self._s3_s = s3_timeout_s
        self._p2_ms = p2_ms
        self._p2_star_ms = p2_star_ms
        self._pending_repeat_s = pending_repeat_s
        self._dtc_mask = dtc_availability_mask
        self._poll_s = poll_interval_s
        self._rng = random.Random(seed)
        address = isotp.Address(
            isotp.AddressingMode.Normal_11bits, txid=response_id, rxid=request_id
        )
        # isotp logs every frame's payload at DEBUG, keys included: keep its logger at INFO.
        stack_logger = f"{__name__}.isotp"
        logging.getLogger(stack_logger).setLevel(logging.INFO)
        self._stack = isotp.NotifierBasedCanStack(
            bus,
            notifier,
            address=address,
            params={
                **ISOTP_PARAMS,
                **(_LOCKSTEP_ISOTP_PARAMS if scheduler is not None else {}),
                "logger_name": stack_logger,
                "blocking_send": scheduler is not None,
            },
            read_timeout=0.02,
        )
        self._stack_running = False
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session = DEFAULT_SESSION
        self._unlocked = False
        self._last_request = timer()
        self._seed: bytes | None = None
        self._failed_attempts = 0
        self._locked_until = -float("inf")
        self._pending: tuple[bytes, Pending] | None = None
        self._pending_sent_at = 0.0
        self._scheduler = scheduler
        self._pending_clock: Callable[[], float] = (
            scheduler.now if scheduler is not None else time.monotonic
        )
        self._pending_due: float | None = None
        self._services: dict[int, Callable[[bytes], bytes | tuple[bytes, Pending]]] = {
            0x10: self._session_control,
            0x11: self._ecu_reset,
            0x14: self._clear_dtcs,
            0x19: self._read_dtc_information,
            0x22: self._read_data,
            0x27: self._security_access,
            0x2E: self._write_data,
            0x31: self._routine_control,
            0x3E: self._tester_present,
        }
        if lockstep_bus is not None:
            take_on_arrival(lockstep_bus, self._keep_alive)

    # --- state ----------------------------------------------------------------------------

    # The properties take no lock (the server thread holds it while the ECU works, and the
    # ECU may wait for a circuit lock that the caller holds).

    @property
    def session(self) -> int:
        """Get the active session (0x01 default, 0x03 extended), after the S3 check."""
        return DEFAULT_SESSION if self._s3_expired() else self._session

    @property
    def unlocked(self) -> bool:
        """Get whether the security level is unlocked."""
        return self._unlocked and not self._s3_expired()

    def _s3_expired(self, now: float | None = None) -> bool:
        idle_s = (self._timer() if now is None else now) - self._last_request
        return self._session != DEFAULT_SESSION and self._pending is None and idle_s > self._s3_s

    def _to_default(self) -> None:
        self._session = DEFAULT_SESSION
        self._unlocked = False
        self._seed = None

    def _check_s3(self, now: float | None = None) -> None:
        if self._s3_expired(now):
            self._to_default()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the server thread (ISO-TP starts with it unless the ECU is silent)."""
        if self._thread is not None:
            raise RuntimeError("UDS server already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="uds-server", daemon=True)
        self._thread.start()
        if self._scheduler is not None:
            self._scheduler.add_actor(self)

    def close(self) -> None:
        """Stop the server thread and the ISO-TP stack."""
        if self._scheduler is not None:
            self._scheduler.remove_actor(self)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        self._set_stack_running(False)

    def _set_stack_running(self, running: bool) -> None:
        if running and not self._stack_running:
            self._stack.start()
        elif not running and self._stack_running:
            self._stack.stop()
        self._stack_running = running

    def _keep_alive(self, msg: can.Message) -> bool:
        """Take a single-frame ``3E 80`` as it arrives, on the sender's thread; return
        whether it was taken (anything else goes on to the bus's queue and the stack)."""
        if msg.arbitration_id != self._request_id or msg.data[:3] != _KEEP_ALIVE_FRAME:
            return False
        if not self._stack_running or self._pending is not None:
            return False  # deaf, or busy: the stack's path loses it or answers it busy
        # Never wait for the lock here: the server thread may hold it while still working on
        # a request the tester gave up on, and wait for the pack's circuit, whose lock the
        # sender may hold. That keep-alive then takes the stack's path, as every other does.
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if self._pending is not None:
                return False
            now = self._timer()
            self._check_s3(now)
            self._last_request = now
        finally:
            self._lock.release()
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._app.online():
                # Deaf and mute: no flow control, no answers, requests are lost.
                self._set_stack_running(False)
                with self._lock:
                    self._pending = None
                self._stop.wait(self._poll_s)
                continue
            self._set_stack_running(True)
            idle_s = LOCKSTEP_IDLE_S if self._scheduler is not None else self._poll_s
            payload = self._stack.recv(block=True, timeout=idle_s)
            if payload is not None and self._app.online():  # silence may start meanwhile
                response = self.handle(bytes(payload))
                if response is not None:
                    self._send(response)
            if self._scheduler is not None:
                continue  # the clock polls pending routines (run_due)
            final = self._service_pending()
            if final is not None:
                self._stack.send(final)

    def next_due(self) -> float | None:
        """Get when the pending routine is polled next (the lockstep actor's interface)."""
        with self._lock:
            return self._pending_due if self._pending is not None else None

    def run_due(self, now: float) -> None:
        """Poll the pending routine if it is due at ``now``; send its answer if it has one."""
        if self._pending is None:
            # Nearly every move: nothing pending, and no lock taken to see it. A routine
            # that starts meanwhile (handle(), under the lock) is not due at this move
            # anyway: its first poll is a poll period after its start.
            return
        with self._lock:
            if self._pending is None or self._pending_due is None or now < self._pending_due:
                return
            self._pending_due = now + self._poll_s
            final = self._service_pending()
        if final is not None and self._stack_running:
            self._send(final)

    def _send(self, payload: bytes) -> None:
        try:
            self._stack.send(payload, send_timeout=_LOCKSTEP_SEND_TIMEOUT_S)
        except isotp.BlockingSendFailure as err:  # the tester stopped listening
            log.debug("UDS response not sent: %s", err)

    def _service_pending(self) -> bytes | None:
        with self._lock:
            if self._pending is None:
                return None
            prefix, pending = self._pending
            nrc: int | None = None
            try:
                status = pending.poll()
            except NegativeResponse as err:
                nrc = err.nrc
            except Exception:
                log.exception("pending UDS routine failed")
                nrc = Nrc.GENERAL_REJECT
            if nrc is not None:
                self._pending = None
                self._last_request = self._timer()
                return bytes([0x7F, prefix[0] - 0x40, nrc])
            if status is None:
                if self._pending_clock() - self._pending_sent_at >= self._pending_repeat_s:
                    self._pending_sent_at = self._pending_clock()
                    return bytes([0x7F, prefix[0] - 0x40, Nrc.RESPONSE_PENDING])
                return None
            self._pending = None
            self._last_request = self._timer()
            return prefix + status

    # --- dispatch -------------------------------------------------------------------------

    def handle(self, request: bytes) -> bytes | None:
        """Process one request and return the response to send (``None``: send nothing)."""
        if not request:
            return None
        sid = request[0]
        with self._lock:
            self._check_s3()
            self._last_request = self._timer()
            if self._pending is not None:
                return bytes([0x7F, sid, Nrc.BUSY_REPEAT_REQUEST])
            handler = self._services.get(sid)
            try:
                if handler is None:
                    raise NegativeResponse(Nrc.SERVICE_NOT_SUPPORTED)
                result = handler(request)
            except NegativeResponse as err:
                return bytes([0x7F, sid, err.nrc])
            except Exception:
                log.exception("UDS handler for service 0x%02X failed", sid)
                return bytes([0x7F, sid, Nrc.GENERAL_REJECT])
            if isinstance(result, tuple):
                prefix, pending = result
                self._pending = (prefix, pending)
                self._pending_sent_at = self._pending_clock()
                self._pending_due = self._pending_sent_at + self._poll_s
                return bytes([0x7F, sid, Nrc.RESPONSE_PENDING])
            suppress = sid in _WITH_SUBFUNCTION and len(request) > 1 and request[1] & _SUPPRESS
            return None if suppress else result

    @staticmethod
    def _length(request: bytes, minimum: int, exact: bool = False) -> None:
        if len(request) < minimum or (exact and len(request) != minimum):
            raise NegativeResponse(Nrc.INCORRECT_LENGTH)

    def _require_extended(self) -> None:
        if self._session == DEFAULT_SESSION:
            raise NegativeResponse(Nrc.SERVICE_NOT_SUPPORTED_IN_SESSION)

    def _require_unlocked(self) -> None:
        if not self._unlocked:
            raise NegativeResponse(Nrc.SECURITY_ACCESS_DENIED)

    # --- services -------------------------------------------------------------------------

    def _session_control(self, request: bytes) -> bytes:
        self._length(request, 2, exact=True)
        session = request[1] & 0x7F
        if session not in (DEFAULT_SESSION, EXTENDED_SESSION):
            raise NegativeResponse(Nrc.SUBFUNCTION_NOT_SUPPORTED)
        if not (session == DEFAULT_SESSION == self._session):
            self._to_default()  # any session change relocks security
        self._session = session
        p2_star = self._p2_star_ms // 10
        return bytes([0x50, session]) + self._p2_ms.to_bytes(2, "big") + p2_star.to_bytes(2, "big")

    def _ecu_reset(self, request: bytes) -> bytes | tuple[bytes, Pending]:
        self._length(request, 2, exact=True)
        if request[1] & 0x7F != 0x01:
            raise NegativeResponse(Nrc.SUBFUNCTION_NOT_SUPPORTED)
        # The reset happens "after" the answer: the answer is already built, nothing reads
        # the old state in between.
        self._to_default()
        self._app.ecu_reset()
        return bytes([0x51, 0x01])

    def _clear_dtcs(self, request: bytes) -> bytes:
        self._length(request, 4, exact=True)
        self._app.clear_dtcs(int.from_bytes(request[1:4], "big"))
        return bytes([0x54])

    def _read_dtc_information(self, request: bytes) -> bytes:
        self._length(request, 2)
        if request[1] != 0x02:
            raise NegativeResponse(Nrc.SUBFUNCTION_NOT_SUPPORTED)
        self._length(request, 3, exact=True)
        mask = request[2]
        records = b"".join(
            code.to_bytes(3, "big") + bytes([status])
            for code, status in self._app.read_dtcs()
            if status & mask & self._dtc_mask
        )
        return bytes([0x59, 0x02, self._dtc_mask]) + records

    def _read_data(self, request: bytes) -> bytes:
        if len(request) < 3 or len(request) % 2 == 0:
            raise NegativeResponse(Nrc.INCORRECT_LENGTH)
        response = bytearray([0x62])
        for i in range(1, len(request), 2):
            did = int.from_bytes(request[i : i + 2], "big")
            data = self._app.read_did(did)
            if data is None:
                raise NegativeResponse(Nrc.REQUEST_OUT_OF_RANGE, f"unknown DID 0x{did:04X}")
            response += did.to_bytes(2, "big") + data
        if len(response) > 4095:
            raise NegativeResponse(Nrc.INCORRECT_LENGTH, "response too long")
        return bytes(response)

    def _security_access(self, request: bytes) -> bytes:
        self._require_extended()
        self._length(request, 2)
        sub = request[1] & 0x7F
        if sub == self._seed_level:
            self._length(request, 2, exact=True)
            if self._timer() < self._locked_until:
                raise NegativeResponse(Nrc.DELAY_NOT_EXPIRED)
            if self._unlocked:
                return bytes([0x67, sub, 0, 0, 0, 0])
            self._seed = self._rng.randrange(1, 1 << 32).to_bytes(4, "big")
            return bytes([0x67, sub]) + self._seed
        if sub == self._seed_level + 1:
            self._length(request, 3)
            if self._timer() < self._locked_until:
                raise NegativeResponse(Nrc.DELAY_NOT_EXPIRED)
            if self._seed is None:
                raise NegativeResponse(Nrc.REQUEST_SEQUENCE_ERROR)
            expected = self._algorithm(self._seed)
            self._length(request, 2 + len(expected), exact=True)  # not counted as an attempt
            self._seed = None
            if request[2:] == expected:
                self._unlocked = True
                self._failed_attempts = 0
                return bytes([0x67, sub])
            self._failed_attempts += 1
            if self._failed_attempts >= self._max_attempts:
                self._failed_attempts = 0
                self._locked_until = self._timer() + self._lockout_s
                raise NegativeResponse(Nrc.EXCEEDED_ATTEMPTS)
            raise NegativeResponse(Nrc.INVALID_KEY)
        raise NegativeResponse(Nrc.SUBFUNCTION_NOT_SUPPORTED)

    def _write_data(self, request: bytes) -> bytes:
        self._require_extended()
        self._length(request, 4)
        did = int.from_bytes(request[1:3], "big")
        length = self._app.writable_did_length(did)
        if length is None:
            raise NegativeResponse(Nrc.REQUEST_OUT_OF_RANGE, f"DID 0x{did:04X} not writable")
        self._require_unlocked()
        self._length(request, 3 + length, exact=True)
        self._app.write_did(did, request[3:])
        return bytes([0x6E]) + request[1:3]

    def _routine_control(self, request: bytes) -> bytes | tuple[bytes, Pending]:
        self._require_extended()
        self._length(request, 4)
        control = request[1] & 0x7F
        if control not in (0x01, 0x02, 0x03):
            raise NegativeResponse(Nrc.SUBFUNCTION_NOT_SUPPORTED)
        rid = int.from_bytes(request[2:4], "big")
        if not self._app.has_routine(rid):
            raise NegativeResponse(Nrc.REQUEST_OUT_OF_RANGE, f"unknown routine 0x{rid:04X}")
        self._require_unlocked()
        prefix = bytes([0x71, control]) + request[2:4]
        result = self._app.routine_control(control, rid, request[4:])
        if isinstance(result, Pending):
            status = result.poll()
            return (prefix, result) if status is None else prefix + status
        return prefix + result

    def _tester_present(self, request: bytes) -> bytes:
        self._length(request, 2, exact=True)
        if request[1] & 0x7F != 0x00:
            raise NegativeResponse(Nrc.SUBFUNCTION_NOT_SUPPORTED)
        return bytes([0x7E, 0x00])


class _ArrivalQueue(queue.Queue[can.Message]):
    """A virtual bus's receive queue that offers each frame to ``take`` as it arrives."""

    def __init__(self, take: Callable[[can.Message], bool], maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self._take = take

    def put(self, item: can.Message, block: bool = True, timeout: float | None = None) -> None:
        if not self._take(item):
            super().put(item, block, timeout)


def take_on_arrival(bus: virtual.VirtualBus, take: Callable[[can.Message], bool]) -> None:
    """Offer every frame ``bus`` receives to ``take`` as it arrives, on the sender's thread.

    python-can's virtual bus puts a copy of each frame sent into every other bus's queue, on
    the sender's thread; this bus's queue first calls ``take(frame)`` there, and queues the
    frame only if ``take`` returns False. Call it before anything receives from ``bus``.
    """
    with virtual.channels_lock:
        old = bus.queue
        offered = _ArrivalQueue(take, old.maxsize)
        while not old.empty():
            offered.put(old.get_nowait())
        bus.channel[next(i for i, q in enumerate(bus.channel) if q is old)] = offered
        bus.queue = offered
