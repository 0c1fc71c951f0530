"""The MES plug-in: a route check before a pack starts, its result uploaded after.

A plant's MES decides where a pack goes next: a pack that has not passed the stations
before this one must not be tested here. A plug-in implements ``Mes``:

- ``route_check(serial, part_number, station_id)`` answers ``RouteAnswer(allowed, reason)``
  — may this serial be tested here now, given the earlier stations' results — or raises
  ``MesUnreachable`` when the MES cannot be asked;
- ``upload(run)`` reports a finished run (``RunSummary``); the relay calls it from the
  outbox after the run's central copy, so it is retried until it succeeds and must treat
  a repeat of the same run id as a no-op.

The station config names the plug-in (``[mes] plugin``: an ``eol_station.mes`` entry
point or ``module:attribute``); the attribute is called with the ``[mes] options`` table
and returns the plug-in. The start gate (``station.gate``) calls ``route_blocker``: only
an allowed answer starts a run; a refusal, a timeout, an unreachable MES (under the
``refuse`` policy) or a malformed answer blocks it, and every decision is audited. Under
the ``queue`` policy a station whose MES is away tests anyway, audits that the route was
not checked, and the upload waits in the outbox. ``station.mes_postgres`` is the
reference implementation.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol

ENTRY_POINT_GROUP = "eol_station.mes"


class MesUnreachable(Exception):
    """The MES could not be asked (network, server, credentials); say why in one line."""


@dataclass(frozen=True)
class RouteAnswer:
    allowed: bool
    reason: str = ""


@dataclass(frozen=True)
class RunSummary:
    """What the MES hears about a finished run."""

    run_id: str
    serial: str
    part_number: str
    station_id: str
    outcome: str
    started_at: str
    ended_at: str


class Mes(Protocol):
    def route_check(self, serial: str, part_number: str, station_id: str) -> RouteAnswer: ...

    def upload(self, run: RunSummary) -> None: ...


@dataclass(frozen=True)
class RouteDecision:
    """What the gate makes of one route check: may it start, and what to audit."""

    start: bool
    action: str
    """Audit action: ``mes.route_passed``, ``mes.route_refused``, ``mes.route_unchecked``."""
    message: str


def load(spec: str, options: dict[str, Any]) -> Mes:
    """Build the plug-in named by ``spec`` (entry point name or ``module:attribute``).

    Raises ValueError with one sentence when it cannot be found or built.
    """
    factory: Any
    if ":" in spec:
        module_name, _, attribute = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as err:
            raise ValueError(f"cannot load the MES plug-in {spec!r} ({err})") from err
    else:
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == spec]
        if not found:
            raise ValueError(
                f"no MES plug-in {spec!r} is installed (entry point group "
                f"{ENTRY_POINT_GROUP!r}); give module:attribute or install it"
            )
        factory = found[0].load()
    try:
        plugin = factory(options)
    except Exception as err:
        raise ValueError(f"the MES plug-in {spec!r} could not start ({err})") from err
    if not callable(getattr(plugin, "route_check", None)) or not callable(
        getattr(plugin, "upload", None)
    ):
        raise ValueError(f"the MES plug-in {spec!r} has no route_check and upload")
    return plugin  # type: ignore[no-any-return]


def check_route(
    mes: Mes, serial: str, part_number: str, station_id: str, *, policy: str, timeout_s: float
) -> RouteDecision:
    """Ask the MES with a deadline and judge the answer (only an allowed answer starts)."""
    answer: list[object] = []
    failure: list[BaseException] = []

    def ask() -> None:
        try:
            answer.append(mes.route_check(serial, part_number, station_id))
        except BaseException as err:
            failure.append(err)

    worker = threading.Thread(target=ask, name="mes-route-check", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        return _unreachable(f"the MES did not answer within {timeout_s:g} s", policy)
    if failure:
        err = failure[0]
        if isinstance(err, MesUnreachable):
            return _unreachable(f"the MES cannot be reached ({err})", policy)
        return RouteDecision(
            False,
            "mes.route_refused",
            f"the MES route check failed ({type(err).__name__}: {err}); the pack may not "
            "start until it answers — call the MES administrator",
        )
    got = answer[0] if answer else None
    if not isinstance(got, RouteAnswer) or not isinstance(got.allowed, bool):
        return RouteDecision(
            False,
            "mes.route_refused",
            f"the MES route check gave a malformed answer ({got!r}); the pack may not start "
            "— call the MES administrator",
        )
    if got.allowed:
        return RouteDecision(True, "mes.route_passed", got.reason or "route check passed")
    return RouteDecision(
        False,
        "mes.route_refused",
        f"the MES refuses serial {serial!r} here: {got.reason or 'not on its route'}; "
        "send the pack where the MES routes it",
    )


def _unreachable(why: str, policy: str) -> RouteDecision:
    if policy == "queue":
        return RouteDecision(
            True,
            "mes.route_unchecked",
            f"{why}; testing without the route check (policy queue), the result waits in "
            "the outbox for the MES",
        )
    return RouteDecision(
        False,
        "mes.route_refused",
        f"{why}; this station does not test without the route check (policy refuse) — "
        "restore the MES link or ask an engineer",
    )
