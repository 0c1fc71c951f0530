"""Operator messages in plain words; the technical detail stays one tap away.

The station's sentences name what and where for an engineer: regular expressions,
sha256 digests. An operator reads the same sentence with those replaced by plain words;
the screen offers the full text behind a *Details* button. In another language than
English the operator reads a translated sentence for the kind of problem
(``blocker_words``) and the station's own English sentence is the detail.
"""

from __future__ import annotations

import re

from station.languages import DEFAULT
from ui import i18n
from ui.i18n import QT_TRANSLATE_NOOP, translate

_PATTERN = re.compile(r"(?:the )?pattern '(?:[^'\\]|\\.)*'")
_SHA256 = re.compile(r"\b[0-9a-f]{64}\b")

BLOCKER_WORDS: dict[str, str] = {
    "login": QT_TRANSLATE_NOOP("Blocker", "Log in to test packs."),
    "running": QT_TRANSLATE_NOOP("Blocker", "A test is running."),
    "scan": QT_TRANSLATE_NOOP("Blocker", "Scan the pack's serial number."),
    "serial": QT_TRANSLATE_NOOP("Blocker", "This serial number has the wrong format. Scan again."),
    "variant": QT_TRANSLATE_NOOP("Blocker", "Choose the variant."),
    "interlocks": QT_TRANSLATE_NOOP("Blocker", "Close the door / release the e-stop."),
    "instrument": QT_TRANSLATE_NOOP("Blocker", "An instrument is missing. Call an engineer."),
    "calibration": QT_TRANSLATE_NOOP(
        "Blocker", "An instrument's calibration has expired. Call an engineer."
    ),
    "release": QT_TRANSLATE_NOOP("Blocker", "The test files are not released. Call an engineer."),
    "settings": QT_TRANSLATE_NOOP(
        "Blocker", "The production mode was changed outside the station. Call an engineer."
    ),
    "safe_state": QT_TRANSLATE_NOOP(
        "Blocker",
        "The last test could not confirm the sources off. Do not touch the pack; call an engineer.",
    ),
    "disk": QT_TRANSLATE_NOOP("Blocker", "The results disk is full. Call an engineer."),
    "retest": QT_TRANSLATE_NOOP("Blocker", "This pack cannot be retested now. Call a supervisor."),
    "masters": QT_TRANSLATE_NOOP("Blocker", "Today's master packs are not verified yet."),
    "mes": QT_TRANSLATE_NOOP("Blocker", "The MES refuses this pack. Call an engineer."),
    "rating": QT_TRANSLATE_NOOP(
        "Blocker", "A step asks more than an instrument can give. Call an engineer."
    ),
    "operator": QT_TRANSLATE_NOOP("Blocker", "Log in to test packs."),
}
"""What the operator reads for each kind of start blocker (``station.gate.Blocker.kind``)."""
_OTHER = QT_TRANSLATE_NOOP("Blocker", "The test cannot start. The reason is in the details.")


def plain_words(text: str) -> str:
    """``text`` without regular expressions and digests (the operator's version)."""
    text = _PATTERN.sub("the expected format", text)
    return _SHA256.sub("(fingerprint in the details)", text)


def operator_sentence(text: str, kind: str = "") -> str:
    """What the operator reads for the station's sentence ``text`` about a ``kind`` of
    problem: in English its plain words, otherwise the translated sentence for the kind."""
    if not text:
        return ""
    if i18n.current() == DEFAULT:
        return plain_words(text)
    return translate("Blocker", BLOCKER_WORDS.get(kind, _OTHER))


def needs_details(text: str, kind: str = "") -> bool:
    """Whether the operator's sentence leaves out something the station's sentence says."""
    return bool(text) and kind != "scan" and operator_sentence(text, kind) != text
