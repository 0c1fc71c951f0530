"""Engineers' fault injection on the virtual bench (``station ui --sim``): training and demos.

Lists the virtual bench's fault catalogue (name, what its magnitude means, the default,
what it does); the engineer picks one, types a magnitude or keeps the default, gives a
reason and injects it. Faults reach the bench through ``station.runner`` (the UI never
imports a driver); each one is audited and stays on until the UI closes. On a station with
parallel nests a selector names the nest whose pack, BMS and instruments get the fault.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from station.errors import StationError
from station.runner import SimFault
from ui.controller import StationController
from ui.i18n import QT_TRANSLATE_NOOP
from ui.models import Column, RowsModel, make_table
from ui.style import BAD_COLOUR, GOOD_COLOUR

FAULT_COLUMNS = (
    Column(QT_TRANSLATE_NOOP("Column", "Fault"), lambda f: f.name),
    Column(QT_TRANSLATE_NOOP("Column", "Magnitude"), lambda f: f.value or "—"),
    Column(QT_TRANSLATE_NOOP("Column", "Default"), lambda f: f.default or "—"),
    Column(QT_TRANSLATE_NOOP("Column", "What it does"), lambda f: f.help, tooltip=lambda f: f.help),
)


class FaultPanel(QGroupBox):
    """The fault catalogue with an Inject button; ``reason`` is the page's reason field.

    ``nests``: (label, controller) of each nest of a station with parallel nests; the panel
    then injects into the nest picked in its selector (``controller`` is the first nest's).
    """

    def __init__(
        self,
        controller: StationController,
        reason: QLineEdit,
        nests: list[tuple[str, StationController]] | None = None,
    ) -> None:
        super().__init__()
        self.controller = controller
        self.reason = reason
        self.nests = nests if nests and len(nests) > 1 else [("", controller)]
        self.nest_label = QLabel()
        self.nest = QComboBox()
        for label, _ in self.nests:
            self.nest.addItem(label)
        self.nest.currentIndexChanged.connect(lambda *_: self._show_active())
        self.nest_label.setVisible(len(self.nests) > 1)
        self.nest.setVisible(len(self.nests) > 1)
        self.model = RowsModel(FAULT_COLUMNS)
        self.model.set_rows(controller.fault_catalogue())
        self.table = make_table(self.model, 3, select=True, point_size=12)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._picked())
        self.magnitude = QLineEdit()
        self.inject_button = inject = QPushButton()
        inject.clicked.connect(self.inject_selected)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.active = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.nest_label)
        row.addWidget(self.nest)
        row.addWidget(self.magnitude, 1)
        row.addWidget(inject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.active)
        self.retranslate()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Virtual-bench faults (training and demos; on until the UI closes)"))
        self.inject_button.setText(self.tr("Inject selected fault"))
        self.nest_label.setText(self.tr("Nest"))
        self._picked()
        self._show_active()

    def target(self) -> StationController:
        """The controller of the nest the fault goes into (the only one without nests)."""
        return self.nests[max(self.nest.currentIndex(), 0)][1]

    def _show_active(self) -> None:
        injected = self.target().injected
        self.active.setText(
            self.tr("On: {faults}").format(faults=", ".join(injected)) if injected else ""
        )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def selected(self) -> SimFault | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def _picked(self) -> None:
        fault = self.selected()
        self.magnitude.setEnabled(bool(fault and fault.value))
        if fault is None:
            self.magnitude.setPlaceholderText(self.tr("magnitude (empty = the default)"))
        elif fault.value:
            self.magnitude.setPlaceholderText(
                self.tr("{magnitude} (default {default})").format(
                    magnitude=fault.value, default=fault.default
                )
            )
        else:
            self.magnitude.setPlaceholderText(self.tr("no magnitude"))

    def inject_selected(self) -> bool:
        fault = self.selected()
        if fault is None:
            self._say(self.tr("select a fault first"), ok=False)
            return False
        try:
            self.target().inject_fault(fault.name, self.magnitude.text(), self.reason.text())
        except StationError as err:
            self._say(f"✖ {err}", ok=False)
            return False
        self._say(
            self.tr("✔ {fault} is on; the next pack runs with it").format(fault=fault.name), ok=True
        )
        self.magnitude.clear()
        self._show_active()
        return True

    def _say(self, text: str, *, ok: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {GOOD_COLOUR if ok else BAD_COLOUR};")
