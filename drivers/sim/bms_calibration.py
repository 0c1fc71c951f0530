"""Calibration of the simulated BMS: its front-end error, the (k, d) it applies, its NVM.

Domain spec §6.6: each channel reads ``raw = (1+g)·true + o + n``; the BMS reports
``k·raw + d`` for the HV bus voltage and the pack current, with (k, d) written over UDS
(DIDs 0xFD01, 0xFD02) into RAM and kept over an ECU reset only once committed to NVM.
"""

from __future__ import annotations

import math
import random
import struct
from dataclasses import dataclass, field, replace

VOLTAGE_GAIN_RANGE = (0.95, 1.05)
VOLTAGE_OFFSET_LIMIT_V = 5.0
CURRENT_GAIN_RANGE = (0.95, 1.05)
CURRENT_OFFSET_LIMIT_A = 2.0
_F32_SLACK = 1e-6  # 0.95 has no exact float32; accept what a float32 write of it gives


def _signed(rng: random.Random, low: float, high: float) -> float:
    return rng.choice((-1.0, 1.0)) * rng.uniform(low, high)


@dataclass(frozen=True)
class FrontEndError:
    """Per-channel raw measurement error of the BMS front end (gains are relative, g in 1+g)."""

    bus_gain: float
    bus_offset_v: float
    pack_gain: float
    pack_offset_v: float
    current_gain_discharge: float
    current_gain_charge: float
    current_offset_a: float
    cell_gains: tuple[float, ...]
    cell_offsets_v: tuple[float, ...]
    temperature_offsets_c: tuple[float, ...]
    soc_offset_pct: float = 0.0
    bus_noise_v: float = 0.03
    pack_noise_v: float = 0.03
    current_noise_a: float = 0.1
    cell_noise_v: float = 0.0003
    temperature_noise_c: float = 0.2

    @classmethod
    def draw(cls, seed: int, cells: int, sensors: int) -> FrontEndError:
        """Draw a BMS's error from ``seed``.

        Bus 0.5–1 % and 0.5–1 V, current 0.5–1 % per direction and 0.15–0.3 A (random signs:
        always enough to need an EOL calibration), pack ±0.1 %/±0.2 V, cells ±0.05 %/±1 mV,
        NTCs ±0.5 °C, SOC estimate ±1 %.
        """
        rng = random.Random(seed)
        return cls(
            bus_gain=_signed(rng, 0.005, 0.01),
            bus_offset_v=_signed(rng, 0.5, 1.0),
            pack_gain=rng.uniform(-0.001, 0.001),
            pack_offset_v=rng.uniform(-0.2, 0.2),
            current_gain_discharge=_signed(rng, 0.005, 0.01),
            current_gain_charge=_signed(rng, 0.005, 0.01),
            current_offset_a=_signed(rng, 0.15, 0.3),
            cell_gains=tuple(rng.uniform(-0.0005, 0.0005) for _ in range(cells)),
            cell_offsets_v=tuple(rng.uniform(-0.001, 0.001) for _ in range(cells)),
            temperature_offsets_c=tuple(rng.uniform(-0.5, 0.5) for _ in range(sensors)),
            soc_offset_pct=rng.uniform(-1.0, 1.0),
        )

    def out_of_calibratable_range(self) -> FrontEndError:
        """Return a copy whose bus and current errors need a correction outside the ranges."""
        return replace(
            self,
            bus_gain=0.08,  # k = 1/1.08 = 0.926 < 0.95
            bus_offset_v=6.5,  # d ≈ −6.0 V
            current_gain_discharge=0.07,  # k = 0.935
            current_gain_charge=-0.07,  # k = 1.075
            current_offset_a=2.5,  # d ≈ −2.3 A
        )


def _in(value: float, low: float, high: float) -> bool:
    return math.isfinite(value) and low - _F32_SLACK <= value <= high + _F32_SLACK


@dataclass(frozen=True)
class Calibration:
    """EOL calibration (k, d) of the bus voltage and the pack current: factory default k=1, d=0."""

    voltage_gain: float = 1.0
    voltage_offset_v: float = 0.0
    current_gain_discharge: float = 1.0
    current_gain_charge: float = 1.0
    current_offset_a: float = 0.0

    def voltage_record(self) -> bytes:
        """Get DID 0xFD01: gain, offset (V) as big-endian float32."""
        return struct.pack(">ff", self.voltage_gain, self.voltage_offset_v)

    def current_record(self) -> bytes:
        """Get DID 0xFD02: discharge gain, charge gain, offset (A) as big-endian float32."""
        return struct.pack(
            ">fff", self.current_gain_discharge, self.current_gain_charge, self.current_offset_a
        )

    def with_voltage_record(self, data: bytes) -> Calibration:
        """Return a copy with DID 0xFD01 applied; ValueError outside the calibratable range."""
        gain, offset = struct.unpack(">ff", data)
        if not (
            _in(gain, *VOLTAGE_GAIN_RANGE)
            and _in(offset, -VOLTAGE_OFFSET_LIMIT_V, VOLTAGE_OFFSET_LIMIT_V)
        ):
            raise ValueError(f"voltage calibration k={gain}, d={offset} V out of range")
        return replace(self, voltage_gain=gain, voltage_offset_v=offset)

    def with_current_record(self, data: bytes) -> Calibration:
        """Return a copy with DID 0xFD02 applied; ValueError outside the calibratable range."""
        g_dis, g_chg, offset = struct.unpack(">fff", data)
        lim = CURRENT_OFFSET_LIMIT_A
        if not (
            _in(g_dis, *CURRENT_GAIN_RANGE)
            and _in(g_chg, *CURRENT_GAIN_RANGE)
            and _in(offset, -lim, lim)
        ):
            raise ValueError(f"current calibration {g_dis}, {g_chg}, {offset} A out of range")
        return replace(
            self, current_gain_discharge=g_dis, current_gain_charge=g_chg, current_offset_a=offset
        )


@dataclass
class BmsNvm:
    """The BMS's non-volatile memory; it survives ECU resets (share it to survive a new BMS)."""

    calibration: Calibration = field(default_factory=Calibration)
    eol_flag: int = 0x00
    eol_record: bytes = b" " * 96
    shipping_soc_pct: int = 30
    dtcs: dict[int, int] = field(default_factory=dict)
