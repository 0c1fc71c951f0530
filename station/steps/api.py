"""The step-type API: how a test engineer adds a kind of step.

A step type is a small class, generic over its parameters::

    @dataclass(frozen=True)
    class PackVoltageParams(StepParams):
        nplc: Annotated[float, Range(0.02, 100)] = 10.0

    @register
    class PackVoltage(StepType[PackVoltageParams]):
        '''Measure the pack's open-circuit voltage with the DMM.'''

        name = "pack_voltage"
        measurements = (MeasurementSpec("voltage", "V"),)
        roles = ("dmm",)

        def run(self, ctx: StepContext, params: PackVoltageParams) -> None:
            ctx.measure("voltage", ctx.instrument("dmm").measure_dc_voltage(nplc=params.nplc))

``ctx.instrument("dmm")`` is typed by the role (:class:`drivers.roles.Dmm`) and refuses a
role the step type does not declare. The body measures and records; it never compares
against limits (the engine does) and never decides PASS or FAIL. Raising any exception makes
the step ERROR. Long waits go through ``ctx.wait`` so an abort is honoured within the wait.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar, get_args, overload

from drivers.roles import (
    AmbientThermometer,
    BarcodeScanner,
    Dmm,
    ElectronicLoad,
    InsulationTester,
    Interlocks,
    LabelPrinter,
    PackBms,
    PowerSupply,
    Role,
)
from station.clock import Clock
from station.errors import AbortRequested, StationError
from station.limits import Limit
from station.outcomes import Outcome
from station.steps.params import StepParams

MeasurementKind = Literal["number", "text", "bool", "array"]


@dataclass(frozen=True)
class MeasurementSpec:
    """A measurement a step type produces.

    ``requires_limit=False`` marks an informational value (a serial number read from the
    BMS, say) that is recorded as DONE when the sequence gives it no limit.

    ``resolution`` (in ``unit``) is for a value the step *derives* from readings (a
    difference, a spread, a sum): the engine rounds the value to a multiple of it before
    judging, so that float noise from the arithmetic (3.0 − 2.9865 = 0.013500000000000068)
    does not decide a verdict at the limit. Choose it far below any difference that
    matters and far above the noise (docs/limits.md, "Judging at the limit").
    """

    name: str
    unit: str
    kind: MeasurementKind = "number"
    requires_limit: bool = True
    doc: str = ""
    resolution: float | None = None


@dataclass(frozen=True)
class NoParams(StepParams):
    """A step type that takes no parameters."""


@dataclass(frozen=True)
class PromptRequest:
    """A typed operator prompt.

    kinds: ``confirm`` (yes/no), ``choice`` (one of ``choices``), ``number`` (within
    ``minimum``…``maximum``), ``text`` (matching ``pattern``), ``scan`` (a barcode matching
    ``pattern``, typed or scanned), ``message`` (OK only);
    ``image`` is a path shown beside the text.
    """

    kind: Literal["confirm", "choice", "number", "text", "scan", "message"]
    text: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    image: str | None = None


P = TypeVar("P", bound=StepParams)


class StepType(ABC, Generic[P]):
    """Base class of every step type, generic over its parameters (see the module docstring).

    ``class Dcir(StepType[DcirParams])`` makes ``DcirParams`` (a frozen :class:`StepParams`
    dataclass) the type every method receives as ``params``, and the class that sequence
    files are parsed into (``Params``, set from the type argument).

    Class attributes: ``name`` (the ``type`` used in sequence files), ``measurements`` (what
    it records), ``roles`` (bench roles it needs: checked before the run starts),
    ``optional_roles`` (roles it uses only when its parameters ask, or when the station has
    them: not required to start), ``energises`` (True for steps that put voltage or current
    on the pack: the engine checks the interlocks first), ``asks_operator`` (True for steps
    that prompt: a run nobody can answer is refused before it starts). ``ctx.instrument``
    refuses a role that is in neither ``roles`` nor ``optional_roles``.
    """

    name: ClassVar[str]
    Params: ClassVar[type[StepParams]] = NoParams
    measurements: ClassVar[tuple[MeasurementSpec, ...]] = ()
    roles: ClassVar[tuple[Role, ...]] = ()
    optional_roles: ClassVar[tuple[Role, ...]] = ()
    energises: ClassVar[bool] = False
    asks_operator: ClassVar[bool] = False
    rated: ClassVar[tuple[tuple[str, Role, str], ...]] = ()
    """Parameters an instrument must be rated for, as (parameter, role, rating option), e.g.
    ``("voltage_v", "insulation_tester", "max_voltage_v")``: ``station check --config``
    compares each with that option of the configured instrument."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            args = get_args(base)
            if args and isinstance(args[0], type) and issubclass(args[0], StepParams):
                if "Params" in vars(cls) and cls.Params is not args[0]:
                    raise TypeError(
                        f"{cls.__name__} names two parameter classes: {args[0].__name__} "
                        f"and Params = {cls.Params.__name__}; keep the type argument"
                    )
                cls.Params = args[0]

    def declared(self, params: P) -> tuple[MeasurementSpec, ...]:
        """Measurements this step will record with these parameters."""
        return self.measurements

    def seals_verdict(self, params: P) -> bool:
        """Return True if the step writes the run's verdict into the product (an EOL flag).

        ``station check`` then refuses any judged step after it outside cleanup: a FAIL
        there would come after the product was marked as passed.
        """
        return False

    def check(self, params: P, context: CheckContext) -> list[tuple[str, str]]:
        """Problems of these parameters that only the rest of the sequence shows, as
        (field, message) pairs: a limit the parameters contradict, a cell the pack does
        not have. Called once per variant before anything runs; the default finds none."""
        return []

    def energising(self, params: P) -> bool:
        """Whether this step, with these parameters, puts voltage or current on the pack
        (such a step may not stand in cleanup, which must only make the pack safe)."""
        return self.energises

    @abstractmethod
    def run(self, ctx: StepContext, params: P) -> None:
        """Do the step's work: drive instruments, record measurements."""


@dataclass(frozen=True)
class CheckContext:
    """What ``StepType.check`` sees of the sequence, for one variant.

    ``limits`` are this step's effective limits for ``variant`` (inline or from its limit
    table), by measurement; ``cells`` is the pack's cell count when a step of the sequence
    states it (a ``cells`` parameter), else None.
    """

    variant: str
    limits: Mapping[str, Limit]
    cells: int | None = None


REGISTRY: dict[str, type[StepType[Any]]] = {}

S = TypeVar("S", bound=type[StepType[Any]])


def register(cls: S) -> S:
    """Class decorator: make a step type available to sequence files by its name."""
    existing = REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(
            f"step type {cls.name!r} is defined twice: {existing.__module__} and {cls.__module__}"
        )
    REGISTRY[cls.name] = cls
    return cls


@dataclass(frozen=True)
class StepRecord:
    """What later steps (and ``skip_if``) can see of an earlier step."""

    name: str
    outcome: Outcome
    values: dict[str, Any]
    group: str = ""  # setup, main or cleanup


class StepTimeout(Exception):
    """The step ran past its ``timeout_s`` (checked at every wait and record)."""


class StepSink(Protocol):
    """Where a running step's work goes: the engine's object for one attempt of one step.

    It knows the run and the step, judges and emits what the step records, and reaches the
    bench, the operator and the results. :class:`StepContext` is the step's face on it.
    """

    run_id: str
    step_id: str
    serial: str
    part_number: str

    def instrument(self, role: str) -> Any:
        """The instrument playing ``role`` (raises StationError if there is none)."""
        ...

    def record(self, name: str, value: Any, unit: str | None) -> None:
        """Judge a measurement against its limit and report it."""
        ...

    def sample(self, channel: str, value: float) -> None:
        """Report one time-series point, timed on the run's clock."""
        ...

    def progress(self, fraction: float, eta_s: float | None, text: str) -> None:
        """Report how far the step has got."""
        ...

    def log(self, level: str, message: str) -> None:
        """Add a line to the run's log."""
        ...

    def prompt(self, request: PromptRequest) -> str | None:
        """Ask the operator and return the answer."""
        ...

    def check_interlocks(self) -> None:
        """Raise InterlockError unless the interlocks read safe."""
        ...

    def component(self, kind: str, code: str) -> None:
        """Record a part scanned into this pack."""
        ...

    def paired_packs(self, bms_serial: str) -> list[str] | None:
        """Other packs that passed carrying ``bms_serial`` (None: no results to ask)."""
        ...


class StepContext:
    """What a running step can do. Built by the engine; steps only use it."""

    def __init__(
        self,
        sink: StepSink,
        *,
        step_name: str,
        clock: Clock,
        abort: threading.Event,
        earlier: Mapping[str, StepRecord],
        deadline: float | None,
        roles: Collection[str],
    ) -> None:
        self._sink = sink
        self._roles = frozenset(roles)
        self.run_id = sink.run_id
        self.step_id = sink.step_id
        self.step_name = step_name
        self.serial = sink.serial
        self.part_number = sink.part_number
        self.clock = clock
        self.abort = abort
        self.earlier = earlier
        self._deadline = deadline

    @overload
    def instrument(self, role: Literal["supply"]) -> PowerSupply: ...
    @overload
    def instrument(self, role: Literal["load"]) -> ElectronicLoad: ...
    @overload
    def instrument(self, role: Literal["dmm"]) -> Dmm: ...
    @overload
    def instrument(self, role: Literal["ambient"]) -> AmbientThermometer: ...
    @overload
    def instrument(self, role: Literal["insulation_tester"]) -> InsulationTester: ...
    @overload
    def instrument(self, role: Literal["interlocks"]) -> Interlocks: ...
    @overload
    def instrument(self, role: Literal["scanner"]) -> BarcodeScanner: ...
    @overload
    def instrument(self, role: Literal["label_printer"]) -> LabelPrinter: ...
    @overload
    def instrument(self, role: Literal["bms"]) -> PackBms: ...
    def instrument(self, role: Role) -> object:
        """The instrument playing ``role`` on this station, typed by the role's Protocol
        (``drivers.roles.ROLES``; the bench checked it when it opened). Raises StationError
        when the station has none, or when the step type did not declare the role."""
        if role not in self._roles:
            raise StationError(
                f"step {self.step_name!r} asks for the {role!r} instrument, which its step type "
                "does not declare in roles or optional_roles; declare it (a step type bug)"
            )
        return self._sink.instrument(role)

    def optional_instrument(self, role: Literal["bms"]) -> PackBms | None:
        """The BMS if the station has one, else None (for a step that uses it if present)."""
        if role not in self._roles:
            return self.instrument(role)  # refuses the undeclared role
        try:
            return self.instrument(role)
        except StationError:  # the station has none
            return None

    def measure(self, name: str, value: Any, unit: str | None = None) -> None:
        """Record a measurement; the engine judges it against the sequence's limit."""
        self.check()
        self._sink.record(name, value, unit)

    def component(self, kind: str, code: str) -> None:
        """Record a part scanned into this pack (genealogy: ``components`` table)."""
        self._sink.component(kind, code)

    def paired_packs(self, bms_serial: str) -> list[str] | None:
        """Other packs that passed carrying ``bms_serial`` (None: no results to ask)."""
        return self._sink.paired_packs(bms_serial)

    def sample(self, channel: str, value: float) -> None:
        """Record one time-series point (``channel`` like ``"pack_voltage_V"``)."""
        self._sink.sample(channel, value)

    def progress(self, fraction: float, eta_s: float | None = None, text: str = "") -> None:
        """Tell the operator how far a long step has got (0…1, optional ETA in s)."""
        self._sink.progress(min(1.0, max(0.0, fraction)), eta_s, text)

    def log(self, message: str, level: str = "INFO") -> None:
        """Add a line to the run's log."""
        self._sink.log(level, message)

    def prompt(self, request: PromptRequest) -> str | None:
        """Ask the operator; returns the answer (None if dismissed)."""
        self.check()
        return self._sink.prompt(request)

    def now(self) -> float:
        """Seconds on the run's clock."""
        return self.clock.now()

    def wait(self, seconds: float) -> None:
        """Wait on the run's clock; raise AbortRequested at once if the run is aborted."""
        # check(), inline: a current-flow step waits four times a second of its run.
        if self.abort.is_set():
            raise AbortRequested("aborted")
        deadline = self._deadline
        if deadline is not None:
            now = self.clock.now()
            if now > deadline:
                raise StepTimeout("step timed out")
            if now + seconds > deadline:
                remaining = max(0.0, deadline - self.clock.now())
                if not self.clock.wait(remaining, self.abort):
                    raise AbortRequested("aborted during a wait")
                raise StepTimeout("step timed out")
        if not self.clock.wait(seconds, self.abort):
            raise AbortRequested("aborted during a wait")

    def check(self) -> None:
        """Raise if the run was aborted or the step's time is up."""
        if self.abort.is_set():
            raise AbortRequested("aborted")
        if self._deadline is not None and self.clock.now() > self._deadline:
            raise StepTimeout("step timed out")

    def require_interlocks_safe(self) -> None:
        """Raise InterlockError unless the interlocks read safe (HV steps call this)."""
        self._sink.check_interlocks()


def poll_until(
    ctx: StepContext, condition: Callable[[], bool], *, timeout_s: float, period_s: float
) -> bool:
    """Poll ``condition`` every ``period_s`` on the run's clock; True when it held."""
    end = ctx.now() + timeout_s
    while True:
        if condition():
            return True
        if ctx.now() >= end:
            return False
        ctx.wait(min(period_s, max(0.0, end - ctx.now())) or period_s)


def spec_named(specs: Sequence[MeasurementSpec], name: str) -> MeasurementSpec | None:
    """The spec called ``name``, if declared."""
    return next((s for s in specs if s.name == name), None)
