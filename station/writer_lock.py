"""One writer per results database: an OS lock on ``<db>.lock`` held while the process lives.

The lock is taken on a side file, never on the database itself (closing any descriptor of
the database would drop SQLite's own POSIX locks), with ``fcntl.flock`` on POSIX and
``msvcrt.locking`` on Windows. Both are released by the kernel when the process dies, so
a crashed station never leaves a stale lock. A platform with neither refuses to open the
database for writing rather than run unlocked.

The holder writes who it is (pid, host, boot id) into the file, so a second station can
say which process holds the database.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from station.errors import StoreError

# msvcrt locks byte ranges, and a locked range cannot be read by others: lock one byte
# far past the identity text so a second process can still read who holds the file.
_WIN_LOCK_OFFSET = 1 << 20


@dataclass(frozen=True)
class WriterIdentity:
    """Who writes a database: enough to tell later whether that writer is still alive."""

    pid: int
    host: str
    boot_id: str

    def text(self) -> str:
        return f"pid={self.pid} host={self.host} boot={self.boot_id}"

    @classmethod
    def parse(cls, text: str) -> WriterIdentity | None:
        fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
        try:
            return cls(int(fields["pid"]), fields["host"], fields.get("boot", ""))
        except (KeyError, ValueError):
            return None

    def is_alive(self) -> bool:
        """True when this writer may still run: same host, same boot, its pid exists."""
        me = WriterIdentity.current()
        if self.host != me.host or self.boot_id != me.boot_id:
            return False  # another machine's or an earlier boot's writer: gone for us
        if self.pid == me.pid:
            return True
        return _pid_exists(self.pid)

    @classmethod
    def current(cls) -> WriterIdentity:
        return cls(os.getpid(), socket.gethostname(), boot_id())


def boot_id() -> str:
    """An id that changes with every boot (Linux), or "" where there is none."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _pid_exists(pid: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        # os.kill would terminate it: no probe. The OS lock this store holds is the
        # authority there — nobody else can be writing.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


class WriterLock:
    """The exclusive writer lock of the database at ``db_path`` (not yet taken).

    ``acquire`` raises StoreError naming the holder when another process has it.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = Path(f"{db_path}.lock")
        self.db_path = db_path
        self._fd: int | None = None
        self._msvcrt: ModuleType | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        fcntl = _module("fcntl")
        msvcrt = None if fcntl is not None else _module("msvcrt")
        if fcntl is None and msvcrt is None:
            raise StoreError(
                f"Cannot lock the results database {self.db_path}: this platform has neither "
                "fcntl nor msvcrt file locks; run the station on Linux or Windows."
            )
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                assert msvcrt is not None
                os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as err:
            os.close(fd)
            raise StoreError(
                f"The results database {self.db_path} is in use by another station process "
                f"({self.holder() or 'holder unknown'}); close that station first or give "
                "this one its own database."
            ) from err
        self._fd = fd
        self._msvcrt = msvcrt
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, WriterIdentity.current().text().encode())

    def holder(self) -> str:
        """The identity text the holder wrote into the lock file ("" if none)."""
        try:
            return self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        msvcrt, self._msvcrt = self._msvcrt, None
        if msvcrt is not None:
            os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
            with contextlib.suppress(OSError):  # closing the handle frees it as well
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        os.close(fd)  # closing the descriptor drops the flock
