"""Write the raw CAN traffic of a run to an ASC or BLF file, with seeds and keys blanked.

:class:`CanTrace` stays registered on the BMS's notifier for the BMS's whole life and
forwards frames to a python-can writer (``can.Logger`` picks ``ASCWriter`` or ``BLFWriter``
from the file suffix) only while a trace is open. Keeping one permanent listener avoids
changing the notifier's listener list while its thread iterates over it. Frames the station
sends (UDS requests) do not come back through the notifier, so the UDS client hands them
in through :meth:`CanTrace.record_tx`.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import queue
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
    """Forward every frame to the open trace file, passed through ``redact`` first.

    Frames are handed to a writer thread through a bounded queue, so neither the notifier
    thread nor a UDS request ever waits on the disk. A write that fails (a full disk)
    stops the trace and is kept in ``failure``; frames the writer could not keep up with
    are counted in ``dropped``.
    """

    QUEUE_FRAMES = 50_000
    STOP_TIMEOUT_S = 5.0

    def __init__(self, redact: Callable[[can.Message], can.Message] | None = None) -> None:
        self._redact = redact
        self._lock = threading.Lock()
        self._queue: queue.Queue[can.Message | None] | None = None
        self._thread: threading.Thread | None = None
        self._path: Path | None = None
        self.frames = 0
        self.dropped = 0
        self.failure: str | None = None

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
            if self._queue is not None:
                raise BmsError(f"a CAN trace is already being written to {self._path}")
            try:
                target.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
                writer = can.Logger(str(target))
                os.chmod(target, 0o640)  # python-can creates it 0644: traffic is a result
            except (OSError, ValueError) as err:
                raise BmsError(f"cannot write the CAN trace {target}: {err}") from err
            self._path = target
            self.frames = self.dropped = 0
            self.failure = None
            frames: queue.Queue[can.Message | None] = queue.Queue(self.QUEUE_FRAMES)
            self._thread = threading.Thread(
                target=self._write_all, args=(writer, frames, target), name="can-trace",
                daemon=True,
            )  # fmt: skip
            self._thread.start()
            self._queue = frames

    def close(self) -> Path | None:
        """Finish the trace file and return its path (None if no trace was open)."""
        with self._lock:
            frames, thread, path = self._queue, self._thread, self._path
            self._queue = self._thread = self._path = None
        if frames is None or thread is None:
            return None
        with contextlib.suppress(queue.Full):
            frames.put(None, timeout=self.STOP_TIMEOUT_S)
        thread.join(self.STOP_TIMEOUT_S)
        if thread.is_alive():
            self.failure = self.failure or (
                f"the CAN trace {path} was not finished within {self.STOP_TIMEOUT_S:g} s"
            )
        elif self.dropped and not self.failure:
            self.failure = f"the CAN trace {path} lost {self.dropped} frame(s): the disk was slow"
        return path

    def stop(self) -> None:
        """Finish any open trace (the notifier calls this when it stops)."""
        self.close()

    def on_message_received(self, msg: can.Message) -> None:
        """Queue one received frame (called from the notifier thread; never raises)."""
        self._put(msg)

    def record_tx(self, msg: can.Message) -> None:
        """Queue one frame the station sent."""
        self._put(msg)

    def _put(self, msg: can.Message) -> None:
        frames = self._queue
        if frames is None:
            return
        try:
            frames.put_nowait(self._redact(msg) if self._redact else msg)
        except queue.Full:
            self.dropped += 1

    def _write_all(self, writer: Any, frames: queue.Queue[can.Message | None], path: Path) -> None:
        failed = False
        # BLF numbers channels in 16 bits, and python-can takes a named channel's trailing
        # digits as its number ("vcan70000", a virtual bus named by a uuid): one bus per
        # trace, so a BLF file gets channel 1 rather than a write error.
        blf = isinstance(writer, can.BLFWriter)
        while (msg := frames.get()) is not None:
            if failed:
                continue  # keep draining: senders must never block
            try:
                if blf and msg.channel is not None:
                    msg = copy.copy(msg)
                    msg.channel = None
                writer.on_message_received(msg)
                self.frames += 1
            except Exception as err:  # a full disk must not kill the writer silently
                failed = True
                self.failure = f"the CAN trace {path} could not be written ({err})"
                log.error("CAN trace %s stopped: %s", path, err)
        try:
            writer.stop()
        except Exception as err:
            self.failure = self.failure or f"the CAN trace {path} could not be written ({err})"
