"""Per-run recordings kept as attachments: the raw CAN traffic and the instrument transcript.

The CAN trace is written by the BMS client (python-can's ASC writer); the transcript gets
every message to and from every instrument through the transports' tracer hook. Both are
files next to the results database, named after the run, and their paths and sha256 go
into the run's record, so what was said on the wires can be checked later.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, TextIO

from station.clock import Clock, iso


class Transcript:
    """A tracer that writes ``time resource direction text`` lines while a run records."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock
        self._file: TextIO | None = None
        self._path: Path | None = None
        self._lock = threading.Lock()

    def __call__(self, resource: str, direction: str, text: str) -> None:
        with self._lock:
            if self._file is None:
                return
            stamp = iso(self._clock.utcnow()) if self._clock is not None else ""
            self._file.write(f"{stamp} {resource} {direction} {text}\n")

    def start(self, path: Path) -> None:
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", encoding="utf-8")
            self._path = path

    def stop(self) -> Path | None:
        with self._lock:
            if self._file is None:
                return None
            self._file.close()
            self._file = None
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
