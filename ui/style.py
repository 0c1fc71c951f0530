"""Colours, fonts and sizes of the station screens, in one place.

Readable from 2 m and usable with gloves: big type, big buttons, and every state shown
by colour *and* text (and a symbol), never by colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QPushButton

from station.outcomes import Outcome, RunState, Verdict
from ui.i18n import QT_TRANSLATE_NOOP, translate


@dataclass(frozen=True)
class StateLook:
    """How the banner shows a state: background, text colour, symbol and word."""

    background: str
    foreground: str
    symbol: str
    word: str


STATES: dict[str, StateLook] = {
    "READY": StateLook("#37474F", "#FFFFFF", "●", QT_TRANSLATE_NOOP("State", "READY")),
    RunState.RUNNING: StateLook("#1565C0", "#FFFFFF", "▶", QT_TRANSLATE_NOOP("State", "RUNNING")),
    "ABORTING": StateLook("#E65100", "#FFFFFF", "■", QT_TRANSLATE_NOOP("State", "ABORTING")),
    Outcome.PASSED: StateLook("#2E7D32", "#FFFFFF", "✔", QT_TRANSLATE_NOOP("State", "PASS")),
    Outcome.FAILED: StateLook("#C62828", "#FFFFFF", "✖", QT_TRANSLATE_NOOP("State", "FAIL")),
    Outcome.ERROR: StateLook("#6A1B9A", "#FFFFFF", "⚠", QT_TRANSLATE_NOOP("State", "ERROR")),
    Outcome.ABORTED: StateLook("#F9A825", "#000000", "■", QT_TRANSLATE_NOOP("State", "ABORTED")),
    Outcome.TERMINATED: StateLook("#F9A825", "#000000", "■", QT_TRANSLATE_NOOP("State", "STOPPED")),
    "BLOCKED": StateLook("#455A64", "#FFEB3B", "⛔", QT_TRANSLATE_NOOP("State", "CANNOT START")),
}
"""The words are translated where the banner shows them (``state_word``)."""


def state_word(state: str) -> str:
    """The banner's word for ``state`` in the screens' language."""
    return translate("State", STATES[state].word)


# Row tints in tables (light, so black text stays readable).
OUTCOME_TINT: dict[str, str] = {
    Outcome.FAILED: "#FFCDD2",
    Outcome.ERROR: "#E1BEE7",
    Outcome.ABORTED: "#FFE0B2",
    Outcome.TERMINATED: "#FFE0B2",
    RunState.INTERRUPTED: "#FFE0B2",
    Outcome.PASSED: "#C8E6C9",
    RunState.RUNNING: "#BBDEFB",
    "MARGINAL": "#FFF59D",
}

# Short words for outcomes in tables (the full word is in the tooltip and the record).
OUTCOME_WORD: dict[str, str] = {
    Outcome.PASSED: QT_TRANSLATE_NOOP("Outcome", "✔ PASS"),
    Outcome.FAILED: QT_TRANSLATE_NOOP("Outcome", "✖ FAIL"),
    Outcome.ERROR: QT_TRANSLATE_NOOP("Outcome", "⚠ ERROR"),
    Outcome.ABORTED: QT_TRANSLATE_NOOP("Outcome", "■ ABORTED"),
    Outcome.TERMINATED: QT_TRANSLATE_NOOP("Outcome", "■ STOPPED"),
    Outcome.SKIPPED: QT_TRANSLATE_NOOP("Outcome", "– skipped"),
    Verdict.DONE: QT_TRANSLATE_NOOP("Outcome", "recorded"),
    RunState.RUNNING: QT_TRANSLATE_NOOP("Outcome", "▶ running"),
    "PENDING": "…",
    "NOT RUN": QT_TRANSLATE_NOOP("Outcome", "– not run"),
    RunState.INTERRUPTED: QT_TRANSLATE_NOOP("Outcome", "■ INTERRUPTED"),
}
"""Translated where shown (context ``Outcome``, ``ui.models.outcome_word``)."""

WARN_COLOUR = "#E65100"  # amber-orange for "due soon" and reasons Start is disabled
BAD_COLOUR = "#C62828"
GOOD_COLOUR = "#2E7D32"

# Plot pens by unit, then a cycle for channels of the same unit.
PLOT_COLOURS = ("#1565C0", "#C62828", "#2E7D32", "#6A1B9A", "#EF6C00", "#00838F")

BASE_POINT_SIZE = 14
BANNER_POINT_SIZE = 44
VERDICT_PIXEL_SIZE = 104
"""The verdict word (PASS, FAIL, …): cap height ≈ 75 px ≈ 20 mm on a 96 dpi screen, one
250th of 5 m, so it reads from across the cell."""
DETAIL_POINT_SIZE = 20
VERDICT_DETAIL_POINT_SIZE = 24
"""The failing step, value and limits: ≈ 8 mm capitals, read from 2 m."""
BUTTON_MIN_HEIGHT = 72  # px: a gloved finger hits it
TOUCH_PX = 48
"""The smallest thing a gloved finger must hit: buttons, tabs, table rows, scroll bars."""


def font(point_size: int = BASE_POINT_SIZE, bold: bool = False) -> QFont:
    """The station font at ``point_size``."""
    f = QFont("DejaVu Sans")
    f.setPointSize(point_size)
    f.setBold(bold)
    return f


def colour(name: str) -> QColor:
    return QColor(name)


APP_STYLESHEET = f"""
QPushButton {{ padding: 6px 16px; min-height: {TOUCH_PX - 14}px; min-width: {TOUCH_PX}px; }}
QComboBox, QLineEdit, QDateEdit {{ min-height: {TOUCH_PX - 10}px; }}
QCheckBox::indicator {{ width: 32px; height: 32px; }}
QScrollBar:vertical {{ width: {TOUCH_PX}px; }}
QScrollBar:horizontal {{ height: {TOUCH_PX}px; }}
QScrollBar::handle:vertical {{ min-height: {TOUCH_PX}px; }}
QScrollBar::handle:horizontal {{ min-width: {TOUCH_PX}px; }}
QPushButton#big {{
    min-height: {BUTTON_MIN_HEIGHT}px; border-radius: 8px; border: 2px solid #263238;
    padding: 6px 28px;
}}
QLineEdit#scan {{ padding: 4px 8px; min-height: 60px; }}
QComboBox#variant {{ min-height: 60px; padding-left: 8px; }}
QLabel#reason {{ color: {WARN_COLOUR}; }}
QLabel#section {{ color: #263238; }}
QProgressBar {{
    min-height: 36px; text-align: center; color: #0D47A1;
    border: 2px solid #1565C0; border-radius: 6px; background: #E3F2FD;
}}
QProgressBar::chunk {{ background: #90CAF9; }}
QHeaderView::section {{ padding: 3px 6px; }}
QTabBar::tab {{
    padding: 8px 22px; font-size: 15pt; font-weight: bold; min-height: {TOUCH_PX - 16}px;
}}
QTabWidget#details QTabBar::tab {{ padding: 6px 12px; font-size: 13pt; }}
QListWidget#failures {{ background: #FFEBEE; color: #B71C1C; border: 2px solid #C62828; }}
"""
"""Shapes and colours; fonts are set with ``setFont`` (a stylesheet font size would override
it, and table headers would measure text in the wrong font). Tab labels are the exception:
a QTabWidget hands its own font to its tab bar."""


def big_button(text: str, background: str, foreground: str = "#FFFFFF") -> QPushButton:
    """A button a gloved finger hits: tall, bold 22 pt, solid colour."""
    button = QPushButton(text)
    button.setObjectName("big")
    button.setFont(font(22, bold=True))
    # A widget's own stylesheet outranks the window's, so it repeats the disabled look.
    button.setStyleSheet(
        f"QPushButton#big {{ background: {background}; color: {foreground}; }}"
        "QPushButton#big:disabled { background: #CFD8DC; color: #78909C; border-color: #B0BEC5; }"
    )
    return button


def fit_text(button: QPushButton) -> None:
    """Keep ``button`` wide enough for its text (a translation may be longer than the
    English the layout was made with): a squeezed row cuts the text field, not the word."""
    padding = 2 * 28 + 2 * 2 + 8  # QPushButton#big padding, border, a little air
    button.setMinimumWidth(button.fontMetrics().horizontalAdvance(button.text()) + padding)


def section(text: str) -> QLabel:
    """A bold heading above a panel."""
    label = QLabel(text)
    label.setObjectName("section")
    label.setFont(font(15, bold=True))
    return label
