"""Typed operator prompts shown inside the operator screen (no pop-up to hunt for).

One panel for every kind of ``PromptRequest``: ``confirm`` (big YES / NO), ``choice`` (a
big button per choice), ``number`` (entry checked against minimum…maximum), ``text``
(entry checked against the pattern) and ``message`` (OK), each with the optional image
beside the text. The panel only collects the answer; the prompter hands it to the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from station.patterns import compile_safe
from station.steps.api import PromptRequest
from ui.i18n import QT_TRANSLATE_NOOP, translate
from ui.style import BAD_COLOUR, big_button, font

ENTRY_KINDS = ("number", "text", "scan")
"""Prompt kinds answered in the entry field."""


class PromptPanel(QFrame):
    """Shows one prompt at a time; emits ``answered(prompt_id, text)``.

    ``base_dir`` resolves relative image paths (the sequence file's folder); ``label``
    gives the text to show for a prompt's text (the sequence file's translation).
    """

    answered = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("prompt")
        self.setStyleSheet(
            "QFrame#prompt { background: #FFF8E1; border: 4px solid #F9A825; border-radius: 10px; }"
        )
        self.base_dir = Path(".")
        self.prompt_id: int | None = None
        self.request: PromptRequest | None = None
        self.buttons: dict[str, QPushButton] = {}
        self.label: Callable[[str], str] = lambda text: text

        self.title = QLabel()
        self.title.setFont(font(18, bold=True))
        self.text = QLabel()
        self.text.setFont(font(24, bold=True))
        self.text.setWordWrap(True)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.entry = QLineEdit()
        self.entry.setFont(font(24))
        self.entry.setMinimumHeight(60)
        self.entry.returnPressed.connect(self._submit_entry)
        self.hint = QLabel()
        self.hint.setFont(font(16))
        self.error = QLabel()
        self.error.setFont(font(16, bold=True))
        self.error.setStyleSheet(f"color: {BAD_COLOUR};")
        self.button_row = QGridLayout()
        self.button_row.setSpacing(16)

        left = QVBoxLayout()
        left.addWidget(self.title)
        left.addWidget(self.text)
        left.addWidget(self.hint)
        left.addWidget(self.entry)
        left.addWidget(self.error)
        left.addLayout(self.button_row)
        left.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.addLayout(left, 3)
        layout.addWidget(self.image, 2)
        self.hide()

    # -- showing -----------------------------------------------------------------------------
    def show_prompt(self, prompt_id: int, request: PromptRequest) -> None:
        self.prompt_id = prompt_id
        self.request = request
        self.error.clear()
        self.entry.clear()
        self._clear_buttons()
        self._show_image(request.image)
        kind = request.kind
        self.entry.setVisible(kind in ENTRY_KINDS)
        self.hint.setVisible(kind in ENTRY_KINDS)
        if kind == "confirm":
            self._add_button("yes", "start", 0)
            self._add_button("no", "abort", 1)
        elif kind == "choice":
            for i, choice in enumerate(request.choices):
                self._add_button(choice, "neutral", i)
        else:
            self._add_button("ok", "start", 0)
        self.retranslate()
        self.show()
        if kind in ENTRY_KINDS:
            self.entry.setFocus()

    def retranslate(self) -> None:
        """Set the texts in the screens' language (the prompt's own through ``label``)."""
        self.title.setText(self.tr("OPERATOR ACTION"))
        request = self.request
        message = request is not None and request.kind == "message"
        for key, button in self.buttons.items():
            word = _BUTTON_WORDS.get("done" if message and key == "ok" else key)
            button.setText(translate("PromptPanel", word) if word else key)
        if request is None:
            return
        self.text.setText(self.label(request.text))
        if request.kind == "number":
            self.hint.setText(_range_text(request.minimum, request.maximum))
        elif request.kind == "text":
            self.hint.setText(self.tr("Type or scan the answer, then press OK."))
        elif request.kind == "scan":
            self.hint.setText(self.tr("Scan the barcode (or type it), then press OK."))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def withdraw(self, prompt_id: int) -> None:
        """The run no longer waits for this prompt (it was aborted)."""
        if prompt_id == self.prompt_id:
            self.close_prompt()

    def close_prompt(self) -> None:
        self.prompt_id = None
        self.request = None
        self._clear_buttons()
        self.hide()

    # -- answering ---------------------------------------------------------------------------
    def choose(self, key: str) -> None:
        """Press the button ``key`` ("yes", "no", "ok" or a choice)."""
        request = self.request
        if request is None or self.prompt_id is None:
            return
        if request.kind in ENTRY_KINDS:
            self._submit_entry()
            return
        self._send(key)

    def _submit_entry(self) -> None:
        request = self.request
        if request is None:
            return
        text = self.entry.text().strip()
        if request.kind == "number":
            text = text.replace(",", ".")
        problem = validate(request, text)
        if problem:
            self.error.setText(problem)
            self.entry.selectAll()
            return
        self._send(text)

    def _send(self, text: str) -> None:
        prompt_id = self.prompt_id
        self.close_prompt()
        if prompt_id is not None:
            self.answered.emit(prompt_id, text)

    # -- helpers ---------------------------------------------------------------------------
    def _add_button(self, key: str, style: str, position: int) -> None:
        button = big_button(key, *_BUTTON_STYLE[style])
        button.clicked.connect(lambda _=False, k=key: self.choose(k))
        self.buttons[key] = button
        self.button_row.addWidget(button, position // 3, position % 3)

    def _clear_buttons(self) -> None:
        for button in self.buttons.values():
            self.button_row.removeWidget(button)
            button.deleteLater()
        self.buttons.clear()

    def _show_image(self, image: str | None) -> None:
        self.image.clear()
        self.image.setVisible(bool(image))
        if not image:
            return
        path = Path(image)
        if not path.is_absolute():
            path = self.base_dir / path
        pixmap = QPixmap(str(path))
        if pixmap.isNull():
            self.image.setText(self.tr("(picture {image} not found)").format(image=image))
            return
        self.image.setPixmap(
            pixmap.scaled(
                360,
                190,  # the prompt fits above the tables on a 768-pixel-high screen
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )


_BUTTON_WORDS = {
    "yes": QT_TRANSLATE_NOOP("PromptPanel", "YES"),
    "no": QT_TRANSLATE_NOOP("PromptPanel", "NO"),
    "ok": QT_TRANSLATE_NOOP("PromptPanel", "OK"),
    "done": QT_TRANSLATE_NOOP("PromptPanel", "OK, DONE"),  # the "ok" of a message
}
"""Button labels by key; a choice shows as the sequence writes it."""

_BUTTON_STYLE = {
    "start": ("#2E7D32", "#FFFFFF"),
    "abort": ("#C62828", "#FFFFFF"),
    "neutral": ("#ECEFF1", "#263238"),
}


def _range_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return translate("PromptPanel", "Enter a number from {low} to {high}.").format(
            low=f"{low:g}", high=f"{high:g}"
        )
    if low is not None:
        return translate("PromptPanel", "Enter a number of at least {low}.").format(low=f"{low:g}")
    if high is not None:
        return translate("PromptPanel", "Enter a number of at most {high}.").format(
            high=f"{high:g}"
        )
    return translate("PromptPanel", "Enter a number.")


def validate(request: PromptRequest, text: str) -> str:
    """Why ``text`` is not an acceptable answer to ``request`` ("" when it is)."""
    if request.kind == "number":
        try:
            value = float(text)
        except ValueError:
            wrong = translate("PromptPanel", "{text} is not a number.").format(text=repr(text))
            return f"{wrong} {_range_text(request.minimum, request.maximum)}"
        if (request.minimum is not None and value < request.minimum) or (
            request.maximum is not None and value > request.maximum
        ):
            wrong = translate("PromptPanel", "{text} is out of range.").format(text=text)
            return f"{wrong} {_range_text(request.minimum, request.maximum)}"
    elif request.kind in ("text", "scan"):
        if not text:
            return translate("PromptPanel", "Enter an answer.")
        if request.pattern and not compile_safe(request.pattern).fullmatch(text):
            return translate(
                "PromptPanel", "{text} does not have the expected format ({pattern})."
            ).format(text=repr(text), pattern=request.pattern)
    return ""
