"""Putting a run together: config, plugins, sequence, results store, bench, clock, engine.

The CLI and the UI both start runs through ``prepare_run``. With ``sim=True`` every
instrument resource is swapped for the virtual bench's (simulated instruments on
127.0.0.1 reached through the real drivers over real pyvisa) and nothing else changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sequences
from station import central
from station.bench import Bench, check_role
from station.clock import Clock, RealClock, VirtualClock
from station.config import InstrumentConfig, StationConfig, default_config, load_config
from station.engine import Engine
from station.errors import RunRefused, StationError
from station.events import InstrumentInfo
from station.recording import Recorder, Transcript
from station.sequence import Sequence, load_sequence
from station.store import ResultsStore


@dataclass(frozen=True)
class RunOptions:
    sequence: Path
    config: Path | None = None
    db: Path | None = None
    sim: bool = False
    pack: str | None = None
    seed: int = 1
    faults: tuple[str, ...] = ()
    speed: float = 0.0  # with sim: 0 = virtual time as fast as it goes, else paced × speed


@dataclass
class PreparedRun:
    """An engine ready to run packs; ``close()`` releases the bench and the store."""

    engine: Engine
    sequence: Sequence
    config: StationConfig
    store: ResultsStore
    bench: Bench
    clock: Clock
    db_path: Path
    _closers: list[Callable[[], None]] = field(default_factory=list)
    owns_bench_and_store: bool = True  # False: one nest of a line, whose close closes them
    # One nest of a virtual line: how a fault reaches it (its bench, and its path to a
    # shared tester, which the line's simulator holds); None: the bench's own simulator.
    fault_injector: Callable[[str, str], None] | None = None

    def close(self) -> None:
        for closer in self._closers:
            closer()
        self._closers.clear()
        if self.owns_bench_and_store:
            self.bench.close()
            self.store.close()


def load_plugins(modules: tuple[str, ...]) -> None:
    import importlib

    import station.steps  # noqa: F401  (registers the built-in step types)

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as err:  # a plugin's own bug too (SyntaxError, NameError…)
            raise StationError(
                f"step-type plugin module {name!r} (station.plugins in the config) cannot be "
                f"imported: {type(err).__name__}: {err}"
            ) from err


def prepare_run(options: RunOptions) -> PreparedRun:
    """Build everything a run needs; raise a StationError saying what is wrong."""
    db_default = Path("results/results.db")
    config = load_config(options.config) if options.config else default_config(db_default)
    if config.nests:
        raise StationError(
            f"{options.config} has {len(config.nests)} nests "
            f"({', '.join(n.label for n in config.nests)}): say which with --nest N, or test "
            "them all at once with `station line`"
        )
    load_plugins(config.plugins)
    sequence = load_sequence(options.sequence)
    # The virtual bench always runs in lockstep on a virtual clock; --speed only paces it
    # against the wall clock, so a demo shows the measurements CI gets.
    clock: Clock = VirtualClock(pace=max(options.speed, 0.0)) if options.sim else RealClock()
    transcript = Transcript(clock)
    bench = (
        open_sim_bench(config, options, clock, sequence, transcript)
        if options.sim
        else open_bench(config, clock, transcript)
    )
    if options.sim:
        # The virtual bench's instruments carry the config's calibration dates (so an
        # expired one blocks, as on the line); roles the config does not name get the
        # bench's own date a year ahead.
        config = replace(
            config,
            instruments={
                role: InstrumentConfig(
                    role,
                    info.model,
                    info.resource,
                    info.serial,
                    dt.date.fromisoformat(info.cal_due),
                )
                for role, info in bench.info.items()
            },
        )
    db_path = Path(options.db or config.results_db)
    bench.recorder = Recorder(db_path.parent / "attachments", transcript)
    try:
        store = ResultsStore(db_path)
    except BaseException:
        bench.close()
        raise
    engine = Engine(
        sequence, bench=bench, config=config, clock=clock, listeners=[store], store=store
    )
    prepared = PreparedRun(engine, sequence, config, store, bench, clock, db_path)
    try:
        background = central.start_background(config, db_path)
    except BaseException:
        prepared.close()
        raise
    if background is not None:  # the station never waits for the server: see station.central
        prepared._closers.append(background.stop)
    return prepared


def open_bench(config: StationConfig, clock: Clock, tracer: Any = None) -> Bench:
    """Open every configured instrument and the BMS, and read each instrument's identity."""
    instruments: dict[str, Any] = {}
    info: dict[str, InstrumentInfo] = {}
    try:
        open_instruments(config.instruments, tracer, instruments, info, config.path)
        if config.can is not None:
            instruments["bms"] = open_bms(config.can.bms, config.can.bus_arguments(), clock)
            check_role("bms", instruments["bms"], "BMS client", config.path)
    except BaseException:
        Bench(instruments).close()
        raise
    return Bench(instruments, info)


def open_instruments(
    configs: dict[str, InstrumentConfig],
    tracer: Any,
    instruments: dict[str, Any],
    info: dict[str, InstrumentInfo],
    config_path: Path | None,
) -> None:
    """Open each configured instrument into ``instruments`` and check what it is (it can
    play its role) and who (its serial); the caller closes what was opened when this
    raises. ``config_path`` names the config in the refusals."""
    from drivers.registry import open_instrument

    for role, ic in configs.items():
        inst = open_instrument(
            ic.model,
            ic.resource,
            timeout_s=ic.timeout_s,
            backend=ic.backend,
            tracer=tracer,
            options=ic.options,
        )
        instruments[role] = inst
        check_role(role, inst, ic.model, config_path)
        inst.connect()
        info[role] = instrument_info(role, ic.model, ic.resource, ic.serial, ic.cal_due, inst)
        if ic.serial not in info[role].idn:
            raise RunRefused(
                f"instrument {role!r} at {ic.resource} answers {info[role].idn!r}, not "
                f"serial {ic.serial!r} from the config: a different instrument is "
                "connected; fix the config or reconnect the right one"
            )


SIM_BMS_DESCRIPTION = sequences.path("bms", "eol_reference.toml")
"""The BMS description of the virtual bench's simulated BMS (shipped package data)."""


def open_sim_bench(
    config: StationConfig,
    options: RunOptions,
    clock: Clock,
    sequence: Sequence,
    tracer: Any = None,
) -> Bench:
    """Start the virtual bench and open its instruments and BMS through the real drivers.

    The config's roles and models are kept (a model without a twin is an error); with no
    instruments in the config the bench's default set is used. The BMS is simulated when
    the config has a CAN section or a step needs the ``bms`` role.
    """
    from drivers.sim.bench import VirtualBench
    from drivers.sim.faults import apply_fault

    models = {role: ic.model for role, ic in config.instruments.items()} or None
    needs_bms = config.can is not None or any(
        "bms" in step.step_type.roles for step in sequence.all_steps()
    )
    scheduler = clock if isinstance(clock, VirtualClock) else None
    pack = options.pack or sim_pack_for(sequence)
    try:
        virtual = VirtualBench(
            pack,
            seed=options.seed,
            now=clock.now,
            models=models,
            bms=needs_bms,
            scheduler=scheduler,
        )
    except ValueError as err:
        raise StationError(f"virtual bench: {err}") from err
    instruments: dict[str, Any] = {}
    try:
        info = open_virtual_instruments(
            virtual.resources,
            virtual.driver_options,
            instruments,
            config,
            tracer=tracer,
            serial_suffix="",
        )
        if virtual.bms is not None:
            instruments["bms"] = open_sim_bms(config, virtual.can, clock)
        # Faults go in once everything is connected, so that connecting (which clears
        # error queues, say) does not hide them.
        for name, value in parse_faults(options.faults).items():
            try:
                apply_fault(virtual, name, value)
            except ValueError as err:  # the message names the fault and its value
                raise StationError(f"--{err}") from err
    except BaseException:
        Bench(instruments, closers=[virtual.close]).close()
        raise
    return Bench(
        instruments, info, closers=[virtual.close], simulator=virtual, on_unit=virtual.present
    )


def open_virtual_instruments(
    resources: Mapping[str, tuple[str, str]],
    driver_options: Mapping[str, Any],
    instruments: dict[str, Any],
    config: StationConfig,
    *,
    tracer: Any,
    serial_suffix: str,
) -> dict[str, InstrumentInfo]:
    """Open a virtual bench's instruments (role → (model, resource)) through the real
    drivers into ``instruments``, check each can play its role, and say who each is.

    The caller closes what was opened when this raises. A virtual instrument carries the
    config's calibration date for its role (a year ahead when the config has none) and
    the serial ``SIM-<ROLE><serial_suffix>``.
    """
    from drivers.registry import open_instrument

    default_due = dt.date.today() + dt.timedelta(days=365)
    info: dict[str, InstrumentInfo] = {}
    for role, (model, resource) in resources.items():
        inst = open_instrument(
            model, resource, timeout_s=1.0, tracer=tracer, options=driver_options.get(role)
        )
        instruments[role] = inst
        check_role(role, inst, model, config.path)
        inst.connect()
        configured = config.instruments.get(role)
        due = configured.cal_due if isinstance(configured, InstrumentConfig) else default_due
        serial = f"SIM-{role.upper()}{serial_suffix}"
        info[role] = instrument_info(role, model, resource, serial, due, inst)
    return info


def open_sim_bms(config: StationConfig, can: dict[str, Any], clock: Clock) -> Any:
    """Open the BMS client on a virtual bench's CAN bus, checked against its role.

    Under lockstep virtual time the clock waits, before each move past t, until what the
    simulated BMS sent at t has been received (the hand-off).
    """
    description = config.can.bms if config.can is not None else SIM_BMS_DESCRIPTION
    bms = open_bms(description, can, clock, simulated=True)
    check_role("bms", bms, "BMS client", config.path)
    if isinstance(clock, VirtualClock):
        clock.add_settle(bms.settle)
    return bms


def sim_pack_for(sequence: Sequence) -> str:
    """Get the shipped virtual pack built as one of the sequence's products, or say which
    ``--pack`` to give."""
    from drivers.sim.packs import PackFileError, get_pack_spec, pack_names, pack_serving

    try:
        found = pack_serving(sequence.products)
    except PackFileError as err:
        raise StationError(f"virtual bench: {err}") from err
    if found is None:
        raise StationError(
            f"no virtual pack is built as {', '.join(sequence.products)} (the products of "
            f"sequence {sequence.name!r}); give --pack NAME or --pack FILE (a pack file, see "
            "docs/virtual-bench.md); shipped packs: "
            + ", ".join(f"{name} ({get_pack_spec(name).product})" for name in pack_names())
        )
    return found


def open_bms(
    description: Path, bus: dict[str, Any], clock: Clock, *, simulated: bool = False
) -> Any:
    """Open the pack's BMS (the unit under test: no calibration date, not an instrument)."""
    from drivers.bms.bms import Bms
    from drivers.bms.description import BmsDescription, BmsDescriptionError

    # Under virtual time, waiting for the BMS steps the clock to the simulated BMS's next
    # frame, as time moves on on a real line.
    pacer = clock if isinstance(clock, VirtualClock) else None
    # A simulated ECU is a Python thread on a shared machine: give it the generous P2 a
    # slow gateway would get, instead of a real BMS's 50 ms.
    p2_s = 1.0 if simulated else 0.05
    try:
        return Bms(
            BmsDescription.load(description), bus, now=clock.now, pacer=pacer, p2_timeout_s=p2_s
        )
    except BmsDescriptionError as err:
        raise StationError(f"BMS description {description}: {err}") from err


def parse_faults(specs: tuple[str, ...]) -> dict[str, str]:
    """``["low_insulation_plus=2e6", "hvil_open"]`` → ``{name: value}`` ("" if none)."""
    faults: dict[str, str] = {}
    for spec in specs:
        name, _, value = spec.partition("=")
        if not name:
            raise StationError(f"--fault {spec!r}: expected NAME or NAME=VALUE")
        faults[name.strip()] = value.strip()
    return faults


def instrument_info(
    role: str, model: str, resource: str, serial: str, cal_due: dt.date, inst: Any
) -> InstrumentInfo:
    identity = inst.identity()
    return InstrumentInfo(
        role=role,
        model=model,
        resource=resource,
        idn=str(identity),
        serial=serial,
        cal_due=cal_due.isoformat(),
    )


@dataclass(frozen=True)
class SimFault:
    """A virtual-bench fault as a front end shows it: what VALUE means and its default."""

    name: str
    value: str  # what VALUE means ("" for a plain switch)
    default: str
    help: str


def sim_faults() -> list[SimFault]:
    """The virtual bench's fault catalogue (``station sim --list-faults``), in its order."""
    from drivers.sim.faults import FAULTS

    return [SimFault(f.name, f.value, f.default, f.help) for f in FAULTS.values()]


def inject_fault(prepared: PreparedRun, name: str, value: str = "") -> None:
    """Switch a fault on in a running virtual bench (for training and demos).

    A fault stays on until the bench is closed (the catalogue has no "off"). Raises
    StationError with one sentence when the bench is not virtual or the fault is wrong.
    """
    from drivers.sim.faults import apply_fault

    if prepared.fault_injector is not None:
        prepared.fault_injector(name, value)
        return
    virtual = prepared.bench.simulator
    if virtual is None:
        raise StationError("faults can be injected only on the virtual bench (--sim)")
    try:
        apply_fault(virtual, name, value)
    except ValueError as err:
        raise StationError(str(err)) from err
