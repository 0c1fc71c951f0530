"""Plots (pyqtgraph): the live V/I/T time series, and trend and histogram with limits.

Channels are named ``<what>_<unit>`` ("pack_voltage_V", "pack_current_A",
"max_cell_temp_C"); ``TimeSeriesPlot`` shows whatever channels arrive, one stacked plot
per unit with linked time axes. Points are added in batches (the bridge delivers samples
at most 10 times a second) and drawn once per batch from growing numpy buffers. Each plot
keeps a band free above its data for the legend, so no curve runs behind it.

Drawing the axes is most of what a plot costs (tick text, antialiased), and any change of
range redraws them. So a live plot changes its ranges in steps, not with every point: the
time axis leaves room ahead of the newest point (``LIVE_HEADROOM`` of the span) and the
value axis moves only when the data leave it or fill less than ``SHRINK_BELOW`` of it.
Between those steps a new batch repaints the curves alone (and the axes from a cached
pixmap). When the run ends, ``finish`` fits both axes to the data.

pyqtgraph and PySide6 can abort at interpreter exit when plot widgets are closed but not
deleted: owners call ``dispose()`` and the app processes deferred deletes before exiting.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

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
LIVE_HEADROOM = 0.25  # of the time span, ahead of the newest point on a live plot
LIVE_MARGIN = 0.15  # of the data span, above and below, when a live plot moves its value axis
SHRINK_BELOW = 0.25  # a live value axis narrows when the data fill less of it than this
MIN_LIVE_SPAN_S = 10.0  # the time axis of a live plot shows at least this many seconds
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


class Series:
    """One channel's points in numpy buffers that grow by doubling (no copy per point)."""

    def __init__(self) -> None:
        self._t = np.empty(256)
        self._v = np.empty(256)
        self.n = 0
        self.low = math.inf  # finite minimum and maximum of the values
        self.high = -math.inf

    def add(self, t: float, value: float | None) -> None:
        if self.n == len(self._t):
            self._t = np.resize(self._t, 2 * self.n)
            self._v = np.resize(self._v, 2 * self.n)
        self._t[self.n] = t
        if value is None or not math.isfinite(value):
            self._v[self.n] = math.nan
        else:
            self._v[self.n] = value
            self.low, self.high = min(self.low, value), max(self.high, value)
        self.n += 1

    @property
    def t(self) -> np.ndarray:
        return self._t[: self.n]

    @property
    def values(self) -> np.ndarray:
        return self._v[: self.n]


class TimeSeriesPlot(QWidget):
    """Stacked plots of time-series channels grouped by unit.

    ``live``: the data grow while shown (the operator screen), so the ranges change in
    steps with room ahead; otherwise (a stored run) they fit the data exactly.
    """

    def __init__(self, live: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.live = live
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
        self.data: dict[str, Series] = {}
        self._y_shown: dict[str, tuple[float, float]] = {}  # data area by unit (no legend band)
        self._x_shown: tuple[float, float] | None = None
        self._dirty: set[str] = set()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.placeholder.setText(
                self.tr("No time series yet: V, I and T appear here during long steps.")
            )

    @property
    def channels(self) -> list[str]:
        return list(self.data)

    def add(self, t: float, channel: str, value: float | None) -> None:
        """Add one point (drawn at the next ``redraw``)."""
        if channel not in self.data:
            self._new_channel(channel)
        self.data[channel].add(t, value)
        self._dirty.add(channel)

    def set_samples(self, rows: Iterable[SampleRecord]) -> None:
        """Replace everything with the stored samples ``rows`` and draw now."""
        self.clear()
        for row in rows:
            self.add(float(row.t), str(row.channel), row.value)
        self.redraw()

    def redraw(self) -> None:
        """Draw the points added since the last redraw."""
        if not self._dirty:
            return
        units = {split_channel(c)[1] for c in self._dirty}
        for channel in self._dirty:
            series = self.data[channel]
            self.curves[channel].setData(series.t, series.values, connect="finite")
        self._dirty.clear()
        if self.live:
            self._fit_time()
        for unit in units:
            self._fit_y(unit)

    def finish(self) -> None:
        """The data stopped growing (the run ended): range the plots on them as a stored
        run's are (no room ahead, the usual margins)."""
        self.redraw()
        self._fit_time(exact=True)
        for unit in self.plots:
            self._fit_y(unit, force=True, margin=DATA_PADDING)

    def _fit_time(self, *, exact: bool = False) -> None:
        """Range the shared time axis of a live plot: room ahead, in steps (or ``exact``).

        Set on the first plot shown; the others follow through the link, which lines their
        times up to the pixel whatever the widths of their value axes. (A stored run's plot
        keeps pyqtgraph's own auto range.)
        """
        spans = [(float(s.t[0]), float(s.t[-1])) for s in self.data.values() if s.n]
        shown = [p for p in self.plots.values() if not p.isHidden()]
        if not spans or not shown:
            return
        lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
        if exact:
            hi = max(hi, lo + 1e-3)
            pad = DATA_PADDING / 2 * (hi - lo)  # the last point not on the plot's edge
            lo, hi = lo - pad, hi + pad
        else:
            if self._x_shown is not None and self._x_shown[0] == lo and hi <= self._x_shown[1]:
                return
            hi = lo + max(MIN_LIVE_SPAN_S, (hi - lo) * (1 + LIVE_HEADROOM))
        self._x_shown = (lo, hi)
        shown[0].getPlotItem().setXRange(lo, hi, padding=0)

    def _fit_y(self, unit: str, *, force: bool = False, margin: float | None = None) -> None:
        """Range the plot of ``unit`` on its data, with a band on top for the legend.

        A live plot keeps its range while the data stay inside it and fill enough of it,
        so the axis (costly to draw) is not redrawn for every batch of points.
        """
        plot = self.plots.get(unit)
        ranges = [(s.low, s.high) for c, s in self.data.items() if split_channel(c)[1] == unit]
        ranges = [r for r in ranges if r[0] <= r[1]]
        if plot is None or not ranges:
            return
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        span = max(hi - lo, abs(hi) * 0.02, 1e-9)
        shown = self._y_shown.get(unit)
        if self.live and not force and shown is not None:
            inside = shown[0] <= lo and hi <= shown[1]
            if inside and span >= SHRINK_BELOW * (shown[1] - shown[0]):
                return
        if margin is None:
            margin = LIVE_MARGIN if self.live else DATA_PADDING
        lo, hi = lo - margin * span, hi + margin * span
        self._y_shown[unit] = (lo, hi)
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
        self._y_shown.clear()
        self._x_shown = None
        self._dirty.clear()
        self.placeholder.show()

    def dispose(self) -> None:
        """Delete the plot widgets (see the module docstring)."""
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
            plot.getPlotItem().setDownsampling(auto=True, mode="peak")
            plot.getPlotItem().setClipToView(True)
            # The value axis is ranged by _fit_y; a live plot's time axis by _fit_time.
            plot.getPlotItem().enableAutoRange(x=not self.live, y=False)
            for name in ("left", "bottom"):
                # An axis draws the grid across the plot, so new points repaint it too:
                # from a cached pixmap, not its lines and tick text again.
                axis = plot.getPlotItem().getAxis(name)
                axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            if self.plots:
                plot.setXLink(next(iter(self.plots.values())))
            plot.getPlotItem().getViewBox().sigResized.connect(
                lambda _, u=unit: self._fit_y(u, force=True)
            )
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
        self.data[channel] = Series()
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
