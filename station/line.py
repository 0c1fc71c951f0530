"""A station with parallel nests: one engine per nest, one thread each, one results writer.

:func:`prepare_line` builds, from a station config with ``[[nests]]``
(:mod:`station.nest_config`), one :class:`~station.engine.Engine` per nest on its own
:class:`~station.bench.Bench` (its own instruments and BMS, plus the shared instruments under
their leases, :mod:`station.leases`), all recording into one
:class:`~station.store.ResultsStore`. The store is one writer connection behind one lock,
buffering per run id, so the engines share it safely: SQLite sees one writer, and each
finished step is still its own transaction.

:meth:`PreparedLine.run` tests one pack per nest at once and returns each nest's result.
An abort or a failure in one nest ends only that nest's run, and its safe state switches
off only its own instruments. The door and the e-stop are the cell's: while any nest runs,
:class:`StationWatch` reads every nest's interlocks, and the first that reads the door open
or the e-stop pressed aborts every nest.

With ``sim`` the line runs on a :class:`~drivers.sim.line.VirtualLine` (one simulated pack
per nest, the shared tester behind a simulated relay matrix) on one
:class:`~station.clock.LineClock`: the nests share the tester, so they must share time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station import central
from station.bench import Bench
from station.clock import Clock, LineClock, RealClock, line_member
from station.config import InstrumentConfig, StationConfig, load_config
from station.engine import Engine
from station.errors import StationError
from station.events import InstrumentInfo
from station.leases import SharedInstrument
from station.nest_config import NestConfig
from station.recording import Recorder, Transcript
from station.results import RunResult
from station.runner import (
    PreparedRun,
    RunOptions,
    load_plugins,
    open_bms,
    open_instruments,
    open_sim_bms,
    open_virtual_instruments,
    parse_faults,
    sim_pack_for,
)
from station.sequence import Sequence, load_sequence
from station.store import ResultsStore

_log = logging.getLogger(__name__)
WATCH_POLL_S = 0.1
"""How often the station-wide watch reads the door and e-stop while any nest runs."""


@dataclass
class PreparedNest:
    """One nest ready to test packs: its config view, bench and engine."""

    nest: NestConfig
    config: StationConfig
    bench: Bench
    engine: Engine


@dataclass
class NestRun:
    """What one nest's run ended with: its result, or why it did not start."""

    nest: NestConfig
    serial: str
    result: RunResult | None = None
    refused: str = ""  # the start gate's or the station's sentence when it did not start


@dataclass
class PreparedLine:
    """Every nest of a station, ready; ``close()`` releases benches, shared instruments,
    the virtual line and the store."""

    sequence: Sequence
    config: StationConfig
    store: ResultsStore
    clock: Clock
    db_path: Path
    nests: list[PreparedNest]
    shared: dict[str, SharedInstrument]
    simulator: Any = None  # the VirtualLine of a --sim line
    _closers: list[Callable[[], None]] = field(default_factory=list)
    _closed: bool = False

    def nest(self, key: str | int) -> PreparedNest:
        """Get a prepared nest by number or name."""
        wanted = self.config.nest_by(key)
        for prepared in self.nests:
            if prepared.nest.index == wanted.index:
                return prepared
        raise StationError(f"nest {wanted.label} is not prepared on this line")

    def as_run(self, key: str | int) -> PreparedRun:
        """One nest of this line as a single run (``station run --nest N``); closing it
        closes the line."""
        prepared = self.nest(key)
        return PreparedRun(
            prepared.engine,
            self.sequence,
            prepared.config,
            self.store,
            prepared.bench,
            self.clock,
            self.db_path,
            _closers=[self.close],
            owns_bench_and_store=False,
            fault_injector=(
                functools.partial(inject_nest_fault, self, prepared.nest.index)
                if self.simulator is not None
                else None
            ),
        )

    def abort_all(self, reason: str) -> None:
        """Abort every nest's run (cleanup and safe state still run in each)."""
        for prepared in self.nests:
            prepared.engine.request_abort(reason)

    def run(
        self,
        serials: Mapping[int, str],
        *,
        variant: str | None = None,
        operator: str = "",
        rework: str = "",
    ) -> list[NestRun]:
        """Test the pack ``serials[n]`` in nest n, all at once; return one NestRun per nest
        in nest order. Returns when every nest's run has ended."""
        from station.gate import StartBlocked

        jobs = [
            NestRun(p.nest, serials[p.nest.index]) for p in self.nests if p.nest.index in serials
        ]
        by_index = {p.nest.index: p for p in self.nests}

        def run_one(job: NestRun) -> None:
            engine = by_index[job.nest.index].engine
            try:
                with line_member(self.clock):
                    job.result = engine.run(job.serial, variant, operator, rework=rework)
            except StartBlocked as refused:
                job.refused = "; ".join(b.message for b in refused.blockers)
            except StationError as err:
                job.refused = str(err)
            except Exception as err:  # a bug: one sentence for the operator, the trace logged
                _log.exception("nest %s: engine.run failed", job.nest.label)
                job.refused = f"station software error: {type(err).__name__}: {err}"

        threads = [
            threading.Thread(target=run_one, args=(job,), name=f"nest-{job.nest.index}")
            for job in jobs
        ]
        watch = StationWatch(self)
        watch.start()
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            watch.stop()
        return jobs

    def close(self) -> None:
        """Close everything once (each nest's view of the line may call it again)."""
        if self._closed:
            return
        self._closed = True
        for closer in self._closers:
            closer()
        self._closers.clear()
        for prepared in self.nests:
            prepared.bench.close()
        for shared in self.shared.values():
            close = getattr(shared.instrument, "close", None)
            if callable(close):
                with contextlib.suppress(Exception):  # must not hide the runs' outcomes
                    close()
        if self.simulator is not None:  # closing twice is harmless
            self.simulator.close()
        self.store.close()


class StationWatch:
    """Reads each nest's door and e-stop while the line runs; aborts every nest at the
    first that reads unsafe (the cell's door and e-stop are wired to every nest's I/O).

    On real time it polls from its own thread every ``poll_s``. On the line clock it is one
    of the clock's actors instead, reading every ``poll_s`` of line time as the clock moves:
    a wall-clock poll would let virtual time race past an opening (a nest soaking for ten
    minutes of line time takes milliseconds).
    """

    def __init__(self, line: PreparedLine, poll_s: float = WATCH_POLL_S) -> None:
        self._line = line
        self._poll_s = poll_s
        self._stop = threading.Event()
        self.reason: str | None = None
        self._clock = line.clock if isinstance(line.clock, LineClock) else None
        self._next = 0.0
        self._thread = threading.Thread(target=self._loop, name="station-watch", daemon=True)

    def start(self) -> None:
        if self._clock is not None:
            self._next = self._clock.now()
            self._clock.add_actor(self)
        else:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._clock is not None:
            self._clock.remove_actor(self)
        else:
            self._thread.join(2.0)

    # -- as an actor of the line clock ---------------------------------------------------
    def next_due(self) -> float | None:
        """Get the next line time at which the watch reads the interlocks."""
        return None if self._stop.is_set() else self._next

    def run_due(self, now: float) -> None:
        """Read the interlocks if a reading is due at ``now``."""
        if now >= self._next:
            self._next = now + self._poll_s
            self._check()

    # -- on real time ----------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.wait(self._poll_s):
            self._check()

    def _check(self) -> None:
        """Abort every nest when the cell turns unsafe; re-arm once every nest reads safe
        again (a station that stays up, the UI, watches for the next opening)."""
        for prepared in self._line.nests:
            reason = _station_wide_opening(prepared.bench)
            if reason is not None:
                if self.reason is None:
                    self.reason = (
                        f"interlock: {reason} (seen by nest {prepared.nest.label}): the door "
                        "and the e-stop are the cell's, every nest is aborted"
                    )
                    self._line.abort_all(self.reason)
                return
        self.reason = None


def _station_wide_opening(bench: Bench) -> str | None:
    """Why the cell is unsafe for every nest (door open, e-stop pressed), or None."""
    if "interlocks" not in bench.instruments:
        return None
    try:
        state = bench.instruments["interlocks"].read()
    except Exception as err:  # an unreadable chain is an unsafe one
        return f"interlocks unreadable ({err})"
    reasons = [r for r in ("door open", "e-stop pressed") if r in state.reasons()]
    return ", ".join(reasons) or None


def prepare_line(options: RunOptions, only: tuple[str, ...] = ()) -> PreparedLine:
    """Build every nest (or those in ``only``: numbers or names) of ``options.config``."""
    if options.config is None:
        raise StationError("a line needs a station config with [[nests]]: give --config FILE")
    config = load_config(options.config)
    if not config.nests:
        raise StationError(
            f"{options.config} has no [[nests]]: it is one nest, run it with `station run`"
        )
    load_plugins(config.plugins)
    sequence = load_sequence(options.sequence)
    chosen = [config.nest_by(k) for k in only] if only else list(config.nests)
    clock: Clock = LineClock() if options.sim else RealClock()
    db_path = options.db or config.results_db
    store = ResultsStore(db_path)
    line = PreparedLine(sequence, config, store, clock, db_path, [], {})
    try:
        if options.sim:
            _open_sim_line(line, chosen, options)
        else:
            _open_real_line(line, chosen)
        background = central.start_background(config, db_path)
        if background is not None:
            line._closers.append(background.stop)
    except BaseException:
        line.close()
        raise
    return line


def _engine(line: PreparedLine, view: StationConfig, bench: Bench) -> Engine:
    return Engine(
        line.sequence,
        bench=bench,
        config=view,
        clock=line.clock,
        listeners=[line.store],
        store=line.store,
    )


def _open_real_line(line: PreparedLine, chosen: list[NestConfig]) -> None:
    config = line.config
    shared_info: dict[str, InstrumentInfo] = {}
    shared_instruments: dict[str, Any] = {}
    try:
        open_instruments(config.instruments, None, shared_instruments, shared_info, config.path)
    finally:
        for role, instrument in shared_instruments.items():
            line.shared[role] = SharedInstrument(role, instrument)
    for nest in chosen:
        view = config.for_nest(nest)
        transcript = Transcript(line.clock)
        instruments: dict[str, Any] = {}
        info: dict[str, InstrumentInfo] = dict(shared_info)
        own = {r: ic for r, ic in view.instruments.items() if r not in config.shared_roles}
        try:
            open_instruments(own, transcript, instruments, info, config.path)
            if view.can is not None:
                bus = view.can.bus_arguments()
                instruments["bms"] = open_bms(view.can.bms, bus, line.clock)
        except BaseException:
            Bench(instruments).close()  # what this nest opened; the line closes the rest
            raise
        bench = Bench(instruments, info, shared=line.shared, nest=nest.index)
        bench.recorder = Recorder(line.db_path.parent / "attachments", transcript)
        line.nests.append(PreparedNest(nest, view, bench, _engine(line, view, bench)))


def _open_sim_line(line: PreparedLine, chosen: list[NestConfig], options: RunOptions) -> None:
    from drivers.sim.line import VirtualLine

    config = line.config
    clock = line.clock
    assert isinstance(clock, LineClock)
    shared_models = {role: config.instruments[role].model for role in config.shared_roles}
    own_models: dict[str, str] = {}
    for nest in chosen:
        for role, ic in nest.instruments.items():
            assert isinstance(ic, InstrumentConfig)
            own_models[role] = ic.model
    needs_bms = config.can is not None or any(
        "bms" in step.step_type.roles for step in line.sequence.all_steps()
    )
    try:
        virtual = VirtualLine(
            len(chosen),
            options.pack or sim_pack_for(line.sequence),
            shared=shared_models,
            seed=options.seed,
            now=clock.now,
            models=own_models or None,
            bms=needs_bms,
            scheduler=clock,
        )
    except ValueError as err:
        raise StationError(f"virtual line: {err}") from err
    line.simulator = virtual
    shared_opened: dict[str, Any] = {}
    try:
        shared_info = open_virtual_instruments(
            virtual.shared_resources,
            virtual.shared_driver_options,
            shared_opened,
            config,
            tracer=None,
            serial_suffix="",
        )
    except BaseException:
        Bench(shared_opened).close()
        raise
    for role, inst in shared_opened.items():
        line.shared[role] = SharedInstrument(role, inst, parking=clock)
    for position, nest in enumerate(chosen, start=1):
        vbench = virtual.nests[position]
        transcript = Transcript(clock)
        instruments: dict[str, Any] = {}
        try:
            info = shared_info | open_virtual_instruments(
                vbench.resources,
                vbench.driver_options,
                instruments,
                config.for_nest(nest),
                tracer=transcript,
                serial_suffix=f"-{nest.index}",
            )
            if vbench.bms is not None:
                instruments["bms"] = open_sim_bms(config, vbench.can, clock)
        except BaseException:
            Bench(instruments).close()  # what this nest opened; the line closes the rest
            raise
        bench = Bench(
            instruments,
            info,
            simulator=vbench,
            on_unit=vbench.present,
            shared=line.shared,
            nest=nest.index,
        )
        bench.recorder = Recorder(line.db_path.parent / "attachments", transcript)
        # The virtual instruments carry the config's calibration dates (as a single run).
        view = dataclasses.replace(
            config.for_nest(nest),
            instruments={
                role: InstrumentConfig(
                    role, i.model, i.resource, i.serial, dt.date.fromisoformat(i.cal_due)
                )
                for role, i in info.items()
            },
        )
        line.nests.append(PreparedNest(nest, view, bench, _engine(line, view, bench)))
    for spec in options.faults:
        nest_key, name, value = parse_nest_fault(spec)
        try:
            inject_nest_fault(line, nest_key, name, value)
        except StationError as err:  # "fault 'x' is unknown …", said as the option it came from
            raise StationError(f"--{err}") from err


def parse_nest_fault(spec: str) -> tuple[str | None, str, str]:
    """``"2:low_insulation_plus=2e6"`` → ``("2", name, value)``; no ``N:``: every nest."""
    head, sep, rest = spec.partition(":")
    if sep and "=" not in head:
        if not head.strip():
            raise StationError(f"--fault {spec!r}: expected NEST:NAME[=VALUE] or NAME[=VALUE]")
        ((name, value),) = parse_faults((rest,)).items()
        return head.strip(), name, value
    ((name, value),) = parse_faults((spec,)).items()
    return None, name, value


def inject_nest_fault(
    line: PreparedLine, nest: str | int | None, name: str, value: str = ""
) -> None:
    """Switch a virtual-bench fault on in one nest (``None``: every nest), by number or name.

    A fault acts on that nest's pack, BMS and own instruments, and on its path to a shared
    tester (``ir_lead_open``: that nest's return lead through the relay matrix)."""
    virtual = line.simulator
    if virtual is None:
        raise StationError("faults can be injected only on the virtual bench (--sim)")
    targets = line.nests if nest is None else [line.nest(nest)]
    for prepared in targets:
        # The virtual line numbers the nests it simulates from 1, in the order opened.
        position = next(n for n, b in virtual.nests.items() if b is prepared.bench.simulator)
        try:
            virtual.apply_fault(position, name, value)
        except ValueError as err:
            raise StationError(str(err)) from err
