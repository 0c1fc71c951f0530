"""Keysight 34465A Truevolt 6½-digit digital multimeter."""

from __future__ import annotations

import math

from drivers.errors import InstrumentReportedError, MeterOverload
from drivers.scpi.instrument import (
    OVERFLOW,
    ScpiInstrument,
    in_range,
    measurement,
    one_of,
    parse_float,
)
from drivers.scpi.transport import Transport

NPLC_VALUES = (0.001, 0.002, 0.006, 0.02, 0.06, 0.2, 1, 10, 100)
"""Integration times the 34465A accepts (0.001–0.006 need the DIG option)."""

MAX_DC_V = 1000.0
MAX_RESISTANCE_OHM = 1e9
PROBE_TYPES: dict[str, tuple[int, ...]] = {
    "FRTD": (85,),
    "RTD": (85,),
    "FTH": (2252, 5000, 10000),
    "THER": (2252, 5000, 10000),
}
"""Temperature probes the 34465A converts: 4-/2-wire RTD (type 85: α = 0.00385, PT100) and
4-/2-wire thermistor (type = resistance at 25 °C in Ω)."""
PLAUSIBLE_AMBIENT_C = (-20.0, 60.0)
"""A station's room outside this span means a broken or shorted probe, not a room."""


class Keysight34465a(ScpiInstrument):
    """Keysight 34465A digital multimeter (roles: Dmm, AmbientThermometer).

    Constructed as ``Keysight34465a(transport, *, check_errors=True, probe="FRTD",
    probe_type=85)``; LAN (socket 5025, VXI-11, HiSLIP) or USBTMC. ``probe``/``probe_type``
    name the temperature probe on its input when it plays the ambient role (``FRTD``/``RTD``
    type 85 = PT100; ``FTH``/``THER`` type 2252, 5000 or 10000 Ω thermistors). Command
    source: the Truevolt SCPI Command Quick Reference (``*IDN?``, ``*RST``, ``*CLS``,
    ``*OPC?``, ``CONF:VOLT:DC``, ``VOLT:DC:NPLC``, ``READ?``, ``MEAS:VOLT:DC?``,
    ``MEAS:RES?``, ``UNIT:TEMP``, ``MEAS:TEMP?``, ``SYST:ERR?`` → ``+0,"No error"``).
    Every command used here is in that public reference. A DC-voltage reading configures
    with one message, two subsystems chained by ``;:`` as Keysight's SCPI language
    introduction for the Truevolt meters shows (``TRIG:COUN MIN;:SAMP:COUN MIN``).
    The DMM takes remote control on its first command, so :meth:`connect` sends nothing.

    Overload (±9.9E+37): a DC-voltage overload raises, because no number is safe to
    record for "above the range" (it would pass a lower limit); a resistance overload is
    an open circuit and reads ``math.inf``.
    """

    dc_voltage = measurement(
        "MEAS:VOLT:DC?",
        parse_float,
        doc="Measure DC voltage in V once with the instrument's defaults (auto range).",
    )

    def __init__(
        self,
        transport: Transport,
        *,
        check_errors: bool = True,
        probe: str = "FRTD",
        probe_type: int = 85,
    ) -> None:
        types = PROBE_TYPES.get(probe)
        if types is None:
            raise ValueError(f"probe={probe!r}: choose one of {', '.join(PROBE_TYPES)}")
        if probe_type not in types:
            raise ValueError(
                f"probe_type={probe_type!r} is not a {probe} type; choose one of "
                f"{', '.join(map(str, types))}"
            )
        super().__init__(transport, check_errors=check_errors)
        self.probe = probe
        self.probe_type = probe_type

    def reset(self) -> None:
        """Reset to the power-on state and clear the status and error queue."""
        self.transport.write("*RST")
        self.transport.write("*CLS")

    def wait_until_complete(self) -> None:
        """Block until every pending operation is done (``*OPC?`` answers 1)."""
        reply = self.transport.query("*OPC?")
        if reply.strip() not in ("1", "+1"):
            raise self.bad_reply("*OPC?", reply, "expected 1")

    def measure_dc_voltage(self, *, range_v: float | None = None, nplc: float = 1.0) -> float:
        """Measure DC voltage in V on range ``range_v`` (auto when None) with ``nplc`` PLC.

        Raises MeterOverload (an InstrumentReportedError) on overload (input above the
        range).
        """
        if range_v is not None:
            in_range(0.0, MAX_DC_V)(range_v)
            if range_v <= 0:
                raise ValueError(f"range_v={range_v!r} must be > 0 (None = auto range)")
        one_of(*NPLC_VALUES)(nplc)
        # One message (";:" chains subsystems), so one error-queue check covers both.
        range_text = "AUTO" if range_v is None else f"{range_v:g}"
        self.send(f"CONF:VOLT:DC {range_text};:VOLT:DC:NPLC {nplc:g}")
        volts = self.ask("READ?", parse_float)
        if abs(volts) >= OVERFLOW:
            raise MeterOverload(
                f"DC voltage overload (reading {volts:g}): the input exceeds the "
                f"{'auto' if range_v is None else f'{range_v:g} V'} range; check the wiring "
                "and the range",
                resource=self.resource,
            )
        return volts

    def measure_resistance(self, *, range_ohm: float | None = None) -> float:
        """Measure 2-wire resistance in Ω (auto range when None); open circuit reads inf."""
        if range_ohm is not None:
            in_range(0.0, MAX_RESISTANCE_OHM)(range_ohm)
            if range_ohm <= 0:
                raise ValueError(f"range_ohm={range_ohm!r} must be > 0 (None = auto range)")
        command = "MEAS:RES?" if range_ohm is None else f"MEAS:RES? {range_ohm:g}"
        ohms = self.ask(command, parse_float)
        return math.inf if ohms >= OVERFLOW else ohms

    def measure_temperature(self) -> float:
        """Measure the probe's temperature in °C (one reading, the probe given at construction).

        Raises InstrumentReportedError on overload (open probe) or a reading outside
        :data:`PLAUSIBLE_AMBIENT_C` (a shorted or wrong probe), never returns it as a number.
        """
        self.send("UNIT:TEMP C")
        celsius = self.ask(f"MEAS:TEMP? {self.probe},{self.probe_type}", parse_float)
        low, high = PLAUSIBLE_AMBIENT_C
        if abs(celsius) >= OVERFLOW or not low <= celsius <= high:
            raise InstrumentReportedError(
                f"temperature probe reads {celsius:g} °C (plausible {low:g} … {high:g} °C): "
                f"check the {self.probe} probe and its wiring",
                resource=self.resource,
            )
        return celsius
