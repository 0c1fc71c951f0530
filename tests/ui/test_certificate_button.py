"""The results browser's Certificate button writes the selected run's PDF and HTML."""

from __future__ import annotations

import re

import pypdf
import pytest

from tests.ui.test_results_browser import run

pytestmark = pytest.mark.ui


def test_the_certificate_button_writes_the_selected_runs_pdf_and_html(
    qtbot, make_window, tmp_path
) -> None:
    window = make_window("engineer")
    assert run(qtbot, window.controller, "NM96A0000001", "NM96-A", "no") == "FAILED"
    assert window.open_tab("results")
    browser = window.results
    [found] = browser.search()
    assert browser.certificate_button.isEnabled()
    assert "Attempt" in browser.record.text()
    pdf = browser.write_certificate(tmp_path / "c.pdf")
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages))
    assert "Serial NM96A0000001" in text and "verdict FAILED" in text
    page = browser.write_certificate(tmp_path / "c.html").read_text(encoding="utf-8")
    assert found.id in page
