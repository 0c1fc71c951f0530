"""Each run keeps its instrument transcript (and CAN trace) as attachments of the record."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import threading
from pathlib import Path
from typing import Any

from station.recording import Transcript
from tests.station.steps.simrun import run, sim_run
from tests.station.steps.test_hv_steps import OPEN_FIRST

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
    [attachment] = [a for a in record.attachments if a.name == "instrument transcript"]
    path = Path(attachment.path)
    assert path.parent.name == result.run_id
    text = path.read_text(encoding="utf-8")
    assert "> CONF:VOLT:DC" in text and "< +0" in text  # both directions of the DMM dialogue
    assert attachment.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


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


HIPOT = """
[[main]]
type = "withstand"
name = "Hipot DC"
params = { voltage_v = 1000, ramp_s = 1, dwell_s = 3, leakage_limit_a = 3e-3 }
limits.leakage_a = { comparator = "LE", high = 1e-3 }
limits.breakdown = { comparator = "BOOL", expected = false }
limits.test_voltage_v = { comparator = "GE", low = 950 }
limits.residual_voltage_v = { comparator = "LT", high = 60 }
"""


class FullDisk(io.StringIO):
    """A transcript file on a full disk: every write fails with ENOSPC."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_transcript_writes_its_lines_in_batches_and_sync_shows_a_failure_at_once(
    tmp_path: Path,
) -> None:
    writes: list[str] = []

    class CountingFile(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return len(text)

    transcript = Transcript(opener=lambda path: CountingFile())
    transcript.FLUSH_S = 60.0  # only a full batch or a sync() may wake the writer
    transcript.start(tmp_path / "t.log")
    for n in range(transcript.BATCH_LINES + 3):
        transcript("RES", ">", f"line {n}")
    transcript.sync()
    transcript.stop()
    lines = "".join(writes).splitlines()
    assert lines == [f" RES > line {n}" for n in range(transcript.BATCH_LINES + 3)]
    # Batched: the writer woke for the full batch (and maybe the three after it), then for
    # sync(); never once per line.
    assert 1 <= len(writes) <= 2

    failing = Transcript(opener=lambda path: FullDisk())
    failing.FLUSH_S = 60.0
    failing.start(tmp_path / "f.log")
    failing("RES", ">", "one line")
    failing.sync(timeout_s=10.0)
    assert failing.failure is not None and "No space left on device" in failing.failure
    failing.stop()


def test_a_full_disk_under_the_transcript_ends_the_run_error_with_safe_state_confirmed(
    tmp_path: Path,
) -> None:
    with sim_run(tmp_path, OPEN_FIRST + HIPOT + OCV) as prepared:
        transcript = prepared.bench.recorder.transcript
        assert transcript is not None
        transcript.opener = lambda path: FullDisk()
        result = run(prepared)
        record = prepared.store.get_run(result.run_id)
    # The instruments never saw the disk: the HV step measured, the run stopped at the next
    # step boundary, and the bench was made safe and said so. (Opening the contactors talks
    # only to the BMS, so the first transcript line, and the failure, come with the hipot.)
    outcomes = [(s.name, s.outcome) for s in result.steps]
    assert outcomes == [("Open contactors", "PASSED"), ("Hipot DC", "PASSED")]
    assert result.outcome == "ERROR"
    assert result.safe_state_ok, result.safe_state_detail
    assert record.outcome == "ERROR" and record.safe_state_ok == 1
    assert "No space left on device" in result.record_problem
    [error] = [g.message for g in record.logs if g.level == "ERROR"]
    assert "could not be written ([Errno 28] No space left on device)" in error
    assert "free space on that disk" in error


def test_a_transcript_that_cannot_keep_up_drops_lines_instead_of_stalling(
    tmp_path: Path,
) -> None:
    release = threading.Event()

    class StuckDisk(io.StringIO):
        def write(self, text: str) -> int:
            release.wait()
            return super().write(text)

    transcript = Transcript(opener=lambda path: StuckDisk())
    transcript.QUEUE_LINES = 10
    transcript.start(tmp_path / "t.log")
    for n in range(100):  # returns at once although the disk is stuck
        transcript("RES", ">", f"line {n}")
    release.set()
    transcript.stop()
    assert transcript.dropped > 0
    assert transcript.failure is not None and "lost" in transcript.failure


def test_transcripts_are_not_readable_by_everyone(tmp_path: Path) -> None:
    transcript = Transcript()
    transcript.start(tmp_path / "t.log")
    path = transcript.stop()
    assert path is not None and stat.S_IMODE(os.stat(path).st_mode) & 0o007 == 0


def test_a_full_disk_under_the_database_ends_the_run_error_with_safe_state_confirmed(
    tmp_path: Path,
) -> None:
    from station.events import Log, StepStarted

    with sim_run(tmp_path, OPEN_FIRST + HIPOT + HIPOT.replace("Hipot DC", "Hipot 2")) as prepared:
        writer = prepared.store._writer
        assert writer is not None

        def fill_the_disk(event: object) -> None:
            if isinstance(event, StepStarted) and event.name == "Hipot DC":
                # SQLite's SQLITE_FULL is what ENOSPC becomes: no page may be added now,
                # and the hipot's commit has more to write than the free pages hold.
                pages = writer.execute("PRAGMA page_count").fetchone()[0]
                writer.execute(f"PRAGMA max_page_count = {pages}")
                prepared.store(Log(event.run_id, None, "INFO", "x" * 200_000, "t"))

        prepared.engine.listeners.insert(0, fill_the_disk)
        result = run(prepared)
    assert result.outcome == "ERROR"
    assert result.safe_state_ok, result.safe_state_detail
    assert [s.name for s in result.steps] == ["Open contactors", "Hipot DC"]
    assert "database or disk is full" in result.record_problem
    assert "free space on that disk" in result.record_problem
    # Nothing is tested unrecorded: the second hipot never ran.


def test_a_sync_with_every_line_written_does_not_wake_the_writer(tmp_path: Path) -> None:
    batches: list[int] = []

    class CountingBatches(Transcript):
        def _next_batch(self) -> tuple[list[Any], bool]:
            batch, closing = super()._next_batch()
            batches.append(len(batch))
            return batch, closing

    transcript = CountingBatches()
    transcript.FLUSH_S = 60.0  # only a full batch or a sync() may wake the writer
    transcript.start(tmp_path / "t.log")
    transcript("RES", ">", "a line")
    transcript.sync(timeout_s=10.0)  # the engine's sync at a step's end: one line to write
    woken = len(batches)
    assert batches[-1] == 1
    for _ in range(5):  # steps that said nothing to an instrument
        transcript.sync(timeout_s=10.0)
    assert len(batches) == woken and not transcript._syncing
    transcript.stop()
    assert (tmp_path / "t.log").read_text(encoding="utf-8").endswith(" RES > a line\n")


def test_each_line_is_stamped_with_its_clocks_time_lines_at_one_instant_alike(
    tmp_path: Path,
) -> None:
    from station.clock import VirtualClock, iso

    clock = VirtualClock(start=10.0)
    transcript = Transcript(clock)
    transcript.start(tmp_path / "t.log")
    expected: list[str] = []
    for step_s in (0.0, 0.0, 0.25, 0.0, 1e-7, 0.001, 0.0, 3600.0):
        clock.advance(step_s)
        for direction in (">", "<"):
            transcript("RES", direction, f"at {clock.now()!r}")
            expected.append(f"{iso(clock.utcnow())} RES {direction} at {clock.now()!r}")
    transcript.stop()
    assert (tmp_path / "t.log").read_text(encoding="utf-8").splitlines() == expected
    assert len({line.split()[0] for line in expected}) == 4  # shared stamps, and changed ones
