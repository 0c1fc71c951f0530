"""How the virtual bench builds a simulated instrument: one spec per model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from drivers.sim.electrical import PackCircuit
from drivers.sim.scpi_server import ScpiDevice


class ServedDevice(Protocol):
    """A twin that serves its own protocol (not SCPI), such as Modbus RTU."""

    @property
    def resource(self) -> str: ...

    def start(self, *, inline: bool = False) -> object: ...

    def close(self) -> None: ...

    def driver_options(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class TwinSpec:
    """A SCPI twin: its ``role``, the ``model`` registry name the station uses for its
    driver, and ``make(circuit, seed)`` building the device the bench serves over TCP."""

    role: str
    model: str
    make: Callable[[PackCircuit, int], ScpiDevice]


@dataclass(frozen=True)
class ServedTwinSpec:
    """A twin that serves its own protocol: ``make(circuit, seed)`` builds it unstarted."""

    role: str
    model: str
    make: Callable[[PackCircuit, int], ServedDevice]
