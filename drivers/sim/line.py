"""A virtual line: one simulated pack per nest, and the instruments the nests share.

:class:`VirtualLine` builds one :class:`~drivers.sim.bench.VirtualBench` per nest (its own
pack, its own twins on their own ports, its own virtual CAN channel) without the shared
roles, and serves each shared role once. A shared insulation tester reaches the packs
through the simulated relay matrix (:class:`RelayMatrix`): each nest's fixture I/O closes
its matrix coil (:data:`MATRIX_COIL`) to put the tester on its pack, so the tester's
reading is that nest's pack's insulation and its interlock and pole follow that nest's
fixture. With no relay closed the tester's interlock input is open (it cannot start); two
relays closed at once would join two packs' HV, and the matrix records it as a conflict.

The door and the e-stop are the cell's: :meth:`VirtualLine.open_door` and
:meth:`VirtualLine.press_estop` act on every nest's I/O module, as one switch wired to all.

Faults go into one nest (:meth:`VirtualLine.apply_fault`): its pack, BMS and own
instruments as on a single bench, and its path to the shared tester — ``ir_lead_open`` is
the return lead of that nest's matrix path, open only while the matrix connects that nest;
``door_opened_mid_test`` opens the cell's door when the tester starts on that nest.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Mapping
from typing import Any

from drivers.sim.bench import CATALOGUE, VirtualBench
from drivers.sim.clock import Scheduler, TimeSource
from drivers.sim.faults import apply_fault
from drivers.sim.instruments.hv_twins import HvOutput, SafetyCircuit
from drivers.sim.instruments.modbus_io import MATRIX_COIL, ModbusIoTwin
from drivers.sim.packs import PackSpec
from drivers.sim.scpi_server import ScpiDevice, ScpiServer
from drivers.sim.twin import TwinSpec

NEST_SEED_STEP = 1000
"""Nest N's bench is seeded ``seed + (N - 1) × NEST_SEED_STEP``: its own spread and errors."""


class RelayMatrix:
    """Switches the shared tester's HI output to the nest whose matrix coil is closed."""

    def __init__(self, output: HvOutput, nests: Mapping[int, VirtualBench]) -> None:
        self.output = output
        self.nests = dict(nests)
        self.connected: int | None = None
        self.conflicts: list[tuple[int, int]] = []  # (connected, also closed) — never wanted
        self.return_open: set[int] = set()  # nests whose path has the tester's return lead open
        # The nests in the order the tester reached them (the latest 10 000).
        self.connections: deque[int] = deque(maxlen=10_000)
        output.set_interlock(False)  # no nest connected: the tester cannot start
        for number, bench in self.nests.items():
            io = _io_of(bench)
            io.add_listener(functools.partial(self._follow, number, io))

    def _follow(self, number: int, io: ModbusIoTwin) -> None:
        closed = io.coil(MATRIX_COIL)
        if closed and self.connected != number:
            if self.connected is not None:
                self.conflicts.append((self.connected, number))
                self._detach()
            self._attach(number)
        elif not closed and self.connected == number:
            self._detach()

    def _attach(self, number: int) -> None:
        bench = self.nests[number]
        self.output.circuit = bench.circuit
        safety = _safety_of(bench)
        safety.attach(self.output)  # pole and interlock now follow this nest's fixture
        self.output.return_open = number in self.return_open
        self.connected = number
        self.connections.append(number)

    def _detach(self) -> None:
        number = self.connected
        if number is None:
            return
        safety = _safety_of(self.nests[number])
        if self.output in safety.outputs:
            safety.outputs.remove(self.output)
        self.output.set_interlock(False)
        self.output.return_open = False
        self.connected = None


class VirtualLine:
    """``nests`` virtual benches (numbered from 1) sharing the instruments of ``shared``.

    ``shared`` maps each shared role to its model; ``models`` the nests' own roles (as
    :class:`VirtualBench`). The other arguments are :class:`VirtualBench`'s; every nest's
    BMS gets a fresh virtual CAN channel. ``resources``, ``driver_options`` and ``info``
    of the shared roles are in :attr:`shared_resources` and
    :attr:`shared_driver_options`. Close it to stop everything.
    """

    def __init__(
        self,
        nests: int,
        pack: str | PackSpec,
        *,
        shared: Mapping[str, str],
        seed: int = 1,
        now: TimeSource,
        models: Mapping[str, str] | None = None,
        bms: bool = False,
        scheduler: Scheduler | None = None,
    ) -> None:
        if nests < 1:
            raise ValueError(f"a line has at least one nest, got {nests}")
        for role, model in shared.items():
            if role != "insulation_tester":
                raise ValueError(f"the virtual line shares only an insulation_tester, not {role!r}")
            spec = CATALOGUE.get(model)
            if not isinstance(spec, TwinSpec) or spec.role != role:
                raise ValueError(f"the virtual bench has no {role} twin of {model!r}")
        own = {**dict(models or {}), **dict.fromkeys(shared, "")}
        self.nests: dict[int, VirtualBench] = {}
        self.shared: dict[str, ScpiDevice] = {}
        self.servers: dict[str, ScpiServer] = {}
        self.shared_resources: dict[str, tuple[str, str]] = {}
        self.shared_driver_options: dict[str, dict[str, Any]] = {}
        self.matrix: RelayMatrix | None = None
        try:
            for number in range(1, nests + 1):
                self.nests[number] = VirtualBench(
                    pack,
                    seed=seed + (number - 1) * NEST_SEED_STEP,
                    now=now,
                    models=own,
                    bms=bms,
                    scheduler=scheduler,
                )
            for role, model in shared.items():
                spec = CATALOGUE[model]
                assert isinstance(spec, TwinSpec)
                device = spec.make(self.nests[1].circuit, seed)
                output = getattr(device, "output", None)
                assert isinstance(output, HvOutput)
                self.matrix = RelayMatrix(output, self.nests)
                server = ScpiServer(device)
                server.start()
                self.shared[role], self.servers[role] = device, server
                self.shared_resources[role] = (model, server.resource)
                self.shared_driver_options[role] = device.driver_options()
        except BaseException:
            self.close()
            raise

    def apply_fault(self, nest: int, name: str, value: str = "") -> None:
        """Switch fault ``name`` on in nest ``nest`` (numbered from 1); ValueError says what
        is wrong (as :func:`~drivers.sim.faults.apply_fault`)."""
        bench = self.nests.get(nest)
        if bench is None:
            raise ValueError(f"the virtual line has nests 1…{len(self.nests)}, not {nest}")
        matrix = self.matrix
        if matrix is None or name not in PATH_FAULTS:
            apply_fault(bench, name, value)
            return
        if value:
            raise ValueError(f"fault {name!r} takes no value")
        if name == "ir_lead_open":
            matrix.return_open.add(nest)
            if matrix.connected == nest:
                matrix.output.return_open = True
        else:  # door_opened_mid_test
            start = matrix.output.start

            def door_opens_after_start(*args: Any, **kwargs: Any) -> Any:
                result = start(*args, **kwargs)
                if matrix.connected == nest:
                    self.open_door()
                return result

            matrix.output.start = door_opens_after_start  # type: ignore[method-assign]

    def open_door(self) -> None:
        """Open the cell's door: every nest's I/O module sees it."""
        for bench in self.nests.values():
            _io_of(bench).open_door()

    def press_estop(self) -> None:
        """Press the cell's e-stop: every nest's I/O module sees it."""
        for bench in self.nests.values():
            _io_of(bench).press_estop()

    def close(self) -> None:
        """Stop the shared instruments and every nest's bench; safe to call twice."""
        for server in self.servers.values():
            server.close()
        self.servers.clear()
        for bench in self.nests.values():
            bench.close()


PATH_FAULTS = frozenset({"ir_lead_open", "door_opened_mid_test"})
"""Faults of the shared tester's path to a nest, applied by the line, not the nest's bench."""


def _io_of(bench: VirtualBench) -> ModbusIoTwin:
    io = bench._io()
    if io is None:
        raise ValueError("each nest of a virtual line needs its interlocks I/O (modbus.rtu_io)")
    return io


def _safety_of(bench: VirtualBench) -> SafetyCircuit:
    if bench.safety is None:
        raise ValueError("each nest of a virtual line needs its interlocks I/O (modbus.rtu_io)")
    return bench.safety
