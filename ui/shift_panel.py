"""Shift counters (tested, passed, first-pass yield) and the last packs with their verdicts."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from station.store import ResultsStore
from ui import spc
from ui.i18n import QT_TRANSLATE_NOOP, translate
from ui.models import Column, RowsModel, local_time, make_table, outcome_tint, outcome_word
from ui.style import font, section

LAST_N = 12
COUNTERS = (
    QT_TRANSLATE_NOOP("ShiftPanel", "Tested"),
    QT_TRANSLATE_NOOP("ShiftPanel", "Passed"),
    QT_TRANSLATE_NOOP("ShiftPanel", "First-pass yield"),
)

RECENT_COLUMNS = (
    Column(
        QT_TRANSLATE_NOOP("Column", "Time"),
        lambda r: local_time(r.started_at)[11:19],
        tooltip=lambda r: r.id,
    ),
    Column(QT_TRANSLATE_NOOP("Column", "Serial"), lambda r: r.serial),
    Column(QT_TRANSLATE_NOOP("Column", "Verdict"), lambda r: outcome_word(r.outcome)),
)


class ShiftPanel(QWidget):
    """Counters for the current shift and the last ``LAST_N`` runs, from the results store."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counters = spc.Counters(0, 0, 0)
        self.title = section("")
        grid = QGridLayout()
        self.values: dict[str, QLabel] = {}
        self.names: dict[str, QLabel] = {}
        for col, key in enumerate(COUNTERS):
            self.names[key] = name = QLabel()
            name.setFont(font(12))
            name.setAlignment(Qt.AlignmentFlag.AlignCenter)
            value = QLabel("0")
            value.setFont(font(26, bold=True))
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(value, 0, col)
            grid.addWidget(name, 1, col)
            self.values[key] = value
        self.recent = recent = section("")
        self.model = RowsModel(RECENT_COLUMNS, tint=lambda r: outcome_tint(r.outcome))
        self.table = make_table(self.model, 1, point_size=13)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(grid)
        layout.addWidget(recent)
        layout.addWidget(self.table, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr("This shift"))
        self.recent.setText(self.tr("Last packs"))
        for key, name in self.names.items():
            name.setText(translate("ShiftPanel", key))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def refresh(self, store: ResultsStore, now: dt.datetime | None = None) -> None:
        now = now or dt.datetime.now().astimezone()
        since = spc.shift_start(now)
        shift_runs = store.list_runs(since=since, limit=100_000)
        self.counters = spc.counters(shift_runs)
        self.values["Tested"].setText(str(self.counters.tested))
        self.values["Passed"].setText(str(self.counters.passed))
        self.values["First-pass yield"].setText(spc.format_yield(self.counters.first_pass_yield))
        self.model.set_rows(store.list_runs(limit=LAST_N))
