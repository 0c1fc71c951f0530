"""SCPI instruments: transports, declarative properties and the instrument base class."""

from drivers.scpi.instrument import (
    ScpiInstrument,
    control,
    in_range,
    measurement,
    one_of,
    parse_bool,
    parse_float,
    parse_int,
    setting,
)
from drivers.scpi.transport import Tracer, Transport

__all__ = [
    "ScpiInstrument",
    "Tracer",
    "Transport",
    "control",
    "in_range",
    "measurement",
    "one_of",
    "parse_bool",
    "parse_float",
    "parse_int",
    "setting",
]
