"""The EOL step library: what decides whether a pack ships."""

from station.steps.eol import capacity as capacity
from station.steps.eol import dcir as dcir

__all__ = ["capacity", "dcir"]
