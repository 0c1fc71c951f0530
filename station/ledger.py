"""The hash chain that makes results and station data tamper-evident.

Every finished run, and every change to a chained row (users, releases, settings), appends
one link to the ``chain`` table: the sha256 of the record's canonical form, and a link hash
over that, the link's position, kind, subject, time and the previous link's hash. Editing,
deleting or reordering anything recorded changes a record hash or breaks a link; rewriting
the whole chain changes the head, which is also kept outside the database in
``<db>.chain-head`` (and printed with every shown record), so it cannot go unnoticed there.

``verify`` walks the chain and recomputes every record; ``row_is_intact`` is how the
station refuses privileges or releases read from a row changed outside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station.inputs import sha256_of
from station.outcomes import RunState
from station.store_records import ChainRecord, insert_sql, read, row_of

GENESIS = "0" * 64
RUNS = "runs"
_INSERT_LINK, _link_row = insert_sql(ChainRecord), row_of(ChainRecord)
ROW_KEYS = {"users": "name", "releases": "id", "settings": "key"}
"""Chained tables other than runs, by their key column."""

_RUN_CHILDREN = (
    ("steps", "seq, id"),
    ("measurements", "id"),
    ("instruments", "rowid"),
    ("attachments", "id"),
    ("logs", "id"),
)
_OPTIONAL_RUN_CHILDREN = ("run_attempts", "components")
"""Tables a run may have no row in (runs older than the table); in the digest only with rows,
so adding the table did not change the digest of a run recorded before."""
_head_lock = threading.Lock()
ADDED_RUN_COLUMNS = ("virtual_started_at", "virtual_ended_at", "nest")
"""Run columns added after runs were first chained (schema versions 6 and 7): a run's record
leaves them out while they are NULL, so that a migration keeps every chained hash."""


def head_path(db_path: Path) -> Path:
    """Where the chain head is kept beside the database."""
    return Path(f"{db_path}.chain-head")


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return {"hex": bytes(value).hex()}
    raise TypeError(f"cannot hash a {type(value).__name__}")


# json.dumps with any option builds an encoder per call, a third of the cost of a run's
# ~8 000 sample lines; an encoder keeps no state between calls, so one serves every thread.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_json_default)


def _canonical(value: Any) -> bytes:
    return _ENCODER.encode(value).encode()


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return found is not None


def run_digest(conn: sqlite3.Connection, run_id: str) -> str | None:
    """The sha256 of a run's canonical record, or None when the run does not exist.

    The record is the run row, its steps (in ``seq`` order), measurements, instruments,
    attachments (with their files' sha256) and logs (in insertion order), and a digest of
    its samples (in insertion order).
    """
    runs = _rows(conn, "SELECT * FROM runs WHERE id = ?", (run_id,))
    if not runs:
        return None
    run = {k: v for k, v in runs[0].items() if not (k in ADDED_RUN_COLUMNS and v is None)}
    record: dict[str, Any] = {"run": run}
    for table, order in _RUN_CHILDREN:
        record[table] = _rows(
            conn, f"SELECT * FROM {table} WHERE run_id = ? ORDER BY {order}", (run_id,)
        )
    for table in _OPTIONAL_RUN_CHILDREN:
        if not _has_table(conn, table):  # a file of an older schema, opened read-only
            continue
        rows = _rows(conn, f"SELECT * FROM {table} WHERE run_id = ?", (run_id,))
        if rows:
            record[table] = rows
    record["samples_sha256"] = _samples_digest(conn, run_id)
    return hashlib.sha256(_canonical(record)).hexdigest()


_SAMPLE_CHUNK = 4096


def _samples_digest(conn: sqlite3.Connection, run_id: str) -> str:
    """The sha256 of a run's samples: one canonical line per row, in insertion order.

    The lines of a chunk of rows come from one encoding of the chunk, ``[row,row,…]``, cut
    at its ``],[``: an encoding call per row costs twice as much (a 96S run's ~7 600 rows,
    at its end). A row is a flat list of scalars, so a ``],[`` is a row boundary unless a
    string holds one; a chunk with more of them than boundaries is encoded row by row.
    """
    samples = hashlib.sha256()
    cur = conn.execute(
        "SELECT step_id, t, channel, value FROM samples WHERE run_id = ? ORDER BY rowid",
        (run_id,),
    )
    while rows := cur.fetchmany(_SAMPLE_CHUNK):
        text = _ENCODER.encode(rows)
        if text.count("],[") == len(rows) - 1:
            samples.update(text[1:-1].replace("],[", "]\n[").encode() + b"\n")
        else:
            for row in rows:
                samples.update(_canonical(list(row)) + b"\n")
    return samples.hexdigest()


def row_digest(conn: sqlite3.Connection, table: str, key: object) -> str | None:
    """The sha256 of one chained row's canonical form, or None when it does not exist."""
    rows = _rows(conn, f"SELECT * FROM {table} WHERE {ROW_KEYS[table]} = ?", (key,))
    return hashlib.sha256(_canonical(rows[0])).hexdigest() if rows else None


def link_hash(seq: int, kind: str, subject: str, record: str, prev: str, at: str) -> str:
    text = "\n".join((str(seq), kind, subject, record, prev, at))
    return hashlib.sha256(text.encode()).hexdigest()


def append(conn: sqlite3.Connection, kind: str, subject: object, at: str) -> int:
    """Chain the current state of a run or row; call inside the writing transaction.

    Returns the new link's position. Two writers appending at once cannot fork the
    chain: the second insert of the same position is refused by the primary key.
    """
    subject_text = str(subject)
    record = run_digest(conn, subject_text) if kind == RUNS else row_digest(conn, kind, subject)
    if record is None:
        raise ValueError(f"nothing to chain: no {kind} row {subject_text!r}")
    last = conn.execute("SELECT seq, sha256 FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
    link = _link_row(
        seq=seq,
        kind=kind,
        subject=subject_text,
        record_sha256=record,
        prev_sha256=prev,
        sha256=link_hash(seq, kind, subject_text, record, prev, at),
        at=at,
    )
    conn.execute(_INSERT_LINK, link)
    return seq


def row_is_intact(conn: sqlite3.Connection, table: str, key: object) -> bool:
    """True when the row is exactly as the station last chained it."""
    last = conn.execute(
        "SELECT record_sha256 FROM chain WHERE kind = ? AND subject = ? ORDER BY seq DESC LIMIT 1",
        (table, str(key)),
    ).fetchone()
    return last is not None and last[0] == row_digest(conn, table, key)


def chained_subjects(conn: sqlite3.Connection, table: str) -> set[str]:
    """Subjects of ``table`` that have ever been chained."""
    return {r[0] for r in conn.execute("SELECT subject FROM chain WHERE kind = ?", (table,))}


# -- the head outside the database -------------------------------------------------------


@dataclass(frozen=True)
class Head:
    seq: int
    sha256: str

    def text(self) -> str:
        return f"{self.seq}:{self.sha256}"


def current_head(conn: sqlite3.Connection) -> Head | None:
    row = conn.execute("SELECT seq, sha256 FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    return Head(int(row[0]), str(row[1])) if row else None


def read_head_file(db_path: Path) -> Head | None:
    """The head kept beside the database, or None when there is none (or it is garbled)."""
    try:
        data = json.loads(head_path(db_path).read_text(encoding="utf-8"))
        return Head(int(data["seq"]), str(data["sha256"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def publish_head(db_path: Path, conn: sqlite3.Connection) -> None:
    """Write the chain's head beside the database (atomically, 0640), never moving it back.

    Raises OSError when the file cannot be written; callers carry on (the commit is what
    counts) and ``verify`` reports a head file that fell behind.
    """
    head = current_head(conn)
    if head is None:
        return
    with _head_lock:
        kept = read_head_file(db_path)
        if kept is not None and kept.seq >= head.seq:
            return
        target = head_path(db_path)
        tmp = target.with_name(target.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            os.write(fd, _canonical({"seq": head.seq, "sha256": head.sha256}) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)


# -- verification ------------------------------------------------------------------------


@dataclass
class Verification:
    """What ``verify`` found: ``problems`` in chain order, the first is the first break."""

    links: int = 0
    runs: int = 0
    head: Head | None = None
    head_file: Head | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _describe_run(conn: sqlite3.Connection, run_id: str) -> str:
    with contextlib.suppress(sqlite3.Error):
        row = conn.execute("SELECT serial, started_at FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row:
            return f"run {run_id} (serial {row[0]}, started {row[1]})"
    return f"run {run_id}"


def verify(conn: sqlite3.Connection, db_path: Path) -> Verification:
    """Check every link, every chained record and the head file; never writes."""
    out = Verification()
    links = read(conn, ChainRecord, "SELECT * FROM chain ORDER BY seq")
    out.links = len(links)
    prev = GENESIS
    latest: dict[tuple[str, str], str] = {}
    run_links: dict[str, int] = {}
    for expected_seq, link in enumerate(links, start=1):
        seq, kind, subject = link.seq, link.kind, link.subject
        what = _describe_run(conn, subject) if kind == RUNS else f"{kind} row {subject!r}"
        if seq != expected_seq:
            out.problems.append(
                f"chain link {expected_seq} is missing (next is {seq}, {what}): links were deleted"
            )
            break
        if link.prev_sha256 != prev or link.sha256 != link_hash(
            seq, kind, subject, link.record_sha256, link.prev_sha256, link.at
        ):
            out.problems.append(f"chain link {seq} ({what}) was altered: the chain breaks there")
            break
        prev = link.sha256
        latest[(kind, subject)] = link.record_sha256
        if kind == RUNS:
            if subject in run_links:
                out.problems.append(f"{what} is chained twice (links {run_links[subject]}, {seq})")
            run_links[subject] = seq
            digest = run_digest(conn, subject)
            if digest is None:
                out.problems.append(f"{what} (chain link {seq}) was deleted from the database")
            elif digest != link.record_sha256:
                out.problems.append(f"{what} (chain link {seq}) was altered after it was recorded")
    out.runs = len(run_links)
    for (run_id,) in conn.execute(
        "SELECT id FROM runs WHERE outcome <> ? ORDER BY rowid", (RunState.RUNNING,)
    ):
        if run_id not in run_links:
            out.problems.append(
                f"{_describe_run(conn, run_id)} is finished but not in the chain: "
                "it was added or changed outside the station"
            )
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table, key in ROW_KEYS.items():
        if table not in tables:
            continue
        present = {str(r[0]) for r in conn.execute(f"SELECT {key} FROM {table}")}
        for subject in sorted(present):
            if latest.get((table, subject)) != row_digest(conn, table, subject):
                out.problems.append(
                    f"{table} row {subject!r} differs from what the station recorded: "
                    "it was changed outside the station"
                )
        for kind, subject in sorted(latest):
            if kind == table and subject not in present:
                out.problems.append(f"{table} row {subject!r} was deleted outside the station")
    _check_attachment_files(conn, out)
    out.head = Head(links[-1].seq, links[-1].sha256) if links else None
    out.head_file = read_head_file(db_path)
    _check_head(out, links)
    return out


def _check_attachment_files(conn: sqlite3.Connection, out: Verification) -> None:
    """Files kept beside the database must still hold the bytes their rows were hashed with."""
    missing = 0
    rows = conn.execute(
        "SELECT run_id, name, path, sha256 FROM attachments WHERE sha256 IS NOT NULL ORDER BY id"
    ).fetchall()
    for run_id, name, path, recorded in rows:
        try:
            actual = sha256_of(Path(path))
        except OSError:
            missing += 1
            continue
        if actual != recorded:
            out.problems.append(
                f"the {name} of {_describe_run(conn, run_id)} ({path}) was altered after it "
                "was recorded"
            )
    if missing:
        out.notes.append(
            f"{missing} attachment file(s) are not where they were recorded (moved or "
            "archived?); their content was not checked"
        )


def _check_head(out: Verification, links: list[ChainRecord]) -> None:
    kept = out.head_file
    if kept is None:
        if links:
            out.problems.append("the chain head file beside the database is missing or unreadable")
        return
    if kept.seq < 1:
        out.problems.append(f"the chain head file says link {kept.seq}, which cannot be")
    elif kept.seq > len(links):
        out.problems.append(
            f"the chain ends at link {len(links)} but its head file says {kept.seq}: "
            "the last runs or changes were deleted"
        )
    elif links[kept.seq - 1].sha256 != kept.sha256:
        out.problems.append(
            f"chain link {kept.seq} does not match the head file: the chain was rewritten"
        )
    elif kept.seq == len(links) - 1:
        out.notes.append(
            "the head file is one link behind the chain "
            "(the station stopped between a commit and the head update)"
        )
    elif kept.seq < len(links):
        # More than a crash can explain: an older head put back to hide a rewritten tail,
        # or a station that could not write the file. Either way, say so.
        out.problems.append(
            f"the head file is {len(links) - kept.seq} links behind the chain (link "
            f"{kept.seq}): it was replaced by an older one, or the station could not write it"
        )
