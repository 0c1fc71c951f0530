"""Stop signals: every way of asking a command-line run to stop takes the operator-abort path.

Ctrl-C (SIGINT), SIGTERM (a service manager, a shutdown, ``kill``), SIGHUP (the terminal
went away) and, on Windows, SIGBREAK (Ctrl-Break, and the console window being closed)
all ask the run to abort: cleanup runs, every source is switched off and read back, the
verdict is ABORTED. A second signal never cuts that short — it only says that safe state
is still being confirmed. (SIGKILL cannot be caught; the instruments' own timers and the
hardware interlocks cover it, and the next start marks the run INTERRUPTED.)
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any

STOP_SIGNAL_NAMES = ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK")
"""The signals that abort a run, where the platform has them."""


def stop_signals() -> list[signal.Signals]:
    """The stop signals this platform offers."""
    return [getattr(signal, name) for name in STOP_SIGNAL_NAMES if hasattr(signal, name)]


@contextmanager
def abort_on_stop_signals(on_stop: Callable[[str], None]) -> Iterator[None]:
    """Call ``on_stop(signal name)`` on the first stop signal; ignore the rest, saying why.

    Must be entered on the main thread (Python runs signal handlers there). The previous
    handlers are restored on exit.
    """
    received: list[str] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if received:
            _say(f"{name} received: safe state is still being confirmed; wait for the verdict")
            return
        received.append(name)
        on_stop(name)

    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in stop_signals():
            previous[sig] = signal.signal(sig, handler)
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _say(text: str) -> None:
    # A handler runs between two bytecodes of the main thread, which may be half-way
    # through writing to stderr itself: a message lost is better than a run disturbed.
    with suppress(OSError, RuntimeError, ValueError):
        print(f"\n{text}", file=sys.stderr, flush=True)
