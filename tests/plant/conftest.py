"""A throwaway PostgreSQL cluster for the plant tests, made with Debian's server binaries.

The session makes one cluster (initdb + pg_ctl in a temporary folder, unix socket only,
trust authentication for its own superuser) and removes it at the end; each test gets a
fresh database in it. initdb refuses to run as root, so under root (CI) the server runs as
the ``postgres`` system user the Debian package creates, through ``runuser``.

PostgreSQL missing fails the tests with a sentence: CI installs it (``.ci/run``). A
developer without root may set ``EOL_STATION_SKIP_POSTGRES=1`` to skip them instead.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

SKIP_ENV = "EOL_STATION_SKIP_POSTGRES"
SERVER_USER = "postgres"
SUPERUSER = "eol"


@dataclass
class Cluster:
    """One running test cluster; ``stop_immediately`` is a crash (no shutdown checkpoint)."""

    bin_dir: Path
    root: Path
    run_as: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port=5432 dbname={dbname} user={SUPERUSER}"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "--no-sync")

    def start(self) -> None:
        options = f"-k {self.socket_dir} -c listen_addresses='' -p 5432"
        log = str(self.root / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop_immediately(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


def _server_binaries() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4])
    )
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    bin_dir = _server_binaries()
    if bin_dir is None:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"PostgreSQL server binaries not installed and {SKIP_ENV}=1")
        pytest.fail(
            "The plant tests need Debian's PostgreSQL server (/usr/lib/postgresql/*/bin/initdb "
            f"is missing): `apt-get install postgresql`, or set {SKIP_ENV}=1 to skip them."
        )
    run_as = SERVER_USER if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="eol-pg-"))
    (root / "socket").mkdir()
    if run_as is not None:
        account = pwd.getpwnam(run_as)
        for path in (root, root / "socket"):
            os.chown(path, account.pw_uid, account.pw_gid)
    os.chmod(root, 0o755)
    os.chmod(root / "socket", 0o755)
    server = Cluster(bin_dir, root, run_as)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(RuntimeError):  # not running (a failed start): remove anyway
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


_names = itertools.count()


@pytest.fixture
def central_dsn(cluster: Cluster) -> str:
    """A fresh, empty database in the session's cluster; its connection string."""
    name = f"plant_{os.getpid()}_{next(_names)}"
    with psycopg.connect(cluster.dsn(), autocommit=True) as pg:
        pg.execute(f'CREATE DATABASE "{name}"'.encode())
    return cluster.dsn(name)
