"""The virtual bench: a simulated pack with simulated instruments and BMS on real transports.

:class:`VirtualBench` builds a :class:`~drivers.sim.pack.Pack` and its
:class:`~drivers.sim.electrical.PackCircuit`, serves one twin per role over a real socket
on 127.0.0.1 (SCPI over TCP, Modbus RTU over TCP), and puts a
:class:`~drivers.sim.bms.SimulatedBms` on a python-can bus. The station reaches it exactly
as real hardware: ``resources`` (role → (model registry name, resource string)),
``driver_options[role]`` (the ratings that match each twin) and ``can`` (python-can bus
arguments for the BMS).

Which model plays each role is chosen from the station's config (``models=``), so
``--sim`` changes resources and nothing else. :data:`CATALOGUE` lists every twin.

A long-lived bench (the UI, ``station sim``) tests many packs: :meth:`VirtualBench.present`
puts the pack with a given serial on the fixture. The first serial gets the pack the bench
was built with; every new serial a fresh pack (spread, BMS error and BMS serial seeded from
the bench seed and the serial); a serial seen before gets its own pack back with its state
(charge, temperatures, BMS NVM), as a retest on a real line does.

The fixture I/O module's coil 3 breaks the pack's HVIL loop (the HVIL step opens it to
prove the BMS notices); coil 4 switches the insulation-monitor test resistor
(:data:`IMD_TEST_RESISTOR_OHM`, HV− to chassis at the connector); coils 1/2 select the HV
pole (see :class:`~drivers.sim.instruments.hv_twins.SafetyCircuit`). The DMM reads the
highest voltage on the HV fixture: the pack's terminals or a tester's output; while coil 5
(the DMM proof relay, a changeover at the fixture end of the DMM's leads) is on, it reads
the fixture's reference instead (:data:`~drivers.sim.instruments.modbus_io.DMM_PROOF_V`).
"""

from __future__ import annotations

import itertools
import os
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import can

from drivers.sim.bms import BmsUnit, SimulatedBms
from drivers.sim.clock import Scheduler, TimeSource
from drivers.sim.electrical import PackCircuit
from drivers.sim.instruments.generic_load import GenericLoadTwin
from drivers.sim.instruments.generic_supply import GenericSupplyTwin
from drivers.sim.instruments.hv_catalogue import HV_TWINS
from drivers.sim.instruments.hv_twins import SafetyCircuit
from drivers.sim.instruments.keysight34465a import Keysight34465aTwin
from drivers.sim.instruments.label_printer import ZplPrinterTwin
from drivers.sim.instruments.modbus_io import DMM_PROOF_V, ModbusIoTwin
from drivers.sim.instruments.power_twins import POWER_TWINS
from drivers.sim.pack import Pack
from drivers.sim.packs import PackSpec, get_pack_spec
from drivers.sim.scpi_server import ScpiDevice, ScpiServer
from drivers.sim.twin import ServedDevice, ServedTwinSpec, TwinSpec

__all__ = ["CATALOGUE", "DEFAULT_MODELS", "FAULTS", "TWINS", "TwinSpec", "VirtualBench"]

FAULTS = ("not_answering", "garbage_reply", "drop_connection", "error_queue")
"""Fault names accepted per role in ``VirtualBench(faults=...)``."""

HVIL_BREAK_COIL = 3
UNITS_KEPT = 200
"""Packs a long-lived bench remembers for retests (the oldest beyond this are forgotten)."""
IMD_TEST_COIL = 4
IMD_TEST_RESISTOR_OHM = 1e6
"""The fixture's insulation-monitor test resistor, HV− to chassis at the connector."""

TWINS: tuple[TwinSpec, ...] = (
    TwinSpec("supply", "generic.scpi_supply", lambda circuit, seed: GenericSupplyTwin(circuit)),
    TwinSpec("load", "generic.scpi_load", lambda circuit, seed: GenericLoadTwin(circuit)),
    TwinSpec(
        "dmm", "keysight.34465a", lambda circuit, seed: Keysight34465aTwin(circuit, seed=seed)
    ),
)
"""The generic twins and the DMM (a bench of only these has no BMS-independent HV cell)."""

LABEL_TWINS: tuple[ServedTwinSpec, ...] = (
    ServedTwinSpec("label_printer", "zebra.zpl", lambda circuit, seed: ZplPrinterTwin()),
)
"""The label printer: on the bench only when the config names one."""

CATALOGUE: dict[str, TwinSpec | ServedTwinSpec] = {
    spec.model: spec for spec in (*TWINS, *POWER_TWINS, *HV_TWINS, *LABEL_TWINS)
}
"""Every simulated model, by registry name."""

SECOND_ROLES: dict[tuple[str, str], TwinSpec | ServedTwinSpec] = {
    ("ambient", "keysight.34465a"): TwinSpec(
        "ambient",
        "keysight.34465a",
        # A second meter, its PT100 probe in the virtual room; its own seed, its own error.
        lambda circuit, seed: Keysight34465aTwin(circuit, seed=seed + 1000),
    ),
}
"""Models that can also play another role, by (role, model): a 34465A with a probe is the
station's ambient thermometer."""

DEFAULT_MODELS: dict[str, str] = {
    "supply": "itech.it6000c",
    "load": "chroma.63200a",
    "dmm": "keysight.34465a",
    "ambient": "keysight.34465a",
    "insulation_tester": "chroma.1905x",
    "interlocks": "modbus.rtu_io",
}
"""The bench a ``station run --sim`` without a config gets."""

_channels = itertools.count(1)


class VirtualBench:
    """A pack ``pack`` (a :class:`PackSpec`, a shipped pack's name or a pack file's path, see
    :func:`~drivers.sim.packs.get_pack_spec`) with twins online.

    ``seed`` draws the pack's spread and the instruments' and BMS's errors. ``now`` is the
    clock the physics follows (the engine's ``clock.now``; default: monotonic time).
    ``models`` picks the twin per role (default :data:`DEFAULT_MODELS`; a role mapped to
    ``""`` is left out); ``twins`` gives the specs directly instead (tests). ``faults``
    switches instrument faults on from the start, per role: ``{"dmm": {"not_answering":
    True}}`` (names in :data:`FAULTS`). With ``bms`` (default) a simulated BMS runs on the
    python-can bus ``can_interface``/``can_channel`` (default: a fresh in-process
    ``virtual`` channel) and the contactors start open; without it they start closed and
    precharged. ``scheduler``: the station's lockstep virtual clock (``now`` must be its
    ``now``); the BMS then acts only as it moves (:mod:`drivers.sim.clock`). Close the
    bench (or use it as a context manager) to stop everything.
    """

    def __init__(
        self,
        pack: str | PackSpec = "nmc96s",
        *,
        seed: int = 1,
        now: TimeSource | None = None,
        models: Mapping[str, str] | None = None,
        twins: Sequence[TwinSpec | ServedTwinSpec] | None = None,
        faults: Mapping[str, Mapping[str, Any]] | None = None,
        contactors_closed: bool | None = None,
        bms: bool = False,
        can_interface: str = "virtual",
        can_channel: str | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.now: TimeSource = now if now is not None else time.monotonic
        self.seed = seed
        self.spec = pack if isinstance(pack, PackSpec) else get_pack_spec(pack)
        self.pack_name = self.spec.name
        self.pack = Pack(self.spec, seed=seed)
        self.serial: str | None = None  # of the pack on the fixture (None until presented)
        # Packs that left the fixture, by serial, oldest first (at most UNITS_KEPT).
        self._units: dict[str, tuple[Pack, BmsUnit | None]] = {}
        self.circuit = PackCircuit(self.pack, self.now)
        # Without a BMS to close them, a pack arrives with its contactors closed (as every
        # new pack presented later on this bench does); with a BMS, the sequence closes them.
        self._arrives_closed = contactors_closed if contactors_closed is not None else not bms
        if self._arrives_closed:
            self.circuit.close_contactors_settled()
        self.instruments: dict[str, ScpiDevice] = {}
        self.servers: dict[str, ScpiServer] = {}
        self.served: dict[str, ServedDevice] = {}
        self.resources: dict[str, tuple[str, str]] = {}
        self.driver_options: dict[str, dict[str, Any]] = {}
        self.safety: SafetyCircuit | None = None
        self.bms: SimulatedBms | None = None
        self.can: dict[str, Any] = {}
        self._bus: can.BusABC | None = None
        self._hvil_fault = False
        # In lockstep every twin answers on its client's thread (drivers.loopback): no
        # thread hand-off per exchange, and nothing of the twins runs beside the engine.
        self._inline = scheduler is not None
        try:
            for spec in twins if twins is not None else self._specs(models):
                self._start(spec)
            self.safety = SafetyCircuit.link([*self.instruments.values(), *self.served.values()])
            self._wire_dmm_to_fixture()
            io = self._io()
            if io is not None:
                io.add_listener(lambda: self._follow_fixture_relays(io))
            if bms:
                channel = can_channel or f"eol-sim-{os.getpid()}-{next(_channels)}"
                self.can = {"interface": can_interface, "channel": channel}
                self._bus = can.Bus(**self.can)
                self.bms = SimulatedBms(
                    self.pack,
                    self._bus,
                    now=self.now,
                    circuit=self.circuit,
                    seed=seed,
                    scheduler=scheduler,
                )
                self.bms.start()
            for role, settings in (faults or {}).items():
                self.inject(role, **settings)
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _specs(models: Mapping[str, str] | None) -> list[TwinSpec | ServedTwinSpec]:
        chosen = {**DEFAULT_MODELS, **(models or {})}
        specs = []
        for role, model in chosen.items():
            if not model:
                continue
            spec = SECOND_ROLES.get((role, model)) or CATALOGUE.get(model)
            if spec is None:
                raise ValueError(
                    f"the virtual bench has no twin of {model!r} for role {role!r}; "
                    f"simulated models: {', '.join(sorted(CATALOGUE))}"
                )
            if spec.role != role:
                raise ValueError(f"model {model!r} plays {spec.role!r}, not {role!r}")
            specs.append(spec)
        return specs

    def _start(self, spec: TwinSpec | ServedTwinSpec) -> None:
        if spec.role in self.resources:
            raise ValueError(f"two twins for role {spec.role!r}")
        if isinstance(spec, ServedTwinSpec):
            served = spec.make(self.circuit, self.seed)
            self.served[spec.role] = served
            served.start(inline=self._inline)
            self.resources[spec.role] = (spec.model, served.resource)
            self.driver_options[spec.role] = served.driver_options()
            return
        device = spec.make(self.circuit, self.seed)
        server = ScpiServer(device)
        self.servers[spec.role] = server
        server.start(inline=self._inline)
        self.instruments[spec.role] = device
        self.resources[spec.role] = (spec.model, server.resource)
        self.driver_options[spec.role] = device.driver_options()

    def _io(self) -> ModbusIoTwin | None:
        for device in self.served.values():
            if isinstance(device, ModbusIoTwin):
                return device
        return None

    def _wire_dmm_to_fixture(self) -> None:
        """Let the DMM see the HV fixture: the pack's terminals and any tester output, or
        the fixture's reference while the DMM proof relay is on."""
        dmm = self.instruments.get("dmm")
        safety = self.safety
        if not isinstance(dmm, Keysight34465aTwin) or safety is None:
            return
        circuit = self.circuit
        io = self._io()

        def probe() -> float:
            if io is not None and io.dmm_proof:
                return DMM_PROOF_V
            return max(circuit.terminal_voltage(), safety.fixture_voltage())

        dmm.fixture_probe = probe

    def _follow_fixture_relays(self, io: ModbusIoTwin) -> None:
        with self.circuit.locked():
            self.pack.faults.hvil_open = self._hvil_fault or io.coil(HVIL_BREAK_COIL)
            on = io.coil(IMD_TEST_COIL)
            self.pack.insulation.test_resistor_ohm = IMD_TEST_RESISTOR_OHM if on else None

    def present(self, serial: str) -> None:
        """Put the pack with ``serial`` on the fixture (see the module docstring)."""
        if serial == self.serial:
            return
        if self.serial is None:  # the bench's own pack (faults injected at start go with it)
            self.serial = serial
            return
        self._units[self.serial] = (self.pack, self.bms.unit if self.bms is not None else None)
        known = self._units.pop(serial, None)
        while len(self._units) > UNITS_KEPT:  # a shift's worth; older packs have shipped
            del self._units[next(iter(self._units))]
        seed = unit_seed(self.seed, serial)
        pack = known[0] if known else Pack(self.spec, seed=seed)
        self.circuit.replace_pack(pack)
        self.pack = pack
        if not known and self._arrives_closed:
            self.circuit.close_contactors_settled()
        if self.bms is not None:
            unit = known[1] if known and known[1] is not None else self.bms.new_unit(pack, seed)
            self.bms.mount(unit)
        self.serial = serial
        self.set_hvil_fault(self._hvil_fault)
        io = self._io()
        if io is not None:  # the fixture's relays act on the pack now on it
            self._follow_fixture_relays(io)

    def set_hvil_fault(self, broken: bool) -> None:
        """Break (or mend) the pack's HVIL loop itself, independent of the fixture relay."""
        self._hvil_fault = broken
        io = self._io()
        with self.circuit.locked():
            self.pack.faults.hvil_open = broken or (io is not None and io.coil(HVIL_BREAK_COIL))

    def inject(self, role: str, **faults: Any) -> None:
        """Switch faults of the instrument playing ``role`` (names in :data:`FAULTS`).

        ``not_answering``, ``garbage_reply`` and ``drop_connection`` take a bool;
        ``error_queue`` takes a list of ``(code, message)`` errors to queue.
        """
        target: Any = self.servers.get(role) or self.served.get(role)
        if target is None:
            raise ValueError(
                f"no simulated instrument plays {role!r}; roles: {list(self.resources)}"
            )
        for name, value in faults.items():
            if name not in FAULTS:
                raise ValueError(f"unknown fault {name!r} for {role!r}; choose from {FAULTS}")
            if name == "error_queue":
                if not isinstance(target, ScpiServer):
                    raise ValueError(f"{role!r} has no SCPI error queue")
                for code, message in value:
                    target.push_error(code, message)
            elif not hasattr(target, name):
                raise ValueError(f"fault {name!r} does not apply to {role!r}")
            else:
                setattr(target, name, bool(value))

    def close(self) -> None:
        """Stop the BMS, every instrument server and the bus; safe to call twice."""
        if self.bms is not None:
            self.bms.close()
            self.bms = None
        if self._bus is not None:
            self._bus.shutdown()
            self._bus = None
        for served in reversed(list(self.served.values())):
            served.close()
        for server in reversed(list(self.servers.values())):
            server.close()

    def __enter__(self) -> VirtualBench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def unit_seed(bench_seed: int, serial: str) -> int:
    """Get the seed of the pack with ``serial`` (stable across runs and machines)."""
    return zlib.crc32(f"{bench_seed}:{serial}".encode()) & 0x7FFF_FFFF
