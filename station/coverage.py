"""``station coverage``: prove on the virtual bench that a sequence catches every fault.

For a sequence, :func:`plan` turns the fault catalogue (``station/coverage_catalogue.py``)
into cases: a healthy baseline, and per entry each *bad* magnitude (must not PASS, and the
first step that does not pass must be one the entry names) and each *good* magnitude (must
PASS). Magnitudes come from the sequence's own limits and parameters where the entry says
how (90 % of an IR limit is bad, 110 % good), else from the entry. :func:`run_cases` runs
each case as a full run of the sequence on a fresh virtual bench (optionally in several
processes) and :func:`classify` decides, per case, caught / escape / ok / false fail.

This module is composition-root level, like ``station/runner.py``: it needs the simulated
packs to plan (cell count, part number) and the virtual bench to run. Reference:
``docs/coverage.md``.
"""

from __future__ import annotations

import importlib
import math
import multiprocessing
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from station import outcomes
from station.coverage_catalogue import CATALOGUE, Catch, Entry, FromLimit, FromParam, ParamFilter
from station.errors import StationError
from station.limits import bounds
from station.outcomes import ABORTED, ERROR, FAILED, PASSED
from station.results import RunResult, StepResult
from station.runner import RunOptions, load_plugins, prepare_run
from station.sequence import Sequence, StepDef, load_sequence

Kind = Literal["baseline", "bad", "good"]
Verdict = Literal["caught", "ok", "ESCAPE", "FALSE FAIL"]


@dataclass(frozen=True)
class Case:
    """One run of the sequence: a fault at a magnitude (or none), and what must happen."""

    fault: str  # "" for the healthy baseline
    value: str  # the fault's VALUE ("" = its default)
    kind: Kind
    catches: tuple[Catch, ...]
    source: str  # where the magnitude comes from, for the table

    @property
    def spec(self) -> str:
        """The ``--fault`` text of this case."""
        return f"{self.fault}={self.value}" if self.value else self.fault

    @property
    def expected(self) -> str:
        if self.kind != "bad":
            return PASSED
        return " or ".join(c.describe() for c in self.catches)


@dataclass(frozen=True)
class Job:
    """Everything a worker process needs to run one case."""

    case: Case
    sequence: Path
    pack: str
    part: str
    serial: str
    seed: int


@dataclass(frozen=True)
class CaseResult:
    case: Case
    outcome: outcomes.Outcome  # how the run ended
    caught_by: str  # "step name: OUTCOME measurement(s)" or "" when every step passed
    verdict: Verdict
    detail: str
    seconds: float
    safe: bool

    @property
    def clean(self) -> bool:
        return self.verdict in ("caught", "ok")


# -- planning ----------------------------------------------------------------------


def pack_for(sequence: Sequence, pack: str | None) -> str:
    """The virtual pack to run ``sequence`` on: ``pack`` (a shipped name or a pack file),
    else the shipped one built as one of its products."""
    from drivers.sim.packs import PACK_NAMES, PackFileError, get_pack_spec, pack_serving

    try:
        if pack is not None:
            get_pack_spec(pack)  # a clear sentence now, not in every case's process
            return pack
        found = pack_serving(sequence.products)
    except PackFileError as err:
        raise StationError(str(err)) from err
    if found is None:
        raise StationError(
            f"no virtual pack is a {' or '.join(sequence.products)}; choose one with --pack "
            f"({', '.join(PACK_NAMES)}, or a pack file)"
        )
    return found


def serial_for(sequence: Sequence) -> str:
    """Make up a serial number that matches the sequence's ``serial_pattern``."""
    parser: Any = importlib.import_module("re._parser")
    try:
        serial = _example(parser, parser.parse(sequence.serial_pattern.pattern))
    except (KeyError, IndexError, TypeError, ValueError):
        serial = ""
    if not sequence.serial_pattern.fullmatch(serial):
        raise StationError(
            f"cannot make up a serial number matching {sequence.serial_pattern.pattern!r}; "
            "give one with --serial"
        )
    return serial


def _example(parser: Any, pattern: Any) -> str:
    """The shortest string a parsed regular expression matches (the common constructs)."""
    c = parser
    out = []
    for op, arg in pattern:
        if op is c.LITERAL:
            out.append(chr(arg))
        elif op is c.ANY:
            out.append("0")
        elif op is c.IN:
            out.append(_one_of(c, arg))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            low, _, sub = arg
            out.append(_example(c, sub) * max(low, 0))
        elif op is c.SUBPATTERN:
            out.append(_example(c, arg[-1]))
        elif op is c.BRANCH:
            out.append(_example(c, arg[1][0]))
        elif op is c.AT:
            continue
        else:
            raise ValueError(f"unsupported regex construct {op}")
    return "".join(out)


def _one_of(c: Any, items: Any) -> str:
    for op, arg in items:
        if op is c.NEGATE:
            raise ValueError("negated class")
        if op is c.LITERAL:
            return chr(arg)
        if op is c.RANGE:
            return chr(arg[0])
        if op is c.CATEGORY:
            return {c.CATEGORY_DIGIT: "0", c.CATEGORY_WORD: "A"}[arg]
    raise ValueError("empty class")


def plan(
    sequence: Sequence,
    *,
    pack: str,
    part: str,
    faults: Iterable[str] = (),
    catalogue: Iterable[Entry] = CATALOGUE,
) -> list[Case]:
    """The cases that prove ``sequence`` (only ``faults`` if given; baseline always first)."""
    from drivers.sim.faults import FAULTS
    from drivers.sim.packs import get_pack_spec

    wanted = set(faults)
    entries = list(catalogue)
    unknown = sorted(wanted - {e.fault for e in entries})
    if unknown:
        raise StationError(
            f"--fault {', '.join(unknown)}: not in the coverage catalogue; it has "
            + ", ".join(sorted({e.fault for e in entries}))
        )
    last = str(get_pack_spec(pack).series - 1)
    roles = {role for step in sequence.all_steps() for role in step.step_type.roles}
    cases = [Case("", "", "baseline", (), "healthy pack")]
    for entry in entries:
        if wanted and entry.fault not in wanted:
            continue
        if entry.fault not in FAULTS:
            raise StationError(
                f"coverage catalogue: fault {entry.fault!r} is not a virtual-bench fault"
            )
        if entry.packs and pack not in entry.packs:
            continue
        if entry.needs_role is not None and entry.needs_role not in roles:
            continue
        derived = derive(entry.derive, sequence, part) if entry.derive is not None else None
        if derived is not None:
            (bad, good), source = derived
            cases.append(Case(entry.fault, bad, "bad", entry.catches, source))
            cases.append(Case(entry.fault, good, "good", (), source))
            continue
        source = "declared" if entry.derive is None else "declared: no step to derive from"
        default = FAULTS[entry.fault].default  # shown in the table instead of ""
        for value in entry.bad:
            value = value.replace("{last}", last) or default
            cases.append(Case(entry.fault, value, "bad", entry.catches, source))
        for value in entry.good:
            value = value.replace("{last}", last) or default
            cases.append(Case(entry.fault, value, "good", (), source))
    return cases


def derive(
    rule: FromLimit | FromParam, sequence: Sequence, part: str
) -> tuple[tuple[str, str], str] | None:
    """(bad, good) fault values from the sequence's own numbers, and how; None if none apply.

    The bad value is outside every matching bound (the factor × the strictest), the good
    value inside every one (the factor × the most lenient).
    """
    limits = sequence.limits_for(part)
    found: list[tuple[float, str]] = []
    groups = sequence.groups_for(part)  # with the variant's parameters
    for step in (s for steps in groups.values() for s in steps):
        if step.type != rule.step_type or not params_match(step, rule.params):
            continue
        if isinstance(rule, FromLimit):
            limit = limits.get((step.name, rule.measurement))
            # bounds() also gives NOMTOL's nominal ∓ tolerance; ARRAY lists give None
            low, high, _ = bounds(limit) if limit is not None else (None, None, None)
            value = low if rule.bound == "low" else high
            what = f"{rule.measurement} {rule.bound}"
        else:
            value = getattr(step.params, rule.param, None)
            what = f"params.{rule.param}"
        if isinstance(value, int | float) and math.isfinite(value):
            found.append((float(value), f"{step.name!r} {what} {_num(float(value))}"))
    if not found:
        return None
    low_side = isinstance(rule, FromParam) or rule.bound == "low"
    strict = min(found) if low_side else max(found)
    lenient = max(found) if low_side else min(found)
    bad, good = strict[0] * rule.bad_factor, lenient[0] * rule.good_factor
    source = f"{rule.bad_factor:g}× / {rule.good_factor:g}× {strict[1]}"
    if lenient[1] != strict[1]:
        source += f" (good: {lenient[1]})"
    return (_num(bad), _num(good)), source


def params_match(step: StepDef, wanted: ParamFilter) -> bool:
    return all(getattr(step.params, k, None) in accepted for k, accepted in wanted.items())


def _num(x: float) -> str:
    return f"{x:.6g}"


# -- running -----------------------------------------------------------------------


class _DefaultAnswers:
    """Answers every operator prompt with its default, silently (unattended runs)."""

    def ask(self, request: Any, abort: threading.Event) -> str | None:
        if request.kind == "choice":
            return str(request.choices[0])
        default = {"confirm": "yes", "message": "ok"}.get(request.kind)
        if default is None:
            raise StationError(f"the sequence asks {request.text!r}, which has no default")
        return default


def run_case(job: Job) -> CaseResult:
    """Run the sequence once on a fresh virtual bench with the case's fault; classify it.

    The bench runs in lockstep virtual time, so a case gives the same result on every run
    under any load: a case is never rerun, and a result that did not pass is final.
    """
    load_plugins(())
    started = time.monotonic()
    faults = (job.case.spec,) if job.case.fault else ()
    with tempfile.TemporaryDirectory(prefix="station-coverage-") as tmp:
        options = RunOptions(
            sequence=job.sequence,
            db=Path(tmp) / "results.db",
            sim=True,
            pack=job.pack,
            seed=job.seed,
            faults=faults,
        )
        # Any failure to run is reported on the case's row, never taken for a catch, and
        # never stops the other cases.
        try:
            prepared = prepare_run(options)
        except Exception as err:
            return _not_run(job.case, err, started)
        prepared.engine.prompter = _DefaultAnswers()
        try:
            result = prepared.engine.run(job.serial, job.part)
        except Exception as err:  # refused before it started
            return _not_run(job.case, err, started)
        finally:
            prepared.close()
        verdict, caught_by, detail = classify(job.case, result, prepared.sequence)
    seconds = time.monotonic() - started
    return CaseResult(
        job.case, result.outcome, caught_by, verdict, detail, seconds, result.safe_state_ok
    )


def _not_run(case: Case, err: Exception, started: float) -> CaseResult:
    """A run the station refused to start: no step caught a bad case, a good one failed."""
    verdict: Verdict = "ESCAPE" if case.kind == "bad" else "FALSE FAIL"
    seconds = time.monotonic() - started
    return CaseResult(case, ERROR, "", verdict, f"not run: {err}", seconds, True)


def classify(case: Case, result: RunResult, sequence: Sequence) -> tuple[Verdict, str, str]:
    """(verdict, the step that caught it, a short detail) of one finished run."""
    first = next((s for s in result.steps if s.outcome in (FAILED, ERROR, ABORTED)), None)
    caught_by = _caught_by(first) if first is not None else ""
    detail = _detail(first) if first is not None else ""
    if case.kind != "bad":
        return ("ok" if result.outcome == PASSED else "FALSE FAIL"), caught_by, detail
    if result.outcome == PASSED:
        return "ESCAPE", caught_by, "the pack PASSED"
    steps = {s.name: s for s in sequence.all_steps()}
    if first is not None and any(matches(c, steps[first.name], first) for c in case.catches):
        return "caught", caught_by, detail
    if first is None:
        detail = f"run {result.outcome} with every step passed: {result.safe_state_detail}"
    return "ESCAPE", caught_by, f"wrong step: {detail}"


def matches(catch: Catch, step: StepDef, result: StepResult) -> bool:
    """Whether the step that did not pass is one ``catch`` names."""
    if catch.step_type is not None and step.type != catch.step_type:
        return False
    if result.outcome != catch.outcome or not params_match(step, catch.params):
        return False
    if catch.role is not None and catch.role not in step.step_type.roles:
        return False
    if catch.measurement is not None and catch.outcome == FAILED:
        return catch.measurement in _failed(result)
    return True


def _failed(step: StepResult) -> list[str]:
    return [m.name for m in step.measurements if m.outcome == outcomes.Verdict.FAILED]


def _caught_by(step: StepResult) -> str:
    failed = _failed(step)
    return f"{step.name}: {step.outcome}" + (f" {', '.join(failed)}" if failed else "")


def _detail(step: StepResult) -> str:
    if step.error:
        return step.error
    failed = [m for m in step.measurements if m.outcome == outcomes.Verdict.FAILED]
    return failed[0].detail if failed else ""


def run_cases(
    jobs: list[Job], processes: int = 1, progress: Callable[[CaseResult], None] | None = None
) -> list[CaseResult]:
    """Run every job, in ``processes`` worker processes if more than one; keep their order."""
    results: dict[int, CaseResult] = {}
    if processes <= 1:
        for i, job in enumerate(jobs):
            results[i] = run_case(job)
            if progress is not None:
                progress(results[i])
    else:
        # spawn, not fork: a forked child would inherit the locks of the parent's threads
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            futures = {pool.submit(run_case, job): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                i = futures[future]
                try:
                    results[i] = future.result()
                except Exception as err:  # the worker process itself died
                    results[i] = _not_run(jobs[i].case, err, time.monotonic())
                if progress is not None:
                    progress(results[i])
    return [results[i] for i in range(len(jobs))]


# -- the report --------------------------------------------------------------------


def summary(results: list[CaseResult]) -> tuple[int, int, int]:
    """(cases, escapes, false fails)."""
    escapes = sum(r.verdict == "ESCAPE" for r in results)
    false_fails = sum(r.verdict == "FALSE FAIL" for r in results)
    return len(results), escapes, false_fails


def table(results: list[CaseResult]) -> list[str]:
    """The report: one row per case, then the summary line (always the last line)."""
    header = ("fault", "magnitude", "case", "expected", "verdict", "run", "caught by", "detail")
    rows = [header]
    for r in results:
        c = r.case
        rows.append(
            (
                c.fault or "(none)",
                c.value or ("on" if c.fault else "-"),
                c.kind,
                c.expected,
                r.verdict,
                r.outcome + ("" if r.safe else " UNSAFE"),
                r.caught_by or "-",
                _short(r.detail, 90),
            )
        )
    widths = [min(max(len(row[i]) for row in rows), 60) for i in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [_short(cell, w).ljust(w) for cell, w in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    sources = sorted(
        {(r.case.fault, r.case.source) for r in results if r.case.source != "declared"}
        - {("", "healthy pack")}
    )
    if sources:
        lines.append("")
        lines.append("magnitudes not declared by the catalogue:")
        lines += [f"  {fault}: {source}" for fault, source in sources]
    n, escapes, false_fails = summary(results)
    lines.append(f"coverage: {n} cases, {escapes} escapes, {false_fails} false fails")
    return lines


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- the command -------------------------------------------------------------------


def coverage(
    sequence_path: Path,
    *,
    variant: str | None = None,
    pack: str | None = None,
    processes: int = 1,
    faults: Iterable[str] = (),
    serial: str | None = None,
    seed: int = 1,
    out: Any = None,
) -> int:
    """Run ``station coverage``; print the table; return the exit code (0: no escape, no
    false fail; 1 otherwise)."""
    out = out or sys.stdout
    load_plugins(())
    sequence = load_sequence(sequence_path)
    if variant is not None and variant not in sequence.products:
        raise StationError(
            f"--variant {variant!r} is not one of the sequence's products "
            f"({', '.join(sequence.products)})"
        )
    part = variant or sequence.products[0]
    pack = pack_for(sequence, pack)
    serial = serial or serial_for(sequence)
    if not sequence.serial_pattern.fullmatch(serial):
        raise StationError(
            f"--serial {serial!r} does not match {sequence.serial_pattern.pattern!r}"
        )
    cases = plan(sequence, pack=pack, part=part, faults=faults)
    jobs = [Job(case, Path(sequence_path), pack, part, serial, seed) for case in cases]
    print(
        f"coverage of {sequence.name} {sequence.version} ({sequence_path}), part {part}, "
        f"virtual pack {pack}: {len(jobs)} cases in {max(processes, 1)} process(es)",
        file=out,
        flush=True,
    )
    done = 0

    def progress(result: CaseResult) -> None:
        nonlocal done
        done += 1
        print(
            f"  [{done}/{len(jobs)}] {result.case.spec or 'baseline'} ({result.case.kind}): "
            f"{result.verdict} in {result.seconds:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    started = time.monotonic()
    results = run_cases(jobs, processes, progress)
    print(f"wall time {time.monotonic() - started:.0f} s", file=sys.stderr)
    for line in table(results):
        print(line, file=out)
    _, escapes, false_fails = summary(results)
    return 0 if escapes == 0 and false_fails == 0 else 1
