"""Per-run recordings kept as attachments: the raw CAN traffic and the instrument transcript.

The CAN trace is written by the BMS client (python-can's ASC writer); the transcript gets
every message to and from every instrument through the transports' tracer hook, and writes
it on a thread of its own, so instrument I/O never waits on the disk. Both are
files next to the results database, named after the run, and their paths and sha256 go
into the run's record, so what was said on the wires can be checked later.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from station.clock import Clock, iso

Opener = Callable[[Path], TextIO]


def open_private(path: Path) -> TextIO:
    """Open ``path`` for writing, created 0640 (results are not for every local user)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    return os.fdopen(fd, "w", encoding="utf-8")


_Line = tuple[datetime | None, str, str, str]
"""One transcript line before it is formatted: its UTC time (None without a clock), the
resource, the direction and the text."""


def _formatted(batch: list[_Line]) -> Iterator[str]:
    """The lines of ``batch`` as written, a stamp formatted once for the lines sharing it."""
    last: datetime | None = None
    shown = ""
    for stamp, resource, direction, line in batch:
        if stamp is not last:
            last, shown = stamp, iso(stamp) if stamp is not None else ""
        yield f"{shown} {resource} {direction} {line}\n"


class Transcript:
    """A tracer that records ``time resource direction text`` lines while a run records.

    Instrument I/O never waits on the disk: the tracer only appends the line's parts to a
    pending batch, and a writer thread formats and writes them. The writer wakes once per
    :data:`BATCH_LINES` lines (or every :data:`FLUSH_S` of wall time), not once per line:
    under lockstep virtual time a run makes thousands of exchanges per wall second, and a
    thread woken for each would contend with the instruments' own threads. Lines beyond
    :data:`QUEUE_LINES` waiting for the writer are counted in ``dropped``. A write that fails
    (a full disk) is kept in ``failure`` — the engine ends the run ERROR for it — and never
    reaches the instrument's command path, so safe state is still confirmed (or not)
    truthfully. ``opener`` opens the file (tests inject one that fails).
    """

    QUEUE_LINES = 20_000
    BATCH_LINES = 256
    FLUSH_S = 0.2
    STOP_TIMEOUT_S = 5.0

    def __init__(self, clock: Clock | None = None, opener: Opener = open_private) -> None:
        self._clock = clock
        self.opener = opener
        # Lines at one instant of the clock share one stamp, worked out once (an exchange
        # is two lines, a step often makes several at one virtual instant): (now(), utcnow())
        # of the last line, replaced whole, so threads tracing at once never mix two.
        self._stamped: tuple[float, datetime] | None = None
        self._mutex = threading.Lock()  # entered directly by the tracer: no Python frames
        self._ready = threading.Condition(self._mutex)  # guards _pending and _closing
        self._pending: list[_Line] | None = None  # None: not recording
        self._closing = False
        self._syncing = False  # sync() waits: write what is pending without waiting for more
        self._taken = self._written = 0  # lines handed to the writer, lines it is done with
        self._thread: threading.Thread | None = None
        self._path: Path | None = None
        self._lock = threading.Lock()  # start and stop
        self.failure: str | None = None
        self.dropped = 0

    def __call__(self, resource: str, direction: str, text: str) -> None:
        if self._pending is None:
            return
        stamp = None
        clock = self._clock
        if clock is not None:
            now = clock.now()
            stamped = self._stamped
            if stamped is None or stamped[0] != now:
                stamped = self._stamped = (now, clock.utcnow())
            stamp = stamped[1]
        with self._mutex:
            pending = self._pending
            if pending is None or self._closing:
                return
            if len(pending) >= self.QUEUE_LINES:
                self.dropped += 1  # the writer is stuck on the disk: never stall the instrument
                return
            pending.append((stamp, resource, direction, text))
            if len(pending) == self.BATCH_LINES:
                self._ready.notify()

    def start(self, path: Path) -> None:
        with self._lock:
            path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
            file = self.opener(path)
            self.failure = None
            self.dropped = 0
            self._path = path
            with self._ready:
                self._pending = []
                self._closing = False
            self._thread = threading.Thread(
                target=self._write, args=(file, path), name="transcript", daemon=True
            )
            self._thread.start()

    def _next_batch(self) -> tuple[list[_Line], bool]:
        """Wait for a batch (or the flush period, or stop); return it and whether stopping."""
        with self._ready:
            if not (self._closing or self._syncing) and len(self._pending or ()) < self.BATCH_LINES:
                self._ready.wait(self.FLUSH_S)
            batch = self._pending or []
            closing = self._closing
            self._pending = None if closing else []
            self._syncing = False
            self._taken += len(batch)
        return batch, closing

    def sync(self, timeout_s: float = FLUSH_S) -> None:
        """Let the writer write every line so far, waiting at most ``timeout_s`` for it: a
        failure to write them is then in :attr:`failure` (the engine asks at each step's
        end). A disk that does not answer costs the caller ``timeout_s``, never more."""
        with self._ready:
            if self._pending is None or self._thread is None:
                return
            target = self._taken + len(self._pending)
            if self._written >= target:
                return  # every line is written already: no need to wake the writer
            self._syncing = True
            self._ready.notify_all()
            self._ready.wait_for(lambda: self._written >= target, timeout_s)

    def _write(self, file: TextIO, path: Path) -> None:
        failed = False
        closing = False
        while not closing:
            batch, closing = self._next_batch()
            if batch and not failed:  # after a failure: keep taking batches, never block
                text = "".join(_formatted(batch))
                try:
                    file.write(text)
                except OSError as err:
                    failed = True
                    self.failure = f"the instrument transcript {path} could not be written ({err})"
            with self._ready:
                self._written += len(batch)
                self._ready.notify_all()
        try:
            file.close()
        except OSError as err:
            self.failure = self.failure or (
                f"the instrument transcript {path} could not be written ({err})"
            )

    def stop(self) -> Path | None:
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return None
            with self._ready:
                self._closing = True
                self._ready.notify_all()
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
        if self.transcript is not None:
            self.transcript.sync()
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
