"""Table models: ``QAbstractTableModel`` over plain Python lists, and their view.

``RowsModel`` shows any list of rows through ``Column`` getters; rows are added with
``beginInsertRows``/``endInsertRows`` and changed in place with ``dataChanged``, so views
keep their scroll position and selection while a run streams in. The step and
measurement tables of the operator screen and every table of the results browser are
``RowsModel`` instances with different columns.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QBrush, QColor, QFont, QResizeEvent
from PySide6.QtWidgets import QHeaderView, QTableView

from station.outcomes import Verdict
from ui.i18n import ltr, translate
from ui.si import si, si_limit_text
from ui.style import OUTCOME_TINT, OUTCOME_WORD, TOUCH_PX, font

_Index = QModelIndex | QPersistentModelIndex
INCREMENTAL_FIT_ROWS = 20
"""More rows than this added or changed at once: the table measures its visible rows."""


@dataclass(frozen=True)
class Column:
    """A column: its header and how to get the cell text from a row."""

    header: str  # the source text; shown translated (context ``Column``)
    text: Callable[[Any], str]
    right: bool = False  # numbers align right
    tooltip: Callable[[Any], str] | None = None


class RowsModel(QAbstractTableModel):
    """A table of ``rows`` (any objects) shown through ``columns``.

    ``tint(row)`` may return a background colour name (failing rows are tinted) and
    ``bold(row)`` whether the row is bold.
    """

    def __init__(
        self,
        columns: Sequence[Column],
        tint: Callable[[Any], str | None] | None = None,
        bold: Callable[[Any], bool] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: list[Any] = []
        self._tint = tint
        self._bold = bold

    # -- Qt interface --------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return translate("Column", self.columns[section].header)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(row) if column.tooltip else column.text(row)
        if role == Qt.ItemDataRole.BackgroundRole and self._tint is not None:
            name = self._tint(row)
            return QBrush(QColor(name)) if name else None
        if role == Qt.ItemDataRole.FontRole and self._bold is not None and self._bold(row):
            f = QFont()
            f.setBold(True)
            return f
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if column.right else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None

    # -- list operations -------------------------------------------------------------------
    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def append(self, row: Any) -> None:
        self.extend([row])

    def extend(self, rows: Sequence[Any]) -> None:
        """Add ``rows`` at the end: one insertion for the views, however many rows."""
        if not rows:
            return
        n = len(self.rows)
        self.beginInsertRows(QModelIndex(), n, n + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()

    def replace(self, i: int, row: Any) -> None:
        self.rows[i] = row
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.columns) - 1))

    def clear(self) -> None:
        self.set_rows([])

    def retranslate(self) -> None:
        """Show the headers and cells again in the screens' new language."""
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)
        if self.rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self.rows) - 1, len(self.columns) - 1)
            )


def fit_widths(wanted: Sequence[int], available: int) -> list[int]:
    """Column widths for contents ``wanted`` in ``available`` pixels.

    Everything fits: the wanted widths. Otherwise the widest columns are cut to one common
    width (and elided) until the table fits, so narrow columns — values, units, verdicts —
    are never cut and no column shrinks to a sliver.
    """
    if sum(wanted) <= available:
        return list(wanted)
    rest, left = available, len(wanted)
    for w in sorted(wanted):
        if w * left > rest:
            cap = max(rest // left, 1)
            return [min(w_, cap) for w_ in wanted]
        rest -= w
        left -= 1
    return list(wanted)


class FittedTable(QTableView):
    """A table view that fits its columns again when its width or language changes;
    ``fit()`` fits them to the visible rows again (once the event loop runs)."""

    fit: Any = None

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        model = self.model()
        if event.type() == QEvent.Type.LanguageChange and isinstance(model, RowsModel):
            model.retranslate()
            if self.fit is not None:
                self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fit is not None and event.size().width() != event.oldSize().width():
            self.fit()


def make_table(
    model: RowsModel,
    stretch: int,
    *,
    select: bool = False,
    point_size: int = 14,
    multiline: bool = False,
) -> FittedTable:
    """A read-only table over ``model``; column ``stretch`` takes the spare width.

    When the contents are wider than the table, the widest columns are elided
    (``fit_widths``; the full text is in the tooltip) rather than the table scrolling
    sideways.
    """
    table = FittedTable()
    table.setModel(model)
    table.setFont(font(point_size))
    table.verticalHeader().hide()
    table.verticalHeader().setMinimumSectionSize(TOUCH_PX)
    table.verticalHeader().setDefaultSectionSize(TOUCH_PX)  # a row a gloved finger hits
    table.setWordWrap(multiline)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    table.setSelectionMode(
        QTableView.SelectionMode.SingleSelection if select else QTableView.SelectionMode.NoSelection
    )
    table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    if not select:
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no current-cell frame on a display
    header = table.horizontalHeader()
    header.setFont(font(point_size - 1, bold=True))
    header.setTextElideMode(Qt.TextElideMode.ElideRight)  # a cut header still reads
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    if multiline:
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    # ResizeToContents does not follow rows inserted later, so the columns are fitted after
    # changes. A reset (or a new width or language) measures the visible rows, deferred to
    # once per event-loop pass; rows added or changed while a run streams in are measured
    # alone, and the columns only widen for them: a table growing by a row costs one row.
    wanted: list[int] = []

    def apply() -> None:
        widths = fit_widths(wanted, table.viewport().width())
        for column in range(len(wanted)):
            if column != stretch:
                table.setColumnWidth(column, widths[column])

    def fit() -> None:
        n = model.columnCount()
        wanted[:] = [max(table.sizeHintForColumn(c), header.sectionSizeHint(c)) for c in range(n)]
        apply()

    refit = QTimer(table)
    refit.setSingleShot(True)
    refit.setInterval(0)
    refit.timeout.connect(fit)

    def fit_rows(first: int, last: int) -> None:
        if refit.isActive() or len(wanted) != model.columnCount():
            return  # a full fit is on its way
        if last - first >= INCREMENTAL_FIT_ROWS:
            refit.start()
            return
        grid = 1 if table.showGrid() else 0
        before = list(wanted)
        for row in range(first, last + 1):
            for column in range(len(wanted)):
                hint = table.sizeHintForIndex(model.index(row, column)).width() + grid
                wanted[column] = max(wanted[column], hint)
        if wanted != before:
            apply()

    model.modelReset.connect(refit.start)
    model.rowsInserted.connect(lambda _, first, last: fit_rows(first, last))
    model.dataChanged.connect(lambda top, bottom, *_: fit_rows(top.row(), bottom.row()))
    table.fit = refit.start
    fit()
    return table


# -- formatting shared by the screens ------------------------------------------------------
def measured_text(
    value: float | None, value_text: str | None, values: Any, unit: str | None = ""
) -> str:
    """The value of a measurement as the operator reads it, with its unit in engineering
    notation (arrays summarised as count, lowest … highest)."""
    unit = unit or ""
    if values is not None:
        if isinstance(values, str):
            values = json.loads(values)
        nums = [v for v in values if v is not None]
        if not nums:
            return "[]"
        return ltr(f"[{len(values)}] {si(min(nums), unit)} … {si(max(nums), unit)}")
    if value is not None:
        if isinstance(value, bool):
            return str(value).lower()
        return ltr(si(value, unit))
    if value_text is None:
        return translate("Measurement", "not measured")
    return ltr(str(value_text))


def limit_text(text: str | None, unit: str | None) -> str:
    """A limit as the operator reads it (numbers in engineering notation), "—" for none."""
    return ltr(si_limit_text(text, unit or "")) if text else "—"


def outcome_word(outcome: str, marginal: bool = False) -> str:
    """An outcome as a table shows it, in the screens' language."""
    word = OUTCOME_WORD.get(outcome)
    word = translate("Outcome", word) if word is not None else outcome
    return translate("Outcome", "{word} (marginal)").format(word=word) if marginal else word


def outcome_tint(outcome: str, marginal: bool = False) -> str | None:
    if outcome == Verdict.PASSED and marginal:
        return OUTCOME_TINT["MARGINAL"]
    if outcome == Verdict.PASSED:
        return None  # passing rows stay plain: the failing ones must stand out
    return OUTCOME_TINT.get(outcome)


def duration_text(seconds: float | None) -> str:
    """A duration as "12.3 s", "4:05" or "1:02:03" (left to right in any language)."""
    if seconds is None:
        return ""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return ltr(f"{seconds:.1f} s")
    whole = int(seconds)
    if whole < 3600:
        return ltr(f"{whole // 60}:{whole % 60:02d}")
    return ltr(f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}")


def local_time(iso_utc: str | None) -> str:
    """An ISO UTC stamp from the store as local 'YYYY-MM-DD HH:MM:SS'."""
    if not iso_utc:
        return ""
    try:
        when = dt.datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    except ValueError:
        return iso_utc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")
