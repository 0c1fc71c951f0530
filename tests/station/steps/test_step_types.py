"""Every step type of the library is typed at its seams: parameters, roles, instruments.

- each is ``StepType[XParams]`` with ``XParams`` a :class:`StepParams` dataclass, and no
  method a step type overrides takes or returns ``Any``;
- the roles it declares are roles of ``drivers.roles.ROLES``;
- ``ctx.instrument`` hands out only the roles the step type declares.
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
from typing import Any, get_args, get_type_hints

import pytest

import station.steps  # noqa: F401  (registers the step library)
from drivers.roles import ROLES
from station.clock import VirtualClock
from station.errors import StationError
from station.steps.api import REGISTRY, PromptRequest, StepContext, StepType
from station.steps.params import StepParams

LIBRARY = sorted(
    (name, cls) for name, cls in REGISTRY.items() if cls.__module__.startswith("station.")
)
METHODS = ("run", "check", "declared", "energising", "seals_verdict")


def _mentions_any(hint: object) -> bool:
    return hint is Any or any(_mentions_any(arg) for arg in get_args(hint))


def test_the_library_is_all_here() -> None:
    assert len(LIBRARY) >= 20


@pytest.mark.parametrize(("name", "cls"), LIBRARY, ids=[n for n, _ in LIBRARY])
def test_no_any_in_step_signatures(name: str, cls: type[StepType[Any]]) -> None:
    params = cls.Params
    assert dataclasses.is_dataclass(params) and issubclass(params, StepParams)
    assert params.__dataclass_params__.frozen  # type: ignore[attr-defined]
    [base] = [b for b in cls.__orig_bases__ if get_args(b)]  # type: ignore[attr-defined]
    assert get_args(base) == (params,), f"{name}: StepType[{params.__name__}]"
    typed_anywhere = []
    for method in METHODS:
        fn = getattr(cls, method)
        hints = get_type_hints(fn)
        typed_anywhere += [f"{method}({arg})" for arg, hint in hints.items() if _mentions_any(hint)]
        if "params" in inspect.signature(fn).parameters and fn.__qualname__.startswith(
            cls.__name__
        ):
            assert hints["params"] is params, f"{name}.{method}: params is {hints['params']}"
    assert typed_anywhere == []


@pytest.mark.parametrize(("name", "cls"), LIBRARY, ids=[n for n, _ in LIBRARY])
def test_no_any_in_step_parameters(name: str, cls: type[StepType[Any]]) -> None:
    hints = get_type_hints(cls.Params, include_extras=True)
    assert [field for field, hint in hints.items() if _mentions_any(hint)] == []


@pytest.mark.parametrize(("name", "cls"), LIBRARY, ids=[n for n, _ in LIBRARY])
def test_declared_roles_are_roles(name: str, cls: type[StepType[Any]]) -> None:
    assert set(cls.roles) | set(cls.optional_roles) <= set(ROLES)
    assert not set(cls.roles) & set(cls.optional_roles)
    assert {role for _, role, _ in cls.rated} <= set(cls.roles) | set(cls.optional_roles)


class _Sink:
    """A step sink whose bench has a DMM and nothing else."""

    run_id = step_id = serial = part_number = "x"

    def __init__(self) -> None:
        self.dmm = object()

    def instrument(self, role: str) -> Any:
        if role != "dmm":
            raise StationError(f"no {role!r} instrument")
        return self.dmm

    def record(self, name: str, value: Any, unit: str | None) -> None: ...
    def sample(self, channel: str, value: float) -> None: ...
    def progress(self, fraction: float, eta_s: float | None, text: str) -> None: ...
    def log(self, level: str, message: str) -> None: ...
    def prompt(self, request: PromptRequest) -> str | None: ...
    def check_interlocks(self) -> None: ...
    def component(self, kind: str, code: str) -> None: ...
    def paired_packs(self, bms_serial: str) -> list[str] | None: ...


def _context(sink: _Sink, roles: tuple[str, ...]) -> StepContext:
    return StepContext(
        sink,
        step_name="Pack voltage",
        clock=VirtualClock(),
        abort=threading.Event(),
        earlier={},
        deadline=None,
        roles=roles,
    )


def test_a_step_gets_the_instruments_of_the_roles_it_declares() -> None:
    sink = _Sink()
    assert _context(sink, ("dmm",)).instrument("dmm") is sink.dmm


def test_a_step_asking_for_a_role_it_did_not_declare_is_refused() -> None:
    with pytest.raises(StationError, match="'supply' instrument, which its step type does not"):
        _context(_Sink(), ("dmm",)).instrument("supply")
    with pytest.raises(StationError, match="'bms' instrument, which its step type does not"):
        _context(_Sink(), ("dmm",)).optional_instrument("bms")


def test_an_optional_role_the_station_lacks_is_none() -> None:
    assert _context(_Sink(), ("dmm", "bms")).optional_instrument("bms") is None
