"""The calibration arithmetic on its own: records, raw recovery, the fits, the window."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from station.steps.eol.calibration_fit import (
    CurrentCalibration,
    FitError,
    VoltageCalibration,
    Window,
    fit_current,
    fit_voltage,
)

gains = st.floats(0.9, 1.1)
offsets = st.floats(-5.0, 5.0)


def test_two_points_give_the_textbook_gain_and_offset() -> None:
    # reference x, raw y: k = (x2 − x1)/(y2 − y1), d = x1 − k·y1
    cal = fit_voltage([300.0, 400.0], [302.0, 403.0])
    assert cal.gain == pytest.approx(100.0 / 101.0)
    assert cal.offset_v == pytest.approx(300.0 - cal.gain * 302.0)


def test_more_points_give_the_least_squares_line() -> None:
    refs = [200.0, 300.0, 400.0]
    raws = [201.0, 302.2, 402.9]  # not collinear
    cal = fit_voltage(refs, raws)
    n = len(raws)
    mx, my = sum(refs) / n, sum(raws) / n
    k = sum((y - my) * (x - mx) for x, y in zip(refs, raws, strict=True)) / sum(
        (y - my) ** 2 for y in raws
    )
    assert cal.gain == pytest.approx(k)
    assert cal.offset_v == pytest.approx(mx - k * my)


@given(k=gains, d=offsets, low=st.floats(50.0, 300.0), span=st.floats(20.0, 500.0))
def test_the_voltage_fit_recovers_any_linear_error(
    k: float, d: float, low: float, span: float
) -> None:
    refs = [low, low + span]
    truth = VoltageCalibration(k, d)
    raws = [truth.raw(x) for x in refs]
    cal = fit_voltage(refs, raws)
    assert cal.gain == pytest.approx(k, rel=1e-9)
    assert cal.offset_v == pytest.approx(d, abs=1e-7)


@given(k_dis=gains, k_chg=gains, d=st.floats(-2.0, 2.0), amps=st.floats(10.0, 200.0))
def test_the_current_fit_recovers_a_gain_per_direction(
    k_dis: float, k_chg: float, d: float, amps: float
) -> None:
    truth = CurrentCalibration(k_dis, k_chg, d)
    refs = [0.0, amps, -amps]
    raws = [truth.raw(x) for x in refs]
    cal = fit_current(refs, raws)
    assert cal.gain_discharge == pytest.approx(k_dis, rel=1e-9)
    assert cal.gain_charge == pytest.approx(k_chg, rel=1e-9)
    assert cal.offset_a == pytest.approx(d, abs=1e-9)


@given(k_dis=gains, k_chg=gains, d=offsets, reported=st.floats(-500.0, 500.0))
def test_raw_inverts_apply(k_dis: float, k_chg: float, d: float, reported: float) -> None:
    current = CurrentCalibration(k_dis, k_chg, d)
    assert current.apply(current.raw(reported)) == pytest.approx(reported, abs=1e-9)
    voltage = VoltageCalibration(k_dis, d)
    assert voltage.apply(voltage.raw(reported)) == pytest.approx(reported, abs=1e-9)


def test_the_current_gain_follows_the_sign_of_the_raw_reading() -> None:
    cal = CurrentCalibration(gain_discharge=1.02, gain_charge=0.98, offset_a=0.5)
    assert cal.apply(10.0) == pytest.approx(10.2 + 0.5)
    assert cal.apply(-10.0) == pytest.approx(-9.8 + 0.5)
    # a small positive reading below the offset came from a negative raw one
    assert cal.raw(0.3) == pytest.approx((0.3 - 0.5) / 0.98)


def test_records_are_big_endian_float32_as_the_bms_spec_says() -> None:
    v = VoltageCalibration(1.0078, -0.63)
    assert v.record() == struct.pack(">ff", 1.0078, -0.63)
    assert VoltageCalibration.from_record(v.record()).gain == pytest.approx(1.0078, rel=1e-7)
    c = CurrentCalibration(0.99, 1.01, -0.2)
    assert len(c.record()) == 12
    back = CurrentCalibration.from_record(c.record())
    assert (back.gain_discharge, back.gain_charge, back.offset_a) == pytest.approx(
        (0.99, 1.01, -0.2), rel=1e-6
    )
    assert VoltageCalibration.from_record(struct.pack(">ff", 1.0, 0.0)) == VoltageCalibration()
    with pytest.raises(ValueError, match="expected 8 bytes"):
        VoltageCalibration.from_record(b"\x00" * 12)
    with pytest.raises(ValueError, match="expected 12 bytes"):
        CurrentCalibration.from_record(b"\x00" * 8)


def test_the_window_names_every_value_outside_it() -> None:
    window = Window(0.95, 1.05, 5.0)
    assert window.problems({"gain": 1.0}, 4.9, "V") == []
    assert window.problems({"gain": 0.95}, -5.0, "V") == []  # the edges are inside
    problems = window.problems({"gain_discharge": 0.93, "gain_charge": 1.0}, -6.0, "A")
    assert len(problems) == 2
    assert "gain_discharge 0.93000 outside 0.95…1.05" in problems[0]
    assert "offset -6.0000 A outside ±5 A" in problems[1]
    assert window.problems({"gain": float("nan")}, 0.0, "V") != []


def test_fits_refuse_points_that_do_not_determine_them() -> None:
    with pytest.raises(FitError, match="two or more"):
        fit_voltage([300.0], [300.0])
    with pytest.raises(FitError, match="no spread"):
        fit_voltage([300.0, 400.0], [301.0, 301.0])  # the BMS did not follow the bus
    with pytest.raises(FitError, match="both directions"):
        fit_current([0.0, 50.0, 30.0], [0.1, 50.5, 30.3])
    with pytest.raises(FitError, match="three or more"):
        fit_current([50.0, -50.0], [50.5, -49.6])
