"""``station ui``: start the operator and engineer UI.

::

    station ui --sim                                   # virtual bench, reference EOL, ×15
    station ui --config station.toml --sequence sequences/nmc96s/eol.toml
    station ui --sim --smoke                           # start-up check: exit once it is up

With ``--sim`` the run is on virtual time, paced to ``--speed`` × real time
(``ui.pacing``): at the default ×15 the reference sequence (about 15 minutes of pack time)
takes a little over a minute. Exit codes: 0 after a normal close, 2 when the station
cannot be prepared (the reason is printed as one sentence).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import sequences

DEFAULT_SEQUENCE = sequences.path("nmc96s", "eol.toml")
"""The shipped reference sequence (the same one ``make demo`` runs)."""
DEMO_SPEED = 15.0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="station ui", description="EOL station operator UI")
    p.add_argument("--sim", action="store_true", help="use the virtual bench (demo pace)")
    p.add_argument("--config", type=Path, help="station config TOML")
    p.add_argument("--sequence", type=Path, default=DEFAULT_SEQUENCE, help="sequence TOML")
    p.add_argument("--db", type=Path, help="results database (overrides the config)")
    p.add_argument(
        "--pack",
        default=None,
        help="virtual pack NAME or pack FILE (with --sim; default: the one built as the "
        "sequence's product)",
    )
    p.add_argument("--seed", type=int, default=1, help="virtual bench seed (with --sim)")
    p.add_argument(
        "--speed",
        type=float,
        default=DEMO_SPEED,
        help=f"with --sim: pace the run to SPEED × real time (default {DEMO_SPEED:g}, 0 = none)",
    )
    p.add_argument("--idle-minutes", type=float, default=15.0, help="log out after idle time")
    p.add_argument("--fullscreen", action="store_true", help="fill the screen (station PCs)")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="start-up check: exit 0 once the window is shown and the bench is up",
    )
    p.add_argument(
        "--kiosk",
        action="store_true",
        help="full screen, frameless, on top; only an engineer may close it",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the UI until its window closes; return the exit code."""
    args = parser().parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from station.app_log import application_log
    from station.config import load_config
    from station.errors import StationError
    from station.line import StationWatch, prepare_line
    from station.runner import RunOptions, prepare_run
    from ui.controller import StationController
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    options = RunOptions(
        sequence=args.sequence,
        config=args.config,
        db=args.db,
        sim=args.sim,
        pack=args.pack,
        seed=args.seed,
        speed=0.0,  # --sim: virtual time, paced below; a real bench: real time
    )
    closers: list[Callable[[], None]] = []
    try:
        nested = args.config is not None and bool(load_config(args.config).nests)
        if nested:
            line = prepare_line(options)
            views = [(p.nest.label, line.as_run(p.nest.index)) for p in line.nests]
            # The cell's door and e-stop abort every nest, as in `station line`.
            watch = StationWatch(line)
            watch.start()
            closers.append(watch.stop)
        else:
            views = [("", prepare_run(options))]
    except StationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    demo_speed = max(args.speed, 0.0) if args.sim else 0.0
    controllers = [
        (label, StationController(view, sim=args.sim, demo_speed=demo_speed))
        for label, view in views
    ]
    prepared = views[0][1]
    controller = controllers[0][1]
    window = MainWindow(
        controller, idle_minutes=args.idle_minutes, nests=controllers if nested else None
    )
    if args.kiosk:
        window.set_kiosk(True)
    elif args.fullscreen:
        window.showFullScreen()
    else:
        window.resize(1600, 1000)
        window.show()
    if args.smoke:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: report_started(app, window, prepared))
    try:
        with application_log(prepared.config.logging, prepared.db_path):
            return int(app.exec())
    except StationError as err:  # the log file cannot be opened
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        close_all(window, [c for _, c in controllers])
        for closer in closers:
            closer()
        for _, view in views:
            view.close()


def report_started(app: object, window: object, prepared: object) -> None:
    """``--smoke``: say what is up and quit the event loop (exit 1 if the window is hidden)."""
    from PySide6.QtWidgets import QApplication, QWidget

    bench = getattr(prepared, "bench", None)
    roles = sorted(getattr(bench, "instruments", {}))
    shown = isinstance(window, QWidget) and window.isVisible()
    print(f"ui: window {'shown' if shown else 'NOT shown'}; bench up with {', '.join(roles)}")
    if isinstance(app, QApplication):
        app.exit(0 if shown and roles else 1)


def close_all(window: object, controller: object) -> None:
    """Close and delete the window and controller, then run the deferred deletes.

    pyqtgraph with PySide6 can abort at interpreter exit if plot widgets were closed but
    never deleted, so the deletes run here, while Qt is still alive.
    """
    from PySide6.QtCore import QCoreApplication, QEvent, QObject
    from PySide6.QtWidgets import QWidget

    if isinstance(window, QWidget):
        window.close()
        window.deleteLater()
    for one in controller if isinstance(controller, list) else [controller]:
        if isinstance(one, QObject):
            one.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


if __name__ == "__main__":
    raise SystemExit(main())
