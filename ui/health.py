"""Station health on the operator screen: instruments, calibration, interlocks, mode.

Each instrument shows whether it is connected, who it says it is, when its calibration
is due and how many days are left (amber within 30 days, red when expired, with the
engineer's override if one is active). The data comes from the controller, which reads
the config and the bench's recorded identities; nothing here talks to an instrument.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from station.masters import MasterState
from station.outcomes import Outcome
from ui.gating import InstrumentStatus
from ui.i18n import QT_TRANSLATE_NOOP
from ui.models import Column, RowsModel, make_table
from ui.style import BAD_COLOUR, GOOD_COLOUR, OUTCOME_TINT, WARN_COLOUR, font, section

_TINT = {
    "MISSING": OUTCOME_TINT[Outcome.FAILED],
    "EXPIRED": OUTCOME_TINT[Outcome.FAILED],
    "OVERRIDDEN": OUTCOME_TINT["MARGINAL"],
    "DUE SOON": OUTCOME_TINT["MARGINAL"],
}
_WORD = {
    "OK": "✔ OK",
    "DUE SOON": "! due soon",
    "EXPIRED": "✖ EXPIRED",
    "OVERRIDDEN": "! override",
    "MISSING": "✖ MISSING",
}


def short_idn(idn: str) -> str:
    """Maker and model from an identity string (serial and firmware go to the tooltip)."""
    return idn.split(" s/n ")[0]


def _identity(h: InstrumentStatus) -> str:
    second = short_idn(h.idn) if h.connected else f"{h.model} — NOT CONNECTED"
    return f"{h.role}\n{second}"


def _calibration(h: InstrumentStatus) -> str:
    if h.cal_due is None or h.days_left is None:
        return "—"
    left = f"{h.days_left} days left" if h.days_left >= 0 else f"{-h.days_left} days OVERDUE"
    return f"due {h.cal_due}\n{left}"


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
        lambda h: _WORD.get(h.state, h.state),
        tooltip=_tooltip,
    ),
)


class HealthPanel(QWidget):
    """Instruments table plus interlock and production-mode lines."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = section("Station health")
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

    def show_health(
        self, rows: list[InstrumentStatus], interlocks: str, production: bool, sequence: str
    ) -> None:
        self.model.set_rows(rows)
        bad = "NOT" in interlocks or "cannot" in interlocks or "refused" in interlocks
        self.interlocks.setText(f"Interlocks: {interlocks}")
        self.interlocks.setStyleSheet(f"color: {WARN_COLOUR if bad else GOOD_COLOUR};")
        mode = "PRODUCTION (released files only)" if production else "ENGINEERING"
        self.mode.setText(f"Mode: {mode}")
        self.mode.setToolTip(f"Sequence: {sequence}")
        self.mode.setStyleSheet(f"color: {GOOD_COLOUR if production else BAD_COLOUR};")

    def show_masters(self, states: list[MasterState]) -> None:
        """Today's golden and failure masters (hidden when the config names none)."""
        self.masters.setVisible(bool(states))
        if not states:
            return
        ok = all(s.ok for s in states)
        lines = [("✔ " if s.ok else "✖ ") + s.text for s in states]
        head = "Masters verified today" if ok else "Masters NOT verified today"
        self.masters.setText("\n".join([f"{head}:", *lines]))
        self.masters.setStyleSheet(f"color: {GOOD_COLOUR if ok else BAD_COLOUR};")
