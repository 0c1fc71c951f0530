"""French and Arabic on the screens: switching, right to left, per account, sequence texts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import PASSWORD
from ui import i18n
from ui.main_window import MainWindow
from ui.models import measured_text
from ui.nests_screen import NestsScreen

pytestmark = pytest.mark.ui
SERIAL = "NM96A0000001"
RUN_MS = 15_000


@pytest.fixture(autouse=True)
def english_afterwards(qapp: object) -> Iterator[None]:
    yield
    i18n.use("en")


def test_switching_the_language_changes_the_visible_texts(make_window) -> None:
    window = make_window("operator")
    op = window.operator
    assert (op.start_button.text(), window.tabs.tabText(0)) == ("START", "Test")
    assert "READY" in op.banner.text
    window.language.setCurrentIndex(window.language.findData("fr"))
    window.language.activated.emit(window.language.currentIndex())
    assert i18n.current() == "fr"
    assert (op.start_button.text(), window.tabs.tabText(0)) == ("DÉMARRER", "Test")
    assert "PRÊT" in op.banner.text and "Scannez le pack suivant" in op.banner.text
    assert op.steps.headerData(1, Qt.Orientation.Horizontal) == "Étape"
    assert op.shift.title.text() == "Cette équipe"
    window.set_language("en")
    assert op.start_button.text() == "START" and "READY" in op.banner.text


def test_arabic_mirrors_the_layout_and_keeps_values_left_to_right(make_window) -> None:
    window = make_window("operator")
    window.set_language("ar")
    assert QApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert window.operator.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert window.operator.start_button.text() == "ابدأ"
    assert measured_text(1.98486e6, None, None, "Ohm") == "\u20661.985 MΩ\u2069"
    window.set_language("fr")
    assert QApplication.layoutDirection() == Qt.LayoutDirection.LeftToRight
    assert measured_text(1.98486e6, None, None, "Ohm") == "1.985 MΩ"
    assert measured_text(None, None, None, "Ohm") == "non mesuré"


def test_each_account_keeps_its_language_and_gets_it_at_login(make_window) -> None:
    window = make_window("operator")  # otto
    c = window.controller
    window.set_language("ar")
    window.logout("logout")
    assert i18n.current() == "en"  # the station's default while nobody is logged in
    assert window.login.button.text() == "LOG IN"
    assert c.login("erin", PASSWORD) is not None  # no language of her own: the default
    window.on_login()
    assert i18n.current() == "en"
    window.logout("logout")
    assert c.login("otto", PASSWORD) is not None
    window.on_login()
    assert i18n.current() == "ar" and window.operator.start_button.text() == "ابدأ"
    with sqlite3.connect(c.prepared.db_path) as conn:
        audited = conn.execute(
            "SELECT user, target, detail FROM audit WHERE action = 'set_language'"
        ).fetchall()
    assert audited == [("otto", "otto", "ar")]


def test_an_unknown_language_is_refused_in_one_sentence(make_station) -> None:
    c = make_station()
    c.login("otto", PASSWORD)
    with pytest.raises(Exception, match="unknown language 'de'"):
        c.choose_language("de")


def test_the_sequence_translations_show_in_the_step_list_and_prompt(qtbot, make_window) -> None:
    window = make_window("operator", sequence="translated.toml")
    op, c = window.operator, window.controller
    window.set_language("fr")
    op.scan.setText(SERIAL)
    with qtbot.waitSignal(c.prompter.requested, timeout=RUN_MS):
        op.start_button.click()
    qtbot.waitUntil(op.prompt.isVisible, timeout=RUN_MS)
    steps = [op.steps.data(op.steps.index(i, 1)) for i in range(len(op.steps.rows))]
    assert steps[:3] == ["Raccorder le pack", "Tension à vide du pack", "DCIR pulse"]
    assert op.prompt.text.text() == "Pack sur le banc, faisceau HT branché, porte fermée ?"
    assert op.prompt.buttons["yes"].text() == "OUI"
    assert "étape 1 sur 4" in op.banner.text and "Raccorder le pack" in op.banner.text
    window.set_language("ar")  # switched while the prompt waits: it follows
    assert op.prompt.text.text().startswith("هل البطارية")
    assert op.steps.data(op.steps.index(1, 1)) == "Pack OCV"  # not translated to Arabic
    with qtbot.waitSignal(c.runDone, timeout=RUN_MS) as done:
        op.prompt.buttons["yes"].click()
    assert done.args[0].outcome == "PASSED"
    assert "ناجح" in op.banner.text
    recorded = c.store.query("SELECT name FROM steps WHERE run_id = ?", [done.args[0].run_id])
    assert recorded[0]["name"] == "Connect pack"  # the record keeps the names as written


def test_a_new_window_speaks_the_station_default_even_after_another_language(
    qtbot, make_window
) -> None:
    """Opening the window switches the language, which reaches the window being built."""
    first = make_window("operator")
    first.set_language("fr")
    second = MainWindow(first.controller)  # a user is logged in: their language
    qtbot.addWidget(second)
    assert i18n.current() == "fr" and second.operator.start_button.text() == "DÉMARRER"
    first.controller.logout()
    third = MainWindow(first.controller)  # nobody logged in: the station's default
    qtbot.addWidget(third)
    assert i18n.current() == "en" and third.tabs.tabText(0) == "Test"
    assert first.operator.start_button.text() == "START"  # every open window follows


def test_the_nests_screen_names_its_nests_in_the_new_language(qtbot, make_station) -> None:
    station = make_station()  # shown twice: the titles are what this test reads
    nests = NestsScreen([station, station], ["1", "2 (right)"])
    qtbot.addWidget(nests)
    try:
        assert [title.text() for title, _ in nests.titles] == ["Nest 1", "Nest 2 (right)"]
        i18n.use("fr")
        assert [title.text() for title, _ in nests.titles] == [
            "Emplacement 1",
            "Emplacement 2 (right)",
        ]
    finally:
        nests.dispose()
