"""Sequence files and limit tables: loading and validation before anything runs.

A sequence file (TOML) holds ``[sequence]`` metadata and three ordered step groups,
``[[setup]]``, ``[[main]]`` and ``[[cleanup]]``. Limits are inline per step and may be
overridden by a limit table (a separate TOML file) chosen by product variant. Every
problem is collected and reported at once, each naming file, group, step and field;
``load_sequence`` raises ``SequenceError`` with all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal, get_type_hints

from station.checked import NonEmpty, Positive, Range, Rule, checked, convert
from station.conditions import Condition, ConditionError, parse_condition
from station.errors import Problem, SequenceError
from station.inputs import Problems, did_you_mean, read_toml, sha256_of
from station.limits import Limit, in_unit, parse_limit
from station.patterns import MAX_SERIAL_LENGTH, PatternError, SafePattern, compile_safe
from station.steps.api import REGISTRY, CheckContext, MeasurementSpec, StepType
from station.steps.params import parse_params
from station.translations import StepText, load_translations
from station.units import UnitError, parse_unit

GROUPS = ("setup", "main", "cleanup")
SECTIONS = ("sequence", *GROUPS, "translations")


@dataclass(frozen=True)
class SequenceHeader:
    """The ``[sequence]`` table as written: what the sequence is and which packs it tests."""

    name: Annotated[str, NonEmpty]
    version: Annotated[str, NonEmpty]
    products: Annotated[
        tuple[Annotated[str, NonEmpty], ...], NonEmpty.noting("at least one part number")
    ]
    serial_pattern: Annotated[str, NonEmpty]
    # checked against the compiled pattern and the products (_check_serial_examples)
    serial_examples: dict[str, Any] = field(default_factory=dict)
    # a limit-table file, or part number → file (_load_limit_tables)
    limits: Any = None
    description: str = ""


@dataclass(frozen=True)
class StepDef:
    """One step of a sequence, validated and ready to run."""

    group: str
    index: int
    name: str
    type: str
    step_type: StepType[Any]
    params: Any
    limits: dict[str, Limit]
    specs: tuple[MeasurementSpec, ...]
    retries: int = 0
    on_fail: str = "stop"
    timeout_s: float | None = None
    skip_if: Condition | None = None
    raw_params: dict[str, Any] = field(default_factory=dict, compare=False)  # as written

    @property
    def where(self) -> str:
        return f"{self.group}[{self.index}] {self.name!r}"


@dataclass(frozen=True)
class LimitTable:
    """Limits that override a sequence's inline limits, by step and measurement name."""

    path: Path
    sha256: str
    name: str
    version: str
    limits: dict[tuple[str, str], Limit]
    params: dict[str, Any] = field(default_factory=dict)  # step name → its variant's params


@dataclass(frozen=True)
class Sequence:
    """A validated sequence file and the limit tables it refers to."""

    path: Path
    sha256: str
    name: str
    version: str
    products: tuple[str, ...]
    serial_pattern: SafePattern
    groups: dict[str, tuple[StepDef, ...]]
    limit_tables: dict[str, LimitTable] = field(default_factory=dict)  # part or "*" → table
    translations: dict[str, dict[str, StepText]] = field(default_factory=dict)  # lang → step

    def step_label(self, language: str, step: str) -> str:
        """The name the screen shows for ``step`` in ``language`` (as written when none)."""
        found = self.translations.get(language, {}).get(step)
        return found.name if found is not None and found.name else step

    def prompt_label(self, language: str, step: str, text: str) -> str:
        """A prompt's ``text``, asked during ``step``, in ``language``: translated when it is
        the step's own ``text`` parameter and the file translates it, else as it is."""
        found = self.translations.get(language, {}).get(step)
        if found is None or not found.text:
            return text
        owner = next((s for s in self.all_steps() if s.name == step), None)
        return found.text if owner is not None and text == _prompt_text(owner) else text

    def all_steps(self) -> list[StepDef]:
        return [s for g in GROUPS for s in self.groups[g]]

    def limit_table_for(self, part_number: str) -> LimitTable | None:
        """The limit table used for ``part_number`` (its own, else the default)."""
        return self.limit_tables.get(part_number) or self.limit_tables.get("*")

    def groups_for(self, part_number: str) -> dict[str, tuple[StepDef, ...]]:
        """The steps as they run for one variant: with its limit table's parameters."""
        table = self.limit_table_for(part_number)
        if table is None or not table.params:
            return self.groups
        return {
            group: tuple(
                replace(s, params=table.params[s.name]) if s.name in table.params else s
                for s in steps
            )
            for group, steps in self.groups.items()
        }

    def limits_for(self, part_number: str) -> dict[tuple[str, str], Limit]:
        """Effective limits by (step name, measurement) for one product variant."""
        effective = {(s.name, m): lim for s in self.all_steps() for m, lim in s.limits.items()}
        table = self.limit_table_for(part_number)
        if table is not None:
            effective.update(table.limits)
        return effective


def _prompt_text(step: StepDef) -> str | None:
    """The prompt text a step asks, as written (its ``text`` parameter), or None."""
    text = step.raw_params.get("text")
    return text if isinstance(text, str) else None


def load_sequence(path: str | Path) -> Sequence:
    """Load and validate a sequence file and its limit tables; raise SequenceError."""
    path = Path(path)
    problems = Problems(path)
    data = read_toml(path, problems)
    if data is None:
        raise SequenceError(list(problems))
    file = str(path)
    for key in data:
        if key not in SECTIONS:
            problems.add(key, f"unknown section{did_you_mean(key, SECTIONS)}")
    if "sequence" not in data:
        problems.add("[sequence]", "missing the [sequence] table (name, version, products, ...)")
    meta = data.get("sequence", {})
    header = checked(SequenceHeader, meta, "sequence", problems)
    products = list(_header_key(header, meta, "products") or ())
    pattern_text = _header_key(header, meta, "serial_pattern")
    serial_pattern = compile_safe("", max_text=MAX_SERIAL_LENGTH)
    if pattern_text is not None:
        try:
            serial_pattern = compile_safe(pattern_text, max_text=MAX_SERIAL_LENGTH)
        except PatternError as err:
            problems.add("sequence.serial_pattern", str(err))
        else:
            examples = _header_key(header, meta, "serial_examples") or {}
            _check_serial_examples(examples, serial_pattern, products, problems)

    groups: dict[str, tuple[StepDef, ...]] = {}
    seen: dict[str, str] = {}
    written = 0  # steps in the file, valid or not
    for group in GROUPS:
        raw_steps = data.get(group, [])
        if not isinstance(raw_steps, list):
            problems.add(group, f"must be an array of tables ([[{group}]])")
            raw_steps = []
        written += len(raw_steps)
        defs = []
        for index, raw in enumerate(raw_steps):
            step = _load_step(group, index, raw, seen, problems)
            if step is not None:
                defs.append(step)
        groups[group] = tuple(defs)
    if not written:
        problems.add("[[main]]", "the sequence has no steps")

    all_steps = [s for g in GROUPS for s in groups[g]]
    # A step that failed to load has its own problem; what refers to it is a consequence
    # and is not reported again ("no step named 'DCIR'" for a step that is there).
    broken = set(seen) - {s.name for s in all_steps}
    _check_conditions(all_steps, broken, products, problems)
    _check_cleanup(groups["cleanup"], problems)
    limits_spec = _header_key(header, meta, "limits")
    tables = _load_limit_tables(path, limits_spec, products, all_steps, broken, problems)
    failed_tables = _named_tables(limits_spec) - set(tables)
    _check_coverage(file, all_steps, products, tables, failed_tables, problems)
    _check_verdict_last(all_steps, tables, problems)
    texts = {s.name: _prompt_text(s) for s in all_steps}
    translations = load_translations(data.get("translations"), texts, broken, problems.add)
    problems.raise_if_any(SequenceError)
    assert header is not None  # a header with a problem raised above
    sequence = Sequence(
        path=path,
        sha256=sha256_of(path),
        name=header.name,
        version=header.version,
        products=header.products,
        serial_pattern=serial_pattern,
        groups=groups,
        limit_tables=tables,
        translations=translations,
    )
    # The step types' own cross-checks need a sequence that loads: they run last, so
    # that they never report a consequence of a mistake above.
    crossed = cross_check(sequence)
    if crossed:
        raise SequenceError(crossed)
    return sequence


def _header_key(header: SequenceHeader | None, meta: object, key: str) -> Any:
    """A key of the ``[sequence]`` table, or None. When the header has a problem elsewhere,
    each key that is right on its own is still read, so that what depends on it (the
    pattern, the limit tables) is checked in the same pass."""
    if header is not None:
        return getattr(header, key)
    if not isinstance(meta, dict) or key not in meta:
        return None
    try:
        return convert(meta[key], get_type_hints(SequenceHeader, include_extras=True)[key])
    except (TypeError, ValueError):
        return None


def stated_cells(sequence: Sequence) -> int | None:
    """The pack's cell count as the sequence states it (a step's integer ``cells``
    parameter, such as ``ocv_and_cells``'s), or None."""
    for step in sequence.all_steps():
        cells = getattr(step.params, "cells", None)
        if isinstance(cells, int) and not isinstance(cells, bool):
            return cells
    return None


def cross_check(sequence: Sequence) -> list[Problem]:
    """What each step type's ``check`` finds, for every variant the step can run for.

    A problem found for some variants only says which."""
    cells = stated_cells(sequence)
    found: dict[tuple[str, str], list[str]] = {}  # (where, message) → variants
    for part in sequence.products:
        limits = sequence.limits_for(part)
        groups = sequence.groups_for(part)
        for step in [s for g in GROUPS for s in groups[g]]:
            if step.skip_if is not None and step.skip_if.for_variant(part) is True:
                continue
            if step.group == "cleanup" and step.step_type.energising(step.params):
                message = (
                    f"step type {step.type!r} energises the pack with this variant's "
                    "parameters and may not stand in [[cleanup]]"
                )
                found.setdefault((f"{step.where} params", message), []).append(part)
            own = {m: lim for (s, m), lim in limits.items() if s == step.name}
            context = CheckContext(variant=part, limits=own, cells=cells)
            for field_name, message in step.step_type.check(step.params, context):
                found.setdefault((f"{step.where} {field_name}", message), []).append(part)
    return [
        Problem(
            str(sequence.path),
            message
            if len(parts) == len(sequence.products)
            else f"{message} (variant{'s' if len(parts) > 1 else ''} {', '.join(parts)})",
            where,
        )
        for (where, message), parts in found.items()
    ]


def _check_serial_examples(
    examples: dict[str, Any], pattern: SafePattern, products: list[str], problems: Problems
) -> None:
    """``serial_examples = { "PART" = "a real serial" }``: proof that the pattern can match
    the product's serials (a pattern that matches none refuses every pack at the line)."""
    where = "sequence.serial_examples"
    for part, serial in examples.items():
        if products and part not in products:
            problems.add(
                f"{where}.{part}", f"not in sequence.products{did_you_mean(part, products)}"
            )
        elif not isinstance(serial, str) or not pattern.fullmatch(serial):
            problems.add(
                f"{where}.{part}",
                f"the serial {serial!r} does not match serial_pattern {pattern.pattern!r}: "
                "every pack of this product would be refused; fix the pattern (or the example)",
            )


def _step_type_problem(name: str) -> str:
    if name in REGISTRY:
        return ""
    return f"unknown step type {name!r}{did_you_mean(name, REGISTRY)}"


@dataclass(frozen=True)
class StepTable:
    """A step's table in a group (``[[main]]``…) as written; :class:`StepDef` is what it
    becomes once its parameters and limits are checked against its type."""

    name: Annotated[str, NonEmpty]
    type: Annotated[str, Rule("a registered step type", why_not=_step_type_problem)]
    params: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    retries: Annotated[int, Range(0, 10)] = 0
    on_fail: Literal["stop", "continue"] = "stop"
    timeout_s: Annotated[float, Positive] | None = None  # a float is finite (nan never expires)
    skip_if: str | None = None


def _load_step(
    group: str, index: int, raw: object, seen: dict[str, str], problems: Problems
) -> StepDef | None:
    where = f"{group}[{index}]"
    if not isinstance(raw, dict):
        problems.add(where, "a step must be a table")
        return None
    name = raw.get("name")
    if isinstance(name, str) and name.strip():
        where = f"{group}[{index}] {name!r}"
        if name in seen:
            problems.add(f"{where} name", f"duplicate step name (also {seen[name]})")
        seen[name] = f"{group}[{index}]"
    table = checked(StepTable, raw, where, problems, sep=" ")
    type_name = raw.get("type")
    cls = REGISTRY.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        return None  # the unknown type is noted; without it the parameters mean nothing
    # The parameters are checked even when another key is wrong: every problem at once.
    params = parse_params(cls.Params, raw.get("params", {}), f"{where} params", problems)
    skip_if = None
    if table is not None and table.skip_if is not None:
        try:
            skip_if = parse_condition(table.skip_if)
        except ConditionError as err:
            problems.add(f"{where} skip_if", str(err))
            return None
    if params is None:
        return None
    step_type = cls()
    specs = _canonical_units(where, cls.name, step_type.declared(params), problems)
    inline = raw.get("limits", {})
    if not isinstance(inline, dict):
        return None  # noted by checked()
    limits = _load_inline_limits(where, inline, specs, problems)
    if limits is None or table is None:
        return None
    return StepDef(
        group=group,
        index=index,
        name=table.name,
        type=cls.name,
        step_type=step_type,
        params=params,
        limits=limits,
        specs=specs,
        retries=table.retries,
        on_fail=table.on_fail,
        timeout_s=table.timeout_s,
        skip_if=skip_if,
        raw_params=dict(table.params),
    )


def _canonical_units(
    where: str, type_name: str, specs: tuple[MeasurementSpec, ...], problems: Problems
) -> tuple[MeasurementSpec, ...]:
    """The step type's declared measurements with their units spelled canonically."""
    canonical = []
    for spec in specs:
        try:
            canonical.append(replace(spec, unit=parse_unit(spec.unit).symbol))
        except UnitError as err:
            problems.add(
                f"{where} type",
                f"step type {type_name!r} declares measurement {spec.name!r} in an {err}",
            )
            canonical.append(spec)
    return tuple(canonical)


def _limit_in_unit(limit: Limit, spec: MeasurementSpec) -> Limit:
    """``limit`` in ``spec``'s unit; ``UnitError`` says why a limit's unit cannot judge it."""
    try:
        return in_unit(limit, spec.unit)
    except UnitError as err:
        raise UnitError(
            f"measurement {spec.name!r} is in {repr(spec.unit) if spec.unit else 'no unit'}, "
            f"which a limit in {limit.unit!r} cannot judge: {err}"
        ) from None


def _load_inline_limits(
    where: str, raw: dict[str, Any], specs: tuple[MeasurementSpec, ...], problems: Problems
) -> dict[str, Limit] | None:
    names = [s.name for s in specs]
    limits: dict[str, Limit] = {}
    ok = True
    for meas, table in raw.items():
        if meas not in names:
            hint = did_you_mean(meas, names)
            produced = ", ".join(names) or "nothing"
            problems.add(
                f"{where} limits.{meas}",
                f"this step does not produce {meas!r}{hint}; it produces: {produced}",
            )
            ok = False
            continue
        spec = specs[names.index(meas)]
        try:
            limit = parse_limit(table, file="", where=f"{where} limits.{meas}")
            mismatch = kind_mismatch(spec, limit)
            if mismatch:
                problems.add(f"{where} limits.{meas}", mismatch)
                ok = False
                continue
            limits[meas] = _limit_in_unit(limit, spec)
        except SequenceError as err:
            for p in err.problems:
                problems.add(p.where or f"{where} limits.{meas}", p.message)
            ok = False
        except UnitError as err:
            problems.add(f"{where} limits.{meas}.unit", str(err))
            ok = False
    return limits if ok else None


_COMPARATOR_KINDS = {"BOOL": "bool", "STREQ": "text", "REGEX": "text", "ARRAY": "array"}


def kind_mismatch(spec: MeasurementSpec, limit: Limit) -> str | None:
    """Say why ``limit`` cannot judge ``spec``'s kind of value (None when it can)."""
    if limit.comparator == "LOG":
        return None
    wanted = _COMPARATOR_KINDS.get(limit.comparator, "number")
    if wanted == spec.kind:
        return None
    return (
        f"a {limit.comparator} limit judges a {wanted} value, but {spec.name!r} is a "
        f"{spec.kind}; use a limit for a {spec.kind}"
    )


def _named_tables(spec: object) -> set[str]:
    """The part numbers (or "*") ``sequence.limits`` names a table for."""
    if isinstance(spec, str):
        return {"*"}
    return {str(k) for k in spec} if isinstance(spec, dict) else set()


def _load_limit_tables(
    seq_path: Path,
    spec: object,
    products: list[str],
    steps: list[StepDef],
    broken: set[str],
    problems: Problems,
) -> dict[str, LimitTable]:
    """``limits = "file.toml"`` or ``limits = { "*" = "a.toml", "PART" = "b.toml" }``."""
    if spec is None:
        return {}
    if isinstance(spec, str):
        spec = {"*": spec}
    if not isinstance(spec, dict) or not all(isinstance(v, str) for v in spec.values()):
        problems.add(
            "sequence.limits",
            "must be a file name or a table of part number to file",
        )
        return {}
    tables: dict[str, LimitTable] = {}
    for part, rel in spec.items():
        if part != "*" and part not in products:
            problems.add(
                f"sequence.limits.{part}",
                f"part number {part!r} is not in sequence.products{did_you_mean(part, products)}",
            )
            continue
        table_path = seq_path.parent / rel
        if not table_path.exists():
            whose = "every variant without its own" if part == "*" else f"variant {part!r}"
            problems.add(
                f"sequence.limits.{part}",
                f"the limit table of {whose}, {table_path}, does not exist; "
                "fix the path or create the table",
            )
            continue
        table = load_limit_table(table_path, steps, problems, broken)
        if table is not None:
            tables[part] = table
    return tables


def load_limit_table(
    path: Path,
    steps: list[StepDef],
    problems: Problems,
    broken: set[str] | frozenset[str] = frozenset(),
) -> LimitTable | None:
    """Load a limit table and check every entry names a real step and measurement.

    Entries for a step in ``broken`` (one the sequence names but could not load, which
    has its own problem) are not checked."""
    data = read_toml(path, problems)
    if data is None:
        return None
    file = str(path)
    count = len(problems)
    meta = data.get("table", {})
    if not isinstance(meta, dict):
        meta = {}
    for key in data:
        if key not in ("table", "limits", "params"):
            hint = did_you_mean(key, ("table", "limits", "params"))
            problems.add(key, f"unknown section{hint}", file=file)
    by_name = {s.name: s for s in steps}
    limits: dict[tuple[str, str], Limit] = {}
    raw = data.get("limits", {})
    if not isinstance(raw, dict):
        problems.add("limits", "must be a table of step name to measurements", file=file)
        raw = {}
    for step_name, entries in raw.items():
        step = by_name.get(step_name)
        if step is None and step_name in broken:
            continue
        if step is None:
            problems.add(
                f"limits.{step_name!r}",
                f"no step named {step_name!r} in the sequence{did_you_mean(step_name, by_name)}",
                file=file,
            )
            continue
        if not isinstance(entries, dict):
            problems.add(
                f"limits.{step_name!r}", "must be a table of measurement to limit", file=file
            )
            continue
        names = [s.name for s in step.specs]
        for meas, table in entries.items():
            where = f"limits.{step_name!r}.{meas}"
            if meas not in names:
                problems.add(
                    where,
                    f"step {step_name!r} does not produce {meas!r}{did_you_mean(meas, names)}",
                    file=file,
                )
                continue
            spec = step.specs[names.index(meas)]
            try:
                limit = parse_limit(table, file=file, where=where)
                mismatch = kind_mismatch(spec, limit)
                if mismatch:
                    problems.add(where, mismatch, file=file)
                    continue
                limits[(step_name, meas)] = _limit_in_unit(limit, spec)
            except SequenceError as err:
                problems.extend(err.problems)
            except UnitError as err:
                problems.add(f"{where}.unit", str(err), file=file)
    params = _load_table_params(file, data.get("params", {}), by_name, broken, problems)
    if len(problems) > count:
        return None
    return LimitTable(
        path=path,
        sha256=sha256_of(path),
        name=str(meta.get("name", path.stem)),
        version=str(meta.get("version", "")),
        limits=limits,
        params=params,
    )


def _load_table_params(
    file: str,
    raw: object,
    by_name: dict[str, StepDef],
    broken: set[str] | frozenset[str],
    problems: Problems,
) -> dict[str, Any]:
    """``[params."Step"]`` of a limit table: the step's parameters for the table's variants,
    over those the sequence gives; checked as the sequence's own are."""
    if not isinstance(raw, dict):
        problems.add("params", "must be a table of step name to parameters", file=file)
        return {}
    params: dict[str, Any] = {}
    for step_name, entries in raw.items():
        where = f"params.{step_name!r}"
        step = by_name.get(step_name)
        if step is None:
            if step_name not in broken:
                hint = did_you_mean(step_name, by_name)
                problems.add(where, f"no step named {step_name!r} in the sequence{hint}", file=file)
            continue
        if not isinstance(entries, dict):
            problems.add(where, "must be a table of parameter to value", file=file)
            continue
        table = {**step.raw_params, **entries}
        parsed = parse_params(step.step_type.Params, table, where, problems, file=file)
        if parsed is None:
            continue
        declared = {s.name for s in step.step_type.declared(parsed)}
        if declared != {s.name for s in step.specs}:
            problems.add(
                where,
                "these parameters change the measurements the step records "
                f"({', '.join(sorted(declared))} instead of "
                f"{', '.join(sorted(s.name for s in step.specs))}); give the variant "
                "its own step with skip_if instead",
                file=file,
            )
            continue
        params[step_name] = parsed
    return params


def _check_coverage(
    file: str,
    steps: list[StepDef],
    products: list[str],
    tables: dict[str, LimitTable],
    failed_tables: set[str],
    problems: Problems,
) -> None:
    """Every measurement that can be judged for a variant has a limit for that variant.

    A step whose ``skip_if`` always skips it for a variant needs no limit there. A variant
    whose limit table did not load is not checked (its table's problems say why). A variant
    with no table at all gets one problem naming it, not one per measurement."""
    missing: dict[tuple[int, str, str], list[str]] = {}  # (step no., measurement, via) → parts
    untabled: dict[str, list[str]] = {}  # part → "step measurement" the inline limits lack
    for part in products:
        own = part if part in tables or part in failed_tables else "*"
        if own in failed_tables:
            continue
        table = tables.get(own)
        overridden = set(table.limits) if table is not None else set()
        for step in steps:
            if step.skip_if is not None and step.skip_if.for_variant(part) is True:
                continue
            for spec in step.specs:
                if not spec.requires_limit or spec.name in step.limits:
                    continue
                if (step.name, spec.name) in overridden:
                    continue
                if table is None and tables:
                    untabled.setdefault(part, []).append(f"{step.name!r} {spec.name}")
                    continue
                via = f"limit table {table.path}" if table is not None else ""
                missing.setdefault((steps.index(step), spec.name, via), []).append(part)
    for (number, meas, via), parts in missing.items():
        step = steps[number]
        where_to = f'in {via} under [limits."{step.name}"]' if via else "inline"
        problems.add(
            f"{step.where} limits.{meas}",
            f"measurement {meas!r} has no limit for {_variants(parts, products)}; "
            f"add one {where_to} (e.g. {meas} = {_example_limit(step, meas)}) so that "
            "it is judged",
            file=file,
        )
    for part, lacking in untabled.items():
        problems.add(
            f"sequence.limits.{part}",
            f"variant {part!r} has no limit table, and the inline limits leave "
            f"{len(lacking)} measurement(s) without a limit ({', '.join(lacking[:3])}"
            f'{", …" if len(lacking) > 3 else ""}); add "{part}" = "limits/….toml" '
            'to sequence.limits, or a "*" table for every variant',
            file=file,
        )


def _check_verdict_last(
    steps: list[StepDef], tables: dict[str, LimitTable], problems: Problems
) -> None:
    """Nothing is judged after a step that writes the verdict into the pack (cleanup aside)."""
    seal: StepDef | None = None
    table_limits = [t.limits for t in tables.values()]
    for step in steps:
        if step.group == "cleanup":
            return
        if seal is not None and _judged(step, table_limits):
            problems.add(
                step.where,
                f"is judged after {seal.where} writes the verdict into the pack: a FAIL here "
                f"would come after the EOL flag was set; move it before {seal.name!r} "
                "(only cleanup steps may follow)",
            )
        if step.step_type.seals_verdict(step.params):
            seal = step


def _judged(step: StepDef, table_limits: list[dict[tuple[str, str], Limit]]) -> bool:
    """Whether any measurement of ``step`` has a limit that judges (not LOG) or needs one."""
    for spec in step.specs:
        limits = [step.limits.get(spec.name)]
        limits += [t.get((step.name, spec.name)) for t in table_limits]
        given = [lim for lim in limits if lim is not None]
        if any(lim.comparator != "LOG" for lim in given) or (spec.requires_limit and not given):
            return True
    return False


_EXAMPLE_LIMITS = {
    "number": '{ comparator = "GELE", low = …, high = … }',
    "array": '{ comparator = "ARRAY", low = …, high = … }',
    "bool": '{ comparator = "BOOL", expected = true }',
    "text": '{ comparator = "STREQ", expected = "…" }',
}


def _example_limit(step: StepDef, measurement: str) -> str:
    """A limit of the right kind for ``measurement``, to show in a fix."""
    kind = next((s.kind for s in step.specs if s.name == measurement), "number")
    return _EXAMPLE_LIMITS.get(kind, _EXAMPLE_LIMITS["number"])


def _variants(parts: list[str], products: list[str]) -> str:
    if len(parts) == len(products):
        return "any variant" if len(products) > 1 else f"variant {parts[0]!r}"
    return "variant" + ("s " if len(parts) > 1 else " ") + ", ".join(repr(p) for p in parts)


def _check_cleanup(cleanup: tuple[StepDef, ...], problems: Problems) -> None:
    """Cleanup must only make the pack safe: a step that energises it may not stand there."""
    for step in cleanup:
        if step.step_type.energising(step.params):
            problems.add(
                f"{step.where} type",
                f"step type {step.type!r} energises the pack with these parameters and may "
                "not stand in [[cleanup]], which must only make the pack safe; move it to "
                "[[main]]",
            )


def _check_conditions(
    steps: list[StepDef], broken: set[str], products: list[str], problems: Problems
) -> None:
    earlier: dict[str, StepDef] = {}
    for step in steps:
        if step.skip_if is not None:
            where = f"{step.where} skip_if"
            for ref in step.skip_if.steps:
                if ref not in earlier and ref not in broken:
                    problems.add(
                        where,
                        f"refers to {ref!r}, which is not an "
                        f"earlier step{did_you_mean(ref, earlier)}; a condition can only read "
                        "steps that ran before this one",
                    )
            for ref, meas in step.skip_if.values:
                names = [s.name for s in earlier[ref].specs] if ref in earlier else None
                if names is not None and meas not in names:
                    produced = ", ".join(names) or "nothing"
                    problems.add(
                        where,
                        f"value({ref!r}, {meas!r}): step {ref!r} does not produce {meas!r}"
                        f"{did_you_mean(meas, names)}; it produces: {produced}",
                    )
            for variant in step.skip_if.variants:
                if products and variant not in products:
                    problems.add(
                        where,
                        f"variant {variant!r} is not in sequence.products"
                        f"{did_you_mean(variant, products)}; the condition can never see it",
                    )
        earlier[step.name] = step
