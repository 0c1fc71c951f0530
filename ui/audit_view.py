"""The audit trail for engineers: who did what, when, filtered by user, action, text and date.

Reads the results database's ``audit`` table (docs/ui.md, *The audit trail*) newest first;
nothing here writes to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QDate, QEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from station.store import ResultsStore
from ui.i18n import QT_TRANSLATE_NOOP
from ui.models import Column, RowsModel, local_time, make_table
from ui.style import section

FETCH_LIMIT = 5000
ANY = "— any —"
AUDIT_COLUMNS = (
    Column(QT_TRANSLATE_NOOP("Column", "When"), lambda a: local_time(str(a["at"]))),
    Column(QT_TRANSLATE_NOOP("Column", "User"), lambda a: str(a["user"])),
    Column(QT_TRANSLATE_NOOP("Column", "Action"), lambda a: str(a["action"])),
    Column(QT_TRANSLATE_NOOP("Column", "Target"), lambda a: str(a["target"])),
    Column(
        QT_TRANSLATE_NOOP("Column", "Detail"),
        lambda a: str(a["detail"]),
        tooltip=lambda a: str(a["detail"]),
    ),
)


@dataclass(frozen=True)
class AuditFilter:
    """What to show: ``None``/"" means any. Dates are local calendar days, inclusive."""

    user: str | None = None
    action: str | None = None
    text: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


def audit_rows(
    store: ResultsStore, f: AuditFilter, limit: int = FETCH_LIMIT
) -> list[dict[str, Any]]:
    """The audit rows matching ``f``, newest first (at most ``limit``)."""
    where, params = ["1"], []
    if f.user:
        where.append("user = ?")
        params.append(f.user)
    if f.action:
        where.append("action = ?")
        params.append(f.action)
    if f.text:
        where.append("(target LIKE ? OR detail LIKE ?)")
        params += [f"%{f.text}%"] * 2
    if f.since is not None:
        where.append("at >= ?")
        params.append(_utc_start(f.since))
    if f.until is not None:
        where.append("at < ?")
        params.append(_utc_start(f.until + dt.timedelta(days=1)))
    sql = f"SELECT id, at, user, action, target, detail FROM audit WHERE {' AND '.join(where)}"
    return store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])


def _utc_start(day: dt.date) -> str:
    """The UTC timestamp at which local ``day`` begins, as the audit table writes times."""
    local = dt.datetime.combine(day, dt.time()).astimezone()
    return local.astimezone(dt.UTC).isoformat()


class AuditView(QWidget):
    """Filters above the audit table; ``search()`` reloads."""

    def __init__(self, store: ResultsStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.user = QComboBox()
        self.action = QComboBox()
        self.text = QLineEdit()
        self.text.returnPressed.connect(self.search)
        today = QDate.currentDate()
        self.since = QDateEdit(today.addDays(-30))
        self.until = QDateEdit(today)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.show_button = show = QPushButton()
        show.clicked.connect(self.search)
        self.count = QLabel()
        self.model = RowsModel(AUDIT_COLUMNS)
        self.table = make_table(self.model, 4, point_size=12)
        filters = QHBoxLayout()
        self.labels = [QLabel() for _ in range(4)]  # user, action, from, to
        for label, widget in (
            (self.labels[0], self.user),
            (self.labels[1], self.action),
            (None, self.text),
            (self.labels[2], self.since),
            (self.labels[3], self.until),
        ):
            if label is not None:
                filters.addWidget(label)
            filters.addWidget(widget, 2 if widget is self.text else 0)
        filters.addWidget(show)
        layout = QVBoxLayout(self)
        self.title = section("")
        layout.addWidget(self.title)
        layout.addLayout(filters)
        layout.addWidget(self.count)
        layout.addWidget(self.table, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr("Audit trail"))
        self.text.setPlaceholderText(self.tr("target or detail contains …"))
        self.show_button.setText(self.tr("Show"))
        for label, text in zip(
            self.labels,
            (self.tr("User"), self.tr("Action"), self.tr("From"), self.tr("to")),
            strict=True,
        ):
            label.setText(text)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def current_filter(self) -> AuditFilter:
        def chosen(combo: QComboBox) -> str | None:
            text = combo.currentText()
            return None if text in ("", ANY) else text

        return AuditFilter(
            user=chosen(self.user),
            action=chosen(self.action),
            text=self.text.text().strip(),
            since=_day(self.since.date()),
            until=_day(self.until.date()),
        )

    def _fill_choices(self) -> None:
        for combo, column in ((self.user, "user"), (self.action, "action")):
            keep = combo.currentText()
            rows = self.store.query(f"SELECT DISTINCT {column} AS v FROM audit ORDER BY v")
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([ANY, *(str(r["v"]) for r in rows)])
            combo.setCurrentIndex(max(0, combo.findText(keep)))
            combo.blockSignals(False)

    def search(self) -> None:
        self._fill_choices()
        rows = audit_rows(self.store, self.current_filter())
        self.model.set_rows(rows)
        more = f" (the newest {FETCH_LIMIT})" if len(rows) >= FETCH_LIMIT else ""
        self.count.setText(f"{len(rows)} entries{more}")


def _day(date: QDate) -> dt.date:
    """The calendar day a date edit shows (``QDate.toPython`` is typed ``object``)."""
    return dt.date(date.year(), date.month(), date.day())
