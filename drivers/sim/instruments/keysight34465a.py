"""Twin of the Keysight 34465A DMM (driver: ``drivers.keysight.keysight34465a``).

The subset of the Truevolt SCPI set that the driver and the domain spec §3.5 use: CONFigure,
MEASure, READ?, INITiate/FETCh?, [SENSe:]<function>:NPLC/RANGe[:AUTO], TRIGger:SOURce,
SAMPle:COUNt, and the built-in ``*`` commands and ``SYST:ERR?`` (empty: ``+0,"No error"``).
Temperature: ``CONFigure:TEMPerature`` / ``MEASure:TEMPerature? {FRTD|RTD|FTHermistor|
THERmistor|DEFault}[,{<type>|DEFault}]`` and ``UNIT:TEMPerature {C|F|K}`` (Truevolt Command
Quick Reference); the probe sits in the virtual room (:attr:`Pack.ambient_c`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from drivers.sim.electrical import PackCircuit
from drivers.sim.scpi_server import (
    DATA_STALE,
    ILLEGAL_PARAMETER_VALUE,
    OVERFLOW,
    SETTINGS_CONFLICT,
    Call,
    CommandFn,
    ScpiDevice,
    ScpiError,
)

VOLT_RANGES = (0.1, 1.0, 10.0, 100.0, 1000.0)
RES_RANGES = (1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9)
OVERRANGE = 1.2
"""Readings up to 120 % of a range are valid; above that the meter reports overload."""
MAX_DC_V = 1050.0
NOISE_PPM_OF_RANGE = {
    0.001: 30.0,
    0.002: 20.0,
    0.006: 12.0,
    0.02: 6.0,
    0.06: 3.0,
    0.2: 1.5,
    1.0: 0.6,
    10.0: 0.3,
    100.0: 0.1,
}
"""One-sigma reading noise by NPLC, in ppm of range (order of the 34465A data sheet)."""
DEFAULT_NPLC = 10.0

_FUNCTIONS = {"VOLT": VOLT_RANGES, "RES": RES_RANGES, "TEMP": (1.0,)}
PROBE_TYPES = {"FRTD": (85,), "RTD": (85,), "FTH": (2252, 5000, 10000), "THER": (2252, 5000, 10000)}
"""Temperature transducers and their types (RTD α = 0.00385 as type 85; thermistors by R25)."""
PROBE_ERROR_C = 0.1
"""One-sigma calibration error of the simulated probe (a class-A PT100 is ±0.2 °C at 25 °C)."""
TEMP_NOISE_C = 0.005
_TEMP_UNITS = ("C", "F", "K")


class Keysight34465aTwin(ScpiDevice):
    """A 34465A whose DC-voltage input is on the pack's HV terminals.

    Temperature reads the virtual room (``circuit.pack.ambient_c``) plus a seeded probe error
    (σ :data:`PROBE_ERROR_C`) and a little noise. DC volts read ``circuit.terminal_voltage()``
    (or what :attr:`fixture_probe` returns, when set: the bench wires it to the highest voltage on
    the HV fixture, tester output included, or to the fixture's reference while its DMM proof
    relay is on) plus seeded Gaussian noise whose sigma depends on
    the range and NPLC (:data:`NOISE_PPM_OF_RANGE`). With :attr:`lead_open` (the
    ``dmm_lead_open`` fault) the input sees nothing: DC volts read ~0 V whatever is on the
    fixture, the proof reference included. Resistance reads
    :attr:`fixture_resistance_ohm` (``None`` = open circuit, i.e. overload). Values beyond
    120 % of the range read ``+9.9E+37``. NPLC values between the valid ones are rounded
    up; out-of-range values give ``-222,"Data out of range"``.
    """

    no_error = '+0,"No error"'

    def __init__(
        self,
        circuit: PackCircuit,
        *,
        seed: int = 1,
        fixture_resistance_ohm: float | None = 0.05,
        serial: str | None = None,
    ) -> None:
        self.circuit = circuit
        self.fixture_probe: Callable[[], float] | None = None
        self.lead_open = False
        self.fixture_resistance_ohm = fixture_resistance_ohm
        self.idn = (
            f"Keysight Technologies,34465A,{serial or f'SIM{seed:05d}'},"
            "A.03.03-03.15-03.03-00.52-04-02"
        )
        self._rng = random.Random(seed)
        self.probe_error_c = self._rng.gauss(0.0, PROBE_ERROR_C)
        self.probe = ("FRTD", 85)
        self.temperature_unit = "C"
        self.function = "VOLT"
        self.ranges: dict[str, float | None] = {}
        self.nplc: dict[str, float] = {}
        self.sample_count = 1
        self.trigger_source = "IMM"
        self.high_z = False
        self._readings: list[float] | None = None
        self.reset()

    def reset(self) -> None:
        """Return to DC volts, auto range, 10 PLC, one sample (``*RST``)."""
        self.function = "VOLT"
        self.ranges = {"VOLT": None, "RES": None}
        self.nplc = {"VOLT": DEFAULT_NPLC, "RES": DEFAULT_NPLC}
        self.sample_count = 1
        self.trigger_source = "IMM"
        self.high_z = False
        self.probe = ("FRTD", 85)
        self.temperature_unit = "C"
        self._readings = None

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        """Return the configuration, measurement and trigger commands."""
        table: list[tuple[str, CommandFn]] = [
            ("CONFigure:RESistance", lambda c: self._configure(c, "RES")),
            ("CONFigure[:VOLTage][:DC]", lambda c: self._configure(c, "VOLT")),
            ("CONFigure?", self._configuration),
            ("MEASure:RESistance?", lambda c: self._measure(c, "RES")),
            ("MEASure[:VOLTage][:DC]?", lambda c: self._measure(c, "VOLT")),
            ("CONFigure:TEMPerature", self._configure_temperature),
            ("MEASure:TEMPerature?", self._measure_temperature),
            ("UNIT:TEMPerature", self._set_temperature_unit),
            ("UNIT:TEMPerature?", lambda c: self.temperature_unit),
            ("READ?", self._read),
            ("INITiate[:IMMediate]", self._initiate),
            ("FETCh?", self._fetch),
            ("TRIGger:SOURce", self._set_trigger_source),
            ("TRIGger:SOURce?", lambda c: self.trigger_source),
            ("SAMPle:COUNt", self._set_sample_count),
            ("SAMPle:COUNt?", lambda c: f"{self.sample_count:+d}"),
            ("[SENSe:]VOLTage[:DC]:IMPedance:AUTO", self._set_impedance_auto),
            ("[SENSe:]VOLTage[:DC]:IMPedance:AUTO?", lambda c: "1" if self.high_z else "0"),
        ]
        for function, node in (("VOLT", "[SENSe:]VOLTage[:DC]"), ("RES", "[SENSe:]RESistance")):
            table += [
                (f"{node}:NPLCycles", self._nplc_setter(function)),
                (f"{node}:NPLCycles?", self._nplc_getter(function)),
                (f"{node}:RANGe", self._range_setter(function)),
                (f"{node}:RANGe?", self._range_getter(function)),
                (f"{node}:RANGe:AUTO", self._auto_setter(function)),
                (f"{node}:RANGe:AUTO?", self._auto_getter(function)),
            ]
        return table

    # --- configuration --------------------------------------------------------------------

    def _parse_range(self, call: Call, function: str) -> float | None:
        """Parse an optional range parameter: None = auto, else the smallest range ≥ it."""
        if not call.params or call.params[0].strip().upper() in ("AUTO", "DEF", "DEFAULT"):
            return None
        ranges = _FUNCTIONS[function]
        wanted = call.number(0, low=0.0, high=ranges[-1])
        return next(r for r in ranges if r >= wanted)

    def _configure(self, call: Call, function: str) -> None:
        call.expect(0, 2)
        chosen = self._parse_range(call, function)
        if len(call.params) > 1 and call.params[1].strip():
            call.number(1, low=0.0, high=_FUNCTIONS[function][-1], default=0.0)  # resolution
        self.function = function
        self.ranges[function] = chosen
        self._readings = None

    def _configuration(self, call: Call) -> str:
        call.expect(0)
        if self.function == "TEMP":
            return f'"TEMP {self.probe[0]},{self.probe[1]}"'
        span = self.ranges[self.function] or _FUNCTIONS[self.function][-1]
        resolution = span * 1e-6 * NOISE_PPM_OF_RANGE[self.nplc[self.function]]
        return f'"{self.function} {span:+.8E},{resolution:+.8E}"'

    def _nplc_setter(self, function: str) -> CommandFn:
        def set_nplc(call: Call) -> None:
            call.expect(1)
            valid = tuple(NOISE_PPM_OF_RANGE)
            wanted = call.number(low=valid[0], high=valid[-1], default=DEFAULT_NPLC)
            self.nplc[function] = next(v for v in valid if v >= wanted * (1 - 1e-9))

        return set_nplc

    def _nplc_getter(self, function: str) -> CommandFn:
        return lambda call: f"{self.nplc[function]:+.8E}"

    def _range_setter(self, function: str) -> CommandFn:
        def set_range(call: Call) -> None:
            call.expect(1)
            self.ranges[function] = self._parse_range(call, function)

        return set_range

    def _range_getter(self, function: str) -> CommandFn:
        return lambda call: f"{self.ranges[function] or _FUNCTIONS[function][-1]:+.8E}"

    def _auto_setter(self, function: str) -> CommandFn:
        def set_auto(call: Call) -> None:
            call.expect(1)
            if call.boolean():
                self.ranges[function] = None
            elif self.ranges[function] is None:
                self.ranges[function] = _FUNCTIONS[function][-1]

        return set_auto

    def _auto_getter(self, function: str) -> CommandFn:
        return lambda call: "1" if self.ranges[function] is None else "0"

    def _set_trigger_source(self, call: Call) -> None:
        call.expect(1)
        self.trigger_source = call.choice(("IMMediate", "BUS", "EXTernal", "INTernal"))

    def _set_impedance_auto(self, call: Call) -> None:
        call.expect(1)
        self.high_z = call.boolean()  # > 10 GΩ on ≤ 10 V ranges; no effect on the HV reading

    def _set_sample_count(self, call: Call) -> None:
        call.expect(1)
        self.sample_count = int(call.number(low=1, high=1_000_000, default=1))

    def _configure_temperature(self, call: Call) -> None:
        call.expect(0, 4)
        probe = self.probe
        if call.params and call.params[0].strip():
            kind = call.choice(("FRTD", "RTD", "FTHermistor", "THERmistor", "TCouple", "DEFault"))
            if kind == "TC":
                raise ScpiError(SETTINGS_CONFLICT)  # no thermocouple on the simulated fixture
            kind = "FRTD" if kind == "DEF" else kind
            types = PROBE_TYPES[kind]
            wanted = types[0] if kind in ("FRTD", "RTD") else 5000
            if len(call.params) > 1 and call.params[1].strip().upper() not in ("", "DEF"):
                wanted = int(call.number(1, low=0, high=100_000))
                if wanted not in types:
                    raise ScpiError(ILLEGAL_PARAMETER_VALUE)
            probe = (kind, wanted)
        self.probe = probe
        self.function = "TEMP"
        self._readings = None

    def _measure_temperature(self, call: Call) -> str:
        self._configure_temperature(call)
        return self._format(self._take())

    def _set_temperature_unit(self, call: Call) -> None:
        call.expect(1)
        self.temperature_unit = call.choice(_TEMP_UNITS)

    def _temperature(self) -> float:
        celsius = self.circuit.pack.ambient_c + self.probe_error_c
        celsius += self._rng.gauss(0.0, TEMP_NOISE_C)
        if self.temperature_unit == "F":
            return celsius * 9.0 / 5.0 + 32.0
        if self.temperature_unit == "K":
            return celsius + 273.15
        return celsius

    # --- measuring ----------------------------------------------------------------------------

    def _measure(self, call: Call, function: str) -> str:
        self._configure(call, function)
        return self._format(self._take())

    def _read(self, call: Call) -> str:
        call.expect(0)
        return self._format(self._take())

    def _initiate(self, call: Call) -> None:
        call.expect(0)
        self._readings = self._take()

    def _fetch(self, call: Call) -> str:
        call.expect(0)
        if self._readings is None:
            raise ScpiError(DATA_STALE)
        return self._format(self._readings)

    def _take(self) -> list[float]:
        if self.function == "TEMP":
            return [self._temperature() for _ in range(self.sample_count)]
        if self.function == "VOLT":
            true_value: float | None = (
                0.0
                if self.lead_open
                else self.fixture_probe()
                if self.fixture_probe is not None
                else self.circuit.terminal_voltage()
            )
        else:
            true_value = self.fixture_resistance_ohm
        return [self._sample(true_value) for _ in range(self.sample_count)]

    def _sample(self, true_value: float | None) -> float:
        ranges = _FUNCTIONS[self.function]
        if true_value is None:
            return OVERFLOW
        span = self.ranges[self.function] or next(
            (r for r in ranges if abs(true_value) <= OVERRANGE * r), ranges[-1]
        )
        limit = MAX_DC_V if self.function == "VOLT" and span == ranges[-1] else OVERRANGE * span
        if abs(true_value) > limit:
            return OVERFLOW if true_value > 0 else -OVERFLOW
        sigma = span * 1e-6 * NOISE_PPM_OF_RANGE[self.nplc[self.function]]
        return true_value + self._rng.gauss(0.0, sigma)

    @staticmethod
    def _format(readings: list[float]) -> str:
        return ",".join(f"{value:+.8E}" for value in readings)
