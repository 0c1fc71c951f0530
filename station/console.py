"""The terminal side of a run: live progress, the result table, and operator prompts."""

from __future__ import annotations

import os
import queue
import sys
import threading
from typing import Any, TextIO

from station.errors import StationError
from station.patterns import compile_safe


class ProgressView:
    """Prints each step as it starts and finishes, with a progress bar on long steps."""

    def __init__(self, sequence: Any) -> None:
        self.total = len(sequence.all_steps())
        self.done = 0
        self._bar_shown = False
        self._tty = sys.stdout.isatty()
        self._next_progress = 0.0

    def __call__(self, event: Any) -> None:
        from station.events import Log, Progress, StepFinished, StepStarted

        if isinstance(event, StepStarted):
            self._next_progress = 0.0
            _say(f"[{self.done + 1:>2}/{self.total}] {event.group:<7} {event.name} …", flush=True)
        elif isinstance(event, Progress):
            # On a terminal the bar redraws in place every whole percent; in a log file a
            # line every 10 % is enough.
            step = 0.01 if self._tty else 0.1
            if event.fraction < self._next_progress and event.fraction < 1.0:
                return
            self._next_progress = (int(event.fraction / step) + 1) * step
            width = 30
            filled = int(event.fraction * width)
            eta = f" ETA {_duration(event.eta_s)}" if event.eta_s is not None else ""
            bar = "#" * filled + "-" * (width - filled)
            line = f"        [{bar}] {event.fraction:5.1%}{eta}"
            if self._tty:
                _say(f"\r{line}   ", end="", flush=True)
                self._bar_shown = True
            else:
                _say(line, flush=True)
        elif isinstance(event, StepFinished):
            if self._bar_shown:
                _say()
                self._bar_shown = False
            self.done += 1
            note = f" — {event.error}" if event.error else ""
            _say(f"        {event.outcome:<10} {event.duration_s:8.1f} s{note}", flush=True)
        elif (
            isinstance(event, Log)
            and event.level in ("WARNING", "ERROR")
            and "\n" not in (event.message)
        ):
            _say(f"        {event.level}: {event.message}", flush=True)


class NestProgress:
    """One line per finished step of one nest (``station line``: nests print side by side),
    and a line when the nest waits for a shared instrument."""

    _lock = threading.Lock()  # one line at a time, whichever nest's thread prints it

    def __init__(self, label: str) -> None:
        self.prefix = f"nest {label}"

    def __call__(self, event: Any) -> None:
        from station.events import Progress, StepFinished

        if isinstance(event, StepFinished):
            note = f" — {event.error}" if event.error else ""
            line = f"{event.name}: {event.outcome} {event.duration_s:.1f} s{note}"
        elif isinstance(event, Progress) and event.text.startswith("waiting for"):
            line = event.text
        else:
            return
        with self._lock:
            _say(f"{self.prefix}  {line}", flush=True)


def _say(*args: Any, **kwargs: Any) -> None:
    """Print progress; if the reader went away (``| head``), keep testing silently —
    a closed pipe must never interrupt a run with the pack energised."""
    try:
        print(*args, **kwargs)
    except BrokenPipeError:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def print_result_table(result: Any) -> None:
    rows = [("step", "measurement", "value", "unit", "limits", "outcome")]
    for step in result.steps:
        if not step.measurements:
            rows.append((step.name, "", "", "", "", step.outcome))
        for m in step.measurements:
            rows.append(
                (
                    step.name,
                    m.name,
                    _format_value(m),
                    m.unit,
                    m.limit_text,
                    m.outcome + (" (marginal)" if m.marginal else ""),
                )
            )
    widths = [min(40, max(len(r[i]) for r in rows)) for i in range(len(rows[0]))]
    print()
    for n, row in enumerate(rows):
        print("  ".join(cell[:40].ljust(w) for cell, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    for step, m in result.failing:
        print(f"FAIL: {step.name} / {m.name}: {m.detail or _format_value(m)}")


def _format_value(m: Any) -> str:
    if m.values is not None:
        vals = m.values
        return f"[{len(vals)}] {min(vals):.4g}…{max(vals):.4g}" if vals else "[]"
    if m.value is not None:
        return f"{m.value:.6g}"
    return str(m.value_text)


class TerminalPrompter:
    """Asks prompts on the terminal; ``assume_default`` answers without asking (``--yes``).

    Without a terminal on standard input and without ``assume_default`` nobody can
    answer: asking is an error (``station run`` refuses such a run before it starts).
    Lines are read on a helper thread, so that an abort (Ctrl-C, SIGTERM) ends the wait
    at once instead of when Enter is pressed. ``stdin``/``stdout`` default to the
    process's own.
    """

    def __init__(
        self, assume_default: bool = False, *, stdin: TextIO | None = None, stdout: Any = None
    ) -> None:
        self.assume_default = assume_default
        self.automatic = assume_default
        self._stdin = stdin
        self._stdout = stdout
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader: threading.Thread | None = None

    def ask(self, request: Any, abort: threading.Event) -> str | None:
        default = {"confirm": "yes", "message": "ok"}.get(request.kind)
        if request.kind == "choice":
            default = request.choices[0]
        if self.assume_default:
            if default is None:
                raise StationError(
                    f"the sequence asks {request.text!r} and needs an answer; run interactively"
                )
            self._print(f"PROMPT: {request.text} → {default} (answered automatically: --yes)")
            return default
        if not self._input().isatty():
            raise StationError(
                f"the sequence asks the operator {request.text!r} but standard input is not a "
                "terminal, so no one can answer; run interactively or pass --yes"
            )
        self._drain()  # a line typed before the question is no answer to it
        hint = {"confirm": " [yes/no]", "choice": f" [{'/'.join(request.choices)}]"}.get(
            request.kind, ""
        )
        while True:
            self._print(f"PROMPT: {request.text}{hint} ", end="")
            line = self._next_line(abort)
            if line is None:
                return None
            answer = line.strip()
            if request.kind == "confirm" and answer.lower() in ("y", "yes", "n", "no"):
                return "yes" if answer.lower().startswith("y") else "no"
            if request.kind == "choice" and answer in request.choices:
                return answer
            if request.kind == "number":
                try:
                    value = float(answer)
                except ValueError:
                    self._print("please enter a number")
                    continue
                if (request.minimum is None or value >= request.minimum) and (
                    request.maximum is None or value <= request.maximum
                ):
                    return answer
                self._print(f"please enter a number within {request.minimum} … {request.maximum}")
                continue
            if request.kind == "scan":
                if request.pattern and not compile_safe(request.pattern).fullmatch(answer):
                    self._print(f"{answer!r} does not have the expected format ({request.pattern})")
                    continue
                return answer
            if request.kind in ("text", "message"):
                return answer or "ok"

    def _input(self) -> TextIO:
        return self._stdin if self._stdin is not None else sys.stdin

    def _print(self, text: str, end: str = "\n") -> None:
        print(text, end=end, file=self._stdout or sys.stdout, flush=True)

    def _next_line(self, abort: threading.Event) -> str | None:
        """The next line typed, or None as soon as ``abort`` is set or input ends."""
        if self._reader is None:
            self._reader = threading.Thread(
                target=self._read_lines, name="prompt-input", daemon=True
            )
            self._reader.start()
        while not abort.is_set():
            try:
                line = self._lines.get(timeout=0.05)
            except queue.Empty:
                continue
            if line is None:  # end of input: nobody is left to answer
                raise StationError("standard input closed while the operator was asked")
            return line
        self._print("")
        return None

    def _read_lines(self) -> None:
        # A daemon thread: left blocked in readline() when the run ends, it dies with the
        # process.
        stream = self._input()
        while True:
            line = stream.readline()
            self._lines.put(line if line else None)
            if not line:
                return

    def _drain(self) -> None:
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return
            if line is None:
                self._lines.put(None)  # end of input stays the end
                return
