"""The EOL step library: what decides whether a pack ships."""

from station.steps.eol import balancing as balancing
from station.steps.eol import calibration_current as calibration_current
from station.steps.eol import calibration_voltage as calibration_voltage
from station.steps.eol import can_check as can_check
from station.steps.eol import capacity as capacity
from station.steps.eol import cells as cells
from station.steps.eol import contactors as contactors
from station.steps.eol import dcir as dcir
from station.steps.eol import dtc as dtc
from station.steps.eol import eol_flag as eol_flag
from station.steps.eol import hvil as hvil
from station.steps.eol import identify as identify
from station.steps.eol import imd as imd
from station.steps.eol import insulation as insulation
from station.steps.eol import label as label
from station.steps.eol import set_soc as set_soc
from station.steps.eol import temperatures as temperatures

__all__ = [
    "balancing",
    "calibration_current",
    "calibration_voltage",
    "can_check",
    "capacity",
    "cells",
    "contactors",
    "dcir",
    "dtc",
    "eol_flag",
    "hvil",
    "identify",
    "imd",
    "insulation",
    "label",
    "set_soc",
    "temperatures",
]
