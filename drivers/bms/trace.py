"""Write the raw CAN traffic of a run to an ASC or BLF file, with seeds and keys blanked.

:class:`CanTrace` stays registered on the BMS's notifier for the BMS's whole life and
forwards frames to a python-can writer (:class:`AscWriter`, python-can's ``ASCWriter``, or
``BLFWriter``, by the file suffix) only while a trace is open. Keeping one permanent listener avoids
changing the notifier's listener list while its thread iterates over it. Frames the station
sends (UDS requests) do not come back through the notifier, so the UDS client hands them
in through :meth:`CanTrace.record_tx`.

An ASC trace is written by python-can's ``ASCWriter``, whose line for a plain data frame
(nearly every line of a run: ~56 000 per reference run, on a thread that shares the
interpreter with the run) :class:`AscWriter` formats in one go from the writer's own
templates: the same bytes (``tests/drivers/bms/test_trace.py``), half the work.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import can

from drivers.errors import BmsError

log = logging.getLogger(__name__)


class AscWriter(can.ASCWriter):
    """python-can's ASC writer; a classic data frame's line is formatted with one call.

    ``ASCWriter`` formats a frame's message, then the line around it (two ``str.format``
    calls) and works out the channel number from the channel's name with a regular
    expression, for every frame. Here the two templates are joined once and the numbers of
    the channels seen are kept; any other frame (error, remote, CAN FD) and the first one,
    which writes the header, go through ``ASCWriter`` itself.
    """

    def __init__(self, file: str | Path, channel: int = 1) -> None:
        super().__init__(str(file), channel=channel)
        self._line = self.FORMAT_EVENT.replace("{message}", self.FORMAT_MESSAGE, 1)
        self._numbers: dict[Any, int] = {}

    def on_message_received(self, msg: can.Message) -> None:
        if (
            not self.header_written
            or msg.is_error_frame
            or msg.is_remote_frame
            or msg.is_fd
            or msg.timestamp is None
            or not isinstance(msg.channel, str | int | None)
        ):
            super().on_message_received(msg)
            return
        number = self._numbers.get(msg.channel)
        if number is None:
            found = can.util.channel2int(msg.channel)
            if found is None:
                number = self.channel
            else:  # numbered from 1 in ASC, as ASCWriter does
                number = self._numbers[msg.channel] = found + 1
        timestamp = msg.timestamp
        if timestamp >= self.started:  # as log_event makes it relative
            timestamp -= self.started
        self.file.write(
            self._line.format(
                timestamp=timestamp,
                channel=number,
                id=f"{msg.arbitration_id:X}x" if msg.is_extended_id else f"{msg.arbitration_id:X}",
                dir="Rx" if msg.is_rx else "Tx",
                dtype=f"d {msg.dlc:x}",
                data=msg.data.hex(" ").upper(),
            )
        )


TRACE_SUFFIXES = (".asc", ".blf")
"""Trace formats the station keeps: Vector ASC (text) and BLF (binary)."""


def open_writer(path: Path) -> Any:
    """Open the python-can writer of a ``.asc`` (:class:`AscWriter`) or ``.blf`` trace."""
    return AscWriter(path) if path.suffix.lower() == ".asc" else can.Logger(str(path))


class CanTrace(can.Listener):
    """Forward every frame to the open trace file, passed through ``redact`` first.

    Frames are handed to a writer thread in batches, so neither the notifier thread nor a
    UDS request ever waits on the disk, and the writer wakes once per :data:`BATCH_FRAMES`
    frames (or every :data:`FLUSH_S` of wall time), not once per frame: under lockstep
    virtual time frames come in bursts of thousands per wall second. A write that fails (a
    full disk) stops the trace and is kept in ``failure``; frames beyond
    :data:`QUEUE_FRAMES` waiting for the writer are counted in ``dropped``.
    """

    QUEUE_FRAMES = 50_000
    BATCH_FRAMES = 256
    FLUSH_S = 0.2
    STOP_TIMEOUT_S = 5.0

    def __init__(self, redact: Callable[[can.Message], can.Message] | None = None) -> None:
        self._redact = redact
        self._lock = threading.Lock()  # open and close
        # Guards _pending and _closing. The lock itself is what a frame takes (a C-level
        # context manager, where the Condition's own is Python code): once per frame.
        self._queue_lock = threading.Lock()
        self._ready = threading.Condition(self._queue_lock)
        self._pending: list[can.Message] | None = None  # None: no trace open
        self._closing = False
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
            if self._thread is not None:
                raise BmsError(f"a CAN trace is already being written to {self._path}")
            try:
                target.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
                writer = open_writer(target)
                os.chmod(target, 0o640)  # python-can creates it 0644: traffic is a result
            except (OSError, ValueError) as err:
                raise BmsError(f"cannot write the CAN trace {target}: {err}") from err
            self._path = target
            self.frames = self.dropped = 0
            self.failure = None
            with self._ready:
                self._pending = []
                self._closing = False
            self._thread = threading.Thread(
                target=self._write_all, args=(writer, target), name="can-trace", daemon=True
            )
            self._thread.start()

    def close(self) -> Path | None:
        """Finish the trace file and return its path (None if no trace was open)."""
        with self._lock:
            thread, path = self._thread, self._path
            self._thread = self._path = None
            if thread is None:
                return None
            with self._ready:
                self._closing = True
                self._ready.notify_all()
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
        if self._pending is None:
            return
        frame = self._redact(msg) if self._redact else msg
        with self._queue_lock:
            pending = self._pending
            if pending is None or self._closing:
                return
            if len(pending) >= self.QUEUE_FRAMES:
                self.dropped += 1
                return
            pending.append(frame)
            if len(pending) == self.BATCH_FRAMES:
                self._ready.notify()

    def record_tx(self, msg: can.Message) -> None:
        """Queue one frame the station sent."""
        self.on_message_received(msg)

    def _next_batch(self) -> tuple[list[can.Message], bool]:
        """Wait for a batch (or the flush period, or close); return it and whether closing."""
        with self._ready:
            pending = self._pending or []
            if not self._closing and len(pending) < self.BATCH_FRAMES:
                self._ready.wait(self.FLUSH_S)
            batch = self._pending or []
            closing = self._closing
            self._pending = None if closing else []
        return batch, closing

    def _write_all(self, writer: Any, path: Path) -> None:
        failed = False
        # BLF numbers channels in 16 bits, and python-can takes a named channel's trailing
        # digits as its number ("vcan70000", a virtual bus named by a uuid): one bus per
        # trace, so a BLF file gets channel 1 rather than a write error.
        blf = isinstance(writer, can.BLFWriter)
        closing = False
        while not closing:
            batch, closing = self._next_batch()
            for msg in batch:
                if failed:
                    break  # the rest of the trace is lost; senders never block
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
