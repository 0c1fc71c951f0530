"""The big state banner: READY, RUNNING step k of n, PASS, FAIL, ERROR, ABORTED.

Colour, a symbol and the word together, so the state reads from 2 m and without colour
vision; a second line says what to do next or, on FAIL, what failed with value and limits.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from station.outcomes import RUN_OUTCOMES
from ui.style import (
    BANNER_POINT_SIZE,
    DETAIL_POINT_SIZE,
    STATES,
    VERDICT_DETAIL_POINT_SIZE,
    VERDICT_PIXEL_SIZE,
    font,
    state_word,
)

VERDICTS = frozenset(RUN_OUTCOMES)
"""States whose word must read from 5 m (the operator is at the rack, not the screen)."""


class StateBanner(QFrame):
    """Shows ``state`` (a key of ``ui.style.STATES``) with a headline and a detail line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.state = ""
        self.headline = QLabel()
        self.headline.setFont(font(BANNER_POINT_SIZE, bold=True))
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel()
        self.detail.setFont(font(DETAIL_POINT_SIZE, bold=True))
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 12)
        layout.setSpacing(4)
        layout.addWidget(self.headline)
        layout.addWidget(self.detail)
        self.set_state("READY")

    def set_state(self, state: str, headline: str = "", detail: str = "") -> None:
        """Show ``state``; ``headline`` (default: the state's word) and ``detail`` are
        shown as given, already in the screens' language."""
        look = STATES[state]
        if state != self.state:  # restyling re-polishes the banner: only when the state changes
            self.state = state
            verdict = state in VERDICTS
            big = font(BANNER_POINT_SIZE, bold=True)
            if verdict:
                big.setPixelSize(VERDICT_PIXEL_SIZE)
            self.headline.setFont(big)
            self.detail.setFont(
                font(VERDICT_DETAIL_POINT_SIZE if verdict else DETAIL_POINT_SIZE, bold=True)
            )
            self.setStyleSheet(
                f"QFrame#banner {{ background: {look.background}; border-radius: 10px; }}"
                f"QFrame#banner QLabel {{ color: {look.foreground}; background: transparent; }}"
            )
        word = headline or state_word(state)
        self.headline.setText(f"{look.symbol}  {word}")
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))

    @property
    def text(self) -> str:
        """Everything the banner says (for tests and logs)."""
        return f"{self.headline.text()} — {self.detail.text()}".strip(" —")
