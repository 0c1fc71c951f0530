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
import socket
import sys
import threading
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

    Must be entered on the main thread. The work is done on a helper thread woken through
    ``signal.set_wakeup_fd``, not in a Python-level handler: such a handler runs only when
    the main thread next executes bytecode — up to a whole wait later when the kernel
    hands the signal to another thread (the virtual bench, pyvisa and the BMS client run
    many) — and it may run while the main thread holds a lock that ``on_stop`` needs.
    The previous handlers and wakeup fd are restored on exit.
    """
    numbers = {int(sig): sig.name for sig in stop_signals()}
    reader, writer = socket.socketpair()  # a socket: Windows takes no pipe as wakeup fd
    writer.setblocking(False)

    def dispatch() -> None:
        first = True
        while True:
            data = reader.recv(64)
            if not data:  # closed
                return
            for number in data:
                if number == _STOP_DISPATCH:
                    return
                name = numbers.get(number)
                if name is None:
                    continue
                if first:
                    first = False
                    on_stop(name)
                else:
                    _say(
                        f"{name} received: safe state is still being confirmed; "
                        "wait for the verdict"
                    )

    worker = threading.Thread(target=dispatch, name="stop-signals", daemon=True)
    worker.start()
    previous: dict[signal.Signals, Any] = {}
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    try:
        for sig in stop_signals():
            # The Python-level handler only replaces the default (terminate, or raise
            # KeyboardInterrupt); the wakeup fd does the work.
            previous[sig] = signal.signal(sig, _ignore)
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        signal.set_wakeup_fd(previous_fd)
        writer.send(bytes([_STOP_DISPATCH]))
        worker.join()
        reader.close()
        writer.close()


_STOP_DISPATCH = 0
"""Not a signal number: tells the helper thread to end."""


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Replace a stop signal's default action; the helper thread acts on it."""


def _say(text: str) -> None:
    with suppress(OSError, ValueError):  # stderr closed: the message is lost, not the run
        print(f"\n{text}", file=sys.stderr, flush=True)
