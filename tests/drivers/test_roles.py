"""Every model the station can drive plays its role: the suite-wide conformance check.

``drivers.roles.ROLES`` maps each role to its Protocol; here every registered model, every
model the virtual bench simulates and the BMS client are checked against the role they
play, method by method with the role's parameters (PyMeasure's ``test_all_instruments``
habit). The bench runs the same check when it opens (tests/station/test_bench_roles.py).
"""

from __future__ import annotations

from typing import get_args

import pytest

from drivers import registry
from drivers.bms.bms import Bms
from drivers.roles import (
    INSTRUMENT_ROLES,
    ROLES,
    Dmm,
    Role,
    conformance_problems,
)
from drivers.sim.bench import CATALOGUE, DEFAULT_MODELS, SECOND_ROLES

PLAYS: dict[str, tuple[Role, ...]] = {
    "itech.it6000c": ("supply",),
    "ea.psb10000": ("supply",),
    "generic.scpi_supply": ("supply",),
    "chroma.63200a": ("load",),
    "generic.scpi_load": ("load",),
    "chroma.1905x": ("insulation_tester",),
    "kikusui.tos9300": ("insulation_tester",),
    "keysight.34465a": ("dmm", "ambient"),
    "modbus.rtu_io": ("interlocks",),
    "serial_devices.scanner": ("scanner",),
    "zebra.zpl": ("label_printer",),
}
"""The role(s) each registered model is made for."""


def test_every_registered_model_has_a_role() -> None:
    assert set(PLAYS) == set(registry.MODELS)


def test_the_role_table_names_every_role_once() -> None:
    assert tuple(ROLES) == get_args(Role)
    assert set(INSTRUMENT_ROLES) == set(ROLES) - {"bms"}
    assert {role for roles in PLAYS.values() for role in roles} == set(INSTRUMENT_ROLES)


@pytest.mark.parametrize(
    ("model", "role"), [(m, r) for m, roles in sorted(PLAYS.items()) for r in roles]
)
def test_every_registered_model_satisfies_its_role(model: str, role: Role) -> None:
    assert conformance_problems(registry.driver_class(model), role) == []


@pytest.mark.parametrize(
    ("model", "role"), [(m, r) for m, roles in sorted(PLAYS.items()) for r in roles]
)
def test_no_model_satisfies_a_role_it_is_not_made_for_by_accident(model: str, role: Role) -> None:
    # The check is strict enough to tell roles apart: a supply is not a DMM, and so on.
    others = [r for r in INSTRUMENT_ROLES if r not in PLAYS[model]]
    assert all(conformance_problems(registry.driver_class(model), r) for r in others)


SIMULATED = sorted(
    {(spec.role, spec.model) for spec in (*CATALOGUE.values(), *SECOND_ROLES.values())}
    | set(DEFAULT_MODELS.items())
)


@pytest.mark.parametrize(("role", "model"), SIMULATED)
def test_every_simulated_model_is_driven_by_a_driver_of_its_role(role: str, model: str) -> None:
    assert role in ROLES
    assert conformance_problems(registry.driver_class(model), role) == []


def test_the_bms_client_satisfies_the_bms_role() -> None:
    assert conformance_problems(Bms, "bms") == []


class _Connectable:
    resource = "x"

    def connect(self) -> None: ...
    def identity(self) -> object: ...
    def close(self) -> None: ...


class _WrongDmm(_Connectable):
    """A DMM with the supply's method names and a required range."""

    def measure_voltage(self) -> float: ...
    def measure_resistance(self, range_ohm: float) -> float: ...


def test_the_check_names_what_a_class_lacks_and_each_signature_that_differs() -> None:
    problems = conformance_problems(_WrongDmm, "dmm")
    assert "has no measure_dc_voltage()" in problems
    [resistance] = [p for p in problems if p.startswith("measure_resistance")]
    assert "does not match" in resistance and "*, range_ohm" in resistance
    assert not isinstance(_WrongDmm(), Dmm)


def test_extra_parameters_with_defaults_are_allowed_and_lost_defaults_are_not() -> None:
    class Extra(_Connectable):
        def measure_dc_voltage(
            self, *, range_v: float | None = None, nplc: float = 1.0, delay_s: float = 0
        ) -> float: ...

        def measure_resistance(self, *, range_ohm: float | None = None) -> float: ...

    class Lost(_Connectable):
        def measure_dc_voltage(self, *, range_v: float | None, nplc: float = 1.0) -> float: ...

        def measure_resistance(self, *, range_ohm: float | None = None) -> float: ...

    assert conformance_problems(Extra, "dmm") == []
    assert conformance_problems(Lost, "dmm") == [
        "measure_dc_voltage() makes range_v required (the role has defaults)"
    ]


def test_an_unknown_role_is_named() -> None:
    assert conformance_problems(_WrongDmm, "thermometer") == [
        f"'thermometer' is not a role (roles: {', '.join(ROLES)})"
    ]
