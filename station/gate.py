"""The start gate: may this pack be tested now, on this station, with this sequence?

One function, ``preflight``, answers for every front door (``Engine.run``, so ``station
run`` and the UI alike): it returns every blocker, each with a reason an operator can act
on, a key, and whether an engineer may override it. The engine refuses to start while any
blocker stands; the CLI prints them, the UI shows them and adds login and overrides.

What blocks, in the order to deal with it:

- ``instrument`` — a role a step needs has no instrument (no override);
- ``rating`` — a step would drive an instrument beyond the rating its config gives
  (``options.max_voltage_v`` …, for the parameters the step type declares ``rated``; no
  override);
- ``calibration`` — an instrument's calibration has expired. An engineer may override it
  for a role that does not judge safety; never for ``SAFETY_ROLES`` (the insulation/hipot
  tester and the DMM that confirms HV is discharged): releasing packs measured by an
  overdue safety instrument is a nonconformance and a safety matter (ISO 9001 §7.1.5.2);
- ``settings`` — the production-mode setting was changed outside the station (no
  override; production mode stays on);
- ``release`` — production mode, and the sequence or a limit table is not released, or
  changed on disk since it was loaded (no override: release the exact file);
- ``safe_state`` — the last run on this database (of this nest, on a station with nests)
  could not confirm every source off (an engineer who checked the bench may override, for
  the next run);
- ``disk`` — less than ``DISK_RESERVE_BYTES`` free beside the results database: a run
  that cannot be recorded must not start (no override; free space);
- ``retest`` — rules in ``RETEST_RULES``; built in: the station config's retest policy
  (``station.retest``): a PASSED serial only as rework, at most ``max_attempts`` verdict
  runs (no override: repair, then rework), and a supervisor's sign-off (an engineer's
  override of ``retest:<serial>`` or ``rework:<serial>``) where the policy asks for one;
- ``masters`` — with ``[masters]`` in the station config, every serial but the masters'
  waits until today's golden packs PASSED and failure masters FAILED their expected step
  (``station.masters``; no override);
- ``operator`` — the station config says ``operator_required`` and no operator is named
  (no override);
- ``serial``, ``variant`` — this pack: the serial does not match the sequence's pattern,
  or the product variant is missing or not served (no override);
- ``mes`` — the station config names an MES plug-in (``station.mes``) and its route check
  did not allow this serial here: refused, malformed, failed, or (under the ``refuse``
  policy) unreachable or too slow. Every answer is audited; an engineer may override.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from station import masters, mes, retest
from station.bench import Bench
from station.config import StationConfig
from station.errors import RunRefused
from station.outcomes import Outcome, RunState, sql_in
from station.releases import ReleaseBook
from station.sequence import Sequence
from station.store import ResultsStore

SAFETY_ROLES = frozenset({"insulation_tester", "dmm"})
"""Roles whose expired calibration no override may pass."""
DISK_RESERVE_BYTES = 100 * 1024 * 1024
"""Free space the results disk must have before a run starts (a long run's record, traces
and transcript fit many times over)."""
PACK_KINDS = frozenset({"serial", "variant"})
"""Blocker kinds about the pack in front of the station rather than the station."""


@dataclass(frozen=True)
class Blocker:
    """A reason the run may not start; ``key`` names it for an override."""

    kind: str
    message: str
    overridable: bool = False
    key: str = ""


@dataclass(frozen=True)
class StartRequest:
    """Everything the gate judges; handed to each retest rule."""

    sequence: Sequence
    config: StationConfig
    bench: Bench
    store: ResultsStore | None
    serial: str
    part: str | None
    now: dt.datetime
    rework: str = ""
    """Why this pack is tested again after repair ("" for a normal test)."""


RetestRule = Callable[[StartRequest], list[Blocker]]


def retest_policy(request: StartRequest) -> list[Blocker]:
    """The station config's retest policy (``station.retest``) for this serial."""
    policy = request.config.retest
    serial = request.serial
    if policy is None or request.store is None or not serial:
        return []  # without a policy a rework reason is only recorded with the run
    master_policy = request.config.masters
    if master_policy is not None and serial in master_policy.serials():
        return []  # masters are tested every day: no retest limit
    h = retest.history(request.store, serial)
    last = h.last_verdict
    if request.rework:
        if h.last_run is None:
            return [
                Blocker(
                    "retest",
                    f"serial {serial} has never been tested here: test it normally, "
                    "without the rework flag",
                    key="rework",
                )
            ]
        if policy.rework_signoff:
            return [
                Blocker(
                    "retest",
                    f"rework of serial {serial} ({request.rework}) needs a supervisor's sign-off",
                    overridable=True,
                    key=f"rework:{serial}",
                )
            ]
        return []
    if last is not None and last["outcome"] == Outcome.PASSED:
        return [
            Blocker(
                "retest",
                f"serial {serial} already PASSED (run {str(last['id'])[:8]}, "
                f"{str(last['started_at'])[:16]}); test it again only as rework, with the "
                "reason (station run --rework REASON)",
                key="retest:passed",
            )
        ]
    if h.since_rework >= policy.max_attempts:
        return [
            Blocker(
                "retest",
                f"serial {serial} has had its {policy.max_attempts} attempts (last run "
                f"{str(last['id'])[:8] if last else '?'} {last['outcome'] if last else ''}); "
                "send the pack to repair, then test it as rework",
                key="retest:limit",
            )
        ]
    attempt = h.since_rework + 1
    if policy.signoff_from_attempt and attempt >= policy.signoff_from_attempt:
        return [
            Blocker(
                "retest",
                f"retest of serial {serial} (attempt {attempt} of {policy.max_attempts}, "
                f"last run {str(last['id'])[:8] if last else '?'} "
                f"{last['outcome'] if last else ''}) needs a supervisor's sign-off",
                overridable=True,
                key=f"retest:{serial}",
            )
        ]
    return []


def masters_verified(request: StartRequest) -> list[Blocker]:
    """Production packs wait for today's golden and failure masters (``station.masters``)."""
    policy = request.config.masters
    if policy is None or request.store is None or not request.serial:
        return []
    if request.serial in policy.serials():
        return []
    states = masters.verification(request.store, policy, request.config.station_id, request.now)
    return [
        Blocker("masters", f"{s.text}; production packs wait for it", key=f"masters:{s.serial}")
        for s in states
        if not s.ok
    ]


RETEST_RULES: list[RetestRule] = [retest_policy, masters_verified]
"""Retest rules: each returns its blockers for a request. Plants add their own (e.g. an
MES route check) by appending here."""


@dataclass(frozen=True)
class GateVerdict:
    """What ``preflight`` found: the part to test, what blocks, what was overridden."""

    part: str | None
    blockers: tuple[Blocker, ...]
    overridden: tuple[tuple[Blocker, str], ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.blockers


class StartBlocked(RunRefused):
    """The start gate refused the run; ``blockers`` lists every reason, one per line."""

    def __init__(self, blockers: tuple[Blocker, ...]) -> None:
        self.blockers = blockers
        super().__init__("\n".join(b.message for b in blockers))


def roles_needed(sequence: Sequence) -> dict[str, list[str]]:
    """Role → the names of the steps that need it."""
    needed: dict[str, list[str]] = {}
    for step in sequence.all_steps():
        for role in step.step_type.roles:
            needed.setdefault(role, []).append(step.name)
    return needed


def serial_problem(serial: str, sequence: Sequence) -> str:
    """Why ``serial`` cannot be tested with ``sequence`` ("" when it can)."""
    if not serial:
        return "scan the pack's serial number"
    if not sequence.serial_pattern.fullmatch(serial):
        return (
            f"serial {serial!r} does not match the pattern {sequence.serial_pattern.pattern!r} "
            f"of sequence {sequence.name!r}; scan the pack's label again"
        )
    return ""


def preflight(
    sequence: Sequence,
    config: StationConfig,
    bench: Bench,
    store: ResultsStore | None,
    serial: str,
    part: str | None,
    now: dt.datetime,
    *,
    default_production: bool,
    overrides: Mapping[str, str] | None = None,
    rework: str = "",
    operator: str | None = None,
) -> GateVerdict:
    """Judge a start; ``overrides`` maps blocker keys to an engineer's reason.

    ``rework`` is the reason a repaired pack is tested again ("" for a normal test).
    ``operator`` is judged when given (None: not asked yet, as for the UI's first look).

    Without a store (an engine with no results database) releases, production mode and
    the last run's safe state cannot be read and are not judged.
    """
    found: list[Blocker] = []
    found += missing_instruments(sequence, bench.has)
    found += calibration_blockers(config, now.date())
    if store is not None:
        found += _releases(sequence, store, default_production)
        found += _safe_state(store, config.nest.label if config.nest is not None else None)
        found += _disk(store.path)
    request = StartRequest(sequence, config, bench, store, serial, part, now, rework)
    for rule in RETEST_RULES:
        found += rule(request)
    if config.operator_required and operator is not None and not operator.strip():
        found.append(
            Blocker(
                "operator",
                "this station records who tested each pack: name the operator (--operator, "
                "or log in)",
                key="operator",
            )
        )
    problem = serial_problem(serial, sequence)
    if problem:
        found.append(Blocker("serial", problem, key="serial"))
    part, variant = variant_problem(sequence, part)
    if variant:
        found.append(Blocker("variant", variant, key="variant"))
    elif part is not None:
        found += rating_blockers(sequence, config, [part])
    if config.mes is not None and part is not None and not problem and not variant:
        found += _mes_route(config, store, serial, part)
    given = overrides or {}
    standing = tuple(b for b in found if not (b.overridable and b.key in given))
    passed = tuple((b, given[b.key]) for b in found if b.overridable and b.key in given)
    return GateVerdict(part, standing, passed)


def missing_instruments(sequence: Sequence, has: Callable[[str], bool]) -> list[Blocker]:
    """A blocker per role a step needs that ``has`` (the bench, or a config) lacks."""
    return [
        Blocker(
            "instrument",
            f"the station has no instrument for {role!r} (needed by {', '.join(steps)}); "
            "check the config",
            key=f"instrument:{role}",
        )
        for role, steps in roles_needed(sequence).items()
        if not has(role)
    ]


def rating_blockers(
    sequence: Sequence, config: StationConfig, variants: list[str]
) -> list[Blocker]:
    """A blocker per step parameter beyond the configured instrument's rating, for the
    steps that can run for one of ``variants`` (with those variants' parameters)."""
    out: list[Blocker] = []
    seen: set[str] = set()
    for variant in variants:
        groups = sequence.groups_for(variant)
        for step in (s for g in ("setup", "main", "cleanup") for s in groups[g]):
            if step.skip_if is not None and step.skip_if.for_variant(variant) is True:
                continue
            for param, role, option in step.step_type.rated:
                value = getattr(step.params, param, None)
                instrument = config.instruments.get(role)
                if instrument is None or not isinstance(value, int | float):
                    continue
                rating = instrument.options.get(option)
                if isinstance(rating, bool) or not isinstance(rating, int | float):
                    continue
                message = (
                    f"{sequence.path}: {step.where} params.{param}: {value:g} is beyond the "
                    f"{role}'s {option} = {rating:g} ({instrument.model}, {config.path}); lower "
                    "the parameter or configure an instrument rated for it"
                )
                if abs(value) > rating and message not in seen:
                    seen.add(message)
                    out.append(Blocker("rating", message, key=f"rating:{role}"))
    return out


def calibration_blockers(config: StationConfig, today: dt.date) -> list[Blocker]:
    """A blocker per configured instrument whose calibration expired before ``today``."""
    out = []
    for ic in config.instruments.values():
        if ic.cal_due >= today:
            continue
        safety = ic.role in SAFETY_ROLES
        action = (
            "recalibrate it (no override: it judges safety)"
            if safety
            else "recalibrate it or ask an engineer for an override"
        )
        out.append(
            Blocker(
                "calibration",
                f"calibration of {ic.role} ({ic.model}, s/n {ic.serial}) expired on "
                f"{ic.cal_due.isoformat()}; {action}",
                overridable=not safety,
                key=f"calibration:{ic.role}",
            )
        )
    return out


def _releases(sequence: Sequence, store: ResultsStore, default_production: bool) -> list[Blocker]:
    book = ReleaseBook(store)
    production, intact = book.production_mode(default_production)
    out = []
    if not intact:
        out.append(
            Blocker(
                "settings",
                "the production-mode setting was changed outside the station (it does not "
                "match the hash chain); production mode stays on — an engineer must set it "
                "again from the station",
                key="settings:production_mode",
            )
        )
    if production:
        out += [Blocker("release", p, key="release") for p in book.problems(sequence)]
    return out


def _safe_state(store: ResultsStore, nest: str | None) -> list[Blocker]:
    # Per nest: a nest whose pack may be live does not hold up the others' fixtures.
    rows = store.query(
        "SELECT id, safe_state_ok, safe_state_detail FROM runs"
        f" WHERE outcome NOT IN {sql_in(RunState)} AND nest IS ? ORDER BY rowid DESC LIMIT 1",
        (nest,),
    )
    if not rows or rows[0]["safe_state_ok"] != 0:
        return []
    last = rows[0]
    return [
        Blocker(
            "safe_state",
            f"the last run ({str(last['id'])[:8]}) could not confirm the sources are off "
            f"({last['safe_state_detail']}); do not touch the pack — an engineer must check "
            "the bench and confirm",
            overridable=True,
            key="safe_state",
        )
    ]


def _disk(db_path: Path) -> list[Blocker]:
    try:
        free = shutil.disk_usage(db_path.parent).free
    except OSError as err:
        return [Blocker("disk", f"cannot read the free space beside {db_path} ({err})")]
    if free >= DISK_RESERVE_BYTES:
        return []
    return [
        Blocker(
            "disk",
            f"only {free / 1e6:.0f} MB free on the disk of the results database {db_path} "
            f"(at least {DISK_RESERVE_BYTES / 1e6:.0f} MB needed); free space, then start",
            key="disk",
        )
    ]


def _mes_route(
    config: StationConfig, store: ResultsStore | None, serial: str, part: str
) -> list[Blocker]:
    assert config.mes is not None
    try:
        plugin = mes.load(config.mes.plugin, config.mes.options)
    except ValueError as err:
        decision = mes.RouteDecision(
            False, "mes.route_refused", f"{err}; fix [mes] in the station config"
        )
    else:
        decision = mes.check_route(
            plugin,
            serial,
            part,
            config.station_id,
            policy=config.mes.policy,
            timeout_s=config.mes.timeout_s,
        )
    if store is not None and not store.read_only:
        store.audit(f"mes@{config.station_id}", decision.action, serial, decision.message)
    if decision.start:
        return []
    return [Blocker("mes", decision.message, overridable=True, key="mes")]


def variant_problem(sequence: Sequence, part: str | None) -> tuple[str | None, str]:
    """The part to test (the only product when none is given) and why it cannot be ("")."""
    if part is None:
        if len(sequence.products) != 1:
            return None, f"choose the product variant: one of {', '.join(sequence.products)}"
        return sequence.products[0], ""
    if part not in sequence.products:
        return part, (
            f"product {part!r} is not served by sequence {sequence.name!r} "
            f"(it serves {', '.join(sequence.products)})"
        )
    return part, ""
