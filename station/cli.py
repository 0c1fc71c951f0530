"""``station``: run sequences, check files, browse results, start the virtual bench.

Every error reaches the user as one sentence (what, where, what to do); ``--debug``
shows the traceback instead. Exit codes of ``station run``: 0 PASSED, 1 FAILED,
2 ERROR or invalid input, 3 ABORTED (or TERMINATED).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import os
import sys
import threading
from collections.abc import Sequence as Seq
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from station.console import NestProgress, ProgressView, TerminalPrompter, print_result_table
from station.errors import StationError, _ProblemsError
from station.inputs import Problems, read_toml
from station.outcomes import Outcome
from station.stop_signals import abort_on_stop_signals
from station.store_records import MeasurementRecord
from station.version import software_version

log = logging.getLogger(__name__)

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR, EXIT_ABORTED = 0, 1, 2, 3


def _plugin_commands() -> dict[str, Any]:
    """Subcommands other layers register (``station ui``), loaded only when used."""
    return {entry.name: entry for entry in entry_points(group="eol_station.commands")}


def main(argv: Seq[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    plugins = _plugin_commands()
    if args_list and args_list[0] in plugins:
        # The plugin parses its own options, so `station ui --help` shows the UI's.
        return int(plugins[args_list[0]].load()(args_list[1:]))
    parser = _parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as done:  # --help (0) or a usage error (2), already explained
        return int(done.code or 0) if not isinstance(done.code, str) else EXIT_ERROR
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        result: int = args.func(args)
        return result
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_ABORTED
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep the interpreter quiet at exit
        return EXIT_ERROR
    except StationError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as err:  # a bug or an unforeseen input: never exit 1, which reads FAILED
        if args.debug:
            raise
        print(
            f"error: unexpected {type(err).__name__}: {err} (run with --debug for the "
            "traceback and report it)",
            file=sys.stderr,
        )
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="station", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"%(prog)s {software_version()}")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run a sequence for one pack")
    run.add_argument("sequence", type=Path)
    run.add_argument("--serial", required=True, help="the pack's serial number (scanned)")
    run.add_argument("--config", type=Path, help="station config TOML")
    _pack_test_options(run, "the virtual bench", fault_help=("NAME[=VALUE]", "(with --sim)"))
    run.add_argument(
        "--speed",
        type=_speed_or_zero,
        default=0.0,
        help="with --sim: 0 = virtual time as fast as it goes, else paced to SPEED × real time",
    )
    run.add_argument(
        "--rework",
        metavar="REASON",
        default="",
        help="test a repaired pack again (needed for a serial that already PASSED)",
    )
    run.add_argument(
        "--nest",
        metavar="N",
        help="the nest to test in, by number or name (a station config with [[nests]])",
    )
    run.set_defaults(func=cmd_run)

    line = sub.add_parser("line", help="test one pack in every nest at once (parallel nests)")
    line.add_argument("sequence", type=Path)
    line.add_argument(
        "--serial",
        action="append",
        required=True,
        metavar="NEST=SN",
        help="the pack in a nest (nest number or name); repeat per nest",
    )
    line.add_argument("--config", type=Path, required=True, help="station config with [[nests]]")
    _pack_test_options(
        line, "a virtual line", fault_help=("[NEST:]NAME[=VALUE]", "in one nest (or all)")
    )
    line.set_defaults(func=cmd_line)

    sim = sub.add_parser(
        "sim", help="run the virtual bench standalone (Ctrl-C or SIGTERM stops it)"
    )
    sim.add_argument(
        "--pack", default="nmc96s", help="simulated pack: a shipped name or a pack file (.toml)"
    )
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="inject a fault; repeatable (see --list-faults)",
    )
    sim.add_argument("--speed", type=_speed, default=1.0, help="time runs SPEED × real time")
    sim.add_argument(
        "--can-interface",
        default=None,
        help="python-can interface for the BMS (default udp_multicast, which reaches other "
        "processes on Linux and macOS; virtual stays in this one)",
    )
    sim.add_argument(
        "--can-channel",
        default=None,
        help="python-can channel (default: the interface's default group)",
    )
    sim.add_argument("--list-faults", action="store_true", help="list the faults and exit")
    sim.add_argument("--list-packs", action="store_true", help="list the shipped packs and exit")
    sim.set_defaults(func=cmd_sim)

    examples = sub.add_parser(
        "examples",
        help="copy the reference sequences, limit tables, configs, BMS descriptions and "
        "virtual packs into a folder for editing",
    )
    examples.add_argument("directory", type=Path)
    examples.set_defaults(func=cmd_examples)

    check = sub.add_parser(
        "check", help="validate sequence, station config and BMS description files"
    )
    check.add_argument("files", nargs="+", type=Path)
    check.add_argument(
        "--config",
        type=Path,
        help="station config: also check instruments, calibration, ratings and plugins",
    )
    check.add_argument("--variant", help="check for this product part number only")
    check.set_defaults(func=cmd_check)

    cov = sub.add_parser(
        "coverage", help="prove on the virtual bench that a sequence catches every fault"
    )
    cov.add_argument("sequence", type=Path)
    cov.add_argument("--variant", help="product part number whose limits are proven")
    cov.add_argument("--pack", default=None, help="virtual pack (default: the sequence's)")
    cov.add_argument("--jobs", type=int, default=1, help="run cases in N processes")
    cov.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="only this catalogue fault (repeatable); the baseline always runs",
    )
    cov.add_argument("--serial", default=None, help="serial number (default: made up)")
    cov.add_argument("--seed", type=int, default=1, help="virtual bench seed")
    cov.set_defaults(func=cmd_coverage)

    for name in _plugin_commands():
        # Listed for --help; main() hands their arguments over untouched.
        sub.add_parser(name, add_help=False, help=f"see `station {name} --help`")

    sync = sub.add_parser(
        "sync", help="copy finished runs from the outbox to the plant's central database"
    )
    _results_source(sync, None)
    sync.add_argument("--dsn", help="libpq connection string (default: [central] dsn)")
    sync.add_argument(
        "--retry-quarantined",
        action="store_true",
        help="give quarantined runs a fresh start first (after fixing the cause)",
    )
    sync.add_argument(
        "--show-quarantine", action="store_true", help="list quarantined runs and stop"
    )
    sync.set_defaults(func=cmd_sync)

    results = sub.add_parser("results", help="browse the results database")
    _results_source(results, None)
    rsub = results.add_subparsers(dest="results_command", required=True)
    listing = rsub.add_parser("list", help="list runs, newest first")
    # Also after the subcommand (`station results list --db X`, as README shows); there the
    # default is "not given", so it never overrides one given before the subcommand.
    _results_source(listing, argparse.SUPPRESS)
    listing.add_argument("--serial")
    listing.add_argument("--outcome")
    listing.add_argument("--since", help="ISO date or date-time (UTC)")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=cmd_results_list)
    show = rsub.add_parser("show", help="show one run (an id prefix of 8+ characters is enough)")
    _results_source(show, argparse.SUPPRESS)
    show.add_argument("run_id")
    show.set_defaults(func=cmd_results_show)
    verify = rsub.add_parser(
        "verify", help="check the hash chain: report the first run or row altered or deleted"
    )
    _results_source(verify, argparse.SUPPRESS)
    verify.set_defaults(func=cmd_results_verify)
    export = rsub.add_parser(
        "export", help="export finished runs as OpenHTF-style JSON, CSV or JUnit XML"
    )
    _results_source(export, argparse.SUPPRESS)
    export.add_argument("--format", required=True, choices=("json", "csv", "junit"))
    export.add_argument("--serial")
    export.add_argument("--outcome")
    export.add_argument("--since", help="ISO date or date-time (UTC)")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.set_defaults(func=cmd_results_export)
    stats = rsub.add_parser(
        "stats", help="first-pass yield by day and shift, Pareto of failures, Cpk"
    )
    _results_source(stats, argparse.SUPPRESS)
    stats.add_argument("--since", help="ISO date or date-time (UTC)")
    stats.add_argument("--station", help="only runs of this station id")
    stats.set_defaults(func=cmd_results_stats)
    report = rsub.add_parser("report", help="write a run's birth certificate as PDF or HTML")
    _results_source(report, argparse.SUPPRESS)
    report.add_argument("run_id")
    target = report.add_mutually_exclusive_group(required=True)
    target.add_argument("--pdf", type=Path, metavar="FILE")
    target.add_argument("--html", type=Path, metavar="FILE")
    report.set_defaults(func=cmd_results_report)
    return parser


def _results_source(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("--db", type=Path, default=default, help="results database")
    parser.add_argument(
        "--config", type=Path, default=default, help="station config naming the database"
    )


def _pack_test_options(
    parser: argparse.ArgumentParser, simulator: str, *, fault_help: tuple[str, str]
) -> None:
    """The options ``run`` and ``line`` share: who and what is tested, where results go,
    the virtual bench and its faults, and answering prompts unattended."""
    parser.add_argument("--variant", help="product part number (if the sequence serves several)")
    parser.add_argument("--operator", default="", help="who runs the test")
    parser.add_argument("--db", type=Path, help="results database (overrides the config)")
    parser.add_argument("--sim", action="store_true", help=f"run against {simulator}")
    parser.add_argument(
        "--pack",
        default=None,
        help="virtual pack NAME or pack FILE (with --sim; default: the pack built as the "
        "sequence's product)",
    )
    parser.add_argument("--seed", type=int, default=1, help="virtual bench seed (with --sim)")
    metavar, where = fault_help
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar=metavar,
        help=f"inject a virtual-bench fault {where}; repeatable",
    )
    parser.add_argument("--yes", action="store_true", help="answer every prompt with its default")


def _speed(text: str) -> float:
    """``--speed``: a finite number above 0 (argparse turns the error into one sentence)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"must be a finite number above 0 (e.g. 1 for real time), got {text!r}"
        )
    return value


def _speed_or_zero(text: str) -> float:
    """``station run --speed``: 0 (virtual time as fast as it goes) or a finite number above."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"must be 0 (as fast as it goes) or a finite number above, got {text!r}"
        )
    return value


# -- station check -----------------------------------------------------------------
def cmd_check(args: argparse.Namespace) -> int:
    import datetime as dt

    from drivers.bms.description import BmsDescription, BmsDescriptionError
    from station.config import StationConfig, load_config
    from station.runner import load_plugins
    from station.sequence import load_sequence
    from station.station_check import check_against_config, dmm_proof_warnings

    failures = 0
    config: StationConfig | None = None
    if args.config is not None:
        try:
            config = load_config(args.config)
            load_plugins(config.plugins)
            print(f"ok      {args.config} (config)")
        except _ProblemsError as err:
            print(f"FAILED  {args.config} (config): {len(err.problems)} problem(s)")
            for config_problem in err.problems:
                print(f"  {config_problem}")
            return EXIT_ERROR
        except StationError as err:
            print(f"FAILED  {args.config}: {err}")
            return EXIT_ERROR
    for path in args.files:
        kind = _kind_of(path)
        notes: list[str] = []
        try:
            found: list[str] = []
            if kind == "config":
                checked = load_config(path)
                load_plugins(checked.plugins)
                if checked.can is not None:
                    bms = BmsDescription.load(checked.can.bms)
                    notes.append(f"BMS description {checked.can.bms}: ok")
                    notes.extend(_ignored(bms.ignored))
            elif kind == "bms":
                notes.extend(_ignored(BmsDescription.load(path).ignored))
            elif kind == "limits":
                raise StationError(
                    f"{path}: a limit table is checked together with its sequence; "
                    "run `station check` on the sequence that names it"
                )
            else:
                load_plugins(())
                sequence = load_sequence(path)
                notes.extend(dmm_proof_warnings(sequence))
                if config is not None:
                    today = dt.datetime.now(dt.UTC).date()
                    found = check_against_config(sequence, config, args.variant, today)
                elif args.variant is not None and args.variant not in sequence.products:
                    found = [
                        f"{path}: product {args.variant!r} is not served by sequence "
                        f"{sequence.name!r} (it serves {', '.join(sequence.products)})"
                    ]
            if found:
                failures += 1
                print(f"FAILED  {path} ({kind}): {len(found)} problem(s)")
                for message in found:
                    print(f"  {message}")
            else:
                print(f"ok      {path} ({kind})")
                for note in notes:
                    print(f"  {note}")
        except (_ProblemsError, BmsDescriptionError) as err:
            failures += 1
            print(f"FAILED  {path} ({kind}): {len(err.problems)} problem(s)")
            if isinstance(err, BmsDescriptionError) and err.path != path:
                print(f"  in the BMS description {err.path}:")
            for problem in err.problems:
                print(f"  {problem}")
        except StationError as err:
            failures += 1
            print(f"FAILED  {path}: {err}")
    return EXIT_ERROR if failures else EXIT_PASSED


def _ignored(ignored: tuple[str, ...]) -> list[str]:
    return [f"warning: dbc_strict = false left out the unused message {m}" for m in ignored]


def _kind_of(path: Path) -> str:
    data = read_toml(path, Problems(path))
    if data is None:
        return "sequence"  # load_sequence reports the problem precisely
    if "station" in data or "instruments" in data:
        return "config"
    if isinstance(data.get("bms"), dict) and "sequence" not in data:
        return "bms"
    if "sequence" not in data and ("limits" in data or "table" in data):
        return "limits"
    return "sequence"


# -- station coverage --------------------------------------------------------------
def cmd_coverage(args: argparse.Namespace) -> int:
    from station.coverage import coverage

    if args.jobs < 1:
        raise StationError(f"--jobs {args.jobs}: give 1 or more processes")
    return coverage(
        args.sequence,
        variant=args.variant,
        pack=args.pack,
        processes=args.jobs,
        faults=args.fault,
        serial=args.serial,
        seed=args.seed,
    )


# -- station examples --------------------------------------------------------------
def cmd_examples(args: argparse.Namespace) -> int:
    from drivers.sim.packs import shipped_pack_files
    from station.examples import copy_examples

    target: Path = args.directory
    copied = copy_examples(target, packs=list(shipped_pack_files().values()))
    print(f"copied {len(copied)} files into {target}:")
    for path in copied:
        print(f"  {path.relative_to(target).as_posix()}")
    print(
        f"try: station run {(target / 'nmc96s' / 'eol.toml').as_posix()} "
        "--serial NM96A0000001 --sim --yes"
    )
    return EXIT_PASSED


# -- station run -------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from station import retest
    from station.app_log import application_log
    from station.gate import StartBlocked
    from station.runner import RunOptions, prepare_run

    if args.rework and not args.rework.strip():
        raise StationError("--rework needs the reason: what was repaired")

    options = RunOptions(
        sequence=args.sequence,
        config=args.config,
        db=args.db,
        sim=args.sim,
        pack=args.pack,
        seed=args.seed,
        faults=(*args.fault, *_master_fault(args)),
        speed=args.speed,
    )
    if args.nest is not None:
        from station.line import prepare_line

        if args.speed:
            raise StationError("--speed is not offered with --nest (one line clock for all)")
        prepared = prepare_line(options, only=(args.nest,)).as_run(args.nest)
    else:
        prepared = prepare_run(options)
    try:
        _refuse_prompts_nobody_answers(prepared.sequence, args.yes)
    except BaseException:
        prepared.close()
        raise
    progress = ProgressView(prepared.sequence)
    prepared.engine.listeners.append(progress)
    prepared.engine.prompter = TerminalPrompter(assume_default=args.yes)

    def on_stop(name: str) -> None:
        how = "Ctrl-C" if name == "SIGINT" else name
        print(
            f"\nabort requested ({how}) — running cleanup and making the bench safe…",
            file=sys.stderr,
            flush=True,
        )
        prepared.engine.request_abort(f"operator abort ({how})")

    # Held until the bench is closed: a signal during cleanup or the safe-state read-back
    # must not end the process before every source is confirmed off.
    with abort_on_stop_signals(on_stop):
        try:
            with application_log(prepared.config.logging, prepared.db_path):
                log.info(
                    "station %s: run %s for %s%s",
                    software_version(),
                    prepared.sequence.name,
                    args.serial,
                    " on the virtual bench" if args.sim else "",
                )
                try:
                    print(retest.describe(retest.history(prepared.store, args.serial)))
                    result = prepared.engine.run(
                        args.serial, args.variant, args.operator, rework=args.rework
                    )
                except StartBlocked as refused:
                    for blocker in refused.blockers:
                        log.warning("run refused: %s", blocker.message)
                        print(f"error: {blocker.message}", file=sys.stderr)
                    return EXIT_ERROR
                log.info("run %s of %s: %s", result.run_id, result.serial, result.outcome)
        finally:
            prepared.close()
    print_result_table(result)
    print(f"\nVERDICT: {result.outcome}   serial {result.serial}   run {result.run_id}")
    print(f"results: {prepared.db_path}")
    if result.record_problem:
        print(f"ERROR: the run's record is incomplete: {result.record_problem}")
    if not result.safe_state_ok:
        print(
            f"WARNING: safe state not confirmed: {result.safe_state_detail}. "
            "Verify every source is off and HV is discharged before touching the pack."
        )
    return Outcome(result.outcome).exit_code


def cmd_line(args: argparse.Namespace) -> int:
    from station.app_log import application_log
    from station.config import load_config
    from station.line import prepare_line
    from station.runner import RunOptions

    config = load_config(args.config)
    serials: dict[int, str] = {}
    for spec in args.serial:
        key, sep, serial = spec.partition("=")
        if not sep or not key.strip() or not serial.strip():
            raise StationError(f"--serial {spec!r}: expected NEST=SERIAL, e.g. 1=LF16A0000001")
        nest = config.nest_by(key.strip())
        if nest.index in serials:
            raise StationError(f"--serial {spec!r}: nest {nest.label} has a serial already")
        serials[nest.index] = serial.strip()
    options = RunOptions(
        sequence=args.sequence,
        config=args.config,
        db=args.db,
        sim=args.sim,
        pack=args.pack,
        seed=args.seed,
        faults=tuple(args.fault),
    )
    keys = tuple(str(index) for index in sorted(serials))
    line = prepare_line(options, only=keys)
    try:
        asking = [s.name for s in line.sequence.all_steps() if s.step_type.asks_operator]
        if asking and not args.yes:
            raise StationError(
                f"the sequence asks the operator ({', '.join(map(repr, asking))}) and one "
                "terminal cannot answer several nests at once: pass --yes (recorded as "
                "automatic answers) or test the nests in the UI"
            )
        for prepared in line.nests:
            prepared.engine.listeners.append(NestProgress(prepared.nest.label))
            prepared.engine.prompter = TerminalPrompter(assume_default=args.yes)
    except BaseException:
        line.close()
        raise

    def on_stop(name: str) -> None:
        how = "Ctrl-C" if name == "SIGINT" else name
        print(f"\nabort requested ({how}) — every nest: cleanup and safe state…", flush=True)
        line.abort_all(f"operator abort ({how})")

    with abort_on_stop_signals(on_stop):
        try:
            with application_log(config.logging, line.db_path):
                runs = line.run(serials, variant=args.variant, operator=args.operator)
        finally:
            line.close()
    worst = 0
    for run in runs:
        result = run.result
        if result is None:
            print(f"nest {run.nest.label}: REFUSED   serial {run.serial}   {run.refused}")
            worst = max(worst, EXIT_ERROR)
            continue
        print(
            f"nest {run.nest.label}: {result.outcome}   serial {result.serial}   "
            f"run {result.run_id}"
        )
        if not result.safe_state_ok:
            print(
                f"  WARNING: safe state not confirmed: {result.safe_state_detail}. Verify "
                "every source is off and HV is discharged before touching that pack."
            )
        worst = max(worst, Outcome(result.outcome).exit_code)
    print(f"results: {line.db_path}")
    return worst


def _master_fault(args: argparse.Namespace) -> tuple[str, ...]:
    """On the virtual bench a failure master is a virtual pack with its configured fault."""
    from station.config import load_config

    if not args.sim or args.config is None:
        return ()
    masters = load_config(args.config).masters
    if masters is None:
        return ()
    return tuple(m.fault for m in masters.failure if m.serial == args.serial and m.fault)


def _refuse_prompts_nobody_answers(sequence: Any, assume_default: bool) -> None:
    """Refuse, before anything is energised, a run whose prompts no operator can answer."""
    if assume_default or sys.stdin.isatty():
        return
    asking = [s.name for s in sequence.all_steps() if s.step_type.asks_operator]
    if asking:
        raise StationError(
            f"the sequence asks the operator ({', '.join(map(repr, asking))}) but standard "
            "input is not a terminal, so no one can answer: run it from a terminal, or pass "
            "--yes to answer every prompt with its default (recorded as automatic answers)"
        )


# -- station sim -------------------------------------------------------------------
def cmd_sim(args: argparse.Namespace) -> int:
    from drivers.sim.bench import VirtualBench
    from drivers.sim.faults import apply_fault, describe_faults
    from drivers.sim.packs import describe_packs
    from station.clock import RealClock
    from station.runner import SIM_BMS_DESCRIPTION, parse_faults

    if args.list_faults:
        for line in describe_faults():
            print(line)
        return EXIT_PASSED
    if args.list_packs:
        for line in describe_packs():
            print(line)
        return EXIT_PASSED
    interface = sim_can_interface(args.can_interface, sys.platform)
    channel = args.can_channel
    if channel is None and interface == "udp_multicast":
        from can.interfaces.udp_multicast import UdpMulticastBus

        channel = UdpMulticastBus.DEFAULT_GROUP_IPv4
    clock = RealClock(speed=args.speed)
    try:
        bench = VirtualBench(
            args.pack,
            seed=args.seed,
            now=clock.now,
            bms=True,
            can_interface=interface,
            can_channel=channel,
        )
    except ValueError as err:
        raise StationError(f"virtual bench: {err}") from err
    stop = threading.Event()
    try:
        for name, value in parse_faults(tuple(args.fault)).items():
            try:
                apply_fault(bench, name, value)
            except ValueError as err:  # the message names the fault and its value
                raise StationError(f"--{err}") from err
        print(f"virtual bench: pack {args.pack} (seed {args.seed}), time × {args.speed:g}")
        for role, (model, resource) in bench.resources.items():
            print(f"  {role:<18} {model:<20} {resource}")
        print(
            f"  {'bms':<18} {'CAN':<20} interface={bench.can['interface']} "
            f"channel={bench.can['channel']}"
        )
        print(f"  BMS description: {SIM_BMS_DESCRIPTION}")
        with abort_on_stop_signals(lambda name: stop.set()):
            print(
                "running; type a pack's serial and Enter to put that pack on the fixture "
                "(a new serial gets a fresh pack, a known one its own back); Ctrl-C or "
                "SIGTERM stops",
                flush=True,
            )
            threading.Thread(
                target=_serials_from_stdin, args=(bench,), name="sim-fixture", daemon=True
            ).start()
            while not stop.wait(0.5):
                pass
    finally:
        bench.close()
    print("virtual bench stopped")
    return EXIT_PASSED


def _serials_from_stdin(bench: Any) -> None:
    """``station sim``: each line typed is the serial of the pack now on the fixture."""
    for line in sys.stdin:
        serial = line.strip()
        if not serial:
            continue
        bench.present(serial)
        identity = bench.bms.diagnostics.identity if bench.bms is not None else {}
        print(
            f"fixture: pack {serial} (BMS {identity.get('part_number', '?')}, "
            f"serial {identity.get('serial', '?')}, SOC {bench.pack.soc:.1%})",
            flush=True,
        )


def sim_can_interface(requested: str | None, platform: str) -> str:
    """Get the CAN interface of ``station sim``'s BMS: the one asked for, else udp_multicast
    (python-can has no multicast interface on Windows, so there it must be chosen)."""
    if requested:
        return requested
    if platform == "win32":
        raise StationError(
            "station sim needs --can-interface on Windows: python-can's udp_multicast (the "
            "default elsewhere) does not exist there; give a CAN adapter with a loopback to "
            "the station's, e.g. --can-interface pcan --can-channel PCAN_USBBUS2, or "
            "--can-interface virtual to keep the BMS inside this process"
        )
    return "udp_multicast"


# -- station sync ------------------------------------------------------------------
def cmd_sync(args: argparse.Namespace) -> int:
    from station import central, outbox
    from station.config import default_config, load_config

    config = load_config(args.config) if args.config else default_config(Path("results/results.db"))
    db = Path(args.db or config.results_db)
    dsn = args.dsn or (config.central.dsn if config.central else None)
    if args.show_quarantine:
        local = central.open_outbox(db)
        try:
            rows = local.execute(
                "SELECT run_id, target, attempts, quarantined_at, last_error FROM outbox"
                " WHERE quarantined_at IS NOT NULL ORDER BY seq"
            ).fetchall()
        finally:
            local.close()
        for run_id, target, attempts, at, error in rows:
            print(f"{run_id}  {target}  {attempts} attempts, quarantined {at}: {error}")
        print(f"{len(rows)} quarantined run(s) in {db}")
        return EXIT_ERROR if rows else 0
    if not dsn:
        raise StationError("no central database: give --dsn or a [central] dsn in --config")
    if args.retry_quarantined:
        local = central.open_outbox(db)
        try:
            freed = sum(outbox.release_quarantine(local, t) for t in outbox.TARGETS)
        finally:
            local.close()
        print(f"{freed} quarantined run(s) released for another attempt")
    max_attempts = config.central.max_attempts if config.central else central.DEFAULT_MAX_ATTEMPTS
    timeout = config.central.connect_timeout_s if config.central else 5.0
    report = central.sync(
        db,
        dsn,
        mes=central.mes_for(config),
        max_attempts=max_attempts,
        connect_timeout_s=timeout,
    )
    print(report.text())
    return 0 if report.ok else EXIT_ERROR


# -- station results ---------------------------------------------------------------
def _open_store(args: argparse.Namespace) -> Any:
    from station.config import load_config
    from station.store import ResultsStore

    if args.db is not None:
        path = args.db
    elif args.config is not None:
        path = load_config(args.config).results_db
    else:
        path = Path("results/results.db")
    if not Path(path).exists():
        raise StationError(f"no results database at {path}; pass --db or --config")
    return ResultsStore(path, read_only=True)


def _since(text: str | None) -> str | None:
    if text:
        try:
            dt.datetime.fromisoformat(text)
        except ValueError:
            raise StationError(f"--since {text!r} is not an ISO date (2026-11-26)") from None
    return text


def cmd_results_list(args: argparse.Namespace) -> int:
    store = _open_store(args)
    try:
        runs = store.list_runs(
            serial=args.serial, outcome=args.outcome, since=_since(args.since), limit=args.limit
        )
    finally:
        store.close()
    print(f"{'run':<10} {'started (UTC)':<24} {'serial':<18} {'part':<10} {'outcome':<12} sequence")
    for r in runs:
        print(
            f"{str(r.id)[:8]:<10} {r.started_at:<24} {r.serial:<18} "
            f"{r.part_number:<10} {r.outcome!s:<12} {r.sequence_name} "
            f"{r.sequence_version}"
        )
    if not runs:
        print("(no runs match)")
    return EXIT_PASSED


def cmd_results_show(args: argparse.Namespace) -> int:
    store = _open_store(args)
    try:
        run = store.get_run(args.run_id)
    finally:
        store.close()
    link = run.chain
    for key in (
        "id",
        "serial",
        "part_number",
        "outcome",
        "station_id",
        "operator",
        "sequence_name",
        "sequence_version",
        "sequence_sha256",
        "limits_sha256",
        "config_sha256",
        "software_version",
        "started_at",
        "ended_at",
        "safe_state_ok",
        "safe_state_detail",
    ):
        print(f"{key:<18} {getattr(run, key)}")
    if link is not None:
        print(f"{'chain_link':<18} {link.seq} {link.sha256}")
        print(f"{'record_sha256':<18} {link.record_sha256}")
        print(f"{'chain_head':<18} {link.head}")
    else:
        print(f"{'chain_link':<18} (none: the run is not finished)")
    print()
    for inst in run.instruments:
        print(
            f"instrument {inst.role:<18} {inst.model:<18} s/n {inst.serial} "
            f"cal due {inst.cal_due}  {inst.resource}"
        )
    print()
    by_step: dict[str, list[MeasurementRecord]] = {}
    for m in run.measurements:
        by_step.setdefault(m.step_id, []).append(m)
    for s in run.steps:
        err = f" — {s.error}" if s.error else ""
        print(f"{s.grp:<8} {s.name:<34} {s.outcome:<10}{err}")
        for m in by_step.get(s.id, []):
            value = m.value if m.value is not None else (m.value_text or m.values_json)
            print(
                f"           {m.name:<24} {value!s:<16} {m.unit or '':<4} "
                f"{m.limit_text or '':<24} {m.outcome}"
            )
    for c in run.components:
        print(f"component  {c.kind:<18} {c.code}")
    for a in run.attachments:
        print(f"attachment {a.name} ({a.media_type}, {a.size} bytes) {a.path}")
    return EXIT_PASSED


def cmd_results_verify(args: argparse.Namespace) -> int:
    store = _open_store(args)
    try:
        report = store.verify()
    finally:
        store.close()
    head = report.head.text() if report.head else "(empty chain)"
    print(f"{report.links} chain link(s), {report.runs} finished run(s); head {head}")
    for note in report.notes:
        print(f"note: {note}")
    if report.ok:
        print(f"OK: {store.path} is as the station recorded it")
        return EXIT_PASSED
    print(f"TAMPERED: {report.problems[0]}")
    for problem in report.problems[1:]:
        print(f"  also: {problem}")
    return EXIT_FAILED


def cmd_results_export(args: argparse.Namespace) -> int:
    from station.exports import export, finished_runs

    since = _since(args.since)
    store = _open_store(args)
    try:
        runs = finished_runs(store, serial=args.serial, outcome=args.outcome, since=since)
    finally:
        store.close()
    text = export(runs, args.format)
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as err:
            raise StationError(
                f"cannot write the export to {args.output} ({err.strerror})"
            ) from err
        print(f"{len(runs)} run(s) exported as {args.format} to {args.output}", file=sys.stderr)
    return EXIT_PASSED


def cmd_results_stats(args: argparse.Namespace) -> int:
    from station import stats
    from station.config import load_config

    since = _since(args.since)
    masters = load_config(args.config).masters if args.config is not None else None
    store = _open_store(args)
    try:
        found = stats.report(
            store,
            since=since,
            station=args.station,
            exclude=masters.serials() if masters is not None else frozenset(),
        )
    finally:
        store.close()

    def fpy(c: stats.Counters) -> str:
        value = c.first_pass_yield
        return "–" if value is None else f"{100 * value:.1f} %"

    where = f" on {args.station}" if args.station else ""
    print(
        f"{found.runs} verdict run(s){where}, {found.total.tested} pack(s), "
        f"{found.total.passed} passed; first-pass yield {fpy(found.total)} "
        f"({found.total.first_pass} of {found.total.first_attempts} first attempts)"
    )
    starts = ", ".join(t.strftime("%H:%M") for t in stats.SHIFT_STARTS)
    print(f"\nFirst-pass yield by day and shift (local time; shifts start {starts})")
    print(f"{'day':<11} {'shift':<6} {'first tests':>11} {'passed':>7} {'FPY':>8} {'packs':>6}")
    for y in found.yields:
        c = y.counters
        shift = "day" if y.shift is None else str(y.shift)
        print(
            f"{y.day.isoformat():<11} {shift:<6} {c.first_attempts or 0:>11} "
            f"{c.first_pass:>7} {fpy(c):>8} {c.tested:>6}"
        )
    print("\nPareto of failing measurements (last attempt of each step)")
    if not found.pareto:
        print("(no failing measurement)")
    for p in found.pareto:
        print(
            f"{p.failures:>5} {100 * p.share:>6.1f} % {100 * p.cumulative:>6.1f} %  "
            f"{p.step} › {p.measurement}"
        )
    print("\nCpk per measurement with limits")
    if not found.cpk:
        print("(no judged numeric measurement)")
    for row in sorted(found.cpk, key=lambda r: (r.capability.cpk is None, r.capability.cpk or 0)):
        cap = row.capability
        cpk = "–" if cap.cpk is None else f"{cap.cpk:.2f}"
        low = "−∞" if row.low is None else f"{row.low:g}"
        high = "+∞" if row.high is None else f"{row.high:g}"
        mean = "–" if cap.mean is None else f"{cap.mean:.5g}"
        sd = "–" if cap.stdev is None else f"{cap.stdev:.3g}"
        print(
            f"Cpk {cpk:>6}  n {cap.n:<5} mean {mean:<10} s {sd:<9} limits [{low}, {high}] "
            f"{row.unit}  {row.part_number} {row.step} › {row.measurement}"
        )
    return EXIT_PASSED


def cmd_results_report(args: argparse.Namespace) -> int:
    from station import certificate

    store = _open_store(args)
    try:
        run = certificate.gather(store, args.run_id)
    finally:
        store.close()
    if args.pdf is not None:
        certificate.write_pdf(run, args.pdf)
        target = args.pdf
    else:
        certificate.write_html(run, args.html)
        target = args.html
    what = f"{run.serial} (run {run.id[:8]}, {run.outcome})"
    print(f"certificate of {what} written to {target}")
    return EXIT_PASSED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
