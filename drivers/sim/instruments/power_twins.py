"""Twins of the bench's real power instruments, for the virtual bench's model selection.

:data:`POWER_TWINS` holds a :class:`~drivers.sim.bench.TwinSpec` per model: the ITECH
IT6000C and the EA PSB 10000 as ``"supply"``, the Chroma 63200A as ``"load"``. Each twin's
``driver_options()`` (its ratings) is what ``VirtualBench.driver_options[role]`` hands the
driver. The ratings suit both simulated packs (``nmc96s`` up to ~403 V, ``lfp16s`` ~58 V):

* IT6000C: the driver's default model, IT6018C-1500-90 (1500 V, ±90 A, 18 kW);
* PSB 10000: 500 V, 60 A, 15 kW;
* 63200A: 600 V, 240 A, 24 kW (the driver's default 63206A-150-600 is below the
  ``nmc96s`` pack voltage and would trip its over-voltage protection).
"""

from __future__ import annotations

from drivers.sim.instruments.chroma63200a import Chroma63200aTwin
from drivers.sim.instruments.it6000c import It6000cTwin
from drivers.sim.instruments.psb10000 import Psb10000Twin
from drivers.sim.twin import TwinSpec

POWER_TWINS: tuple[TwinSpec, ...] = (
    TwinSpec(
        "supply",
        "itech.it6000c",
        lambda circuit, seed: It6000cTwin(circuit, serial=f"SIM{seed:05d}"),
    ),
    TwinSpec(
        "supply",
        "ea.psb10000",
        lambda circuit, seed: Psb10000Twin(circuit, serial=f"SIM{seed:05d}"),
    ),
    TwinSpec(
        "load",
        "chroma.63200a",
        lambda circuit, seed: Chroma63200aTwin(
            circuit,
            rated_voltage_v=600.0,
            rated_current_a=240.0,
            rated_power_w=24000.0,
            serial=f"SIM{seed:05d}",
        ),
    ),
)
