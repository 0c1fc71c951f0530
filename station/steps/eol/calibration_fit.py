"""The numbers of a BMS calibration: DID records, raw recovery, the least-squares fit.

The BMS reports ``k·raw + d`` (domain spec §1 step 10, §6.6). To fit a new (k, d) the
station needs the *raw* readings, so it reads the calibration in use and inverts it:
``raw = (reported − d_old)/k_old``. The new calibration maps raw readings onto the
station's reference readings ``x``: ``x = k·raw + d``, two-point exact or least squares over
more points. The pack current has one gain per direction, chosen by the sign of the raw
reading (as the reference BMS does) and one common offset.

Records are the reference BMS's DIDs (``bms_spec.md``): 0xFD01 ``gain, offset`` and 0xFD02
``gain_discharge, gain_charge, offset``, big-endian float32.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

_VOLTAGE = struct.Struct(">ff")
_CURRENT = struct.Struct(">fff")


class FitError(ValueError):
    """The points do not determine a calibration (too few, or no spread in a direction)."""


@dataclass(frozen=True)
class Window:
    """A calibratable range: gains in ``gain_min``…``gain_max``, offsets within ±``offset_max``."""

    gain_min: float
    gain_max: float
    offset_max: float

    def problems(self, gains: dict[str, float], offset: float, unit: str) -> list[str]:
        """Name every value outside the window (empty when all fit)."""
        out = [
            f"{name} {g:.5f} outside {self.gain_min:g}…{self.gain_max:g}"
            for name, g in gains.items()
            if not (math.isfinite(g) and self.gain_min <= g <= self.gain_max)
        ]
        if not (math.isfinite(offset) and abs(offset) <= self.offset_max):
            out.append(f"offset {offset:.4f} {unit} outside ±{self.offset_max:g} {unit}")
        return out


@dataclass(frozen=True)
class VoltageCalibration:
    """Bus-voltage calibration: reported = gain·raw + offset_v."""

    gain: float = 1.0
    offset_v: float = 0.0

    @classmethod
    def from_record(cls, data: bytes) -> VoltageCalibration:
        """Decode DID voltage_calibration (8 bytes); ValueError if it is not 8 bytes."""
        if len(data) != _VOLTAGE.size:
            raise ValueError(f"expected {_VOLTAGE.size} bytes, got {len(data)}")
        gain, offset = _VOLTAGE.unpack(data)
        return cls(gain, offset)

    def record(self) -> bytes:
        """Encode as DID voltage_calibration."""
        return _VOLTAGE.pack(self.gain, self.offset_v)

    def raw(self, reported: float) -> float:
        """Recover the raw reading behind a reported one."""
        return (reported - self.offset_v) / self.gain

    def apply(self, raw: float) -> float:
        """Get what the BMS reports for ``raw``."""
        return self.gain * raw + self.offset_v


@dataclass(frozen=True)
class CurrentCalibration:
    """Pack-current calibration: reported = gain_dir·raw + offset_a, dir by the sign of raw."""

    gain_discharge: float = 1.0
    gain_charge: float = 1.0
    offset_a: float = 0.0

    @classmethod
    def from_record(cls, data: bytes) -> CurrentCalibration:
        """Decode DID current_calibration (12 bytes); ValueError if it is not 12 bytes."""
        if len(data) != _CURRENT.size:
            raise ValueError(f"expected {_CURRENT.size} bytes, got {len(data)}")
        return cls(*_CURRENT.unpack(data))

    def record(self) -> bytes:
        """Encode as DID current_calibration."""
        return _CURRENT.pack(self.gain_discharge, self.gain_charge, self.offset_a)

    def raw(self, reported: float) -> float:
        """Recover the raw reading behind a reported one (gains are positive, so the sign of
        ``reported − offset`` is the sign of raw and picks the gain)."""
        shifted = reported - self.offset_a
        return shifted / (self.gain_discharge if shifted >= 0.0 else self.gain_charge)

    def apply(self, raw: float) -> float:
        """Get what the BMS reports for ``raw``."""
        gain = self.gain_discharge if raw >= 0.0 else self.gain_charge
        return gain * raw + self.offset_a


def fit_voltage(reference: Sequence[float], raw: Sequence[float]) -> VoltageCalibration:
    """Fit ``reference = gain·raw + offset``: exact through two points, least squares beyond.

    FitError with fewer than two points or when the raw readings do not spread.
    """
    if len(reference) != len(raw) or len(raw) < 2:
        raise FitError("a voltage fit needs two or more (reference, raw) pairs")
    gain, offset = _least_squares([[y, 1.0] for y in raw], reference)
    return VoltageCalibration(gain, offset)


def fit_current(reference: Sequence[float], raw: Sequence[float]) -> CurrentCalibration:
    """Fit ``reference = gain_dir·raw + offset`` with one gain per sign of raw.

    Needs a point each way (raw > 0 discharge, raw < 0 charge) and a third (usually zero
    current); three points give the exact solution, more the least-squares one.
    """
    if len(reference) != len(raw) or len(raw) < 3:
        raise FitError("a current fit needs three or more (reference, raw) pairs")
    if not any(y > 0.0 for y in raw) or not any(y < 0.0 for y in raw):
        raise FitError("a current fit needs raw readings in both directions")
    rows = [[max(y, 0.0), min(y, 0.0), 1.0] for y in raw]
    g_dis, g_chg, offset = _least_squares(rows, reference)
    return CurrentCalibration(g_dis, g_chg, offset)


def _least_squares(rows: Sequence[Sequence[float]], x: Sequence[float]) -> list[float]:
    """Solve ``rows · p ≈ x`` by the normal equations (2–3 unknowns, well scaled here)."""
    n = len(rows[0])
    ata = [[sum(r[i] * r[j] for r in rows) for j in range(n)] for i in range(n)]
    atx = [sum(r[i] * xi for r, xi in zip(rows, x, strict=True)) for i in range(n)]
    return _solve(ata, atx)


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting; FitError when (nearly) singular."""
    n = len(b)
    m = [[*row, bi] for row, bi in zip(a, b, strict=True)]
    scale = max(abs(v) for row in a for v in row) or 1.0
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) <= 1e-12 * scale:
            raise FitError("the points do not determine the fit (no spread in the raw readings)")
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for c in range(col, n + 1):
                m[r][c] -= f * m[col][c]
    p = [0.0] * n
    for r in reversed(range(n)):
        p[r] = (m[r][n] - sum(m[r][c] * p[c] for c in range(r + 1, n))) / m[r][r]
    return p
