"""OCV(SOC) tables: sourced points, interpolation, monotonicity, clamping, LFP hysteresis."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.sim.ocv import (
    LFP_OCV,
    LFP_OCV_POINTS,
    NMC_OCV,
    NMC_OCV_POINTS,
    OcvCurve,
    hysteresis_step,
    ocv_curve,
)

CURVES = [NMC_OCV, LFP_OCV]


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.chemistry)
def test_curve_is_strictly_increasing_on_unit_interval(curve: OcvCurve) -> None:
    volts = [curve.voltage(k / 2000) for k in range(2001)]
    assert all(b > a for a, b in itertools.pairwise(volts))


def test_nmc_reproduces_the_foxbms_lut_excerpt() -> None:
    fox_mv = {100: 4123, 90: 4024, 80: 3939, 70: 3840, 60: 3735, 50: 3636, 40: 3568}
    fox_mv |= {30: 3501, 20: 3392, 10: 3202, 5: 3003, 1: 2716}
    for soc_pct, mv in fox_mv.items():
        assert NMC_OCV.voltage(soc_pct / 100) == pytest.approx(mv / 1000, abs=1e-12)


def test_nmc_zero_soc_point_extends_the_first_segment() -> None:
    slope = (3.003 - 2.716) / 0.04
    assert NMC_OCV.voltage(0.0) == pytest.approx(2.716 - 0.01 * slope, abs=1e-12)


def test_lfp_endpoints_and_points_match_the_apr18650m1b_table() -> None:
    assert LFP_OCV.voltage(0.0) == 2.010
    assert LFP_OCV.voltage(1.0) == 3.598
    for soc, volts in LFP_OCV_POINTS:
        assert LFP_OCV.voltage(soc) == pytest.approx(volts, abs=1e-12)


@pytest.mark.parametrize("points", [NMC_OCV_POINTS, LFP_OCV_POINTS])
def test_linear_interpolation_between_table_points(points: tuple[tuple[float, float], ...]) -> None:
    curve = NMC_OCV if points is NMC_OCV_POINTS else LFP_OCV
    for (s0, v0), (s1, v1) in itertools.pairwise(points):
        quarter = s0 + 0.25 * (s1 - s0)
        assert curve.voltage(quarter) == pytest.approx(v0 + 0.25 * (v1 - v0), abs=1e-12)


def test_midpoint_example_nmc_50_to_60_percent() -> None:
    assert NMC_OCV.voltage(0.55) == pytest.approx((3.636 + 3.735) / 2, abs=1e-12)


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.chemistry)
def test_soc_outside_unit_interval_is_clamped(curve: OcvCurve) -> None:
    assert curve.voltage(-0.3) == curve.voltage(0.0)
    assert curve.voltage(1.7) == curve.voltage(1.0)


@given(soc=st.floats(min_value=0.0, max_value=1.0))
def test_soc_at_inverts_voltage(soc: float) -> None:
    for curve in CURVES:
        assert curve.soc_at(curve.voltage(soc)) == pytest.approx(soc, abs=1e-9)


def test_lfp_hysteresis_band_is_two_h_and_nmc_has_none() -> None:
    h = LFP_OCV.hysteresis_v
    assert 0.010 <= h <= 0.020
    assert LFP_OCV.voltage(0.5, 1.0) - LFP_OCV.voltage(0.5, -1.0) == pytest.approx(2 * h)
    assert NMC_OCV.voltage(0.5, 1.0) == NMC_OCV.voltage(0.5, -1.0)


def test_hysteresis_state_follows_current_direction() -> None:
    state = 0.0
    for _ in range(50):
        state = hysteresis_step(state, +0.01)
    assert state > 0.99
    state = hysteresis_step(state, -0.02)
    assert state < 0.0
    assert hysteresis_step(0.3, 0.0) == 0.3


def test_hysteresis_step_does_not_depend_on_splitting() -> None:
    whole = hysteresis_step(-0.4, 0.03)
    split = hysteresis_step(hysteresis_step(hysteresis_step(-0.4, 0.01), 0.01), 0.01)
    assert split == pytest.approx(whole, rel=1e-12)


def test_unknown_chemistry_and_bad_tables_are_refused() -> None:
    assert ocv_curve("LFP") is LFP_OCV
    with pytest.raises(ValueError, match="unknown cell chemistry"):
        ocv_curve("LTO")
    with pytest.raises(ValueError, match="not strictly increasing"):
        OcvCurve("NMC", ((0.0, 3.0), (0.5, 3.0), (1.0, 4.0)), 0.0)
    with pytest.raises(ValueError, match="from SOC 0 to SOC 1"):
        OcvCurve("NMC", ((0.1, 3.0), (1.0, 4.0)), 0.0)
