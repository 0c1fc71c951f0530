"""The engineering page: releases, production mode, overrides and (admins) users.

Every button here calls a controller method that checks the role and writes the audit
trail; the page itself only collects the reason and shows the outcome. A reason is
required for every change: it is what the audit trail is for.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from station.errors import StationError
from station.releases import sha256_on_disk
from ui.auth import ROLES, Action
from ui.controller import StationController
from ui.fault_panel import FaultPanel
from ui.i18n import QT_TRANSLATE_NOOP, translate
from ui.models import Column, RowsModel, local_time, make_table
from ui.releases import FileToRelease
from ui.style import BAD_COLOUR, GOOD_COLOUR

FILE_COLUMNS = (
    Column(QT_TRANSLATE_NOOP("Column", "Kind"), lambda f: f[0].kind),
    Column(
        QT_TRANSLATE_NOOP("Column", "File"),
        lambda f: shown_path(f[0].path),
        tooltip=lambda f: str(f[0].path),
    ),
    Column(QT_TRANSLATE_NOOP("Column", "Name / version"), lambda f: f"{f[0].name} {f[0].version}"),
    Column(
        QT_TRANSLATE_NOOP("Column", "sha256"),
        lambda f: f[0].sha256[:16] + "…",
        tooltip=lambda f: f[0].sha256,
    ),
    Column(QT_TRANSLATE_NOOP("Column", "Status"), lambda f: f[1]),
)
RELEASE_COLUMNS = (
    Column(QT_TRANSLATE_NOOP("Column", "When"), lambda r: local_time(str(r["released_at"]))),
    Column(QT_TRANSLATE_NOOP("Column", "By"), lambda r: str(r["released_by"])),
    Column(
        QT_TRANSLATE_NOOP("Column", "File"),
        lambda r: shown_path(r["path"]),
        tooltip=lambda r: str(r["path"]),
    ),
    Column(
        QT_TRANSLATE_NOOP("Column", "sha256"),
        lambda r: str(r["sha256"])[:16] + "…",
        tooltip=lambda r: str(r["sha256"]),
    ),
    Column(QT_TRANSLATE_NOOP("Column", "Note"), lambda r: str(r["note"])),
    Column(
        QT_TRANSLATE_NOOP("Column", "Revoked"),
        lambda r: "" if r["revoked_at"] is None else f"{r['revoked_by']}: {r['revoke_reason']}",
    ),
)
BLOCKER_COLUMNS = (
    Column(QT_TRANSLATE_NOOP("Column", "Blocks the start"), lambda b: b[0].message),
    Column(QT_TRANSLATE_NOOP("Column", "Override"), lambda b: b[1]),
)
USER_COLUMNS = (
    Column(QT_TRANSLATE_NOOP("Column", "User"), lambda u: str(u["name"])),
    Column(QT_TRANSLATE_NOOP("Column", "Role"), lambda u: str(u["role"])),
    Column(
        QT_TRANSLATE_NOOP("Column", "Created"),
        lambda u: translate("EngineeringPage", "{when} by {user}").format(
            when=local_time(str(u["created_at"])), user=u["created_by"]
        ),
    ),
    Column(
        QT_TRANSLATE_NOOP("Column", "Login"),
        lambda u: (
            translate("EngineeringPage", "disabled")
            if u["disabled"]
            else translate("EngineeringPage", "enabled")
        ),
    ),
)


class EngineeringPage(QWidget):
    """Releases, production mode, overrides and users for engineers and admins."""

    def __init__(
        self,
        controller: StationController,
        parent: QWidget | None = None,
        *,
        nests: list[tuple[str, StationController]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.reason = QLineEdit()
        self.message = QLabel()
        self.message.setWordWrap(True)

        self.mode = QLabel()
        self.mode_button = QPushButton()
        self.mode_button.clicked.connect(self.toggle_production)
        self.mode_box = mode_box = QGroupBox()
        row = QHBoxLayout(mode_box)
        row.addWidget(self.mode, 1)
        row.addWidget(self.mode_button)

        self.files = RowsModel(FILE_COLUMNS)
        self.file_table = make_table(self.files, 1, select=True, point_size=13)
        self.history = RowsModel(RELEASE_COLUMNS)
        self.release_button = release_button = QPushButton()
        release_button.clicked.connect(self.release_selected)
        self.revoke_button = revoke_button = QPushButton()
        revoke_button.clicked.connect(self.revoke_selected)
        self.release_box = release_box = QGroupBox()
        box = QVBoxLayout(release_box)
        box.addWidget(self.file_table, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(release_button)
        buttons.addWidget(revoke_button)
        buttons.addStretch(1)
        box.addLayout(buttons)
        self.history_title = QLabel()
        box.addWidget(self.history_title)
        box.addWidget(make_table(self.history, 4, point_size=12), 2)

        self.blockers = RowsModel(BLOCKER_COLUMNS)
        self.blocker_table = make_table(self.blockers, 0, select=True, point_size=13)
        self.override_button = override_button = QPushButton()
        override_button.clicked.connect(self.override_selected)
        self.override_box = override_box = QGroupBox()
        box = QVBoxLayout(override_box)
        box.addWidget(self.blocker_table)
        box.addWidget(override_button)

        self.users = RowsModel(USER_COLUMNS)
        self.new_name = QLineEdit()
        self.new_role = QComboBox()
        self.new_role.addItems(list(ROLES))
        self.new_password = QLineEdit()
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_user_button = add_user = QPushButton()
        add_user.clicked.connect(self.add_user)
        self.disable_button = QPushButton()
        self.disable_button.clicked.connect(lambda: self.disable_selected(True))
        self.enable_button = QPushButton()
        self.enable_button.clicked.connect(lambda: self.disable_selected(False))
        self.reset_button = QPushButton()
        self.reset_button.clicked.connect(self.reset_password)
        self.users_box = QGroupBox()
        box = QVBoxLayout(self.users_box)
        self.user_table = make_table(self.users, 2, select=True, point_size=13)
        box.addWidget(self.user_table)
        form = QHBoxLayout()
        for w in (self.new_name, self.new_role, self.new_password, add_user):
            form.addWidget(w)
        box.addLayout(form)
        selected = QHBoxLayout()
        for w in (self.disable_button, self.enable_button, self.reset_button):
            selected.addWidget(w)
        selected.addStretch(1)
        box.addLayout(selected)

        top = QHBoxLayout()
        self.reason_label = QLabel()
        top.addWidget(self.reason_label)
        top.addWidget(self.reason, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(mode_box)
        layout.addWidget(release_box, 3)
        layout.addWidget(override_box, 1)
        layout.addWidget(self.users_box, 2)
        self.faults = FaultPanel(controller, self.reason, nests)
        self.faults.setVisible(bool(controller.fault_catalogue()))
        layout.addWidget(self.faults, 2)
        controller.changed.connect(self.refresh)
        self.retranslate()

    def retranslate(self) -> None:
        """Set the fixed texts in the screens' language, then the rest (``refresh``)."""
        self.reason.setPlaceholderText(self.tr("reason / note for the audit trail (required)"))
        self.reason_label.setText(self.tr("Reason"))
        self.mode_box.setTitle(self.tr("Production mode"))
        self.release_button.setText(self.tr("Release selected file"))
        self.revoke_button.setText(self.tr("Revoke its release"))
        self.release_box.setTitle(self.tr("Sequence and limit files (released = locked by sha256)"))
        self.history_title.setText(self.tr("Release history"))
        self.override_button.setText(self.tr("Override selected (one shift)"))
        self.override_box.setTitle(
            self.tr("Overrides (expired calibration, unconfirmed safe state)")
        )
        self.new_name.setPlaceholderText(self.tr("user name"))
        self.new_password.setPlaceholderText(self.tr("password (8+ characters)"))
        self.add_user_button.setText(self.tr("Add user"))
        self.disable_button.setText(self.tr("Disable selected"))
        self.enable_button.setText(self.tr("Enable selected"))
        self.reset_button.setText(self.tr("Set selected's password"))
        self.users_box.setTitle(self.tr("Users (admins) — the reason above is required"))
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def refresh(self) -> None:
        c = self.controller
        production = c.releases.production_mode
        self.mode.setText(
            self.tr("PRODUCTION: only released files run")
            if production
            else self.tr("ENGINEERING: unreleased files may run — not for production")
        )
        self.mode.setStyleSheet(f"color: {GOOD_COLOUR if production else BAD_COLOUR};")
        self.mode_button.setText(
            self.tr("Switch to engineering mode")
            if production
            else self.tr("Switch to production mode")
        )
        self.files.set_rows([(f, self._status(f)) for f in c.files_to_release()])
        self.history.set_rows(c.releases.all())
        overrides = c.overrides
        now = c.now()
        self.blockers.set_rows(
            [(b, _override_text(overrides.active(b.key, now))) for b in c.overridable_blockers()]
        )
        self.users_box.setVisible(c.can(Action.MANAGE_USERS))
        self.faults.setVisible(bool(c.fault_catalogue()) and c.can(Action.INJECT_FAULT))
        if c.can(Action.MANAGE_USERS):
            self.users.set_rows(c.users.users())

    def _status(self, f: FileToRelease) -> str:
        release = self.controller.releases.release_of(f.sha256)
        if sha256_on_disk(f.path) != f.sha256:
            return self.tr("CHANGED ON DISK since loading")
        if release is None:
            return self.tr("NOT released")
        return self.tr("released by {user} {when}").format(
            user=release["released_by"], when=local_time(str(release["released_at"]))
        )

    # -- actions ----------------------------------------------------------------------------
    def _do(self, what: str, action: Callable[[], Any]) -> bool:
        try:
            action()
        except StationError as err:
            self.message.setText(f"✖ {what}: {err}")  # the station's sentence, as it is
            self.message.setStyleSheet(f"color: {BAD_COLOUR};")
            return False
        self.message.setText(
            self.tr("✔ {what}: done (recorded in the audit trail)").format(what=what)
        )
        self.message.setStyleSheet(f"color: {GOOD_COLOUR};")
        self.reason.clear()
        return True

    def _selected(self, table: QTableView, model: RowsModel) -> Any:
        rows = table.selectionModel().selectedRows()
        return model.rows[rows[0].row()] if rows else None

    def release_selected(self) -> bool:
        row = self._selected(self.file_table, self.files)
        if row is None:
            self.message.setText(self.tr("select a file to release"))
            return False
        return self._do(
            self.tr("release"), lambda: self.controller.release(row[0], self.reason.text())
        )

    def revoke_selected(self) -> bool:
        row = self._selected(self.file_table, self.files)
        if row is None:
            self.message.setText(self.tr("select a released file"))
            return False
        return self._do(
            self.tr("revoke"), lambda: self.controller.revoke(row[0].sha256, self.reason.text())
        )

    def toggle_production(self) -> bool:
        on = not self.controller.releases.production_mode
        return self._do(
            self.tr("production mode"),
            lambda: self.controller.set_production_mode(on, self.reason.text()),
        )

    def override_selected(self) -> bool:
        row = self._selected(self.blocker_table, self.blockers)
        if row is None:
            self.message.setText(self.tr("select what to override"))
            return False
        return self._do(
            self.tr("override"),
            lambda: self.controller.grant_override(row[0].key, self.reason.text()),
        )

    def add_user(self) -> bool:
        ok = self._do(
            self.tr("add user"),
            lambda: self.controller.create_user(
                self.new_name.text(),
                self.new_role.currentText(),
                self.new_password.text(),
                self.reason.text(),
            ),
        )
        self.new_password.clear()
        if ok:
            self.new_name.clear()
        return ok

    def disable_selected(self, disabled: bool) -> bool:
        user = self._selected(self.user_table, self.users)
        if user is None:
            self.message.setText(self.tr("select a user"))
            return False
        name = str(user["name"])
        return self._do(
            self.tr("disable user") if disabled else self.tr("enable user"),
            lambda: self.controller.set_disabled(name, disabled, self.reason.text()),
        )

    def reset_password(self) -> bool:
        """Set the selected user's password to the one typed in the password field."""
        user = self._selected(self.user_table, self.users)
        if user is None:
            self.message.setText(self.tr("select a user, type the new password, give a reason"))
            return False
        name = str(user["name"])
        ok = self._do(
            self.tr("set password"),
            lambda: self.controller.set_password(
                name, self.new_password.text(), self.reason.text()
            ),
        )
        self.new_password.clear()
        return ok


def shown_path(path: object) -> str:
    """``path`` relative to the working directory when it is below it."""
    p = Path(str(path))
    try:
        return str(p.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def _override_text(o: Any) -> str:
    if o is None:
        return "—"
    return f"{o.user} until {o.expires:%H:%M} UTC: {o.reason}"
