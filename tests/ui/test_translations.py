"""The translation files: every text of ui/ translated, and the .qm built from the .ts."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QTranslator

from ui import i18n

pytestmark = pytest.mark.ui
UI = Path(i18n.__file__).parent
TOOLS = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = TOOLS / f"pyside6-{name}"
    return str(found) if found.exists() else str(shutil.which(f"pyside6-{name}"))


def test_every_station_language_has_its_translation_files() -> None:
    for code in i18n.TRANSLATED:
        assert i18n.qm_path(code).is_file()
        assert i18n.qm_path(code).with_suffix(".ts").is_file()


@pytest.mark.parametrize("code", i18n.TRANSLATED)
def test_every_text_in_ui_is_translated(tmp_path: Path, code: str) -> None:
    """lupdate over ui/ into a copy of the .ts: nothing new, nothing unfinished or empty."""
    ts = tmp_path / f"station_{code}.ts"
    shutil.copy(i18n.qm_path(code).with_suffix(".ts"), ts)
    sources = sorted(str(p) for p in UI.glob("*.py"))
    done = subprocess.run(
        [_tool("lupdate"), "-no-obsolete", "-locations", "none", *sources, "-ts", str(ts)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "0 new" in done.stdout, done.stdout
    untranslated = [
        f"{message.findtext('source')!r}"
        for message in ET.parse(ts).getroot().iter("message")
        if (t := message.find("translation")) is None
        or t.get("type") in ("unfinished", "vanished", "obsolete")
        or not (t.text or "").strip()
    ]
    assert untranslated == []


@pytest.mark.parametrize("code", i18n.TRANSLATED)
def test_the_qm_is_built_from_the_current_ts(tmp_path: Path, code: str) -> None:
    """``make translations`` was run after the last change of the .ts."""
    built = tmp_path / f"station_{code}.qm"
    ts = i18n.qm_path(code).with_suffix(".ts")
    subprocess.run([_tool("lrelease"), "-silent", str(ts), "-qm", str(built)], check=True)
    assert built.read_bytes() == i18n.qm_path(code).read_bytes(), "run make translations"


def test_the_qm_load_and_translate(qapp: object) -> None:
    expected = {"fr": "DÉMARRER", "ar": "ابدأ"}
    for code in i18n.TRANSLATED:
        translator = QTranslator()
        assert translator.load(str(i18n.qm_path(code)))
        assert translator.translate("OperatorScreen", "START") == expected[code]


def test_placeholders_are_kept_in_every_translation() -> None:
    """A translation that loses ``{serial}`` would raise or hide the value on the screen."""
    import re

    wrong = []
    for code in i18n.TRANSLATED:
        for message in ET.parse(i18n.qm_path(code).with_suffix(".ts")).getroot().iter("message"):
            source, text = message.findtext("source") or "", message.findtext("translation") or ""
            if sorted(re.findall(r"\{\w+\}", source)) != sorted(re.findall(r"\{\w+\}", text)):
                wrong.append(f"{code}: {source!r} → {text!r}")
    assert wrong == []
