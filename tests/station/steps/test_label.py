"""`print_label`: a pass label with a DataMatrix, a reject label without, none if unjudged."""

from __future__ import annotations

from pathlib import Path

from station.runner import RunOptions, prepare_run
from station.steps.eol.label import pass_label

HEADER = """
[sequence]
name = "Label"
version = "1"
products = ["NM96-A"]
serial_pattern = "^NM96[A-Z][0-9]{7}$"

[[main]]
type = "dmm_voltage"
name = "Pack OCV"
limits.voltage = { comparator = "GELE", low = LOW, high = 400 }
"""
LABEL = """
[[cleanup]]
type = "print_label"
name = "Label"
params = { soc_step = "Pack OCV", soc_measurement = "voltage" REJECT }
"""
CONFIG = """
[station]
id = "EOL-T"
results_db = "r.db"

[instruments.label_printer]
model = "zebra.zpl"
resource = "TCPIP0::10.0.0.9::9100::SOCKET"
serial = "SIM-LABEL-0001"
cal_due = 2099-12-31
"""


UNANSWERED = """
[[main]]
type = "prompt"
name = "Ask"
params = { kind = "message", text = "nobody answers this unattended run" }
"""


def run_and_print(
    tmp_path: Path, low: int, reject: str = "", extra: str = ""
) -> tuple[str, list[str], dict]:
    seq = tmp_path / "seq.toml"
    seq.write_text(HEADER.replace("LOW", str(low)) + extra + LABEL.replace("REJECT", reject))
    config = tmp_path / "station.toml"
    config.write_text(CONFIG)
    prepared = prepare_run(RunOptions(seq, config=config, sim=True))
    try:
        result = prepared.engine.run("NM96A0000042")
        printed = prepared.bench.simulator.served["label_printer"].received()
        recorded = {
            r["name"]: r["value_text"]
            for r in prepared.store.query(
                "SELECT name, value_text FROM measurements WHERE run_id = ?", [result.run_id]
            )
        }
    finally:
        prepared.close()
    return result.outcome, printed, recorded


def test_a_passed_pack_gets_its_label_with_a_datamatrix(tmp_path: Path) -> None:
    outcome, printed, recorded = run_and_print(tmp_path, 300)
    assert outcome == "PASSED"
    [label] = printed
    assert recorded["label"] == "PASS" and recorded["label_zpl"] == label
    assert "^FDS/N NM96A0000042^FS" in label and "^FDP/N NM96-A^FS" in label
    assert "^BXN,10,200^FH_^FDNM96A0000042^FS" in label and "^FDPASS^FS" in label
    assert "^FDSOC 3" in label  # the OCV (about 350 V) stands in for an SOC here


def test_a_failed_pack_gets_a_reject_label_without_datamatrix(tmp_path: Path) -> None:
    outcome, printed, recorded = run_and_print(tmp_path, 390)
    assert outcome == "FAILED"
    [label] = printed
    assert recorded["label"] == "REJECT" and "^FDREJECT^FS" in label
    assert "^BX" not in label and "FAILED: Pack OCV" in label


def test_reject_labels_can_be_turned_off(tmp_path: Path) -> None:
    outcome, printed, recorded = run_and_print(tmp_path, 390, ", reject_label = false")
    assert outcome == "FAILED" and printed == [] and recorded["label"] == "none"


def test_a_pack_not_judged_gets_no_label(tmp_path: Path) -> None:
    outcome, printed, recorded = run_and_print(tmp_path, 300, extra=UNANSWERED)
    assert outcome == "ERROR" and printed == [] and recorded["label"] == "none"


def test_label_fields_cannot_inject_zpl() -> None:
    import datetime as dt

    label = pass_label("A^XZ~JR_1", "P", dt.date(2026, 1, 2), 29.94)
    assert "^FDS/N A_5EXZ_7EJR_5F1^FS" in label and label.count("^XZ") == 1
    assert "^FDSOC 29.9 %^FS" in label and "^FDDATE 2026-01-02^FS" in label


def test_without_an_soc_the_label_says_so() -> None:
    import datetime as dt

    assert "^FDSOC n/a^FS" in pass_label("S", "P", dt.date(2026, 1, 2), None)
