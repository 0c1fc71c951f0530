"""The sequence engine: runs setup → main → cleanup for one pack and reports events.

Outcomes (per step and per run): PASSED, FAILED (the pack is out of limits), ERROR (the
station, an instrument or code broke), ABORTED (operator or interlock), TERMINATED
(stop after the current step), SKIPPED. A limit failure is never an exception and an
exception is never a FAIL.

Safety: cleanup always runs — after pass, fail, error, abort, terminate and exceptions,
including exceptions in earlier cleanup steps — and then every output-capable
instrument is switched off and its read-back verified. Abort is a thread-safe request
honoured between steps and inside every wait. Steps that energise the pack run only
while the interlocks read safe, and a monitor aborts them when the interlocks open.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from drivers.errors import InterlockError
from station.bench import Bench
from station.clock import Clock, VirtualClock, iso, waiting_on_a_person
from station.conditions import ConditionError
from station.config import StationConfig
from station.errors import AbortRequested, RunRefused, StationError
from station.events import (
    Attachment,
    Component,
    Event,
    Log,
    Measurement,
    PlannedStep,
    Progress,
    Prompt,
    RunFinished,
    RunStarted,
    Sample,
    StepFinished,
    StepStarted,
)
from station.gate import GateVerdict, StartBlocked, preflight
from station.genealogy import packs_with_bms
from station.interlocks import InterlockGuard, InterlockMonitor
from station.judge import judge, value_of
from station.limits import Limit
from station.outcomes import (
    ABORTED,
    ERROR,
    FAILED,
    PASSED,
    SKIPPED,
    TERMINATED,
    Outcome,
    Verdict,
)
from station.results import NoPrompter, Prompter, RunResult, StepResult
from station.sequence import GROUPS, Sequence, StepDef
from station.steps.api import PromptRequest, StepContext, StepRecord, StepTimeout
from station.store import ResultsStore
from station.version import software_version

Listener = Callable[[Event], None]
_log = logging.getLogger(__name__)


def new_run_id() -> str:
    """A fresh run id (a random UUID): the key of the run here and in the plant's database."""
    return new_id()


def new_id() -> str:
    """A random (version 4) UUID as text, like ``str(uuid.uuid4())``: a run's or a step's id."""
    return uuid4_text(os.urandom(16))


def uuid4_text(random: bytes) -> str:
    """``str(uuid.UUID(bytes=random, version=4))`` without building the UUID object only to
    format it (3.3 → 1.5 µs: every step takes an id)."""
    b = bytearray(random)
    b[6] = b[6] & 0x0F | 0x40  # version 4
    b[8] = b[8] & 0x3F | 0x80  # RFC 4122 variant
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Engine:
    """Runs one sequence on one bench; ``run`` may be called for pack after pack.

    ``listeners`` receive every event; a listener with ``critical = True`` (the results
    store) must not fail: if it does, the run stops with ERROR, because nothing may be
    tested unrecorded.
    """

    def __init__(
        self,
        sequence: Sequence,
        *,
        bench: Bench,
        config: StationConfig,
        clock: Clock,
        listeners: Iterable[Listener] = (),
        prompter: Prompter | None = None,
        safe_state_timeout_s: float = 5.0,
        store: ResultsStore | None = None,
        default_production: bool | None = None,
    ) -> None:
        self.sequence = sequence
        self.bench = bench
        self.config = config
        self.clock = clock
        self.listeners = list(listeners)
        self.prompter = prompter or NoPrompter()
        self.safe_state_timeout_s = safe_state_timeout_s
        # The start gate reads releases, production mode and the last run's safe state
        # from the results database. Until someone sets the mode, a real bench with a
        # station config is in production; the virtual bench, and a run with no config
        # (no instruments at all), are in engineering mode.
        self.store = store
        self.default_production = (
            bench.simulator is None and config.path is not None
            if default_production is None
            else default_production
        )
        self._abort = threading.Event()
        self._terminate = threading.Event()
        self._abort_reason = ""
        self.interlocks = InterlockGuard(bench, required=config.interlocks_required_for_hv)
        self._run: _Run | None = None  # the run under way, or the last one
        self._failed_listeners: set[int] = set()
        self._plans: dict[str, tuple[PlannedStep, ...]] = {}  # by part, of ``_plans_of``
        self._plans_of = sequence

    # -- control from other threads ------------------------------------------------
    def request_abort(self, reason: str = "operator abort") -> None:
        """Stop as soon as possible (inside waits too); cleanup still runs."""
        if not self._abort.is_set():
            self._abort_reason = reason
        self._abort.set()

    def request_terminate(self) -> None:
        """Finish the current step, then go to cleanup."""
        self._terminate.set()

    # -- checks before anything runs -----------------------------------------------
    def check_can_start(
        self,
        serial: str,
        part_number: str | None,
        *,
        overrides: Mapping[str, str] | None = None,
        rework: str = "",
        operator: str | None = None,
    ) -> GateVerdict:
        """Ask the start gate; raise StartBlocked listing every blocker that stands.

        ``overrides`` maps overridable blocker keys (``calibration:<role>``,
        ``safe_state``) to an engineer's reason; the run record says so. ``rework`` is
        why a repaired pack is tested again (see ``station.retest``).
        """
        verdict = self.preflight(
            serial, part_number, overrides=overrides, rework=rework, operator=operator
        )
        if not verdict.ok:
            raise StartBlocked(verdict.blockers)
        return verdict

    def preflight(
        self,
        serial: str,
        part_number: str | None,
        *,
        overrides: Mapping[str, str] | None = None,
        rework: str = "",
        operator: str | None = None,
    ) -> GateVerdict:
        """What the start gate says about this pack now (never raises for a blocker);
        ``operator`` None: not known yet, not judged."""
        return preflight(
            self.sequence,
            self.config,
            self.bench,
            self.store,
            serial,
            part_number,
            self.clock.utcnow(),
            default_production=self.default_production,
            overrides=overrides,
            rework=rework,
            operator=operator,
        )

    # -- the run ---------------------------------------------------------------------
    def run(
        self,
        serial: str,
        part_number: str | None = None,
        operator: str = "",
        *,
        overrides: Mapping[str, str] | None = None,
        rework: str = "",
    ) -> RunResult:
        """Run the whole sequence for one pack. Raises RunRefused before starting."""
        rework = rework.strip()
        verdict = self.check_can_start(
            serial, part_number, overrides=overrides, rework=rework, operator=operator
        )
        assert verdict.part is not None  # the gate blocks a missing variant
        part = verdict.part
        self.bench.present(serial)
        self._abort.clear()
        self._terminate.clear()
        self._abort_reason = ""
        run = self._run = _Run(
            run_id=new_run_id(),
            serial=serial,
            part=part,
            t0=self.clock.now(),
            limits=self.sequence.limits_for(part),
        )
        run_id = run.run_id
        table = self.sequence.limit_table_for(part)
        groups = self.sequence.groups_for(part)  # with the variant's parameters
        self._emit(
            RunStarted(
                run_id=run_id,
                serial=serial,
                part_number=part,
                operator=operator,
                station_id=self.config.station_id,
                sequence_name=self.sequence.name,
                sequence_version=self.sequence.version,
                sequence_path=str(self.sequence.path.resolve()),
                sequence_sha256=self.sequence.sha256,
                limits_path=str(table.path.resolve()) if table else None,
                limits_sha256=table.sha256 if table else None,
                config_sha256=self.config.sha256,
                software_version=software_version(),
                started_at=_wall_stamp(),
                virtual_started_at=self._virtual_stamp(),
                steps=self._plan(part, groups),
                instruments=tuple(self.bench.info.values()),
                rework_reason=rework,
                nest=self.config.nest.label if self.config.nest is not None else None,
            )
        )
        if run.record_failure:
            raise RunRefused(f"the results store cannot record the run: {run.record_failure}")
        for blocker, reason in verdict.overridden:
            self._log(run_id, None, "WARNING", f"{blocker.message} — overridden: {reason}")
        try:
            self.bench.start_recording(run_id)
        except Exception as err:  # a trace that cannot start must not stop the test
            self._log(run_id, None, "WARNING", f"run recordings not started: {err}")
        stopped_by: Outcome | None = None  # what ended setup/main early
        for group in ("setup", "main"):
            for step in groups[group]:
                if stopped_by is not None:
                    break
                if self._abort.is_set():
                    stopped_by = ABORTED
                    break
                if self._terminate.is_set():
                    stopped_by = TERMINATED
                    break
                result = self._run_step(step, run, self._abort)
                if self._recording_failed(run):
                    stopped_by = ERROR
                elif result.outcome == ABORTED:
                    stopped_by = ABORTED
                elif result.outcome == ERROR or run.record_failure:
                    stopped_by = ERROR
                elif result.outcome == FAILED and (group == "setup" or step.on_fail == "stop"):
                    stopped_by = FAILED
        if stopped_by is None and self._abort.is_set():
            stopped_by = ABORTED
        # Each cleanup step gets its own abort flag: neither an operator abort nor an
        # interlock trip in an earlier cleanup step may cut short the steps that make
        # the pack safe.
        cleanup_error = False
        for step in groups["cleanup"]:
            result = self._run_step(step, run, threading.Event())
            cleanup_error |= result.outcome in (ERROR, ABORTED)
        report = self.bench.safe_state_all(self.safe_state_timeout_s)
        if not report.ok:
            self._log(run_id, None, "ERROR", f"safe state not confirmed: {report.detail}")
        try:
            for name, media_type, path in self.bench.stop_recording():
                self._emit(Attachment(run_id, None, name, media_type, str(path)))
        except Exception as err:
            self._log(run_id, None, "WARNING", f"run recordings not finished: {err}")
        self._recording_failed(run)  # a failure may show only when the files are flushed
        steps = run.steps
        outcome = self._run_outcome(run, stopped_by, cleanup_error, report.ok)
        failed = tuple(s.name for s in steps if s.outcome in (FAILED, ERROR, ABORTED))
        self._emit(
            RunFinished(
                run_id=run_id,
                outcome=outcome,
                ended_at=_wall_stamp(),
                virtual_ended_at=self._virtual_stamp(),
                safe_state_ok=report.ok,
                safe_state_detail=report.detail,
                failed_steps=failed,
            )
        )
        problem = run.record_failure or run.recording_failure or ""
        return RunResult(run_id, outcome, serial, part, steps, report.ok, report.detail, problem)

    def _plan(
        self, part: str, groups: Mapping[str, tuple[StepDef, ...]]
    ) -> tuple[PlannedStep, ...]:
        """The steps a run of ``part`` plans, as ``RunStarted`` records them: the same for
        every pack of the variant, so built once per sequence and variant."""
        if self._plans_of is not self.sequence:
            self._plans, self._plans_of = {}, self.sequence
        plan = self._plans.get(part)
        if plan is None:
            plan = self._plans[part] = tuple(
                PlannedStep(s.group, s.index, s.name, s.type, params_record(s.params))
                for g in GROUPS
                for s in groups[g]
            )
        return plan

    def _run_outcome(
        self, run: _Run, stopped_by: Outcome | None, cleanup_error: bool, safe: bool
    ) -> Outcome:
        if stopped_by == ABORTED:
            return ABORTED
        if stopped_by == TERMINATED:
            return TERMINATED
        if run.record_failure or run.recording_failure or not safe or cleanup_error:
            return ERROR
        outcomes = {s.outcome for s in run.steps}
        if ERROR in outcomes:
            return ERROR
        if FAILED in outcomes:
            return FAILED
        return PASSED

    # -- one step ----------------------------------------------------------------------
    def _run_step(self, step: StepDef, run: _Run, abort: threading.Event) -> StepResult:
        if step.skip_if is not None:
            try:
                skip = step.skip_if.evaluate(
                    variant=run.part,
                    serial=run.serial,
                    outcome=lambda name: run.outcome_of(name),
                    value=lambda name, meas: run.value_of(name, meas),
                )
            except ConditionError as err:
                return self._finish_without_running(step, run, ERROR, f"skip_if: {err}")
            if skip:
                return self._finish_without_running(
                    step, run, SKIPPED, f"skipped: {step.skip_if.text}"
                )
        attempts = 1 + step.retries
        result = StepResult(step.group, step.name, step.type, ERROR, None)
        for attempt in range(1, attempts + 1):
            result = self._attempt(step, run, abort, attempt)
            # Never retry once the store failed: nothing may be tested unrecorded.
            if (
                result.outcome != ERROR
                or attempt == attempts
                or abort.is_set()
                or run.record_failure
            ):
                break
            self._log(
                run.run_id,
                None,
                "WARNING",
                f"{step.name}: retrying after error ({attempt}/{attempts - 1}): {result.error}",
            )
        run.add(result, {m.name: value_of(m) for m in result.measurements})
        return result

    def _finish_without_running(
        self, step: StepDef, run: _Run, outcome: Outcome, message: str
    ) -> StepResult:
        attempt = _StepRun(self, run, step, threading.Event(), attempt=1)
        attempt.started()
        attempt.finished(outcome, message, duration_s=0.0, ended_at=attempt.started_at)
        result = StepResult(step.group, step.name, step.type, outcome, message)
        run.add(result, {})
        return result

    def _attempt(
        self, step: StepDef, run: _Run, abort: threading.Event, attempt_no: int
    ) -> StepResult:
        attempt = _StepRun(self, run, step, abort, attempt_no)
        t_start = self.clock.now()
        attempt.started()
        deadline = t_start + step.timeout_s if step.timeout_s is not None else None
        kind = step.step_type
        uses = (*kind.roles, *kind.optional_roles)  # what the context may ask for
        ctx = StepContext(
            attempt,
            step_name=step.name,
            clock=self.clock,
            abort=abort,
            earlier=run.earlier,
            deadline=deadline,
            roles=uses,
        )
        error: str | None = None
        monitor: InterlockMonitor | None = None
        lease_problems: list[str] = []
        try:
            # A role shared by the nests is held for the whole step (station.leases); an
            # optional one too, as the step may use it.
            with self.bench.leased(uses, abort, attempt.waiting) as problems:
                lease_problems = problems
                if step.step_type.energises:
                    self.interlocks.check()
                    monitor = self.interlocks.monitor(self.request_abort, abort)
                step.step_type.run(ctx, step.params)
                missing = [s.name for s in step.specs if s.name not in attempt.recorded]
                if missing:
                    raise StationError(f"step did not record {', '.join(map(repr, missing))}")
                failed = any(m.outcome == Verdict.FAILED for m in attempt.measurements)
                outcome = FAILED if failed else PASSED
        except AbortRequested:
            outcome, error = ABORTED, self._abort_reason or "aborted"
        except InterlockError as err:
            outcome, error = ABORTED, f"interlock: {err}"
            self.request_abort(error)
        except StepTimeout:
            outcome, error = ERROR, f"timed out after {step.timeout_s:g} s"
        except StationError as err:
            outcome, error = ERROR, str(err)
        except Exception as err:  # a bug in a step must end as ERROR, never as a FAIL
            outcome = ERROR
            error = f"{type(err).__name__}: {err}"
            attempt.log("ERROR", traceback.format_exc())
        finally:
            if monitor is not None:
                monitor.stop()
        if outcome == ABORTED and monitor is not None and monitor.reason:
            error = monitor.reason
        if lease_problems:  # a shared source its holder could not make safe
            attempt.log("ERROR", "; ".join(lease_problems))
            if outcome in (PASSED, FAILED):
                outcome, error = ERROR, "; ".join(lease_problems)
        if run.record_failure and outcome in (PASSED, FAILED):
            outcome, error = ERROR, f"results store failed: {run.record_failure}"
        # microseconds: what a clock resolves, without the subtraction's float noise
        attempt.finished(outcome, error, duration_s=round(self.clock.now() - t_start, 6))
        return StepResult(
            step.group, step.name, step.type, outcome, error, attempt.measurements, attempt_no
        )

    def _recording_failed(self, run: _Run) -> bool:
        """Whether a recording of this run failed (said once in the run log)."""
        if run.recording_failure is None:
            failure = self.bench.recording_failure()
            if failure is not None:
                run.recording_failure = failure
                self._log(
                    run.run_id,
                    None,
                    "ERROR",
                    f"{failure}; the run's record is incomplete, so it ends ERROR — free space "
                    "on that disk, then test the pack again",
                )
        return run.recording_failure is not None

    # -- plumbing ----------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception as err:
                if getattr(listener, "critical", False):
                    run = self._run
                    if run is not None and run.record_failure is None:
                        run.record_failure = str(err)
                    self._abort_reason = f"results store failed: {err}"
                elif id(listener) not in self._failed_listeners:
                    # A display listener failing must not stop the test; say so once.
                    self._failed_listeners.add(id(listener))
                    _log.exception("listener %r failed on %s", listener, type(event).__name__)

    def _log(self, run_id: str, step_id: str | None, level: str, message: str) -> None:
        self._emit(Log(run_id, step_id, level, message, self._stamp()))

    def _stamp(self) -> str:
        return iso(self.clock.utcnow())

    def _virtual_stamp(self) -> str | None:
        """The run's clock when it is the virtual bench's, recorded beside the wall clock."""
        return self._stamp() if isinstance(self.clock, VirtualClock) else None


class _Run:
    """Everything one run holds, from ``RunStarted`` to ``RunFinished``.

    The engine keeps only its configuration and the flags other threads set (abort,
    terminate); what belongs to one pack's run lives here and starts afresh with the next.
    """

    def __init__(
        self,
        *,
        run_id: str,
        serial: str,
        part: str,
        t0: float,
        limits: dict[tuple[str, str], Limit],
    ) -> None:
        self.run_id = run_id
        self.serial = serial
        self.part = part
        self.t0 = t0  # the run's clock when it started: samples are seconds since then
        self.limits = limits
        self.steps: list[StepResult] = []
        self.records: dict[str, StepRecord] = {}
        # What a step sees of the steps before it: read-only, and it cannot change while
        # the step runs (``add`` comes after), so a view serves where a copy did.
        self.earlier: Mapping[str, StepRecord] = MappingProxyType(self.records)
        self.record_failure: str | None = None  # the results store failed: ends ERROR
        self.recording_failure: str | None = None  # a CAN trace or transcript failed
        self._seq = 0

    def next_seq(self) -> int:
        """The next event number of this run (order never depends on a wall clock)."""
        self._seq += 1
        return self._seq

    def add(self, result: StepResult, values: dict[str, Any]) -> None:
        """A step finished: keep its result, and what later steps and ``skip_if`` see."""
        self.steps.append(result)
        self.records[result.name] = StepRecord(result.name, result.outcome, values, result.group)

    def outcome_of(self, name: str) -> Outcome | None:
        record = self.records.get(name)
        return record.outcome if record else None

    def value_of(self, name: str, measurement: str) -> Any:
        record = self.records.get(name)
        return record.values.get(measurement) if record else None


class _StepRun:
    """One attempt of one step: the sink its :class:`StepContext` writes to.

    Everything a step records goes through here to the engine's listeners, and the step's
    ``StepStarted``/``StepFinished`` events are built here, by keyword, and nowhere else.
    """

    def __init__(
        self, engine: Engine, run: _Run, step: StepDef, abort: threading.Event, attempt: int
    ) -> None:
        self._engine = engine
        self._run = run
        self._step = step
        self._abort = abort
        self.attempt = attempt
        self.run_id = run.run_id
        self.step_id = new_id()
        self.serial = run.serial
        self.part_number = run.part
        self.seq = run.next_seq()
        self.started_at = ""
        self.measurements: list[Measurement] = []
        self.recorded: set[str] = set()

    # -- the step's life ---------------------------------------------------------------
    def started(self) -> None:
        self.started_at = self._engine._stamp()
        step = self._step
        self._engine._emit(
            StepStarted(
                run_id=self.run_id,
                step_id=self.step_id,
                seq=self.seq,
                group=step.group,
                index=step.index,
                name=step.name,
                type=step.type,
                started_at=self.started_at,
                attempt=self.attempt,
            )
        )

    def finished(
        self, outcome: Outcome, error: str | None, *, duration_s: float, ended_at: str = ""
    ) -> None:
        step = self._step
        self._engine._emit(
            StepFinished(
                run_id=self.run_id,
                step_id=self.step_id,
                seq=self.seq,
                group=step.group,
                index=step.index,
                name=step.name,
                type=step.type,
                outcome=outcome,
                started_at=self.started_at,
                ended_at=ended_at or self._engine._stamp(),
                error=error,
                attempts=self.attempt,
                duration_s=duration_s,
            )
        )

    # -- the sink (StepSink) -----------------------------------------------------------
    def instrument(self, role: str) -> Any:
        return self._engine.bench.get(role)

    def record(self, name: str, value: Any, unit: str | None) -> None:
        m = judge(self.run_id, self.step_id, self._step, name, value, unit, self._run.limits)
        if name in self.recorded:
            raise StationError(f"step recorded {name!r} twice")
        self.recorded.add(name)
        self.measurements.append(m)
        self._engine._emit(m)

    def sample(self, channel: str, value: float) -> None:
        t = self._engine.clock.now() - self._run.t0
        self._engine._emit(Sample(self.run_id, self.step_id, t, channel, value))

    def progress(self, fraction: float, eta_s: float | None, text: str) -> None:
        self._engine._emit(Progress(self.run_id, self.step_id, fraction, eta_s, text))

    def waiting(self, text: str) -> None:
        """The step waits for a shared instrument: say so on the progress line and log."""
        self.progress(0.0, None, text)
        self.log("INFO", text)

    def log(self, level: str, message: str) -> None:
        self._engine._log(self.run_id, self.step_id, level, message)

    def prompt(self, request: PromptRequest) -> str | None:
        self._engine._emit(Prompt(self.run_id, self.step_id, request.kind, request.text))
        # An answer given by --yes (or any prompter answering by itself) must not be
        # recorded as the operator's, and takes no time on a line.
        automatic = getattr(self._engine.prompter, "automatic", False)
        if automatic:
            answer = self._engine.prompter.ask(request, self._abort)
        else:
            with waiting_on_a_person(self._engine.clock):
                answer = self._engine.prompter.ask(request, self._abort)
        if self._abort.is_set():
            raise AbortRequested("aborted while waiting for the operator")
        who = "answered automatically" if automatic else "operator answered"
        self.log("INFO", f"{who} {answer!r}")
        return answer

    def check_interlocks(self) -> None:
        self._engine.interlocks.check()

    def component(self, kind: str, code: str) -> None:
        self._engine._emit(Component(self.run_id, self.step_id, kind, code, self._engine._stamp()))

    def paired_packs(self, bms_serial: str) -> list[str] | None:
        store = self._engine.store
        return None if store is None else packs_with_bms(store, bms_serial, self.serial)


__all__ = [
    "ABORTED",
    "ERROR",
    "FAILED",
    "GROUPS",
    "PASSED",
    "SKIPPED",
    "TERMINATED",
    "Engine",
    "NoPrompter",
    "Prompter",
    "RunResult",
    "StepResult",
]


def _wall_stamp() -> str:
    """Now on the wall clock: a run is dated when it happened, whatever clock it ran on."""
    return iso(datetime.now(UTC))


def params_record(params: Any) -> dict[str, Any]:
    """A step's effective parameters as recorded with the run (a Params dataclass)."""
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        return dataclasses.asdict(params)
    return {}
