"""The results browser: filters, a run's full record, trend/histogram with Cpk, yield."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QDate

from ui.controller import StationController

pytestmark = pytest.mark.ui
RUN_MS = 15_000


def run(qtbot, c: StationController, serial: str, part: str, answer: str) -> str:
    with qtbot.waitSignal(c.prompter.requested, timeout=RUN_MS) as asked:
        c.start(serial, part)
    with qtbot.waitSignal(c.runDone, timeout=RUN_MS) as done:
        c.prompter.answer(asked.args[0], answer)
    return done.args[0].outcome


@pytest.fixture
def browser(qtbot, make_window):
    window = make_window("engineer")
    c = window.controller
    assert run(qtbot, c, "NM96A0000001", "NM96-A", "no") == "FAILED"  # answered "no"
    assert run(qtbot, c, "NM96A0000001", "NM96-A", "yes") == "PASSED"  # retest
    assert run(qtbot, c, "NM96B0000002", "NM96-B", "yes") == "PASSED"
    assert window.open_tab("results")
    return window.results


def test_filters(browser) -> None:
    assert len(browser.search()) == 3
    assert "first-pass yield 50.0 %" in browser.summary.text()  # 2 packs, 1 first-pass
    browser.serial.setText("b000")
    assert [r.serial for r in browser.search()] == ["NM96B0000002"]
    browser.serial.clear()
    browser.outcome.setCurrentIndex(browser.outcome.findData("FAILED"))
    assert [r.outcome for r in browser.search()] == ["FAILED"]
    browser.outcome.setCurrentIndex(0)
    browser.variant.setCurrentIndex(browser.variant.findData("NM96-B"))
    assert [r.part_number for r in browser.search()] == ["NM96-B"]
    browser.variant.setCurrentIndex(0)
    browser.use_dates.setChecked(True)
    assert len(browser.search()) == 3  # default range: the last week up to today
    yesterday = QDate.currentDate().addDays(-1)
    browser.date_from.setDate(yesterday.addDays(-1))
    browser.date_to.setDate(yesterday)
    assert browser.search() == []


def test_a_runs_full_record(browser) -> None:
    runs = browser.search()
    row = next(i for i, r in enumerate(runs) if r.serial == "NM96B0000002")
    browser.run_table.selectRow(row)
    run = browser.run
    assert run is not None and run.serial == "NM96B0000002"
    assert "NM96B0000002" in browser.record.text() and run.sequence_sha256 in browser.record.text()
    assert "confirmed off" in browser.record.text()
    assert [s.name for s in browser.steps.rows] == [
        "Connect pack",
        "Pack OCV",
        "DCIR pulse",
        "Relax",
    ]
    assert len(browser.measurements.rows) == 4
    assert set(browser.series.channels) == {"pack_voltage_V", "pack_current_A", "max_cell_temp_C"}
    assert browser.logs.rows  # the prompt and the answer are in the log
    assert browser.attachments.rows  # the instrument transcript
    assert browser.pick.count() == 3  # numeric measurements


def test_trend_histogram_and_cpk(browser) -> None:
    browser.search()
    ocv = next(m for m in browser.measurements.rows if m.name == "voltage")
    cap = browser.show_statistics(ocv)
    assert cap.n >= 1 and cap.mean is not None and 300 < cap.mean < 400
    assert "Cpk" in browser.stats_text.text() and "300 … 400 V" in browser.stats_text.text()
    assert browser.tabs.currentIndex() == browser.tabs.count() - 1
    resistance = next(m for m in browser.measurements.rows if m.name == "resistance")
    assert browser.show_statistics(resistance).n >= 1
