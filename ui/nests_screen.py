"""The test page of a station with parallel nests: one operator screen per nest, side by side.

Each nest has its own :class:`~ui.controller.StationController` (its engine, worker thread,
bridge and prompter), so each screen keeps its own scan field, START/ABORT, banner, step
list and prompts, exactly as on a single-nest station. The nests share the person at the
station: whoever logs in on the first controller is logged in on every nest.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui.controller import StationController
from ui.operator_screen import OperatorScreen
from ui.style import font


class NestsScreen(QWidget):
    """Operator screens for ``controllers`` (one per nest, labelled by ``labels``)."""

    def __init__(
        self,
        controllers: list[StationController],
        labels: list[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controllers = controllers
        self.screens: list[OperatorScreen] = []
        self.titles: list[tuple[QLabel, str]] = []  # a nest's title and its label
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for controller, label in zip(controllers, labels, strict=True):
            column = QVBoxLayout()
            title = QLabel()
            title.setObjectName("nest_title")
            title.setFont(font(18, bold=True))
            self.titles.append((title, label))
            column.addWidget(title)
            screen = OperatorScreen(controller)
            column.addWidget(screen, 1)
            row.addLayout(column, 1)
            self.screens.append(screen)
        primary = controllers[0]
        primary.changed.connect(self._share_session)
        self.retranslate()

    def retranslate(self) -> None:
        """Set the nests' titles in the screens' language."""
        for title, label in self.titles:
            title.setText(self.tr("Nest {label}").format(label=label))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def _share_session(self) -> None:
        session = self.controllers[0].session
        for controller in self.controllers[1:]:
            if controller.session != session:
                controller.session = session
                controller.changed.emit()

    def dispose(self) -> None:
        for screen in self.screens:
            screen.dispose()
