"""Step types for the station tests only, registered under names starting ``test_``.

Importing this module registers them; ``register`` is idempotent for the same class, so
several test files may import it. Steps that wait log ``WAITING`` (or ``ENERGISED``) just
before they wait, so a test can hand-shake on that Log event instead of sleeping.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

from drivers.errors import InstrumentTimeout
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register

WAITING = "test step: waiting"
ENERGISED = "test step: energised"

_attempts: dict[tuple[str, str], int] = {}
_attempts_lock = threading.Lock()


@register
class RecordValue(StepType):
    """Record ``value`` as ``measurement`` in ``unit`` (``times`` times).

    ``record = false`` declares the measurement but never records it; ``record_as``
    records under another (undeclared) name.
    """

    name = "test_record_value"

    @dataclass(frozen=True)
    class Params:
        value: Any = 1.0
        measurement: str = "value"
        unit: str = "V"
        kind: Literal["number", "text", "bool", "array"] = "number"
        requires_limit: bool = True
        record: bool = True
        record_as: str | None = None
        times: int = 1

    def declared(self, params: Any) -> tuple[MeasurementSpec, ...]:
        return (
            MeasurementSpec(
                params.measurement,
                params.unit,
                kind=params.kind,
                requires_limit=params.requires_limit,
            ),
        )

    def run(self, ctx: StepContext, params: Any) -> None:
        if params.record:
            for _ in range(params.times):
                ctx.measure(params.record_as or params.measurement, params.value, params.unit)


@register
class RaiseError(StepType):
    """Raise ``error`` on the first ``failures`` attempts (-1: always), else record ``value``."""

    name = "test_raise_error"
    measurements = (MeasurementSpec("value", "V", requires_limit=False),)

    @dataclass(frozen=True)
    class Params:
        error: Literal["station", "runtime", "timeout"] = "runtime"
        message: str = "boom"
        failures: int = -1

    def run(self, ctx: StepContext, params: Any) -> None:
        key = (ctx.run_id, ctx.step_name)
        with _attempts_lock:
            attempt = _attempts[key] = _attempts.get(key, 0) + 1
        if params.failures < 0 or attempt <= params.failures:
            if params.error == "station":
                raise StationError(params.message)
            if params.error == "timeout":
                raise InstrumentTimeout(params.message, resource="TCPIP0::fake::INSTR")
            raise RuntimeError(params.message)
        ctx.measure("value", float(attempt))


@register
class LongWait(StepType):
    """Log ``WAITING``, then wait ``seconds`` on the run's clock in ``slice_s`` increments."""

    name = "test_long_wait"

    @dataclass(frozen=True)
    class Params:
        seconds: float
        slice_s: float = 10.0

    def run(self, ctx: StepContext, params: Any) -> None:
        ctx.log(WAITING)
        end = ctx.now() + params.seconds
        while (left := end - ctx.now()) > 0:
            ctx.wait(min(left, params.slice_s))


@register
class Energise(StepType):
    """Put energy on the pack (so the engine checks the interlocks), log, hold ``hold_s``."""

    name = "test_energise"
    energises = True

    @dataclass(frozen=True)
    class Params:
        hold_s: float = 0.0

    def run(self, ctx: StepContext, params: Any) -> None:
        ctx.log(ENERGISED)
        if params.hold_s > 0:
            ctx.wait(params.hold_s)


@register
class FakeSource(StepType):
    """Switch the bench's ``supply`` on at ``volts`` (safe state must switch it off)."""

    name = "test_fake_source"
    roles = ("supply",)

    @dataclass(frozen=True)
    class Params:
        volts: float = 12.0

    def run(self, ctx: StepContext, params: Any) -> None:
        supply = ctx.instrument("supply")
        supply.set_voltage(params.volts)
        supply.set_output(True)
