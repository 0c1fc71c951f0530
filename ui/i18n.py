"""The screens' language: Qt translations (``ui/translations/*.qm``) and reading direction.

Every text a widget shows goes through Qt's ``tr()`` / ``translate(context, text)``;
``use(code)`` installs the compiled translation of a station language
(``station.languages``) on the application, which sends every widget a
``LanguageChange`` event (each screen then sets its texts again), and mirrors the layout
for a right-to-left language. Values with units are isolated left to right (``ltr``), so
"1.985 MΩ" reads the same in Arabic.

The ``.qm`` files are built from the ``.ts`` sources by ``make translations``
(``pyside6-lupdate`` / ``pyside6-lrelease``) and ship in the wheel; a test checks that
every text in ``ui/`` is translated and that the ``.qm`` match their sources.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTranslator
from PySide6.QtWidgets import QApplication

from station.languages import DEFAULT, LANGUAGES

translate = QCoreApplication.translate
"""``translate(context, text)``: the name ``pyside6-lupdate`` looks for."""

RIGHT_TO_LEFT = frozenset({"ar"})
TRANSLATED = tuple(code for code in LANGUAGES if code != DEFAULT)
"""Languages with a translation file (English is the source text)."""
_LRI, _PDI = "\u2066", "\u2069"  # left-to-right isolate … pop directional isolate

_state: dict[str, object] = {"language": DEFAULT, "translator": None}


def translations_dir() -> Path:
    """The folder with the ``.ts`` sources and the compiled ``.qm`` (package data)."""
    return Path(str(files("ui").joinpath("translations")))


def qm_path(code: str) -> Path:
    return translations_dir() / f"station_{code}.qm"


def current() -> str:
    """The code of the language the screens speak now."""
    return str(_state["language"])


def right_to_left() -> bool:
    return current() in RIGHT_TO_LEFT


def use(code: str) -> None:
    """Speak ``code`` (a key of ``station.languages.LANGUAGES``) from now on.

    Raises ValueError for an unknown code or a missing translation file (a broken
    installation), so the caller can say so; English always works.
    """
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}")
    if code == current():
        return
    app = QCoreApplication.instance()
    translator: QTranslator | None = None
    if code != DEFAULT:
        translator = QTranslator(app)
        if not translator.load(str(qm_path(code))):
            raise ValueError(f"the {LANGUAGES[code]} translation {qm_path(code)} cannot be read")
    old = _state["translator"]
    if app is not None and isinstance(old, QTranslator):
        app.removeTranslator(old)
        old.deleteLater()
    _state["translator"] = translator
    _state["language"] = code
    direction = (
        Qt.LayoutDirection.RightToLeft if code in RIGHT_TO_LEFT else Qt.LayoutDirection.LeftToRight
    )
    QApplication.setLayoutDirection(direction)
    if app is not None:
        if translator is not None:
            app.installTranslator(translator)
        # Installing or removing a translator posts LanguageChange, which reaches every
        # widget; deliver it now, so the screens speak the language when this returns.
        # The application passes it on to each window as a posted event in turn.
        QCoreApplication.sendPostedEvents(app, QEvent.Type.LanguageChange)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)


def ltr(text: str) -> str:
    """``text`` (a value, a serial, a unit) kept left to right inside right-to-left text."""
    return f"{_LRI}{text}{_PDI}" if text and right_to_left() else text


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Mark ``text`` for translation in ``context`` where it is defined (a table of
    words); ``translate(context, text)`` translates it where it is shown."""
    return text
