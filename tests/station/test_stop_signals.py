"""Every way of stopping `station run` takes the operator-abort path, and prompts are honest.

The stop tests run the real `station run` in a child process and signal it once it shows,
on its own output, that it reached the point under test (an HV step with the tester on, a
prompt waiting for the operator): cleanup runs, safe state is confirmed, the verdict is
ABORTED and the exit code 3.
"""

from __future__ import annotations

import io
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.cli import main
from station.console import TerminalPrompter
from station.steps.api import PromptRequest
from station.store import ResultsStore
from station.store_records import RunDetail

EOL = Path(__file__).resolve().parents[2] / "sequences" / "nmc96s" / "eol.toml"

HEADER = """
[sequence]
name = "Stop"
version = "1"
products = ["P"]
serial_pattern = "^SN[0-9]+$"
"""

LONG_WAIT = """
[[main]]
type = "wait"
name = "long"
params = { seconds = 600 }
"""

DOOR_PROMPT = """
[[setup]]
type = "prompt"
name = "Door"
params = { kind = "confirm", text = "Door closed?" }
limits.answer = { comparator = "BOOL", expected = true }
"""


def station(*args: str, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "station.cli", *args],
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        **popen,
    )


def lines_until(child: subprocess.Popen[str], wanted: str, seen: list[str]) -> None:
    """Read the child's output until a line contains ``wanted`` (kept in ``seen``)."""
    assert child.stdout is not None
    for line in child.stdout:
        seen.append(line)
        if wanted in line:
            return
    raise AssertionError(f"the child ended before printing {wanted!r}:\n{''.join(seen)}")


def only_run(db: Path) -> RunDetail:
    with ResultsStore(db) as store:
        [row] = store.list_runs()
        return store.get_run(row.id)


@pytest.fixture
def reaped() -> Iterator[list[subprocess.Popen[str]]]:
    children: list[subprocess.Popen[str]] = []
    yield children
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()


def test_sigterm_during_an_hv_step_aborts_cleans_up_and_confirms_safe_state(
    tmp_path: Path, reaped: list[subprocess.Popen[str]]
) -> None:
    db = tmp_path / "r.db"
    child = station(
        *("run", str(EOL), "--serial", "NM96A0000001", "--sim", "--yes", "--speed", "1"),
        *("--db", str(db)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    reaped.append(child)
    seen: list[str] = []
    lines_until(child, "IR HV+ to chassis", seen)
    lines_until(child, "%", seen)  # the step's progress bar: the tester is testing
    child.send_signal(signal.SIGTERM)
    lines_until(child, "abort requested (SIGTERM)", seen)
    child.send_signal(signal.SIGHUP)  # a second signal must not skip the safe state
    assert child.stdout is not None
    rest = child.stdout.read()
    assert child.wait(timeout=60) == 3
    output = "".join(seen) + rest
    assert "Traceback" not in output
    assert "VERDICT: ABORTED" in output
    assert "safe state is still being confirmed" in output
    run = only_run(db)
    assert run.outcome == "ABORTED"
    assert run.safe_state_ok == 1
    steps = {s.name: s for s in run.steps}
    assert steps["IR HV+ to chassis"].outcome == "ABORTED"
    assert "SIGTERM" in steps["IR HV+ to chassis"].error
    assert steps["Contactors open (cleanup)"].outcome == "PASSED"
    assert "Hipot DC" not in steps


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGINT], ids=["SIGHUP", "SIGINT"])
def test_other_stop_signals_abort_too(
    tmp_path: Path, reaped: list[subprocess.Popen[str]], sig: signal.Signals
) -> None:
    seq = tmp_path / "seq.toml"
    seq.write_text(HEADER + LONG_WAIT, encoding="utf-8")
    db = tmp_path / "r.db"
    child = station("run", str(seq), "--serial", "SN1", "--db", str(db), stdout=subprocess.PIPE)
    reaped.append(child)
    lines_until(child, "long", [])
    child.send_signal(sig)
    assert child.wait(timeout=60) == 3
    run = only_run(db)
    assert run.outcome == "ABORTED" and run.safe_state_ok == 1


def test_ctrl_c_at_a_terminal_prompt_aborts_without_waiting_for_enter(
    tmp_path: Path, reaped: list[subprocess.Popen[str]]
) -> None:
    seq = tmp_path / "seq.toml"
    seq.write_text(HEADER + DOOR_PROMPT + LONG_WAIT, encoding="utf-8")
    db = tmp_path / "r.db"
    operator, terminal = pty.openpty()  # the child's stdin is a terminal nobody types on
    try:
        child = station(
            "run",
            str(seq),
            "--serial",
            "SN1",
            "--db",
            str(db),
            stdin=terminal,
            stdout=subprocess.PIPE,
        )
        reaped.append(child)
        assert child.stdout is not None
        fd = child.stdout.fileno()
        shown = b""
        while b"Door closed?" not in shown:  # the prompt ends without a newline
            ready, _, _ = select.select([fd], [], [], 60)
            chunk = os.read(fd, 4096) if ready else b""
            assert chunk, f"no prompt shown: {shown!r}"
            shown += chunk
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=60) == 3
    finally:
        os.close(operator)
        os.close(terminal)
    run = only_run(db)
    assert run.outcome == "ABORTED"
    assert [(s.name, s.outcome) for s in run.steps] == [("Door", "ABORTED")]


def test_a_prompt_nobody_can_answer_is_refused_before_the_run_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seq = tmp_path / "seq.toml"
    seq.write_text(HEADER + DOOR_PROMPT + LONG_WAIT, encoding="utf-8")
    db = tmp_path / "r.db"
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))  # piped, not a terminal
    assert main(["run", str(seq), "--serial", "SN1", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "'Door'" in err and "no one can answer" in err and "--yes" in err
    assert "Traceback" not in err
    with ResultsStore(db) as store:
        assert store.list_runs() == []


def test_yes_answers_are_recorded_as_automatic_not_the_operators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seq = tmp_path / "seq.toml"
    seq.write_text(HEADER + DOOR_PROMPT, encoding="utf-8")
    db = tmp_path / "r.db"
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["run", str(seq), "--serial", "SN1", "--db", str(db), "--yes"]) == 0
    messages = [log.message for log in only_run(db).logs]
    assert "answered automatically 'yes'" in messages
    assert not any("operator answered" in m for m in messages)


class _Terminal(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


def test_an_abort_ends_a_terminal_prompt_at_once() -> None:
    read_end, write_end = os.pipe()
    stdin = _Terminal(os.fdopen(read_end, "rb"))
    shown = io.StringIO()
    asked = threading.Event()

    class Screen(io.StringIO):
        def write(self, text: str) -> int:
            if "Door closed?" in text:
                asked.set()
            return shown.write(text)

    prompter = TerminalPrompter(stdin=stdin, stdout=Screen())
    abort = threading.Event()
    answers: list[str | None] = []
    asking = threading.Thread(
        target=lambda: answers.append(
            prompter.ask(PromptRequest(kind="confirm", text="Door closed?"), abort)
        )
    )
    try:
        asking.start()
        assert asked.wait(30)
        abort.set()
        asking.join(30)
        assert not asking.is_alive()
        assert answers == [None]
    finally:
        os.close(write_end)
        stdin.close()


def test_sigterm_stops_the_standalone_virtual_bench_cleanly(
    reaped: list[subprocess.Popen[str]],
) -> None:
    child = station(
        "sim", "--can-interface", "virtual", stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    reaped.append(child)
    seen: list[str] = []
    lines_until(child, "running;", seen)
    child.send_signal(signal.SIGTERM)
    assert child.stdout is not None
    rest = child.stdout.read()
    assert child.wait(timeout=60) == 0
    assert "virtual bench stopped" in rest and "Traceback" not in rest


def test_a_signal_delivered_to_another_thread_still_ends_a_long_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kernel may hand a process signal to any thread; the main thread, blocked in a
    # 600 s wait, must still learn of it at once (the test's timeout would catch a hang).
    seq = tmp_path / "seq.toml"
    seq.write_text(HEADER + LONG_WAIT, encoding="utf-8")
    db = tmp_path / "r.db"
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    pause = threading.Event()

    def signal_from_here_once_running() -> None:
        while not pause.wait(0.01):  # poll the database for the live run
            if db.exists():
                conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                try:
                    running = conn.execute("SELECT count(*) FROM runs").fetchone()[0] > 0
                except sqlite3.Error:
                    running = False
                finally:
                    conn.close()
                if running:
                    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
                    return

    sender = threading.Thread(target=signal_from_here_once_running)
    sender.start()
    try:
        code = main(["run", str(seq), "--serial", "SN1", "--db", str(db)])
    finally:
        pause.set()
        sender.join()
    assert code == 3
    assert only_run(db).outcome == "ABORTED"
