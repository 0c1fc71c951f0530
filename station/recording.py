"""Per-run recordings kept as attachments: the raw CAN traffic and the instrument transcript.

The CAN trace is written by the BMS client (python-can's ASC writer); the transcript gets
every message to and from every instrument through the transports' tracer hook, and writes
it on a thread of its own, so instrument I/O never waits on the disk. Both are
files next to the results database, named after the run, and their paths and sha256 go
into the run's record, so what was said on the wires can be checked later.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from station.clock import Clock, iso

Opener = Callable[[Path], TextIO]


def open_private(path: Path) -> TextIO:
    """Open ``path`` for writing, created 0640 (results are not for every local user)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    return os.fdopen(fd, "w", encoding="utf-8")


class Transcript:
    """A tracer that records ``time resource direction text`` lines while a run records.

    Instrument I/O never waits on the disk: the tracer only puts a line on a bounded
    queue, and a writer thread writes them. A write that fails (a full disk) is kept in
    ``failure`` — the engine ends the run ERROR for it — and never reaches the
    instrument's command path, so safe state is still confirmed (or not) truthfully.
    ``opener`` opens the file (tests inject one that fails).
    """

    QUEUE_LINES = 20_000
    STOP_TIMEOUT_S = 5.0

    def __init__(self, clock: Clock | None = None, opener: Opener = open_private) -> None:
        self._clock = clock
        self.opener = opener
        self._queue: queue.Queue[str | None] | None = None
        self._thread: threading.Thread | None = None
        self._path: Path | None = None
        self._lock = threading.Lock()
        self.failure: str | None = None
        self.dropped = 0

    def __call__(self, resource: str, direction: str, text: str) -> None:
        lines = self._queue
        if lines is None:
            return
        stamp = iso(self._clock.utcnow()) if self._clock is not None else ""
        try:
            lines.put_nowait(f"{stamp} {resource} {direction} {text}\n")
        except queue.Full:
            self.dropped += 1  # the writer is stuck on the disk: never stall the instrument

    def start(self, path: Path) -> None:
        with self._lock:
            path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
            file = self.opener(path)
            self.failure = None
            self.dropped = 0
            self._path = path
            lines: queue.Queue[str | None] = queue.Queue(self.QUEUE_LINES)
            self._thread = threading.Thread(
                target=self._write, args=(file, lines, path), name="transcript", daemon=True
            )
            self._thread.start()
            self._queue = lines

    def _write(self, file: TextIO, lines: queue.Queue[str | None], path: Path) -> None:
        failed = False
        while (line := lines.get()) is not None:
            if failed:
                continue  # keep draining so the tracer never blocks
            try:
                file.write(line)
            except OSError as err:
                failed = True
                self.failure = f"the instrument transcript {path} could not be written ({err})"
        try:
            file.close()
        except OSError as err:
            self.failure = self.failure or (
                f"the instrument transcript {path} could not be written ({err})"
            )

    def stop(self) -> Path | None:
        with self._lock:
            lines, thread, self._queue, self._thread = self._queue, self._thread, None, None
            if lines is None or thread is None:
                return None
            with contextlib.suppress(queue.Full):
                lines.put(None, timeout=self.STOP_TIMEOUT_S)
            thread.join(self.STOP_TIMEOUT_S)
            if thread.is_alive():
                self.failure = self.failure or (
                    f"the instrument transcript {self._path} was not finished within "
                    f"{self.STOP_TIMEOUT_S:g} s (the disk does not answer)"
                )
            elif self.dropped and not self.failure:
                self.failure = (
                    f"the instrument transcript {self._path} lost {self.dropped} line(s): "
                    "the disk did not keep up"
                )
            path, self._path = self._path, None
            return path


class Recorder:
    """Starts and stops a run's recordings; ``directory`` None records nothing."""

    def __init__(self, directory: Path | None, transcript: Transcript | None = None) -> None:
        self.directory = directory
        self.transcript = transcript

    def start(self, run_id: str, instruments: dict[str, Any]) -> None:
        if self.directory is None:
            return
        folder = self.directory / run_id
        if self.transcript is not None:
            self.transcript.start(folder / "instruments.log")
        bms = instruments.get("bms")
        if bms is not None and hasattr(bms, "start_trace"):
            bms.start_trace(folder / "can.asc")

    def failure(self, instruments: dict[str, Any]) -> str | None:
        """Why a recording could not be written (a full disk), or None."""
        if self.transcript is not None and self.transcript.failure:
            return self.transcript.failure
        bms = instruments.get("bms")
        trace_failure = getattr(bms, "trace_failure", None) if bms is not None else None
        return trace_failure if isinstance(trace_failure, str) else None

    def stop(self, instruments: dict[str, Any]) -> list[tuple[str, str, Path]]:
        """Finish the recordings; return (name, media type, path) of each file written."""
        files: list[tuple[str, str, Path]] = []
        bms = instruments.get("bms")
        if bms is not None and hasattr(bms, "stop_trace"):
            path = bms.stop_trace()
            if path is not None:
                files.append(("CAN trace", "text/x-vector-asc", Path(path)))
        if self.transcript is not None:
            path = self.transcript.stop()
            if path is not None:
                files.append(("instrument transcript", "text/plain", path))
        return files
