"""The station as the screens see it: who is logged in, whether Start is allowed, the run.

``StationController`` owns the prepared run (engine, bench, store), the one
``EngineBridge``, the ``QtPrompter`` and a worker ``QThread`` on which ``engine.run``
executes. Widgets ask it and call it; they never touch the engine thread or a driver.
Every privileged action goes through ``ui.auth.authorize`` and lands in the audit table.

Whether a run may start is the core's start gate (``station.gate``, through the engine);
the controller adds only login, "a test is running" and the engineers' overrides, which
reach the engine as ``overrides=`` (blocker key → who and why) and are logged in the run
record as WARNINGs; the station config is never altered.

The screens ask the gate at every refresh (each keystroke of a scan, each change of the
session), and asking it reads the results store and may call the MES. So the screens
take a kept answer (``cached=True``): kept until anything the controller knows of changes
(``changed``, ``healthChanged``: the session, a run starting or ending, overrides,
releases, the interlocks) and at most ``GATE_TTL_S`` for what changes on its own (a
calibration expiring, a file edited on disk, the MES). START asks the gate afresh, and the
engine asks it again before the run.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from station import masters
from station.clock import line_member
from station.config import StationConfig
from station.errors import RunRefused, StationError
from station.events import RunStarted
from station.gate import PACK_KINDS, Blocker, GateVerdict
from station.masters import MasterState
from station.outcomes import PACK_VERDICTS, Outcome
from station.results import RunResult
from station.runner import PreparedRun, SimFault, inject_fault, sim_faults
from ui import gating
from ui.auth import Action, Session, UserStore, authorize
from ui.bridge import EngineBridge
from ui.pacing import Pacer
from ui.prompter import QtPrompter
from ui.releases import FileToRelease, Releases, files_of

_log = logging.getLogger(__name__)
SHUTDOWN_S = 10.0
NOT_SAFE = "NOT safe for HV"
"""How the interlock reading starts when the door or e-stop is open (START is blocked)."""
INTERLOCK_POLL_MS = 1000
VERDICT_OUTCOMES = PACK_VERDICTS
GATE_TTL_S = 5.0
"""The longest the screens show a start-gate answer (or the masters' state) without asking
again, for what changes without the controller knowing (calibration dates, the MES)."""
_T = TypeVar("_T")


class RunWorker(QObject):
    """Runs ``engine.run`` on the worker thread and reports how it ended."""

    finished = Signal(object)  # RunResult
    refused = Signal(str)
    crashed = Signal(str)

    def __init__(self, engine: Any) -> None:
        super().__init__()
        self.engine = engine

    @Slot(str, str, str, object)
    def run(self, serial: str, part: str, operator: str, overrides: dict[str, str]) -> None:
        try:
            # On a line of nests this thread takes part in the line's clock for the run.
            with line_member(self.engine.clock):
                result = self.engine.run(serial, part or None, operator, overrides=overrides)
        except RunRefused as err:
            self.refused.emit(str(err))
        except StationError as err:
            self.crashed.emit(str(err))
        except Exception as err:  # the traceback goes to the log, one sentence to the screen
            _log.exception("engine.run failed")
            self.crashed.emit(f"station software error: {type(err).__name__}: {err}")
        else:
            self.finished.emit(result)


class StationController(QObject):
    """The state behind the screens. ``sim`` selects engineering mode by default.

    ``demo_speed`` > 0 paces a virtual-time run to that many times real time
    (``ui.pacing``); 0 runs at the engine's own pace.
    """

    changed = Signal()  # session, running, overrides, releases or production mode changed
    runDone = Signal(object)  # RunResult
    runRefused = Signal(str)
    runCrashed = Signal(str)
    interlocksRead = Signal(str)  # from the poll thread
    healthChanged = Signal()  # on the GUI thread
    _startRequested = Signal(str, str, str, object)

    def __init__(
        self, prepared: PreparedRun, *, sim: bool = False, demo_speed: float = 0.0
    ) -> None:
        super().__init__()
        self.prepared = prepared
        self.engine = prepared.engine
        self.sequence = prepared.sequence
        self.store = prepared.store
        self.sim = sim
        self.bridge = EngineBridge(self)
        self.engine.listeners.append(self.bridge)
        # After the bridge: the screen gets each event before the pacer holds the run back.
        self.pacer = Pacer(prepared.clock.now, demo_speed) if demo_speed > 0 else None
        if self.pacer is not None:
            self.engine.listeners.append(self.pacer)
        self.prompter = QtPrompter(self)
        self.engine.prompter = self.prompter
        self.users = UserStore(prepared.db_path, self.store.audit)
        self.releases = Releases(
            self.store, self.store.audit, default_production=self.engine.default_production
        )
        self.session: Session | None = None
        self.overrides = gating.Overrides()
        self._pack_in_question: tuple[str, str | None] = ("", None)
        self.running = False
        self.last_result: RunResult | None = None
        self._overrides_used: list[gating.Override] = []
        self.injected: list[str] = []  # virtual-bench faults switched on from the UI
        # Kept answers (see the module docstring): key → (monotonic time, answer).
        self._kept: dict[object, tuple[float, Any]] = {}
        self.changed.connect(self.forget_gate)  # before any screen's slot: they ask again
        self.healthChanged.connect(self.forget_gate)
        self._thread = QThread()
        self._thread.setObjectName("engine")
        self._worker = RunWorker(self.engine)
        self._worker.moveToThread(self._thread)
        self._startRequested.connect(self._worker.run)
        self._worker.finished.connect(self._on_finished)
        self._worker.refused.connect(self._on_refused)
        self._worker.crashed.connect(self._on_crashed)
        self.bridge.runStarted.connect(self._on_run_started)
        self._thread.start()
        # Interlocks are read off the GUI thread, only while no run owns the bench.
        self.interlock_state = self.interlocks_text()
        self._bench_lock = threading.Lock()
        self._polling = False
        self._poller: threading.Thread | None = None
        self._closed = False
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(INTERLOCK_POLL_MS)
        self._poll_timer.timeout.connect(self._poll_interlocks)
        self.interlocksRead.connect(self._on_interlocks_read)
        if prepared.bench.has("interlocks"):
            self._poll_timer.start()
            self._poll_interlocks()

    # -- session ---------------------------------------------------------------------------
    def login(self, name: str, password: str) -> Session | None:
        session = self.users.authenticate(name, password)
        if session is not None:
            self.session = session
            self.changed.emit()
        return session

    def create_first_admin(self, name: str, password: str) -> Session:
        self.session = self.users.create_first_admin(name, password)
        self.changed.emit()
        return self.session

    def logout(self, why: str = "logout") -> None:
        if self.session is not None:
            self.store.audit(self.session.user, "logout", "station", why)
        self.session = None
        self.changed.emit()

    def language(self) -> str:
        """The language the screens should speak now: the logged-in user's own choice,
        else the station config's default (``[ui] language``)."""
        own = self.users.language(self.session.user) if self.session is not None else None
        return own or self.config.language

    def choose_language(self, code: str) -> None:
        """Keep ``code`` as the logged-in user's language (nobody logged in: nothing kept)."""
        if self.session is not None:
            self.users.set_language(self.session, code)

    def can(self, action: Action) -> bool:
        return self.session is not None and self.session.can(action)

    def require(self, action: Action, target: str = "") -> Session:
        """Authorize the logged-in user for ``action`` (audited) and return the session."""
        authorize(self.session, action, self.store.audit, target)
        assert self.session is not None
        return self.session

    # -- health and the start check -----------------------------------------------------------
    @property
    def config(self) -> StationConfig:
        """The station config the engine runs with (true calibration dates)."""
        config: StationConfig = self.engine.config
        return config

    def now(self) -> dt.datetime:
        return self.engine.clock.utcnow()

    def health(self) -> list[gating.InstrumentStatus]:
        return gating.instrument_health(
            self.sequence, self.config, self.prepared.bench, self.overrides, self.now()
        )

    def masters(self, *, cached: bool = False) -> list[MasterState]:
        """Today's golden and failure masters on this station ([] without ``[masters]``);
        ``cached``: a kept answer will do (see the module docstring)."""
        policy = self.config.masters
        if policy is None:
            return []
        return self._keep(
            "masters",
            lambda: masters.verification(self.store, policy, self.config.station_id, self.now()),
            cached,
        )

    def preflight(self, serial: str, part: str | None, *, cached: bool = False) -> GateVerdict:
        """The start gate's answer for this pack with the active overrides; ``cached``: a
        kept answer will do (see the module docstring)."""
        reasons = self.overrides.reasons(self.now())
        key = ("gate", serial, part, tuple(sorted(reasons.items())))
        return self._keep(
            key, lambda: self.engine.preflight(serial, part, overrides=reasons), cached
        )

    def forget_gate(self) -> None:
        """Drop the kept gate answers: the next refresh asks the gate again."""
        self._kept.clear()

    def _keep(self, key: object, ask: Callable[[], _T], cached: bool) -> _T:
        """``ask()``, kept under ``key``; the kept answer when ``cached`` and recent."""
        now = time.monotonic()
        kept = self._kept.get(key)
        if cached and kept is not None and now - kept[0] < GATE_TTL_S:
            answer: _T = kept[1]
            return answer
        if len(self._kept) > 64:  # a serial typed key by key leaves one answer per prefix
            self._kept = {k: v for k, v in self._kept.items() if now - v[0] < GATE_TTL_S}
        answer = ask()
        self._kept[key] = (now, answer)
        return answer

    def interlocks_text(self) -> str:
        if self.prepared.bench.has("interlocks"):
            return "monitored during HV steps"
        if self.config.interlocks_required_for_hv:
            return "no interlocks input: HV steps will be refused"
        return "no interlocks input (HV steps allowed without: config required_for_hv = false)"

    def _poll_interlocks(self) -> None:
        if self.running or self._polling or self._closed:
            return
        self._polling = True
        self._poller = threading.Thread(
            target=self._read_interlocks, name="interlock-poll", daemon=True
        )
        self._poller.start()

    def _read_interlocks(self) -> None:
        text = ""
        try:
            with self._bench_lock:
                if not self.running:
                    state = self.prepared.bench.get("interlocks").read()
                    reasons = ", ".join(state.reasons())
                    text = "safe for HV" if state.safe_for_hv else f"{NOT_SAFE}: {reasons}"
        except Exception as err:  # shown on the health panel, never raised into Qt
            text = f"cannot read the interlocks: {err}"
        finally:
            self._polling = False
        if text and not self._closed:  # shutdown joins this thread before the object goes
            self.interlocksRead.emit(text)

    def _on_interlocks_read(self, text: str) -> None:
        if text != self.interlock_state:
            self.interlock_state = text
            self.healthChanged.emit()

    def blockers(
        self, serial: str = "", part: str | None = None, *, cached: bool = False
    ) -> list[Blocker]:
        """Every reason Start is disabled now, most fundamental first.

        The station's blockers come first; the pack's (serial, variant) only once the
        station may test at all, and then the first of them. ``cached``: a kept answer of
        the gate will do (the screens' refresh; see the module docstring).
        """
        out: list[Blocker] = []
        if self.session is None:
            out.append(Blocker("login", "log in to test packs"))
        elif not self.session.can(Action.RUN):
            out.append(Blocker("login", f"{self.session.user} may not test packs"))
        if self.running:
            out.append(Blocker("running", "a test is running"))
        self._pack_in_question = (serial, part)  # its retest sign-off is an override too
        out += self._interlock_blockers()
        verdict = self.preflight(serial, part, cached=cached)
        out += [b for b in verdict.blockers if b.kind not in PACK_KINDS]
        if out:
            return out
        return [b for b in verdict.blockers if b.kind in PACK_KINDS][:1]

    def _interlock_blockers(self) -> list[Blocker]:
        """The last interlock reading, when it says the door or e-stop is open.

        A run would stop at its first HV step anyway; blocking START says so before the
        pack is connected. The reading is the idle poll's (the gate does not read the bench).
        """
        if self.running or not self.interlock_state.startswith(
            (NOT_SAFE, "cannot read the interlocks")
        ):
            return []
        return [
            Blocker(
                "interlocks",
                f"interlocks {self.interlock_state}; close the door / release the e-stop",
            )
        ]

    def retest_warning(self, serial: str) -> str:
        """Why testing ``serial`` again needs the operator's confirmation ("" when not).

        With a ``[retest]`` policy in the station config the start gate judges retests
        (attempt limits, supervisor sign-off) and this says nothing. Without one, a pack
        that already PASSED, or was tested ``[ui] retest_confirm_after`` times, is tested
        again only when the operator confirms (audited), so a label scanned twice is
        noticed.
        """
        if not serial or self.config.retest is not None:
            return ""
        runs = [r for r in self.store.list_runs(serial=serial) if r.outcome in VERDICT_OUTCOMES]
        passed = [r for r in runs if r.outcome == Outcome.PASSED]
        if passed:
            when = str(passed[0].started_at)[:16].replace("T", " ")
            return f"{serial} already PASSED ({when} UTC). Test it again?"
        if len(runs) >= self.config.retest_confirm_after:
            last = str(runs[0].outcome)
            return f"{serial} was already tested {len(runs)} times (last: {last}). Test it again?"
        return ""

    def confirm_retest(self, serial: str, warning: str) -> None:
        """Record that the operator confirmed testing ``serial`` again."""
        who = self.session.user if self.session else "?"
        self.store.audit(who, "retest_confirmed", serial, warning)

    # -- running -------------------------------------------------------------------------------
    def start(self, serial: str, part: str | None) -> None:
        """Start a run on the worker thread; raise RunRefused saying why it cannot start."""
        blockers = self.blockers(serial, part)
        if blockers:
            raise RunRefused("; ".join(b.message for b in blockers))
        session = self.require(Action.RUN, serial)
        reasons = self.overrides.reasons(self.now())
        verdict = self.preflight(serial, part, cached=True)  # the answer just asked for
        used = {blocker.key for blocker, _ in verdict.overridden}
        self._overrides_used = [o for key, o in self.overrides.items.items() if key in used]
        self.running = True
        with self._bench_lock:  # wait for an interlock read in flight
            pass
        self.changed.emit()
        self._startRequested.emit(serial, part or "", session.user, reasons)

    def abort(self) -> None:
        """Stop the run now (cleanup and safe state still run, unpaced)."""
        if self.running:
            who = self.session.user if self.session else "?"
            self.engine.request_abort(f"operator abort ({who}, UI)")
            if self.pacer is not None:
                self.pacer.stop()

    def _on_run_started(self, event: RunStarted) -> None:
        for o in self._overrides_used:  # tie each override to the run it allowed
            self.store.audit(o.user, "override_used", event.run_id, f"{o.key}: {o.reason}")

    def _on_finished(self, result: RunResult) -> None:
        self.running = False
        self.last_result = result
        self.overrides.drop("safe_state")  # a confirmation covers one run
        self.runDone.emit(result)
        self.changed.emit()

    def _on_refused(self, message: str) -> None:
        self.running = False
        self.runRefused.emit(message)
        self.changed.emit()

    def _on_crashed(self, message: str) -> None:
        self.running = False
        self.runCrashed.emit(message)
        self.changed.emit()

    # -- privileged actions (engineers, admins) ------------------------------------------------
    def grant_override(self, key: str, reason: str) -> gating.Override:
        """Allow starting despite the overridable blocker ``key`` (audited, one shift)."""
        session = self.require(Action.OVERRIDE, key)
        if len(reason.strip()) < 3:
            raise StationError("give a reason for the override — it goes into the audit trail")
        now = self.now()
        if key not in {b.key for b in self.overridable_blockers()}:
            raise StationError(f"nothing to override for {key!r}")
        override = self.overrides.grant(key, session.user, reason.strip(), now)
        self.store.audit(
            session.user, "override", key, f"{reason.strip()} (until {override.expires:%H:%M} UTC)"
        )
        self.changed.emit()
        return override

    def overridable_blockers(self) -> list[Blocker]:
        """The blockers an engineer may override now (whether overridden already or not),
        including the retest sign-off of the pack last entered on the operator screen."""
        serial, part = self._pack_in_question
        return [b for b in self.engine.preflight(serial, part).blockers if b.overridable]

    def files_to_release(self) -> list[FileToRelease]:
        return files_of(self.sequence)

    def release(self, file: FileToRelease, note: str) -> int:
        release_id = self.releases.release(self.session, file, note)
        self.changed.emit()
        return release_id

    def revoke(self, sha256: str, reason: str) -> None:
        self.releases.revoke(self.session, sha256, reason)
        self.changed.emit()

    def set_production_mode(self, on: bool, reason: str) -> None:
        self.releases.set_production_mode(self.session, on, reason)
        self.changed.emit()

    def create_user(self, name: str, role: str, password: str, reason: str) -> None:
        self.users.create_user(self.session, name, role, password, reason=reason)
        self.changed.emit()

    def set_password(self, name: str, password: str, reason: str) -> None:
        self.users.set_password(self.session, name, password, reason=reason)
        self.changed.emit()

    def set_disabled(self, name: str, disabled: bool, reason: str) -> None:
        self.users.set_disabled(self.session, name, disabled, reason=reason)
        self.changed.emit()

    # -- the virtual bench's faults (station ui --sim, engineers) ------------------------------
    def fault_catalogue(self) -> list[SimFault]:
        """The faults an engineer may inject; empty on a real bench."""
        return sim_faults() if self.sim and self.prepared.bench.simulator is not None else []

    def inject_fault(self, name: str, value: str, reason: str) -> None:
        """Switch a virtual-bench fault on until the UI closes (audited; between runs only)."""
        session = self.require(Action.INJECT_FAULT, name)
        if len(reason.strip()) < 3:
            raise StationError("give a reason (training, demo …) — it goes into the audit trail")
        if self.running:
            raise StationError("inject faults between runs, not during one")
        with self._bench_lock:  # not while the interlock poll talks to the bench
            inject_fault(self.prepared, name, value.strip())
        shown = f"{name}={value.strip()}" if value.strip() else name
        self.injected.append(shown)
        self.store.audit(session.user, "inject_fault", shown, reason.strip())
        self.changed.emit()

    # -- shutting down ---------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Abort a run in progress, wait for its cleanup, stop the worker thread."""
        if self.running:
            self.engine.request_abort("station UI closed")
            if self.pacer is not None:
                self.pacer.stop()
        self._closed = True
        self._poll_timer.stop()
        if self._poller is not None:
            self._poller.join(SHUTDOWN_S)
        self._thread.quit()
        if not self._thread.wait(int(SHUTDOWN_S * 1000)):
            _log.error("the engine thread did not stop within %s s", SHUTDOWN_S)
        self.running = False
