"""The virtual bench: a simulated pack with simulated instruments on real sockets.

:class:`VirtualBench` builds a :class:`~drivers.sim.pack.Pack`, its
:class:`~drivers.sim.electrical.PackCircuit`, and one :class:`~drivers.sim.scpi_server.ScpiServer`
per twin in :data:`TWINS`. The station connects to the servers exactly as to real instruments,
through ``bench.resources`` (role → (model registry name, VISA resource string)), with
``bench.driver_options[role]`` holding the driver options (ratings) that match each twin.

Add an instrument by adding a :class:`TwinSpec` to :data:`TWINS` (or passing ``twins=``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drivers.sim.clock import TimeSource
from drivers.sim.electrical import PackCircuit
from drivers.sim.instruments.generic_load import GenericLoadTwin
from drivers.sim.instruments.generic_supply import GenericSupplyTwin
from drivers.sim.instruments.keysight34465a import Keysight34465aTwin
from drivers.sim.pack import Pack
from drivers.sim.packs import get_pack_spec
from drivers.sim.scpi_server import ScpiDevice, ScpiServer

FAULTS = ("not_answering", "garbage_reply", "drop_connection", "error_queue")
"""Fault names accepted per role in ``VirtualBench(faults=...)``."""


@dataclass(frozen=True)
class TwinSpec:
    """One simulated instrument: its ``role``, the ``model`` registry name the station uses
    for its driver, and ``make(circuit, seed)`` building the twin."""

    role: str
    model: str
    make: Callable[[PackCircuit, int], ScpiDevice]


TWINS: tuple[TwinSpec, ...] = (
    TwinSpec("supply", "generic.scpi_supply", lambda circuit, seed: GenericSupplyTwin(circuit)),
    TwinSpec("load", "generic.scpi_load", lambda circuit, seed: GenericLoadTwin(circuit)),
    TwinSpec(
        "dmm", "keysight.34465a", lambda circuit, seed: Keysight34465aTwin(circuit, seed=seed)
    ),
)


class VirtualBench:
    """A pack named ``pack`` (see :func:`~drivers.sim.packs.get_pack_spec`) with twins online.

    ``seed`` draws the pack's spread and the instruments' noise. ``now`` is the clock the
    physics follows (the engine's ``clock.now``; default: real monotonic time). ``faults``
    switches faults on from the start, per role: ``{"dmm": {"not_answering": True},
    "supply": {"error_queue": [(-222, "Data out of range")]}}`` (names in :data:`FAULTS`;
    change them later on ``bench.servers[role]``). With ``contactors_closed`` (default, until
    a simulated BMS commands them) the contactors start closed and precharged. Close the
    bench (or use it as a context manager) to stop every server.
    """

    def __init__(
        self,
        pack: str = "nmc96s",
        *,
        seed: int = 1,
        now: TimeSource | None = None,
        faults: Mapping[str, Mapping[str, Any]] | None = None,
        contactors_closed: bool = True,
        twins: Sequence[TwinSpec] = TWINS,
    ) -> None:
        self.now: TimeSource = now if now is not None else time.monotonic
        self.seed = seed
        self.pack = Pack(get_pack_spec(pack), seed=seed)
        self.circuit = PackCircuit(self.pack, self.now)
        if contactors_closed:
            self.circuit.close_contactors_settled()
        self.instruments: dict[str, ScpiDevice] = {}
        self.servers: dict[str, ScpiServer] = {}
        self.resources: dict[str, tuple[str, str]] = {}
        self.driver_options: dict[str, dict[str, Any]] = {}
        try:
            for twin in twins:
                if twin.role in self.servers:
                    raise ValueError(f"two twins for role {twin.role!r}")
                device = twin.make(self.circuit, seed)
                server = ScpiServer(device)
                self.servers[twin.role] = server
                server.start()
                self.instruments[twin.role] = device
                self.resources[twin.role] = (twin.model, server.resource)
                self.driver_options[twin.role] = device.driver_options()
            for role, settings in (faults or {}).items():
                self.inject(role, **settings)
        except BaseException:
            self.close()
            raise

    def inject(self, role: str, **faults: Any) -> None:
        """Switch faults of the instrument playing ``role`` (names in :data:`FAULTS`).

        ``not_answering``, ``garbage_reply`` and ``drop_connection`` take a bool;
        ``error_queue`` takes a list of ``(code, message)`` errors to queue.
        """
        if role not in self.servers:
            raise ValueError(f"no simulated instrument plays {role!r}; roles: {list(self.servers)}")
        server = self.servers[role]
        for name, value in faults.items():
            if name not in FAULTS:
                raise ValueError(f"unknown fault {name!r} for {role!r}; choose from {FAULTS}")
            if name == "error_queue":
                for code, message in value:
                    server.push_error(code, message)
            else:
                setattr(server, name, bool(value))

    def close(self) -> None:
        """Stop every instrument server; safe to call twice."""
        for server in reversed(list(self.servers.values())):
            server.close()

    def __enter__(self) -> VirtualBench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
