"""`station results report`: a run's birth certificate as PDF and HTML."""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest

from station.certificate import plot_svg
from station.cli import main
from station.events import RunStarted
from station.store import ResultsStore
from tests.station.recorded_runs import sample_db


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return sample_db(tmp_path / "r.db")


def chain_sha(db: Path, run_id: str) -> str:
    with ResultsStore(db, read_only=True) as store:
        link = store.chain_link(run_id)
    assert link is not None
    return link.sha256


def pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text)


def test_the_pdf_names_serial_verdict_measurements_and_chain(db, tmp_path, capsys, qapp) -> None:
    """``qapp``: as in the UI, a Qt application exists (the CLI alone makes an offscreen one)."""
    pdf = tmp_path / "cert.pdf"
    assert main(["results", "--db", str(db), "report", "run-0002", "--pdf", str(pdf)]) == 0
    out = capsys.readouterr().out
    assert out == f"certificate of NM96A0000002 (run run-0002, FAILED) written to {pdf}\n"
    text = pdf_text(pdf)
    assert "Serial NM96A0000002" in text and "verdict FAILED" in text
    assert "Pack OCV voltage 420 V 300 <= x <= 400 FAILED" in text
    assert "BMS serial BMS-NM96A0000002" in text and "BMS DID bms_sw_version 2.4.1" in text
    assert "Keithley 2000 4301234 2026-01-31" in text  # instrument, serial, calibration
    assert "a" * 64 in text.replace(" ", "") and "b" * 64 in text.replace(" ", "")
    assert chain_sha(db, "run-0002-bbbb") in text.replace(" ", "")


def test_the_html_has_every_part_and_an_inline_plot(db, tmp_path, capsys) -> None:
    page = tmp_path / "cert.html"
    assert main(["results", "--db", str(db), "report", "run-0001-aaaa", "--html", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    parts = ("NM96A0000001", "PASSED", "BMS-NM96A0000001", "bms_sw_version", "2.4.1",
             "300 &lt;= x &lt;= 400", "Keithley 2000", "2026-01-31", "op17", "EOL-1",
             "0.1.0+g1234567", "c" * 64, chain_sha(db, "run-0001-aaaa"), "Attempt")  # fmt: skip
    for part in parts:
        assert part in text, part
    assert text.count("<svg") == 1 and "Pack OCV — pack_voltage_V" in text
    assert "<polyline points=" in text


def test_a_plot_scales_its_points_into_the_frame() -> None:
    svg = plot_svg("t", [(0.0, 10.0), (1.0, 20.0), (2.0, float("nan"))], "V")
    [points] = re.findall(r'points="([^"]+)"', svg)
    assert points == "70.0,170.0 628.0,26.0"  # first bottom-left, last top-right
    assert ">20<" in svg and ">10<" in svg and ">0 s<" in svg and ">1 s<" in svg
    assert "no finite values" in plot_svg("t", [(0.0, float("inf"))], "V")


def test_bad_requests_are_one_sentence(db, tmp_path, capsys, qapp) -> None:
    with ResultsStore(db) as store:
        store(RunStarted(run_id="live-run-0001", serial="NM96A0000009", part_number="NM96-A",
                         operator="o", station_id="E", sequence_name="s", sequence_version="1",
                         sequence_path="s", sequence_sha256="a", limits_path="",
                         limits_sha256="", config_sha256="c", software_version="v",
                         started_at="2025-03-03T08:00:00+00:00"))  # fmt: skip
        assert main(["results", "--db", str(db), "report", "live-run", "--html", "x.html"]) == 2
        err = capsys.readouterr().err
        assert err == (
            "error: run live-run is still running; its certificate is written once it ends\n"
        )
    missing = tmp_path / "nowhere" / "c.pdf"
    assert main(["results", "--db", str(db), "report", "run-0001", "--pdf", str(missing)]) == 2
    assert capsys.readouterr().err == (
        f"error: cannot write the certificate to {missing} (no such folder)\n"
    )
    assert main(["results", "--db", str(db), "report", "nope-0000", "--pdf", "x.pdf"]) == 2
    assert "No run starts with 'nope-0000'" in capsys.readouterr().err


def test_the_cli_writes_a_pdf_with_no_display_and_no_qt_application(db, tmp_path) -> None:
    import os
    import subprocess
    import sys

    pdf = tmp_path / "headless.pdf"
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    done = subprocess.run(
        [sys.executable, "-m", "station.cli", "results", "--db", str(db), "report",
         "run-0001", "--pdf", str(pdf)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Serial NM96A0000001" in pdf_text(pdf)
