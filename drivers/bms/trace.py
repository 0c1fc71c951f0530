"""Write the raw CAN traffic of a run to an ASC or BLF file, with seeds and keys blanked.

:class:`CanTrace` stays registered on the BMS's notifier for the BMS's whole life and
forwards frames to a python-can writer (``can.Logger`` picks ``ASCWriter`` or ``BLFWriter``
from the file suffix) only while a trace is open. Keeping one permanent listener avoids
changing the notifier's listener list while its thread iterates over it. Frames the station
sends (UDS requests) do not come back through the notifier, so the UDS client hands them
in through :meth:`CanTrace.record_tx`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import can

from drivers.errors import BmsError

log = logging.getLogger(__name__)

TRACE_SUFFIXES = (".asc", ".blf")
"""Trace formats the station keeps: Vector ASC (text) and BLF (binary)."""


class CanTrace(can.Listener):
    """Forward every frame to the open trace file, passed through ``redact`` first."""

    def __init__(self, redact: Callable[[can.Message], can.Message] | None = None) -> None:
        self._redact = redact
        self._lock = threading.Lock()
        self._writer: Any = None
        self._path: Path | None = None
        self.frames = 0

    @property
    def path(self) -> Path | None:
        """Return the file being written, or None."""
        return self._path

    def open(self, path: str | Path) -> None:
        """Start writing a trace to ``path`` (``.asc`` or ``.blf``); raise BmsError if not."""
        target = Path(path)
        if target.suffix.lower() not in TRACE_SUFFIXES:
            raise BmsError(
                f"CAN trace {target}: use a .asc or .blf file name, not {target.suffix!r}"
            )
        with self._lock:
            if self._writer is not None:
                raise BmsError(f"a CAN trace is already being written to {self._path}")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._writer = can.Logger(str(target))
            except (OSError, ValueError) as err:
                raise BmsError(f"cannot write the CAN trace {target}: {err}") from err
            self._path = target
            self.frames = 0

    def close(self) -> Path | None:
        """Finish the trace file and return its path (None if no trace was open)."""
        with self._lock:
            writer, path = self._writer, self._path
            self._writer = self._path = None
        if writer is not None:
            writer.stop()
        return path

    def stop(self) -> None:
        """Finish any open trace (the notifier calls this when it stops)."""
        self.close()

    def on_message_received(self, msg: can.Message) -> None:
        """Write one received frame (called from the notifier thread; never raises)."""
        self._write(msg)

    def record_tx(self, msg: can.Message) -> None:
        """Write one frame the station sent."""
        self._write(msg)

    def _write(self, msg: can.Message) -> None:
        with self._lock:
            if self._writer is None:
                return
            try:
                self._writer.on_message_received(self._redact(msg) if self._redact else msg)
                self.frames += 1
            except Exception as err:  # a full disk must not kill the notifier thread
                log.error("CAN trace %s stopped: %s", self._path, err)
                writer, self._writer = self._writer, None
                try:
                    writer.stop()
                except Exception:
                    log.debug("closing the failed trace writer failed too", exc_info=True)
