"""The station window: login, then the Test, Results and Engineering tabs by role.

Operators see the Test tab only; engineers also Results and Engineering; admins also
manage users there. Opening a tab the role may not use is refused and audited. After
``idle_minutes`` without keyboard or mouse input the user is logged out — never during
a run: the logout waits for the run to end, and the run keeps the operator who started it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from station.errors import StationError
from station.languages import LANGUAGES
from ui import i18n
from ui.audit_view import AuditView
from ui.auth import Action
from ui.controller import StationController
from ui.engineering import EngineeringPage
from ui.i18n import QT_TRANSLATE_NOOP, translate
from ui.login import LoginPage
from ui.nests_screen import NestsScreen
from ui.operator_screen import OperatorScreen
from ui.results_browser import ResultsBrowser
from ui.style import APP_STYLESHEET, BASE_POINT_SIZE, font

TABS = {
    "test": Action.RUN,
    "results": Action.BROWSE_RESULTS,
    "engineering": Action.OVERRIDE,
    "audit": Action.OVERRIDE,
}
ROLE_WORDS = {
    "operator": QT_TRANSLATE_NOOP("Role", "operator"),
    "engineer": QT_TRANSLATE_NOOP("Role", "engineer"),
    "admin": QT_TRANSLATE_NOOP("Role", "admin"),
}
"""The roles as the top bar names them (the role itself stays the station's word)."""
_INPUT = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin}


def scrolling(page: QWidget) -> QScrollArea:
    """``page`` in a scroll area: at least its minimum size, scrolled when the window is smaller."""
    area = QScrollArea()
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


class MainWindow(QMainWindow):
    """The whole station UI over one ``StationController``."""

    def __init__(
        self,
        controller: StationController,
        idle_minutes: float = 15.0,
        *,
        nests: list[tuple[str, StationController]] | None = None,
    ) -> None:
        """``nests``: (label, controller) of every nest of a station with parallel nests,
        the first being ``controller`` (login, results and engineering go through it)."""
        super().__init__()
        self.controller = controller
        self.nests = NestsScreen([c for _, c in nests], [n for n, _ in nests]) if nests else None
        self.kiosk = False
        self._closed = False
        seq = controller.sequence
        self._title = (controller.config.station_id, seq.name)
        # The base font for every widget that sets none (a window stylesheet stops a window
        # font from reaching its children, so it is set application-wide).
        QApplication.setFont(font(BASE_POINT_SIZE))
        self.setStyleSheet(APP_STYLESHEET)

        self.who = QLabel()
        self.who.setFont(font(14, bold=True))
        self.logout_button = QPushButton()
        self.logout_button.clicked.connect(lambda: self.logout("logout"))
        self.notice = QLabel()
        # Each language in its own name, so anyone finds theirs whatever is shown now.
        self.language = QComboBox()
        self.language.setObjectName("language")
        self.language.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps it
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(self.language.findData(i18n.current()))
        self.language.activated.connect(self._language_chosen)
        bar = QHBoxLayout()
        self.station = QLabel()
        self.station.setFont(font(14, bold=True))
        bar.addWidget(self.station)
        bar.addWidget(self.notice, 1)
        bar.addWidget(self.language)
        bar.addWidget(self.who)
        bar.addWidget(self.logout_button)

        self.login = LoginPage(controller)
        self.login.loggedIn.connect(self.on_login)
        # With nests the Test tab shows them side by side; ``operator`` is the first nest's.
        self.operator = self.nests.screens[0] if self.nests else OperatorScreen(controller)
        self.results = ResultsBrowser(controller)
        self.engineering = EngineeringPage(controller, nests=nests)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.nests or self.operator, "")
        # Engineers' pages scroll on a small screen instead of growing the window.
        self.tabs.addTab(scrolling(self.results), "")
        self.tabs.addTab(scrolling(self.engineering), "")
        self.audit = AuditView(controller.store)
        self.tabs.addTab(self.audit, "")
        self._tab_index = {"test": 0, "results": 1, "engineering": 2, "audit": 3}
        self.tabs.currentChanged.connect(self._tab_changed)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.login)
        self.pages.addWidget(self.tabs)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.setInterval(max(1, int(idle_minutes * 60_000)))
        self.idle.timeout.connect(self._idle_timeout)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        controller.runDone.connect(lambda _: self.idle.start())
        controller.changed.connect(self._update_session)
        # Only now: switching sends every window a LanguageChange, this one included.
        self._speak(controller.language())
        self.retranslate()

    # -- language ------------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Set the window's own texts in the screens' language."""
        station, sequence = self._title
        self.setWindowTitle(
            self.tr("EOL station {station} — {sequence}").format(station=station, sequence=sequence)
        )
        self.station.setText(self.tr("Station {station}").format(station=station))
        self.logout_button.setText(self.tr("Log out"))
        for index, text in enumerate(
            (self.tr("Test"), self.tr("Results"), self.tr("Engineering"), self.tr("Audit trail"))
        ):
            self.tabs.setTabText(index, text)
        self.language.setCurrentIndex(self.language.findData(i18n.current()))
        self._update_session()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def set_language(self, code: str) -> None:
        """Speak ``code`` now; kept as the logged-in user's own language."""
        try:
            i18n.use(code)
        except ValueError as err:
            self.notice.setText(str(err))
            return
        self.controller.choose_language(code)

    def _language_chosen(self, index: int) -> None:
        self.set_language(str(self.language.itemData(index)))
        self.operator.focus_scan()

    # -- session -----------------------------------------------------------------------------
    def on_login(self) -> None:
        self._speak(self.controller.language())  # the account's own language
        self.pages.setCurrentWidget(self.tabs)
        self.tabs.setCurrentIndex(0)
        self.idle.start()
        self._update_session()
        self.operator.scan.setFocus()

    def logout(self, why: str) -> None:
        self.controller.logout(why)
        self._speak(self.controller.language())  # the station's default again
        self.login.reset("idle" if why == "idle" else "")
        self.pages.setCurrentWidget(self.login)

    def _speak(self, code: str) -> None:
        try:
            i18n.use(code)
        except ValueError as err:  # a broken installation: stay understandable
            self.notice.setText(str(err))

    def _idle_timeout(self) -> None:
        if any(c.running for c in self._controllers()):
            return  # the runDone connection restarts the timer after the run
        if self.controller.session is not None:
            self.logout("idle")

    def _controllers(self) -> list[StationController]:
        return self.nests.controllers if self.nests is not None else [self.controller]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT and self.controller.session is not None:
            self.idle.start()
        return False

    def _update_session(self) -> None:
        c = self.controller
        s = c.session
        role = translate("Role", ROLE_WORDS[s.role]) if s and s.role in ROLE_WORDS else ""
        self.who.setText(f"{s.user} ({role or s.role})" if s else self.tr("not logged in"))
        self.logout_button.setVisible(s is not None and not c.running)
        for name, action in TABS.items():
            self.tabs.setTabVisible(self._tab_index[name], c.can(action))
        if s is None and self.pages.currentWidget() is not self.login:
            self.login.reset()
            self.pages.setCurrentWidget(self.login)

    # -- tabs -----------------------------------------------------------------------------------
    def open_tab(self, name: str) -> bool:
        """Show tab ``name`` if the user's role allows it (a refusal is audited)."""
        try:
            self.controller.require(TABS[name], f"{name} tab")
        except StationError as err:
            self.notice.setText(str(err))
            return False
        self.tabs.setCurrentIndex(self._tab_index[name])
        return True

    def _tab_changed(self, index: int) -> None:
        if index == self._tab_index["results"] and self.controller.can(Action.BROWSE_RESULTS):
            self.results.search()
        elif index == self._tab_index["engineering"]:
            self.engineering.refresh()
        elif index == self._tab_index["audit"] and self.controller.can(Action.OVERRIDE):
            self.audit.search()

    # -- kiosk ----------------------------------------------------------------------------------
    def set_kiosk(self, on: bool = True) -> None:
        """Station PC mode: full screen, no frame, on top; only an engineer may close it."""
        self.kiosk = on
        flags = Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
        self.setWindowFlag(flags, on)
        if on:
            self.showFullScreen()
        else:
            self.showNormal()

    # -- closing ----------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.kiosk and not self.controller.can(Action.OVERRIDE):
            self.notice.setText(
                self.tr("In kiosk mode only an engineer may close the station window.")
            )
            event.ignore()
            return
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.idle.stop()
        if self.nests is not None:
            for nest in self.nests.controllers:
                nest.shutdown()
            self.nests.dispose()
        else:
            self.controller.shutdown()
            self.operator.dispose()
        self.results.dispose()
        super().closeEvent(event)
