"""Open-circuit voltage of one cell as a function of state of charge (domain spec §6.1).

Two sourced tables, interpolated linearly between their points:

* **NMC** — the foxBMS sample-cell LUT excerpt (``battery_cell_cfg.c``, mV vs SOC %), points
  at 1, 5, 10, 20 … 100 %. The table stops at 1 %; the 0 % point is the 1–5 % segment
  extended linearly (2.644 V), so the curve is defined and strictly increasing on all of
  [0, 1]. No hysteresis (NMC's few mV are below what the EOL checks resolve).
* **LFP** — LithiumWerks APR18650M1B C/32 pseudo-OCV (Sunil et al. 2025), taken as the
  middle of the hysteresis band. LFP's charge/discharge hysteresis is modelled as
  ``±h`` with h = 15 mV [E]: the OCV is ``table(SOC) + h·s`` where the hysteresis state
  ``s`` ∈ [−1, 1] moves towards +1 while charging and −1 while discharging
  (:func:`hysteresis_step`).

Outside [0, 1] the SOC is clamped: the pack model lets SOC leave that range so its coulomb
count stays exact, and the voltage then sits at the table's end value.
Temperature dependence of the OCV is not modelled (a few mV over an EOL run).
"""

from __future__ import annotations

import bisect
import math
from typing import Literal

Chemistry = Literal["NMC", "LFP"]

#: foxBMS NMC LUT excerpt as (SOC, OCV in V); first point extrapolated, see module docstring.
NMC_OCV_POINTS: tuple[tuple[float, float], ...] = (
    (0.00, 2.64425),
    (0.01, 2.716),
    (0.05, 3.003),
    (0.10, 3.202),
    (0.20, 3.392),
    (0.30, 3.501),
    (0.40, 3.568),
    (0.50, 3.636),
    (0.60, 3.735),
    (0.70, 3.840),
    (0.80, 3.939),
    (0.90, 4.024),
    (1.00, 4.123),
)

#: LithiumWerks APR18650M1B C/32 pseudo-OCV as (SOC, OCV in V).
LFP_OCV_POINTS: tuple[tuple[float, float], ...] = (
    (0.000, 2.010),
    (0.003, 2.418),
    (0.012, 2.741),
    (0.027, 2.930),
    (0.053, 3.087),
    (0.089, 3.194),
    (0.297, 3.277),
    (0.983, 3.351),
    (0.995, 3.418),
    (1.000, 3.598),
)

#: Half-width h of the LFP hysteresis band in V (spec: 10–20 mV).
LFP_HYSTERESIS_V = 0.015

#: SOC throughput (fraction) over which the hysteresis state moves ~63 % of the way to the
#: other branch; a few % SOC is what LFP needs to swap branches [E].
HYSTERESIS_SOC_WIDTH = 0.02


class OcvCurve:
    """Piecewise-linear OCV(SOC) of one cell chemistry.

    ``points`` are (SOC as a fraction, OCV in V), starting at SOC 0 and ending at SOC 1, with
    SOC and OCV both strictly increasing. ``hysteresis_v`` is the half-width h of the
    charge/discharge band (0 for none).
    """

    __slots__ = ("_socs", "_volts", "chemistry", "hysteresis_v")

    def __init__(
        self, chemistry: Chemistry, points: tuple[tuple[float, float], ...], hysteresis_v: float
    ) -> None:
        socs = tuple(p[0] for p in points)
        volts = tuple(p[1] for p in points)
        if len(points) < 2 or socs[0] != 0.0 or socs[-1] != 1.0:
            raise ValueError(f"{chemistry} OCV table must run from SOC 0 to SOC 1")
        for i in range(1, len(points)):
            if socs[i] <= socs[i - 1] or volts[i] <= volts[i - 1]:
                raise ValueError(f"{chemistry} OCV table is not strictly increasing at row {i}")
        if hysteresis_v < 0:
            raise ValueError(f"{chemistry} hysteresis must be ≥ 0 V, got {hysteresis_v}")
        self.chemistry: Chemistry = chemistry
        self.hysteresis_v = hysteresis_v
        self._socs = socs
        self._volts = volts

    @property
    def points(self) -> tuple[tuple[float, float], ...]:
        """Get the table as (SOC, OCV in V) pairs."""
        return tuple(zip(self._socs, self._volts, strict=True))

    def voltage(self, soc: float, hysteresis_state: float = 0.0) -> float:
        """Get the OCV in V at ``soc`` (clamped to 0–1), shifted by h · ``hysteresis_state``."""
        socs, volts = self._socs, self._volts
        if soc <= 0.0:
            base = volts[0]
        elif soc >= 1.0:
            base = volts[-1]
        else:
            i = bisect.bisect_right(socs, soc)
            s0, s1 = socs[i - 1], socs[i]
            v0, v1 = volts[i - 1], volts[i]
            base = v0 + (v1 - v0) * (soc - s0) / (s1 - s0)
        return base + self.hysteresis_v * hysteresis_state

    def soc_at(self, voltage_v: float) -> float:
        """Get the SOC (0–1) at which the mid-band OCV equals ``voltage_v`` (clamped)."""
        socs, volts = self._socs, self._volts
        if voltage_v <= volts[0]:
            return 0.0
        if voltage_v >= volts[-1]:
            return 1.0
        i = bisect.bisect_right(volts, voltage_v)
        v0, v1 = volts[i - 1], volts[i]
        return socs[i - 1] + (socs[i] - socs[i - 1]) * (voltage_v - v0) / (v1 - v0)


NMC_OCV = OcvCurve("NMC", NMC_OCV_POINTS, hysteresis_v=0.0)
LFP_OCV = OcvCurve("LFP", LFP_OCV_POINTS, hysteresis_v=LFP_HYSTERESIS_V)


def ocv_curve(chemistry: str) -> OcvCurve:
    """Get the OCV curve for ``"NMC"`` or ``"LFP"``."""
    if chemistry == "NMC":
        return NMC_OCV
    if chemistry == "LFP":
        return LFP_OCV
    raise ValueError(f"unknown cell chemistry {chemistry!r}; use 'NMC' or 'LFP'")


def hysteresis_step(state: float, delta_soc: float, width: float = HYSTERESIS_SOC_WIDTH) -> float:
    """Return the hysteresis state after a SOC change of ``delta_soc`` (> 0 = charge).

    The state relaxes exponentially in SOC throughput towards +1 (charging) or −1
    (discharging). Being an exponential in |ΔSOC|, splitting a step into sub-steps of the same
    sign gives the same result, so the pack model's sub-stepping does not change it.
    """
    if delta_soc == 0.0:
        return state
    target = 1.0 if delta_soc > 0.0 else -1.0
    return target + (state - target) * math.exp(-abs(delta_soc) / width)
