"""One writer per results database, for the writer's whole life, on every platform."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
import types
from contextlib import closing
from pathlib import Path

import pytest

from station.cli import main
from station.errors import StoreError
from station.store import ResultsStore
from station.writer_lock import WriterIdentity, WriterLock
from tests.station.test_store import REPO, record_run

CHILD = Path(__file__).with_name("crash_child.py")


def start_station(db: Path, run_id: str) -> subprocess.Popen[str]:
    """A second process that opens the store, leaves a run RUNNING and waits."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(db), run_id],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    assert child.stdout is not None and child.stdout.readline() == "READY\n"
    return child


def test_a_second_station_process_is_refused_and_readers_never_touch_the_live_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "results.db"
    with ResultsStore(db) as first:  # a finished run from earlier, then the lock is free
        record_run(first, "run-0001-done")
    child = start_station(db, "live-run-0002")
    try:
        with pytest.raises(
            StoreError, match=rf"in use by another station process \(pid={child.pid} "
        ):
            ResultsStore(db)
        # Read-only commands while the other station tests: the live run stays RUNNING.
        assert main(["results", "--db", str(db), "list"]) == 0
        assert "RUNNING" in capsys.readouterr().out
        with ResultsStore(db, read_only=True) as reader:
            assert reader.interrupted_on_open == 0
            assert reader.get_run("live-run-0002").outcome == "RUNNING"
            with pytest.raises(StoreError, match="read-only"):
                reader.audit("eve", "x", "y")
    finally:
        child.kill()
        child.communicate()  # reaps it and closes its pipes
    # Its writer gone, the next station recovers the run.
    with ResultsStore(db) as recovering:
        assert recovering.interrupted_on_open == 1
        assert recovering.get_run("live-run-0002").outcome == "INTERRUPTED"
        assert recovering.get_run("run-0001-done").outcome == "PASSED"
        assert recovering.verify().ok


def test_recovery_leaves_a_run_whose_writer_is_still_alive(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    ResultsStore(db).close()
    me = WriterIdentity.current()
    alive = WriterIdentity(os.getppid(), me.host, me.boot_id).text()  # pytest's parent lives
    gone = WriterIdentity(me.pid, me.host, "an-earlier-boot").text()
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        for run_id, writer in (("alive-writer", alive), ("gone-writer", gone)):
            conn.execute(
                "INSERT INTO runs (id, serial, part_number, station_id, operator, sequence_name,"
                " sequence_version, sequence_path, sequence_sha256, limits_path, limits_sha256,"
                " config_sha256, software_version, started_at, writer)"
                " VALUES (?, 'S', 'P', 'E', 'o', 's', '1', 'p', 'a', 'l', 'b', 'c', 'v', 'x', ?)",
                (run_id, writer),
            )
    with ResultsStore(db) as store:
        assert store.interrupted_on_open == 1
        assert store.get_run("alive-writer").outcome == "RUNNING"
        assert store.get_run("gone-writer").outcome == "INTERRUPTED"


class FakeMsvcrt(types.ModuleType):
    """Windows' byte-range locks as msvcrt offers them, keyed by file and offset."""

    LK_NBLCK, LK_UNLCK = 2, 0

    def __init__(self) -> None:
        super().__init__("msvcrt")
        self.held: dict[tuple[int, int, int], int] = {}
        self.calls: list[tuple[int, int]] = []

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino, os.lseek(fd, 0, os.SEEK_CUR))
        self.calls.append((mode, key[2]))
        if mode == self.LK_UNLCK:
            self.held.pop(key, None)
        elif key in self.held and self.held[key] != fd:
            raise OSError(errno.EACCES, "Permission denied")
        else:
            self.held[key] = fd


def test_without_fcntl_the_lock_uses_msvcrt_and_still_excludes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeMsvcrt()
    monkeypatch.setitem(sys.modules, "fcntl", None)  # import fcntl → ImportError
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    db = tmp_path / "results.db"
    with ResultsStore(db):
        assert fake.held, "the store opened without a lock"
        with pytest.raises(StoreError, match=f"pid={os.getpid()}"):
            WriterLock(db).acquire()
    assert fake.held == {}
    assert {offset for _, offset in fake.calls} == {1 << 20}  # past the identity text
    second = WriterLock(db)
    second.acquire()
    second.release()


def test_a_platform_without_file_locks_refuses_to_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "fcntl", None)
    monkeypatch.setitem(sys.modules, "msvcrt", None)
    with pytest.raises(StoreError, match="neither fcntl nor msvcrt"):
        ResultsStore(tmp_path / "results.db")
