"""Fixtures for the UI tests: a station on the virtual bench, users, and the window.

Qt runs offscreen (set before any QApplication exists). Each test gets its own results
database under tmp_path; stations and windows are shut down and deleted at teardown,
with the deferred deletes processed while Qt is alive (pyqtgraph + PySide6 can abort at
exit otherwise).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

import tests.ui.steps_for_ui  # noqa: F401  (registers test_ui_pulse)
import ui.auth
from station.runner import PreparedRun, RunOptions, prepare_run
from ui.controller import StationController
from ui.main_window import MainWindow

DATA = Path(__file__).parent / "data"
PASSWORD = "correct horse battery"
USERS = {"admin": "admin", "erin": "engineer", "otto": "operator"}
"""User name → role; ``admin`` is the first administrator."""

MakeStation = Callable[..., StationController]
REAL_SCRYPT = dict(ui.auth._SCRYPT)
FAST_SCRYPT = {"n": 2**8, "r": 8, "p": 1}


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash test passwords with a cheap scrypt cost (the kdf string records it).

    The station's cost (n=2**14, ~80 ms a hash) would spend half the UI suite's time
    hashing; ``real_kdf`` restores it for the tests that check it.
    """
    monkeypatch.setattr(ui.auth, "_SCRYPT", FAST_SCRYPT)


@pytest.fixture
def real_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui.auth, "_SCRYPT", REAL_SCRYPT)


def add_users(controller: StationController) -> None:
    """Create one user per role (see USERS) and leave nobody logged in."""
    controller.create_first_admin("admin", PASSWORD)
    for name, role in USERS.items():
        if name != "admin":
            controller.create_user(name, role, PASSWORD, "test users")
    controller.logout()


def login_as(controller: StationController, role: str) -> None:
    name = next(n for n, r in USERS.items() if r == role)
    assert controller.login(name, PASSWORD) is not None


@pytest.fixture
def make_station(tmp_path: Path, qapp: object) -> Iterator[MakeStation]:
    """``make_station(sequence="pass.toml", speed=0.0, faults=(), users=True)`` → a controller."""
    made: list[tuple[PreparedRun, StationController]] = []

    def make(
        sequence: str | Path = "pass.toml",
        speed: float = 0.0,
        faults: tuple[str, ...] = (),
        users: bool = True,
    ) -> StationController:
        options = RunOptions(
            sequence=DATA / sequence,
            db=tmp_path / "results.db",
            sim=True,
            speed=speed,
            faults=faults,
        )
        prepared = prepare_run(options)
        controller = StationController(prepared, sim=True)
        made.append((prepared, controller))
        if users and controller.users.is_empty():
            add_users(controller)
        return controller

    yield make
    for prepared, controller in made:
        controller.shutdown()
        controller.deleteLater()
        prepared.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def make_window(qtbot: object, make_station: MakeStation) -> Callable[..., MainWindow]:
    """``make_window(role, **station_kwargs)`` → a shown MainWindow with ``role`` logged in."""

    def make(role: str | None = "operator", **kwargs: object) -> MainWindow:
        controller = make_station(**kwargs)
        window = MainWindow(controller)
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        window.resize(1600, 1000)
        window.show()
        if role is not None:
            login_as(controller, role)
            window.on_login()
        return window

    return make
