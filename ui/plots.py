"""Plots (pyqtgraph): the live V/I/T time series, and trend and histogram with limits.

Channels are named ``<what>_<unit>`` ("pack_voltage_V", "pack_current_A",
"max_cell_temp_C"); ``TimeSeriesPlot`` shows whatever channels arrive, one stacked plot
per unit with linked time axes. Live points are buffered in lists and drawn by a timer at
10 Hz, so a fast stream of samples costs one redraw per tick, not one per sample. Each
plot keeps a band free above its data for the legend, so no curve runs behind it.

pyqtgraph and PySide6 can abort at interpreter exit when plot widgets are closed but not
deleted: owners call ``dispose()`` and the app processes deferred deletes before exiting.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from station.store_records import SampleRecord
from ui.i18n import translate
from ui.style import BAD_COLOUR, PLOT_COLOURS, font

UNITS = {
    "V": "V",
    "mV": "mV",
    "A": "A",
    "mA": "mA",
    "C": "°C",
    "degC": "°C",
    "K": "K",
    "W": "W",
    "kW": "kW",
    "Ah": "Ah",
    "Wh": "Wh",
    "kWh": "kWh",
    "Ohm": "Ω",
    "ohm": "Ω",
    "mOhm": "mΩ",
    "mohm": "mΩ",
    "pct": "%",
    "s": "s",
    "Hz": "Hz",
}
REDRAW_MS = 100
MAX_RUN_TICKS = 20  # up to this many runs, one tick per run on the trend
DATA_PADDING = 0.05  # of the data span, above and below (and the stats plots' ranges)

pg.setConfigOptions(antialias=True, background="w", foreground="#263238")


def split_channel(channel: str) -> tuple[str, str]:
    """``"pack_voltage_V"`` → ``("pack voltage", "V")``; unknown suffix → no unit."""
    head, _, tail = channel.rpartition("_")
    if head and tail in UNITS:
        return head.replace("_", " "), UNITS[tail]
    return channel.replace("_", " "), ""


def _style_plot(plot: pg.PlotWidget, y_label: str, x_label: str) -> None:
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setTickFont(font(11))
        axis.setPen(pg.mkPen("#263238", width=1))
        axis.setTextPen(pg.mkPen("#263238"))
    style = {"font-size": "13pt", "color": "#263238"}
    item.setLabel("left", y_label, **style)
    item.setLabel("bottom", x_label, **style)
    item.showGrid(x=True, y=True, alpha=0.25)


class TimeSeriesPlot(QWidget):
    """Stacked plots of time-series channels grouped by unit; ``live`` redraws on a timer."""

    def __init__(self, live: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self.placeholder = QLabel(
            self.tr("No time series yet: V, I and T appear here during long steps.")
        )
        self.placeholder.setFont(font(13))
        self.placeholder.setWordWrap(True)
        self._layout.addWidget(self.placeholder)
        self.plots: dict[str, pg.PlotWidget] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.data: dict[str, tuple[list[float], list[float]]] = {}
        self._ranges: dict[str, tuple[float, float]] = {}  # finite min and max by channel
        self._dirty: set[str] = set()
        self._timer: QTimer | None = None
        if live:
            self._timer = QTimer(self)
            self._timer.setInterval(REDRAW_MS)
            self._timer.timeout.connect(self.redraw)
            self._timer.start()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.placeholder.setText(
                self.tr("No time series yet: V, I and T appear here during long steps.")
            )

    @property
    def channels(self) -> list[str]:
        return list(self.data)

    def add(self, t: float, channel: str, value: float) -> None:
        """Add one point (drawn at the next tick)."""
        if channel not in self.data:
            self._new_channel(channel)
        xs, ys = self.data[channel]
        xs.append(t)
        finite = value is not None and math.isfinite(value)
        ys.append(value if finite else math.nan)
        if finite:
            lo, hi = self._ranges.get(channel, (value, value))
            self._ranges[channel] = (min(lo, value), max(hi, value))
        self._dirty.add(channel)

    def set_samples(self, rows: Iterable[SampleRecord]) -> None:
        """Replace everything with the stored samples ``rows`` and draw now."""
        self.clear()
        for row in rows:
            value = row.value
            self.add(float(row.t), str(row.channel), math.nan if value is None else value)
        self.redraw()

    def redraw(self) -> None:
        units = {split_channel(c)[1] for c in self._dirty}
        for channel in self._dirty:
            xs, ys = self.data[channel]
            self.curves[channel].setData(xs, ys, connect="finite")
        self._dirty.clear()
        for unit in units:
            self._fit_y(unit)

    def _fit_y(self, unit: str) -> None:
        """Range the plot of ``unit`` on its data, with a band on top for the legend."""
        plot = self.plots.get(unit)
        ranges = [r for c, r in self._ranges.items() if split_channel(c)[1] == unit]
        if plot is None or not ranges:
            return
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        span = max(hi - lo, abs(hi) * 0.02, 1e-9)
        lo, hi = lo - DATA_PADDING * span, hi + DATA_PADDING * span
        item = plot.getPlotItem()
        view_px = item.getViewBox().height()
        legend_px = item.legend.boundingRect().height() + 8 if item.legend is not None else 0.0
        band = min(0.6, legend_px / view_px) if view_px > 1 else 0.3
        item.setYRange(lo, lo + (hi - lo) / (1.0 - band), padding=0)

    def clear(self) -> None:
        """Forget every point; the plots stay (hidden) for the next run's channels."""
        for plot in self.plots.values():
            plot.getPlotItem().clear()
            legend = plot.getPlotItem().legend
            if legend is not None:
                legend.clear()
            plot.hide()
        self.curves.clear()
        self.data.clear()
        self._ranges.clear()
        self._dirty.clear()
        self.placeholder.show()

    def dispose(self) -> None:
        """Stop the timer and delete the plot widgets (see the module docstring)."""
        if self._timer is not None:
            self._timer.stop()
        self.clear()
        for plot in self.plots.values():
            self._layout.removeWidget(plot)
            plot.close()
            plot.deleteLater()
        self.plots.clear()

    def _new_channel(self, channel: str) -> None:
        label, unit = split_channel(channel)
        plot = self.plots.get(unit)
        if plot is None:
            plot = pg.PlotWidget()
            plot.setMinimumHeight(90)
            _style_plot(plot, unit or "value", translate("TimeSeriesPlot", "time (s)"))
            plot.addLegend(offset=(-10, 5), labelTextSize="12pt", brush="#FFFFFFD0")
            plot.getPlotItem().setDownsampling(auto=True)
            plot.getPlotItem().setClipToView(True)
            if self.plots:
                plot.setXLink(next(iter(self.plots.values())))
            plot.getPlotItem().getViewBox().sigResized.connect(lambda _, u=unit: self._fit_y(u))
            self.plots[unit] = plot
            self._layout.addWidget(plot, 1)
        plot.show()
        self.placeholder.hide()
        shown = [p for p in self.plots.values() if not p.isHidden()]
        for p in shown:  # only the bottom plot names the time axis
            time_s = translate("TimeSeriesPlot", "time (s)")
            p.getPlotItem().setLabel("bottom", time_s if p is shown[-1] else None)
        n = sum(1 for c in self.data if split_channel(c)[1] == unit)
        colour = PLOT_COLOURS[(list(self.plots).index(unit) + 2 * n) % len(PLOT_COLOURS)]
        self.curves[channel] = plot.plot([], [], pen=pg.mkPen(colour, width=3), name=label)
        self.data[channel] = ([], [])
        legend = plot.getPlotItem().legend
        if legend is not None:  # one row: the band it needs on top stays one line high
            legend.setColumnCount(len(legend.items))


class MeasurementStats(QWidget):
    """Trend (value per run, in order) and histogram of one measurement, with its limits."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trend = pg.PlotWidget()
        self.histogram = pg.PlotWidget()
        _style_plot(self.trend, "value", "run (oldest → newest)")
        _style_plot(self.histogram, "count", "value")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.trend, 1)
        layout.addWidget(self.histogram, 1)
        self.limits_shown = True

    def show_values(
        self,
        values: Sequence[float],
        failed: Sequence[bool],
        low: float | None,
        high: float | None,
        unit: str,
    ) -> None:
        """Draw ``values`` (failing ones in red) with the limit lines LSL/USL."""
        for plot in (self.trend, self.histogram):
            plot.clear()
        # With the unit given separately pyqtgraph scales it (0.0965 Ohm reads 96.5 mΩ).
        shown_unit = UNITS.get(unit, unit) or None
        self.trend.getPlotItem().setLabel("left", "value", units=shown_unit)
        self.histogram.getPlotItem().setLabel("bottom", "value", units=shown_unit)
        xs = np.arange(1, len(values) + 1, dtype=float)
        ys = np.asarray(values, dtype=float)
        runs_axis = self.trend.getPlotItem().getAxis("bottom")
        # Runs are counted: whole numbers on the axis while there are few of them.
        runs_axis.setTicks([[(x, f"{x:g}") for x in xs]] if len(xs) <= MAX_RUN_TICKS else None)
        if len(ys):
            brushes = [pg.mkBrush(BAD_COLOUR if f else PLOT_COLOURS[0]) for f in failed]
            self.trend.plot(xs, ys, pen=pg.mkPen("#90A4AE", width=1))
            self.trend.plot(xs, ys, pen=None, symbol="o", symbolSize=9, symbolBrush=brushes)
            finite = ys[np.isfinite(ys)]
            if len(finite):
                bins = max(5, min(40, int(math.sqrt(len(finite))) + 1))
                counts, edges = np.histogram(finite, bins=bins)
                bars = pg.BarGraphItem(
                    x0=edges[:-1], x1=edges[1:], height=counts, brush=PLOT_COLOURS[0], pen="w"
                )
                self.histogram.addItem(bars)
        suffix = f" {shown_unit}" if shown_unit else ""
        for name, limit in (("LSL", low), ("USL", high)):
            if limit is None:
                continue
            pen = pg.mkPen(BAD_COLOUR, width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
            opts = {"position": 0.9, "color": BAD_COLOUR, "fill": "#FFFFFFCC"}
            self.trend.addItem(
                pg.InfiniteLine(
                    limit, angle=0, pen=pen, label=f"{name} {limit:g}{suffix}", labelOpts=opts
                )
            )
            self.histogram.addItem(
                pg.InfiniteLine(
                    limit, angle=90, pen=pen, label=f"{name} {limit:g}{suffix}", labelOpts=opts
                )
            )

        finite = ys[np.isfinite(ys)] if len(ys) else ys
        if len(finite):
            lo, hi, self.limits_shown = value_range(list(finite), low, high)
            pad = 2 * DATA_PADDING * (hi - lo)  # room for the markers at the edges
            self.trend.setYRange(lo - pad, hi + pad, padding=0)
            self.histogram.setXRange(lo - pad, hi + pad, padding=0)

    def dispose(self) -> None:
        for plot in (self.trend, self.histogram):
            plot.close()
            plot.deleteLater()


ZOOM_LIMIT = 20.0
"""Limits farther than this many data spans away are left out of view (noted in the text)."""


def value_range(
    values: Sequence[float], low: float | None, high: float | None
) -> tuple[float, float, bool]:
    """The value axis range for ``values``: with the limits, unless they would squash the data.

    Returns ``(lo, hi, limits_shown)``.
    """
    lo, hi = min(values), max(values)
    span = max(hi - lo, abs(hi) * 1e-4, 1e-9)
    limits = [x for x in (low, high) if x is not None]
    wide_lo, wide_hi = min([lo, *limits]), max([hi, *limits])
    if wide_hi - wide_lo <= ZOOM_LIMIT * span:
        return wide_lo, wide_hi, True
    return lo - span, hi + span, not limits
