"""The small parts: statistics, formatting, models, plots, the bridge, the refcount guard."""

from __future__ import annotations

import datetime as dt
import math
import sys

import pytest
from PySide6.QtWidgets import QLabel

from station.events import PlannedStep, RunFinished, RunStarted, StepFinished
from tests.station.recorded_runs import run_record
from ui import spc
from ui.models import Column, RowsModel, duration_text, measured_text
from ui.plots import TimeSeriesPlot, split_channel, value_range
from ui.qt_refcount import protect_singletons
from ui.run_view import RunView

pytestmark = pytest.mark.ui


def test_counters_first_pass_yield_and_retests() -> None:
    runs = [
        run_record("A", "FAILED", "2026-01-01T08:00"),
        run_record("A", "PASSED", "2026-01-01T08:10"),  # retest: passed, not first pass
        run_record("B", "PASSED", "2026-01-01T08:20"),
        run_record("C", "ABORTED", "2026-01-01T08:30"),  # no verdict on the pack
        run_record("D", "ERROR", "2026-01-01T08:40"),
    ]
    c = spc.counters(reversed(runs))
    assert (c.tested, c.passed, c.first_pass) == (3, 2, 1)
    assert c.first_pass_yield == pytest.approx(1 / 3)
    assert spc.format_yield(None) == "–" and spc.format_yield(0.5) == "50.0 %"


def test_shift_start() -> None:
    day = dt.datetime(2026, 3, 2)
    assert spc.shift_start(day.replace(hour=7)) == day.replace(hour=6)
    assert spc.shift_start(day.replace(hour=23)) == day.replace(hour=22)
    assert spc.shift_start(day.replace(hour=3)) == day.replace(day=1, hour=22)


def test_capability() -> None:
    cap = spc.capability([9.0, 10.0, 11.0], low=7.0, high=16.0)
    assert cap.n == 3 and cap.mean == 10.0 and cap.stdev == 1.0
    assert cap.cpk == pytest.approx(1.0)  # (10 - 7) / 3
    assert spc.capability([1.0, 2.0], None, 5.0).cpk == pytest.approx(3.5 / (3 * math.sqrt(0.5)))
    assert spc.capability([1.0], 0, 2).cpk is None
    assert spc.capability([], 0, 2).n == 0


def test_formatting() -> None:
    assert measured_text(349.10693, None, None) == "349.1"
    assert measured_text(349.10693, None, None, "V") == "349.1 V"
    assert measured_text(1.98486e6, None, None, "Ohm") == "1.985 MΩ"
    assert measured_text(None, "yes", None) == "yes"
    assert measured_text(None, None, None, "Ohm") == "not measured"  # a guard stopped the step
    assert measured_text(None, None, "[3.1, 3.3, 3.2]") == "[3] 3.1 … 3.3"
    assert duration_text(5) == "5.0 s" and duration_text(125) == "2:05"
    assert duration_text(3725) == "1:02:05"


def test_rows_model_inserts_rows(qtbot) -> None:
    model = RowsModel([Column("x", str)])
    with qtbot.waitSignal(model.rowsInserted):
        model.append(1)
    model.append(2)
    model.replace(0, 10)
    assert model.rowCount() == 2 and model.data(model.index(0, 0)) == "10"


def test_channels_are_grouped_by_unit(qtbot) -> None:
    assert split_channel("pack_voltage_V") == ("pack voltage", "V")
    assert split_channel("max_cell_temp_C") == ("max cell temp", "°C")
    assert split_channel("soc") == ("soc", "")
    plot = TimeSeriesPlot(live=False)
    qtbot.addWidget(plot)
    for t in range(3):
        for channel in ("pack_voltage_V", "cell_voltage_V", "pack_current_A"):
            plot.add(float(t), channel, 1.0 + t)
    plot.redraw()
    assert list(plot.plots) == ["V", "A"]
    current = plot.data["pack_current_A"]
    assert current.t.tolist() == [0.0, 1.0, 2.0] and current.values.tolist() == [1.0, 2.0, 3.0]
    plot.clear()
    assert plot.channels == [] and plot.placeholder.isVisibleTo(plot)
    plot.add(0.0, "pack_current_A", 1.0)  # the next run reuses the plots
    assert list(plot.plots) == ["V", "A"] and plot.plots["V"].isHidden()
    plot.dispose()


def test_value_range_keeps_limits_in_view_unless_they_squash_the_data() -> None:
    assert value_range([349.0, 351.0], 300.0, 400.0)[2] is False  # 100 V vs a 2 V spread
    assert value_range([340.0, 360.0], 300.0, 400.0) == (300.0, 400.0, True)


def test_run_view_verdicts() -> None:
    view = RunView()
    steps = (PlannedStep("main", 0, "A", "t"), PlannedStep("main", 1, "B", "t"))
    view.started(
        RunStarted("r", "S1", "P", "op", "st", "n", "1", "p", "h", "", "", "", "", "", steps)
    )
    view.step_finished(
        StepFinished("r", "s", 1, "main", 0, "A", "t", "ERROR", "", "", "DMM timeout")
    )
    assert view.finished() == [1]
    state, headline, detail = view.verdict(RunFinished("r", "ERROR", "", True))
    assert (state, headline) == ("ERROR", "ERROR") and "A: DMM timeout" in detail
    state, headline, _ = view.verdict(RunFinished("r", "PASSED", "", False, "load: NOT SAFE"))
    assert headline == "SAFE STATE NOT CONFIRMED"
    state, headline, detail = view.verdict(RunFinished("r", "ABORTED", "", True))
    assert state == "ABORTED"  # not asked for by the operator (an interlock, say)
    view.operator_abort = True
    assert view.verdict(RunFinished("r", "ABORTED", "", True))[0] == "READY"


def test_the_refcount_guard_keeps_long_sessions_alive(qtbot) -> None:
    protect_singletons()
    label = QLabel()
    for _ in range(20_000):  # each call leaks a reference to None with PySide6 6.12 on 3.11
        label.setText("x")
    assert sys.version_info >= (3, 12) or sys.getrefcount(None) > 1 << 50


def test_a_live_plot_moves_its_axes_in_steps_and_fits_the_data_at_the_end(qtbot) -> None:
    plot = TimeSeriesPlot(live=True)
    qtbot.addWidget(plot)
    plot.resize(600, 400)
    plot.show()
    for k in range(20):
        plot.add(100.0 + k, "pack_voltage_V", 350.0 + 0.01 * k)
    plot.redraw()
    item = plot.plots["V"].getPlotItem()
    ranges = item.viewRange()
    assert ranges[0][0] == 100.0 and ranges[0][1] > 119.0 + 4  # room ahead of the newest point
    plot.add(120.0, "pack_voltage_V", 350.1)  # inside both ranges: the axes stay
    plot.redraw()
    assert item.viewRange() == ranges
    plot.add(200.0, "pack_voltage_V", 380.0)  # beyond both: they move
    plot.redraw()
    assert item.viewRange()[0][1] >= 200.0 and item.viewRange()[1][1] > 380.0
    plot.finish()  # the run ended: the time axis fits the data, with a small margin
    low, high = item.viewRange()[0]
    assert 97.0 < low < 100.0 and 200.0 < high < 203.0
    plot.dispose()
