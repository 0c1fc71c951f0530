"""Each run keeps its instrument transcript (and CAN trace) as attachments of the record."""

from __future__ import annotations

import hashlib
from pathlib import Path

from station.recording import Transcript
from tests.station.steps.simrun import run, sim_run

OCV = """
[[main]]
type = "dmm_voltage"
name = "Pack OCV"
limits.voltage = { comparator = "GELE", low = 300, high = 400 }
"""


def test_the_run_record_holds_the_instrument_transcript(tmp_path: Path) -> None:
    with sim_run(tmp_path, OCV) as prepared:
        result = run(prepared)
        record = prepared.store.get_run(result.run_id)
    [attachment] = [a for a in record["attachments"] if a["name"] == "instrument transcript"]
    path = Path(attachment["path"])
    assert path.parent.name == result.run_id
    text = path.read_text(encoding="utf-8")
    assert "> CONF:VOLT:DC" in text and "< +0" in text  # both directions of the DMM dialogue
    assert attachment["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_transcript_writes_only_while_started(tmp_path: Path) -> None:
    transcript = Transcript()
    transcript("RES", ">", "before")
    transcript.start(tmp_path / "t.log")
    transcript("RES", ">", "during")
    path = transcript.stop()
    transcript("RES", ">", "after")
    assert path == tmp_path / "t.log"
    assert path.read_text(encoding="utf-8").split() == ["RES", ">", "during"]
    assert transcript.stop() is None
