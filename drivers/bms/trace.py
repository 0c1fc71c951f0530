"""Write the raw CAN traffic of a run to an ASC or BLF file, with seeds and keys blanked.

:class:`CanTrace` stays registered on the BMS's notifier for the BMS's whole life and
forwards frames to a python-can writer (:class:`AscWriter`, python-can's ``ASCWriter``, or
``BLFWriter``, by the file suffix) only while a trace is open. Keeping one permanent listener avoids
changing the notifier's listener list while its thread iterates over it. Frames the station
sends (UDS requests) do not come back through the notifier, so the UDS client hands them
in through :meth:`CanTrace.record_tx`.

An ASC trace is written by python-can's ``ASCWriter``, whose lines for plain data frames
(nearly every line of a run: ~56 000 per reference run, on a thread that shares the
interpreter with the run) :class:`AscWriter` writes a batch at a time, from the parts of a
line it has seen before: the same bytes (``tests/drivers/bms/test_trace.py``), under a
third of the work.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import can

from drivers.bms.redact import FrameRedactor
from drivers.errors import BmsError

log = logging.getLogger(__name__)


_TEMPLATES_KNOWN = can.ASCWriter.FORMAT_EVENT == "{timestamp: 9.6f} {message}\n" and (
    can.ASCWriter.FORMAT_MESSAGE.endswith("{data}")
)
"""Whether python-can's ASC line is the one :meth:`AscWriter.write_batch` writes itself."""

_CHANNEL_TYPES = (str, int, type(None))


class AscWriter(can.ASCWriter):
    """python-can's ASC writer, writing a batch of classic data frames in one go.

    ``ASCWriter`` formats each frame's message, then the line around it (two
    ``str.format`` calls), works out the channel's number from its name with a regular
    expression, and writes every line on its own. Yet all of a line but the time and the
    data depends only on the frame's channel, ID, direction and DLC, and those repeat (a
    run's ~56 000 frames have seven of them). That middle is kept per such key
    (:data:`PREFIXES` at most), so a frame costs the formatting of its time and data, and
    :meth:`write_batch` writes a batch's lines with one call. Any other frame (error,
    remote, CAN FD, a time stamp that is not a float, a channel that is not a str, int or
    None) and the first one, which writes the header, go through ``ASCWriter`` itself, in
    their place.
    """

    PREFIXES = 4096
    """Line middles kept at most; a bus with more keys than this starts the cache over."""

    def __init__(self, file: str | Path, channel: int = 1) -> None:
        super().__init__(str(file), channel=channel)
        # (channel, its type, ID, extended, Rx, DLC, error, remote, FD) -> the line between
        # the time and the data, for the frames written here. The type keeps a channel 1.0
        # (no number to python-can) apart from the channel 1 it equals.
        self._prefixes: dict[tuple[object, ...], str] = {}

    def on_message_received(self, msg: can.Message) -> None:
        self.write_batch((msg,))

    def write_batch(self, frames: Iterable[can.Message]) -> None:
        """Write ``frames``, in order, as that many calls of ``on_message_received`` would."""
        prefixes = self._prefixes
        started = self.started
        lines: list[str] = []
        for msg in frames:
            channel = msg.channel
            key = (
                channel,
                type(channel),
                msg.arbitration_id,
                msg.is_extended_id,
                msg.is_rx,
                msg.dlc,
                msg.is_error_frame,
                msg.is_remote_frame,
                msg.is_fd,
            )
            prefix = prefixes.get(key)
            if prefix is None:
                prefix = self._prefix(msg, key)
            timestamp = msg.timestamp
            # Not a float: None (ASCWriter writes its last time instead), or a number whose
            # "% 9.6f" below might not be the " 9.6f" format ASCWriter gives it.
            if prefix is None or type(timestamp) is not float:
                if lines:  # written first: the lines stay in the frames' order
                    self.file.write("".join(lines))
                    lines.clear()
                super().on_message_received(msg)
                started = self.started  # set by the first frame
                continue
            if timestamp >= started:  # relative, as ASCWriter.log_event makes it
                timestamp -= started
            # FORMAT_EVENT around FORMAT_MESSAGE, whose last field is the data. A float's
            # "% 9.6f" is the same text as its " 9.6f" format, for two thirds of the cost.
            time = "% 9.6f" % timestamp  # noqa: UP031
            lines.append(f"{time} {prefix}{msg.data.hex(' ').upper()}\n")
        if lines:
            self.file.write("".join(lines))

    def _prefix(self, msg: can.Message, key: tuple[object, ...]) -> str | None:
        """Keep and return the middle of a classic data frame's line; None for any other."""
        if (
            not _TEMPLATES_KNOWN
            or not self.header_written
            or msg.is_error_frame
            or msg.is_remote_frame
            or msg.is_fd
            or type(msg.channel) not in _CHANNEL_TYPES
        ):
            return None
        number = can.util.channel2int(msg.channel)
        prefix: str = self.FORMAT_MESSAGE.format(
            channel=self.channel if number is None else number + 1,  # ASC counts from 1
            id=f"{msg.arbitration_id:X}x" if msg.is_extended_id else f"{msg.arbitration_id:X}",
            dir="Rx" if msg.is_rx else "Tx",
            dtype=f"d {msg.dlc:x}",
            data="",
        )
        if len(self._prefixes) >= self.PREFIXES:
            self._prefixes.clear()
        self._prefixes[key] = prefix
        return prefix


TRACE_SUFFIXES = (".asc", ".blf")
"""Trace formats the station keeps: Vector ASC (text) and BLF (binary)."""


def open_writer(path: Path) -> Any:
    """Open the python-can writer of a ``.asc`` (:class:`AscWriter`) or ``.blf`` trace."""
    return AscWriter(path) if path.suffix.lower() == ".asc" else can.Logger(str(path))


class CanTrace(can.Listener):
    """Forward every frame to the open trace file, passed through ``redact`` first (the
    :class:`~drivers.bms.redact.FrameRedactor` of the UDS IDs).

    Frames are handed to a writer thread in batches, so neither the notifier thread nor a
    UDS request ever waits on the disk, and the writer wakes once per :data:`BATCH_FRAMES`
    frames (or every :data:`FLUSH_S` of wall time), not once per frame: under lockstep
    virtual time frames come in bursts of thousands per wall second. A write that fails (a
    full disk) stops the trace and is kept in ``failure``; frames beyond
    :data:`QUEUE_FRAMES` waiting for the writer are counted in ``dropped``.
    """

    QUEUE_FRAMES = 50_000
    # Each wake-up of the writer costs a thread switch and the cache it cools: 1024 frames
    # a batch (~55 a reference run) took a third less of the writer's CPU than 256 did.
    BATCH_FRAMES = 1024
    FLUSH_S = 0.2
    STOP_TIMEOUT_S = 5.0

    def __init__(self, redact: FrameRedactor | None = None) -> None:
        # Called only for the frames of its IDs (the UDS ones): every other frame is kept
        # as it is, with no call.
        self._redact = redact or FrameRedactor(())
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
        self.on_batch((msg,))

    def on_batch(self, msgs: Sequence[can.Message]) -> None:
        """Queue received frames, in order (a lockstep drain's, see
        :class:`~drivers.bms.lockstep.BatchListener`): one lock for all. Never raises."""
        if self._pending is None:
            return
        redact = self._redact
        ids = redact.ids
        frames = [redact(msg) if msg.arbitration_id in ids else msg for msg in msgs]
        with self._queue_lock:
            pending = self._pending
            if pending is None or self._closing:
                return
            room = self.QUEUE_FRAMES - len(pending)
            if len(frames) > room:
                self.dropped += len(frames) - room
                del frames[room:]
            before = len(pending)
            pending.extend(frames)
            if before < self.BATCH_FRAMES <= len(pending):
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
        write = self._write_batch if isinstance(writer, AscWriter) else self._write_frames
        failed = False
        closing = False
        while not closing:
            batch, closing = self._next_batch()
            if failed or not batch:
                continue  # the rest of the trace is lost; senders never block
            try:
                write(writer, batch)
            except Exception as err:  # a full disk must not kill the writer silently
                failed = True
                self.failure = f"the CAN trace {path} could not be written ({err})"
                log.error("CAN trace %s stopped: %s", path, err)
        try:
            writer.stop()
        except Exception as err:
            self.failure = self.failure or f"the CAN trace {path} could not be written ({err})"

    def _write_batch(self, writer: AscWriter, batch: list[can.Message]) -> None:
        writer.write_batch(batch)
        self.frames += len(batch)

    def _write_frames(self, writer: Any, batch: list[can.Message]) -> None:
        # BLF numbers channels in 16 bits, and python-can takes a named channel's trailing
        # digits as its number ("vcan70000", a virtual bus named by a uuid): one bus per
        # trace, so a BLF file gets channel 1 rather than a write error.
        blf = isinstance(writer, can.BLFWriter)
        for msg in batch:
            if blf and msg.channel is not None:
                msg = copy.copy(msg)
                msg.channel = None
            writer.on_message_received(msg)
            self.frames += 1
