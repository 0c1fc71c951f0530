"""Station health on the operator screen: instruments, calibration, interlocks, mode.

Each instrument shows whether it is connected, who it says it is, when its calibration
is due and how many days are left (amber within 30 days, red when expired, with the
engineer's override if one is active). The data comes from the controller, which reads
the config and the bench's recorded identities; nothing here talks to an instrument.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from station.masters import MasterState
from station.outcomes import Outcome
from ui.gating import InstrumentStatus
from ui.i18n import QT_TRANSLATE_NOOP, ltr, translate
from ui.models import Column, RowsModel, make_table
from ui.style import BAD_COLOUR, GOOD_COLOUR, OUTCOME_TINT, WARN_COLOUR, font, section

_TINT = {
    "MISSING": OUTCOME_TINT[Outcome.FAILED],
    "EXPIRED": OUTCOME_TINT[Outcome.FAILED],
    "OVERRIDDEN": OUTCOME_TINT["MARGINAL"],
    "DUE SOON": OUTCOME_TINT["MARGINAL"],
}
_WORD = {
    "OK": QT_TRANSLATE_NOOP("HealthPanel", "✔ OK"),
    "DUE SOON": QT_TRANSLATE_NOOP("HealthPanel", "! due soon"),
    "EXPIRED": QT_TRANSLATE_NOOP("HealthPanel", "✖ EXPIRED"),
    "OVERRIDDEN": QT_TRANSLATE_NOOP("HealthPanel", "! override"),
    "MISSING": QT_TRANSLATE_NOOP("HealthPanel", "✖ MISSING"),
}


def _word(h: InstrumentStatus) -> str:
    word = _WORD.get(h.state)
    return translate("HealthPanel", word) if word else h.state


INTERLOCK_WORDS = (
    QT_TRANSLATE_NOOP("HealthPanel", "safe for HV"),
    QT_TRANSLATE_NOOP("HealthPanel", "NOT safe for HV"),
    QT_TRANSLATE_NOOP("HealthPanel", "cannot read the interlocks"),
)
"""How the controller's interlock reading starts (``ui.controller``); the rest (which
contact is open) is the station's."""


def interlock_text(reading: str) -> str:
    """The interlock reading with its opening words in the screens' language."""
    for words in INTERLOCK_WORDS:
        if reading.startswith(words):
            return translate("HealthPanel", words) + reading[len(words) :]
    return reading


def short_idn(idn: str) -> str:
    """Maker and model from an identity string (serial and firmware go to the tooltip)."""
    return idn.split(" s/n ")[0]


def _identity(h: InstrumentStatus) -> str:
    second = (
        short_idn(h.idn)
        if h.connected
        else f"{h.model} — {translate('HealthPanel', 'NOT CONNECTED')}"
    )
    return f"{h.role}\n{second}"


def _calibration(h: InstrumentStatus) -> str:
    if h.cal_due is None or h.days_left is None:
        return "—"
    if h.days_left >= 0:
        left = translate("HealthPanel", "{n} days left").format(n=h.days_left)
    else:
        left = translate("HealthPanel", "{n} days OVERDUE").format(n=-h.days_left)
    return translate("HealthPanel", "due {date}").format(date=ltr(str(h.cal_due))) + f"\n{left}"


def _tooltip(h: InstrumentStatus) -> str:
    lines = [f"{h.role}: {h.model}", h.idn, f"serial {h.serial}", f"calibration due {h.cal_due}"]
    if h.needed_by:
        lines.append("needed by: " + ", ".join(h.needed_by))
    if h.override:
        lines.append("override: " + h.override)
    return "\n".join(lines)


INSTRUMENT_COLUMNS = (
    Column(QT_TRANSLATE_NOOP("Column", "Instrument"), _identity, tooltip=_tooltip),
    Column(QT_TRANSLATE_NOOP("Column", "Calibration"), _calibration, tooltip=_tooltip),
    Column(
        QT_TRANSLATE_NOOP("Column", "Status"),
        _word,
        tooltip=_tooltip,
    ),
)


class HealthPanel(QWidget):
    """Instruments table plus interlock and production-mode lines."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title = section("")
        self.model = RowsModel(INSTRUMENT_COLUMNS, tint=lambda h: _TINT.get(h.state))
        self.table = make_table(self.model, 0, point_size=12, multiline=True)
        self.interlocks = QLabel()
        self.interlocks.setWordWrap(True)
        self.interlocks.setFont(font(13, bold=True))
        self.mode = QLabel()
        self.mode.setFont(font(13, bold=True))
        self.mode.setWordWrap(True)
        self.masters = QLabel()
        self.masters.setFont(font(12, bold=True))
        self.masters.setWordWrap(True)
        self.masters.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.interlocks)
        layout.addWidget(self.mode)
        layout.addWidget(self.masters)
        self._shown: tuple[list[InstrumentStatus], str, bool, str] | None = None
        self._masters: list[MasterState] = []
        self.title.setText(self.tr("Station health"))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.title.setText(self.tr("Station health"))
            if self._shown is not None:
                self.show_health(*self._shown)
            self.show_masters(self._masters)

    def show_health(
        self, rows: list[InstrumentStatus], interlocks: str, production: bool, sequence: str
    ) -> None:
        self._shown = (rows, interlocks, production, sequence)
        self.model.set_rows(rows)
        bad = "NOT" in interlocks or "cannot" in interlocks or "refused" in interlocks
        self.interlocks.setText(
            self.tr("Interlocks: {state}").format(state=interlock_text(interlocks))
        )
        self.interlocks.setStyleSheet(f"color: {WARN_COLOUR if bad else GOOD_COLOUR};")
        if production:
            self.mode.setText(self.tr("Mode: PRODUCTION (released files only)"))
        else:
            self.mode.setText(self.tr("Mode: ENGINEERING"))
        self.mode.setToolTip(self.tr("Sequence: {sequence}").format(sequence=sequence))
        self.mode.setStyleSheet(f"color: {GOOD_COLOUR if production else BAD_COLOUR};")

    def show_masters(self, states: list[MasterState]) -> None:
        """Today's golden and failure masters (hidden when the config names none)."""
        self._masters = states
        self.masters.setVisible(bool(states))
        if not states:
            return
        ok = all(s.ok for s in states)
        lines = [("✔ " if s.ok else "✖ ") + s.text for s in states]
        head = self.tr("Masters verified today") if ok else self.tr("Masters NOT verified today")
        self.masters.setText("\n".join([f"{head}:", *lines]))
        self.masters.setStyleSheet(f"color: {GOOD_COLOUR if ok else BAD_COLOUR};")
