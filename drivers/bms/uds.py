"""UDS (ISO 14229) client for the BMS over ISO-TP, sharing the bus with the cyclic frames.

:class:`UdsClient` runs ``isotp.NotifierBasedCanStack`` on the BMS's ``can.Notifier`` (a plain
``CanStack`` would compete with the notifier for ``bus.recv()`` and lose flow-control frames)
(on a :class:`~drivers.bms.lockstep.LockstepNotifier` each request is one in which the
notifier's thread receives: the answer comes from another thread) and times the requests
itself: P2 for the first answer, P2* after each 0x78 responsePending,
an overall bound per request. ``udsoncan`` builds the requests (its service classes know each
service's format); the answers are checked here, which costs a fraction of udsoncan's
``Client`` (it looks names up with ``inspect`` on every response). Frames are padded to 8
bytes with 0xCC; ISO-TP timeouts are whole ms.

Secrets: a SecurityAccess seed or key never appears in a log record, an exception text or
the UDS transcript (``27 02 <4 bytes redacted>``): payloads go through
:class:`~drivers.bms.isotp_link.IsoTpConnection`, which logs none and traces them redacted.

Time: every timeout is wall-clock. While a request waits for a routine's final answer after
0x78 responsePending the client steps the ``pacer``, if given (the station's lockstep virtual
clock), so that a simulated BMS can finish the routine in virtual time
(:mod:`drivers.bms.pacer`).

The TesterPresent keeper: in a non-default session the client sends TesterPresent every
``tester_present_interval_s``. Without a pacer a background thread sends ``3E 00`` on wall
time and checks the answer. Under a pacer the keeper is one of the clock's actors, on
virtual time like the simulated ECU's S3 timer: at the first move at least an interval after
its last keep-alive it sends ``3E 80`` (suppressPosRspMsgIndicationBit, as testers commonly
do) as one single frame from the moving thread. So its place among the move's frames never
depends on thread scheduling, and there is no answer to wait for: an exchange with the ECU's
threads costs ~0.8 ms of CPU, thousands of times in a 3 h discharge. The simulated ECU
takes the frame as it arrives, on the sender's thread, so S3 restarts at the virtual time it
was sent (:mod:`drivers.sim.uds_server`). The keeper is punctual
(:class:`~drivers.bms.pacer.PacedClock`): a jump stops at the latest half an interval after
it is due, so a 600 s rest in the extended session keeps the session, as on a real line. It
skips a move at which a request is under way: the ECU's S3 timer does not run while it works
on a request.

Under a pacer the first answer is not timed by P2: a simulated ECU answers while virtual time
stands still, so how long it takes in wall time says how busy the machine is, not whether
the ECU is there. A request then waits up to :data:`~drivers.bms.pacer.WALL_BOUND_S` for it,
as the pacer's other waits do, while the ECU is presumed to be there: until it has let a
request go unanswered and sent nothing since (no answer frame, no cyclic frame), or until
``traffic`` says that its cyclic frames have stopped. Then P2 applies again, so a silent BMS
is found as fast as on a real line (its first request costs the wall bound when nothing yet
shows that it is silent).
ISO-TP's flow-control and consecutive-frame timeouts get the same wall bound under a pacer.

Errors: a negative response raises BmsNegativeResponse (``nrc`` attribute; the text names the
service, the DID or RID and the NRC's ISO name), no answer raises BmsTimeout, anything else
the BMS gets wrong raises BmsError.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import can
from udsoncan.Request import Request
from udsoncan.services.ClearDiagnosticInformation import ClearDiagnosticInformation
from udsoncan.services.DiagnosticSessionControl import DiagnosticSessionControl
from udsoncan.services.ECUReset import ECUReset
from udsoncan.services.ReadDataByIdentifier import ReadDataByIdentifier
from udsoncan.services.ReadDTCInformation import ReadDTCInformation
from udsoncan.services.RoutineControl import RoutineControl
from udsoncan.services.SecurityAccess import SecurityAccess
from udsoncan.services.TesterPresent import TesterPresent
from udsoncan.services.WriteDataByIdentifier import WriteDataByIdentifier

from drivers.bms import redact
from drivers.bms.isotp_link import IsoTpConnection
from drivers.bms.lockstep import LockstepNotifier
from drivers.bms.nrc import describe_nrc
from drivers.bms.pacer import WALL_BOUND_S, PacedClock
from drivers.bms.security import SECURITY_ALGORITHMS
from drivers.errors import BmsError, BmsNegativeResponse, BmsTimeout
from drivers.scpi.transport import Tracer

__all__ = ["SECURITY_ALGORITHMS", "SESSIONS", "Dtc", "UdsClient"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

SESSIONS: dict[str, int] = {"default": 0x01, "programming": 0x02, "extended": 0x03}
"""DiagnosticSessionControl sub-functions by name."""

_ROUTINE_CONTROL = {"start": 0x01, "stop": 0x02, "results": 0x03}

RESPONSE_PENDING = 0x78
"""The NRC with which a server asks for more time (requestCorrectlyReceived-ResponsePending)."""


def _why_wrong(reply: bytes, sid: int) -> str:
    """Say what is wrong with ``reply`` to service ``sid`` (neither its answer nor a NRC)."""
    if not reply:
        return "an empty answer"
    if reply[0] == 0x7F:
        if len(reply) < 3:
            return f"an incomplete negative response {reply.hex(' ').upper()}"
        return f"a negative response to service 0x{reply[1]:02X}, not 0x{sid:02X}"
    return f"an answer of service 0x{reply[0] - 0x40 & 0xFF:02X}, not 0x{sid:02X}"


@dataclass(frozen=True)
class Dtc:
    """One diagnostic trouble code: 3-byte ``code`` and its ISO 14229 status byte."""

    code: int
    status: int

    def __str__(self) -> str:
        return f"0x{self.code:06X} (status 0x{self.status:02X})"


class BmsTraffic(Protocol):
    """The BMS's cyclic frames as the client's monitor sees them."""

    @property
    def frames_received(self) -> int:
        """Count the frames received so far."""
        ...

    def silent(self) -> bool:
        """Return whether the BMS has stopped sending."""
        ...


class UdsClient:
    """UDS client for one BMS on a bus that a ``can.Notifier`` already reads.

    ``request_id``/``response_id`` are the physical CAN IDs; ``dids`` and ``routines`` map
    the description's names to identifiers so steps can say ``read_did("serial")``.
    ``security_algorithm`` names an entry of SECURITY_ALGORITHMS. ``p2_timeout_s`` bounds the
    first answer, ``p2_star_timeout_s`` each wait after 0x78, ``request_timeout_s`` the whole
    request. In a non-default session a keeper sends TesterPresent every
    ``tester_present_interval_s``. ``tracer(resource, direction, text)`` receives every
    request and response as hex (seeds and keys redacted); ``on_tx`` every CAN frame sent.
    ``pacer`` is stepped while a request made from a caller's thread waits after 0x78, makes
    the first answer's wait a wall bound, not P2, until the ECU seems absent, and drives the
    keeper;
    ``traffic`` (the cyclic frames' monitor) tells whether the BMS is still sending (see the
    module docstring).
    """

    def __init__(
        self,
        bus: can.BusABC,
        notifier: can.Notifier,
        *,
        request_id: int,
        response_id: int,
        dids: Mapping[str, int] | None = None,
        routines: Mapping[str, int] | None = None,
        security_level: int = 1,
        security_algorithm: str = "eol-demo-v1",
        p2_timeout_s: float = 0.05,
        p2_star_timeout_s: float = 5.0,
        request_timeout_s: float = 30.0,
        tester_present_interval_s: float = 2.0,
        tracer: Tracer | None = None,
        on_tx: Callable[[can.Message], None] | None = None,
        pacer: PacedClock | None = None,
        traffic: BmsTraffic | None = None,
    ) -> None:
        self._pacer = pacer
        self._traffic = traffic
        # Under a pacer: what the ECU had sent when a request went unanswered (None: none did).
        self._missed_at: tuple[int, int] | None = None
        self.dids = dict(dids or {})
        self.routines = dict(routines or {})
        self.security_level = security_level
        self.security_algorithm = security_algorithm
        self.tester_present_interval_s = tester_present_interval_s
        self.resource = f"UDS 0x{request_id:03X}/0x{response_id:03X}"
        self._p2_ms = round(p2_timeout_s * 1000)
        self._tracer = tracer
        self._lock = threading.Lock()
        self._session = SESSIONS["default"]
        self._keeper: threading.Thread | None = None
        self._keeper_stop = threading.Event()
        self._clock_keeper: _ClockKeeper | None = None  # the keeper under a pacer
        self.keeper_failures = 0
        self._conn = IsoTpConnection(
            bus,
            notifier,
            request_id=request_id,
            response_id=response_id,
            trace=self._trace,
            on_tx=on_tx,
            logger_name=f"{__name__}.isotp",
            frame_timeout_s=WALL_BOUND_S if pacer is not None else 1.0,
        )
        self._p2_s = p2_timeout_s
        self._p2_star_s = p2_star_timeout_s
        self._request_timeout_s = request_timeout_s
        self._awaiting_answer: Callable[[], contextlib.AbstractContextManager[None]] = (
            notifier.expecting if isinstance(notifier, LockstepNotifier) else contextlib.nullcontext
        )

    # --- lifecycle -----------------------------------------------------------------------------

    def open(self) -> UdsClient:
        """Start the ISO-TP stack."""
        if not self._conn.is_open():
            self._conn.open()
        return self

    def close(self) -> None:
        """Stop the TesterPresent keeper and the ISO-TP stack."""
        self._stop_keeper()
        with self._lock:
            self._conn.close()

    def __enter__(self) -> UdsClient:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def session(self) -> int:
        """Return the diagnostic session the client believes the BMS is in."""
        return self._session

    @property
    def keeper_running(self) -> bool:
        """Return whether the TesterPresent keeper is running."""
        if self._clock_keeper is not None:
            return True
        return self._keeper is not None and self._keeper.is_alive()

    # --- services ------------------------------------------------------------------------------

    def change_session(self, session: str | int) -> None:
        """Switch the diagnostic session (``"default"``, ``"extended"`` or a number)."""
        if isinstance(session, str):
            if session not in SESSIONS:
                raise BmsError(f"unknown UDS session {session!r} (known: {', '.join(SESSIONS)})")
            number, name = SESSIONS[session], session
        else:
            number, name = session, f"0x{session:02X}"
        reply = self._request(
            DiagnosticSessionControl,
            f"DiagnosticSessionControl (0x10) to the {name} session",
            subfunction=number,
        )
        self._expect(reply[:1] == bytes([number]), "DiagnosticSessionControl", reply)
        self._session = number
        if number == SESSIONS["default"]:
            self._stop_keeper()
        else:
            self._start_keeper()

    def unlock(self, level: int | None = None) -> None:
        """Unlock SecurityAccess ``level`` (default: the description's) with the named algorithm."""
        level = self.security_level if level is None else level
        algorithm = SECURITY_ALGORITHMS.get(self.security_algorithm)
        if algorithm is None:
            raise BmsError(f"unknown security algorithm {self.security_algorithm!r}")
        reply = self._request(
            SecurityAccess,
            f"SecurityAccess (0x27) requestSeed for level {level}",
            subfunction=level,
            secret=True,
        )
        if reply[:1] != bytes([level]) or len(reply) < 2:
            raise BmsError(f"the BMS answered requestSeed for level {level} malformed")
        seed = bytes(reply[1:])
        if not any(seed):
            return  # an all-zero seed means "already unlocked"
        try:
            key = algorithm(seed)
        except Exception as err:
            # The algorithm's own message might quote the seed: report only its type.
            raise BmsError(
                f"security algorithm {self.security_algorithm!r} failed for level {level} "
                f"({type(err).__name__})"
            ) from None
        self._request(
            SecurityAccess,
            f"SecurityAccess (0x27) sendKey for level {level}",
            subfunction=level + 1,
            data=key,
            secret=True,
        )

    def read_did(self, did: str | int) -> bytes:
        """Read a data identifier (a name from the description, or a number)."""
        number, label = self._identifier(did, self.dids, "DID")
        reply = self._request(
            ReadDataByIdentifier,
            f"ReadDataByIdentifier (0x22) of {label}",
            data=number.to_bytes(2, "big"),
        )
        self._expect(reply[:2] == number.to_bytes(2, "big"), f"reading {label}", reply)
        return bytes(reply[2:])

    def read_did_text(self, did: str | int) -> str:
        """Read an ASCII data identifier, without trailing NUL, 0xFF or blank padding."""
        raw = self.read_did(did).rstrip(b"\x00\xff ")
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            _, label = self._identifier(did, self.dids, "DID")
            raise BmsError(f"{label} is not ASCII text: {raw.hex(' ').upper()}") from None

    def write_did(self, did: str | int, data: bytes) -> None:
        """Write a data identifier (needs the extended session and security access)."""
        number, label = self._identifier(did, self.dids, "DID")
        reply = self._request(
            WriteDataByIdentifier,
            f"WriteDataByIdentifier (0x2E) of {label}",
            data=number.to_bytes(2, "big") + bytes(data),
        )
        self._expect(reply[:2] == number.to_bytes(2, "big"), f"writing {label}", reply)

    def routine(self, rid: str | int, subfunction: str | int = "start", data: bytes = b"") -> bytes:
        """Start, stop or ask the results of a routine; return its status record."""
        number, label = self._identifier(rid, self.routines, "RID")
        if isinstance(subfunction, str):
            if subfunction not in _ROUTINE_CONTROL:
                raise BmsError(f"unknown routine control {subfunction!r} (start, stop, results)")
            sub = _ROUTINE_CONTROL[subfunction]
        else:
            sub = subfunction
        reply = self._request(
            RoutineControl,
            f"RoutineControl (0x31) {subfunction} of {label}",
            subfunction=sub,
            data=number.to_bytes(2, "big") + bytes(data),
        )
        echo = bytes([sub]) + number.to_bytes(2, "big")
        self._expect(reply[:3] == echo, f"routine {label}", reply)
        return bytes(reply[3:])

    def read_dtcs(self, mask: int = 0xFF) -> list[Dtc]:
        """Read the DTCs whose status matches ``mask`` (ReadDTCInformation 0x19 0x02)."""
        reply = self._request(
            ReadDTCInformation,
            f"ReadDTCInformation (0x19 0x02) with status mask 0x{mask:02X}",
            subfunction=0x02,
            data=bytes([mask]),
        )
        records = reply[2:]
        self._expect(reply[:1] == b"\x02" and len(records) % 4 == 0, "ReadDTCInformation", reply)
        return [
            Dtc(int.from_bytes(records[i : i + 3], "big"), records[i + 3])
            for i in range(0, len(records), 4)
        ]

    def clear_dtcs(self, group: int = 0xFFFFFF) -> None:
        """Clear the DTCs of ``group`` (all by default)."""
        self._request(
            ClearDiagnosticInformation,
            f"ClearDiagnosticInformation (0x14) of group 0x{group:06X}",
            data=group.to_bytes(3, "big"),
        )

    def ecu_reset(self, reset_type: int = 0x01) -> None:
        """Reset the BMS (hard reset by default); it comes back in the default session."""
        self._request(ECUReset, f"ECUReset (0x11 0x{reset_type:02X})", subfunction=reset_type)
        self._session = SESSIONS["default"]
        self._stop_keeper()

    def tester_present(self) -> None:
        """Tell the BMS a tester is still connected (keeps a non-default session open)."""
        self._request(TesterPresent, "TesterPresent (0x3E)", subfunction=0x00)

    def _keeper_tester_present(self) -> None:
        # From the keeper thread: never move the station's clock from the background.
        self._request(TesterPresent, "TesterPresent (0x3E)", subfunction=0x00, paced=False)

    def _keep_alive_on_the_clock(self) -> None:
        """Send TesterPresent without an answer, now (the keeper under a pacer).

        On the thread moving the clock, inside a move. A request under way holds the lock,
        here (a routine's final answer awaited after 0x78: waiting for the lock would never
        end) or on another thread; the ECU's S3 timer does not run while it works on it, so
        the move is skipped.
        """
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._conn.is_open():
                self._conn.send_single_frame(_KEEP_ALIVE)
        except can.CanError as err:
            self.keeper_failures += 1
            log.warning("TesterPresent to the BMS failed: %s", err)
        finally:
            self._lock.release()

    # --- plumbing ------------------------------------------------------------------------------

    def _identifier(self, ident: str | int, names: Mapping[str, int], kind: str) -> tuple[int, str]:
        if isinstance(ident, str):
            if ident not in names:
                known = ", ".join(sorted(names)) or "none"
                raise BmsError(f"the BMS description names no {kind} {ident!r} (known: {known})")
            return names[ident], f"{kind} 0x{names[ident]:04X} ({ident})"
        label = next((n for n, v in names.items() if v == ident), None)
        return ident, f"{kind} 0x{ident:04X}" + (f" ({label})" if label else "")

    def _trace(self, direction: str, payload: bytes) -> None:
        if self._tracer is not None:
            self._tracer(self.resource, direction, redact.describe(payload))

    @staticmethod
    def _expect(ok: bool, what: str, reply: bytes) -> None:
        if not ok:
            raise BmsError(f"the BMS answered {what} unexpectedly: {reply.hex(' ').upper()}")

    def _request(
        self,
        service: Any,
        what: str,
        *,
        subfunction: int | None = None,
        data: bytes = b"",
        secret: bool = False,
        paced: bool = True,
    ) -> bytes:
        request = Request(service=service, subfunction=subfunction, data=data)
        with self._lock:
            if not self._conn.is_open():
                raise BmsError(f"{self.resource} is closed; cannot send {what}")
            # Set under the lock: the connection waits for this request only.
            self._conn.pacer = self._pacer if paced else None
            with self._awaiting_answer():
                return self._exchange(request.get_payload(), what, secret)

    def _exchange(self, payload: bytes, what: str, secret: bool) -> bytes:
        """Send ``payload``; return the positive answer's data (lock held)."""
        sid = payload[0]
        self._conn.empty_rxqueue()
        self._conn.send(payload)
        deadline = time.monotonic() + self._request_timeout_s
        timeout = self._first_answer_s()
        pending = False  # the ECU answered 0x78 responsePending
        while True:
            left = deadline - time.monotonic()
            reply = self._conn.wait_frame(timeout=max(0.0, min(timeout, left)))
            if reply is None:
                if pending:
                    bound = f"P2* {self._p2_star_s * 1000:.0f} ms after responsePending"
                elif timeout == self._p2_s:
                    bound = f"P2 {self._p2_ms} ms"
                else:
                    bound = f"{timeout:g} s of wall time for a simulated ECU"
                if not pending and self._pacer is not None:
                    self._missed_at = self._heard()
                raise BmsTimeout(
                    f"the BMS did not answer {what} on {self.resource} in time "
                    f"({bound}; check the CAN wiring, bitrate and IDs)"
                )
            if reply[:1] == b"\x7f" and len(reply) >= 3 and reply[1] == sid:
                nrc = reply[2]
                if nrc == RESPONSE_PENDING:
                    timeout = self._p2_star_s
                    pending = True
                    continue
                raise BmsNegativeResponse(f"the BMS refused {what}: {describe_nrc(nrc)}", nrc=nrc)
            if reply[:1] == bytes([sid + 0x40]):
                return reply[1:]
            detail = "" if secret else f": {_why_wrong(reply, sid)}"
            raise BmsError(f"the BMS answered {what} wrongly{detail}")

    def _first_answer_s(self) -> float:
        """How long to wait for a request's first answer (see the module docstring)."""
        if self._pacer is None:
            return self._p2_s
        if self._missed_at is not None and self._missed_at == self._heard():
            return self._p2_s  # it let a request go unanswered and has sent nothing since
        if self._traffic is not None and self._traffic.silent():
            return self._p2_s
        return max(self._p2_s, WALL_BOUND_S)

    def _heard(self) -> tuple[int, int]:
        """Count the frames the ECU has sent: answers, and cyclic frames if monitored."""
        cyclic = self._traffic.frames_received if self._traffic is not None else 0
        return self._conn.frames_received, cyclic

    def _start_keeper(self) -> None:
        if self.keeper_running:
            return
        if self._pacer is not None:
            keeper = _ClockKeeper(
                self._keep_alive_on_the_clock, self._pacer.now(), self.tester_present_interval_s
            )
            self._clock_keeper = keeper
            self._pacer.add_actor(keeper, punctual=True)
            return
        self._keeper_stop.clear()
        self._keeper = threading.Thread(
            target=self._keep_session, name=f"TesterPresent {self.resource}", daemon=True
        )
        self._keeper.start()

    def _stop_keeper(self) -> None:
        clock_keeper, self._clock_keeper = self._clock_keeper, None
        if clock_keeper is not None and self._pacer is not None:
            self._pacer.remove_actor(clock_keeper)
        self._keeper_stop.set()
        keeper, self._keeper = self._keeper, None
        if keeper is not None and keeper is not threading.current_thread():
            keeper.join(timeout=10.0)

    def _keep_session(self) -> None:
        while not self._keeper_stop.wait(self.tester_present_interval_s):
            try:
                self._keeper_tester_present()
            except BmsError as err:
                self.keeper_failures += 1
                log.warning("TesterPresent to the BMS failed: %s", err)


_KEEP_ALIVE = bytes([0x3E, 0x80])
"""TesterPresent with suppressPosRspMsgIndicationBit: the ECU sends no answer."""


class _ClockKeeper:
    """The TesterPresent keeper as a punctual actor of the client's lockstep clock.

    It acts at the first move at least ``interval_s`` after its last keep-alive (or the
    session's start), so it rides on the moves that come anyway; it is due at the latest
    half an interval later, where the clock makes a move if none came (S3 is 5 s against a
    2 s interval).
    """

    def __init__(self, send: Callable[[], None], now: float, interval_s: float) -> None:
        self._send = send
        self._interval_s = interval_s
        self._after = now + interval_s  # the next keep-alive goes at the first move from here

    def next_due(self) -> float | None:
        return self._after + self._interval_s / 2

    def run_due(self, now: float) -> None:
        if now < self._after:
            return
        self._after = now + self._interval_s
        self._send()
