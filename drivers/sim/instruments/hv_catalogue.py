"""The HV test cell's twins, for the virtual bench's model selection.

:data:`HV_TWINS` holds the two insulation testers (one role: a bench takes one) and the
Modbus I/O twin, which serves Modbus RTU itself, not SCPI (:class:`ServedTwinSpec`). It lives
apart from :mod:`drivers.sim.instruments.hv_twins` because the tester twins import
:class:`~drivers.sim.instruments.hv_twins.HvOutput` from there (as
:mod:`drivers.sim.instruments.power_twins` does for the power twins).
"""

from __future__ import annotations

from drivers.sim.instruments.chroma1905x import Chroma1905xTwin
from drivers.sim.instruments.hv_twins import HvOutput
from drivers.sim.instruments.modbus_io import ModbusIoTwin
from drivers.sim.instruments.tos9300 import Tos9300Twin
from drivers.sim.twin import ServedTwinSpec, TwinSpec

HV_TWINS: tuple[TwinSpec | ServedTwinSpec, ...] = (
    TwinSpec(
        "insulation_tester",
        "chroma.1905x",
        lambda circuit, seed: Chroma1905xTwin(HvOutput(circuit), serial=f"SIM{seed:05d}"),
    ),
    TwinSpec(
        "insulation_tester",
        "kikusui.tos9300",
        lambda circuit, seed: Tos9300Twin(HvOutput(circuit), serial=f"SIM{seed:05d}"),
    ),
    ServedTwinSpec("interlocks", "modbus.rtu_io", lambda circuit, seed: ModbusIoTwin()),
)
"""The HV cell's twins. Both testers play ``insulation_tester``: a bench takes one."""
