"""The login page (and, on a new station, creating the first administrator)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from station.errors import StationError
from ui.controller import StationController
from ui.style import BAD_COLOUR, big_button, font


class LoginPage(QWidget):
    """Name and password; emits ``loggedIn`` once the controller has a session."""

    loggedIn = Signal()

    def __init__(self, controller: StationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.title = QLabel()
        self.title.setFont(font(28, bold=True))
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setFont(font(15))
        self.name = QLineEdit()
        self.password = QLineEdit()
        self.repeat = QLineEdit()
        for edit in (self.name, self.password, self.repeat):
            edit.setFont(font(20))
            edit.setMinimumHeight(54)
        for edit in (self.password, self.repeat):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.name.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self.submit)
        self.repeat.returnPressed.connect(self.submit)
        self.button = big_button("", "#1565C0")
        self.button.clicked.connect(self.submit)
        self.message = QLabel()
        self.message.setStyleSheet(f"color: {BAD_COLOUR};")
        self.message.setWordWrap(True)
        self.message.setFont(font(15, bold=True))
        self.form = QFormLayout()
        self.name_label, self.password_label, self.repeat_label = QLabel(), QLabel(), QLabel()
        self.form.addRow(self.name_label, self.name)
        self.form.addRow(self.password_label, self.password)
        self.form.addRow(self.repeat_label, self.repeat)
        self._note = ""  # "idle", or a message from the station (shown as it is)

        card = QFrame()
        card.setMaximumWidth(720)
        inner = QVBoxLayout(card)
        inner.addWidget(self.title)
        inner.addWidget(self.hint)
        inner.addLayout(self.form)
        inner.addWidget(self.button)
        inner.addWidget(self.message)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.reset()

    @property
    def first_admin(self) -> bool:
        return self.controller.users.is_empty()

    def reset(self, note: str = "") -> None:
        """Empty the form for the next login; ``note`` "idle" says why the user left."""
        self._note = note
        self.retranslate()
        self.password.clear()
        self.repeat.clear()
        self.name.setFocus()

    def retranslate(self) -> None:
        first = self.first_admin
        station = self.controller.config.station_id
        if first:
            self.title.setText(self.tr("Create the first administrator"))
            self.hint.setText(
                self.tr(
                    "This station has no users yet. The first account is an administrator, "
                    "who then adds operators and engineers."
                )
            )
        else:
            self.title.setText(self.tr("Log in — {station}").format(station=station))
            self.hint.setText(
                self.tr(
                    "Operators test packs; engineers and admins also browse results and "
                    "release files."
                )
            )
        self.name_label.setText(self.tr("User"))
        self.password_label.setText(self.tr("Password"))
        self.repeat_label.setText(self.tr("Repeat password"))
        self.form.setRowVisible(self.repeat, first)
        self.button.setText(self.tr("CREATE AND LOG IN") if first else self.tr("LOG IN"))
        if self._note == "idle":
            self.message.setText(self.tr("logged out after a period without input"))
        else:
            self.message.setText(self._note)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def submit(self) -> None:
        name, password = self.name.text().strip(), self.password.text()
        if self.first_admin:
            if password != self.repeat.text():
                self.message.setText(self.tr("the two passwords differ"))
                return
            try:
                self.controller.create_first_admin(name, password)
            except StationError as err:
                self.message.setText(str(err))
                return
        else:
            try:
                session = self.controller.login(name, password)
            except StationError as err:  # e.g. an account edited outside the station
                self.message.setText(str(err))
                self.password.clear()
                return
            if session is None:
                self.message.setText(
                    self.tr("wrong user name or password (or the account is disabled)")
                )
                self.password.clear()
                return
        self.password.clear()
        self.repeat.clear()
        self.message.clear()
        self.loggedIn.emit()
