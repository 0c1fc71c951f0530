"""What the HV testers share: mapping an over-range meter reading."""

from __future__ import annotations

import math

import pytest

from drivers.scpi.hv import reading_or_overflow


@pytest.mark.parametrize(
    ("value", "verdict", "expected"),
    [
        (5e8, "PASS", 5e8),
        (1e9, "PASS", 1e9),
        (1e-3, "ABORTED", 1e-3),
        (9.9e37, "PASS", math.inf),
        (9.9e37, "HIGH", math.inf),
        (-9.9e37, "PASS", math.inf),
        (9.9000001e37, "PASS", math.inf),  # as a Chroma 1905x sends it
    ],
)
def test_reading_or_overflow(value: float, verdict: str, expected: float) -> None:
    assert reading_or_overflow(value, verdict) == expected


@pytest.mark.parametrize("verdict", ["ABORTED", "LOW", "OTHER", "ARC"])
def test_reading_or_overflow_without_measurement_is_nan(verdict: str) -> None:
    assert math.isnan(reading_or_overflow(9.9e37, verdict))
